// dump::join_vmas and vma_flag_names: the module's VMA records joined with
// /proc/PID/maps must give smaps' VmFlags, and any disagreement between
// the two is an error, never a silently wrong map.
#include <gtest/gtest.h>
#include <sys/mman.h>

#include <linux/ckpt.h>

#include "dump/vmas.h"
#include "proc/maps.h"

namespace ckpt::dump {
namespace {

using Names = std::vector<std::string>;

ckpt_vma vma(uint64_t start, uint64_t end, uint64_t flags) {
  ckpt_vma v{};
  v.start = start;
  v.end = end;
  v.flags = flags;
  return v;
}

constexpr uint64_t kAnonRw = CKPT_VMA_READ | CKPT_VMA_WRITE | CKPT_VMA_MAYREAD |
                             CKPT_VMA_MAYWRITE | CKPT_VMA_MAYEXEC | CKPT_VMA_ACCOUNT;

TEST(VmaFlags, NamesInSmapsOrder) {
  EXPECT_EQ(vma_flag_names(vma(0, 1, kAnonRw | CKPT_VMA_SOFTDIRTY)),
            (Names{"rd", "wr", "mr", "mw", "me", "ac", "sd"}));
  EXPECT_EQ(vma_flag_names(vma(0, 1, CKPT_VMA_SEALED | CKPT_VMA_UFFD_MINOR | CKPT_VMA_DONTDUMP |
                                         CKPT_VMA_GROWSDOWN | CKPT_VMA_UFFD_MISSING)),
            (Names{"gd", "um", "dd", "ui", "sl"}));
  EXPECT_EQ(vma_flag_names(vma(0, 1, 0)), Names{});
  // A bit with no name (not defined by the ABI) and flags the module could
  // not name: "??", as smaps prints.
  ckpt_vma v = vma(0, 1, CKPT_VMA_READ | (1ULL << 11));
  v.nr_unknown = 2;
  EXPECT_EQ(vma_flag_names(v), (Names{"rd", "??", "??", "??"}));
}

const char* kMaps =
    "55d0c0000000-55d0c0021000 rw-p 00000000 00:00 0          [heap]\n"
    "7f0000000000-7f0000002000 r-xp 00001000 fe:01 1234       /usr/lib/x.so\n"
    "7f0000002000-7f0000003000 rw-s 00000000 00:05 77         /dev/zero (deleted)\n"
    "ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0                  [vsyscall]\n";

std::vector<ckpt_vma> matching() {
  std::vector<ckpt_vma> v;
  v.push_back(vma(0x55d0c0000000, 0x55d0c0021000, kAnonRw));
  ckpt_vma lib = vma(0x7f0000000000, 0x7f0000002000,
                     CKPT_VMA_READ | CKPT_VMA_EXEC | CKPT_VMA_MAYREAD | CKPT_VMA_MAYWRITE |
                         CKPT_VMA_MAYEXEC);
  lib.pgoff = 0x1000;
  lib.dev_major = 0xfe;
  lib.dev_minor = 1;
  lib.ino = 1234;
  v.push_back(lib);
  ckpt_vma shm = vma(0x7f0000002000, 0x7f0000003000,
                     CKPT_VMA_READ | CKPT_VMA_WRITE | CKPT_VMA_SHARED | CKPT_VMA_MAYREAD |
                         CKPT_VMA_MAYWRITE | CKPT_VMA_MAYEXEC | CKPT_VMA_MAYSHARE);
  shm.dev_minor = 5;
  shm.ino = 77;
  v.push_back(shm);
  return v;
}

TEST(JoinVmas, FillsFlagsAndTheVsyscallPage) {
  auto maps = proc::parse_maps(kMaps);
  ASSERT_TRUE(maps) << maps.error().message();
  auto j = join_vmas(std::move(*maps), matching());
  ASSERT_TRUE(j) << j.error().message();
  ASSERT_EQ(j->size(), 4u);
  EXPECT_EQ((*j)[0].vm_flags, (Names{"rd", "wr", "mr", "mw", "me", "ac"}));
  EXPECT_EQ((*j)[1].vm_flags, (Names{"rd", "ex", "mr", "mw", "me"}));
  EXPECT_EQ((*j)[1].path, "/usr/lib/x.so");
  EXPECT_EQ((*j)[2].vm_flags, (Names{"rd", "wr", "sh", "mr", "mw", "me", "ms"}));
  EXPECT_TRUE((*j)[2].deleted);
  EXPECT_EQ((*j)[3].vm_flags, (Names{"ex"}));  // vsyscall=xonly
}

void expect_refused(std::vector<ckpt_vma> v, const char* what) {
  auto maps = proc::parse_maps(kMaps);
  ASSERT_TRUE(maps);
  auto j = join_vmas(std::move(*maps), v);
  ASSERT_FALSE(j) << what;
  EXPECT_EQ(j.error().code(), EIO) << what;
  EXPECT_NE(j.error().message().find("memory map"), std::string::npos) << j.error().message();
}

TEST(JoinVmas, EveryDisagreementIsAnError) {
  auto v = matching();
  v[0].end += 0x1000;
  expect_refused(v, "end");
  v = matching();
  v[1].pgoff = 0;
  expect_refused(v, "offset");
  v = matching();
  v[1].ino = 1235;
  expect_refused(v, "inode");
  v = matching();
  v[1].dev_minor = 2;
  expect_refused(v, "device");
  v = matching();
  v[1].flags &= ~CKPT_VMA_EXEC;
  expect_refused(v, "protection");
  v = matching();
  v[2].flags &= ~CKPT_VMA_MAYSHARE;
  expect_refused(v, "sharing");
  v = matching();
  v.pop_back();
  expect_refused(v, "a VMA maps has and the module not");
  v = matching();
  v.push_back(vma(0x7f0000004000, 0x7f0000005000, kAnonRw));
  expect_refused(v, "a VMA the module has and maps not");
  v = matching();
  v[1].start += 0x1000;
  expect_refused(v, "start");
  expect_refused({}, "no VMAs at all");
}

}  // namespace
}  // namespace ckpt::dump
