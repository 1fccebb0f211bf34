// /proc/PID/maps and smaps parsing.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/mman.h>
#include <unistd.h>

#include "proc/maps.h"

namespace ckpt::proc {
namespace {

const char* kMaps =
    "55d0c8e00000-55d0c8e28000 r--p 00000000 fe:01 1311253                    /usr/bin/my prog\n"
    "55d0c9a00000-55d0c9a21000 rw-p 00000000 00:00 0                          [heap]\n"
    "7f2c8a000000-7f2c8a001000 rw-s 00002000 00:01 4097                       /dev/zero (deleted)\n"
    "7f2c8b000000-7f2c8b001000 rw-p 00000000 00:00 0 \n"
    "7f2c8c000000-7f2c8c001000 r-xp 00000000 fe:01 77                         /tmp/a\\012b\n"
    "ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0                  [vsyscall]\n";

TEST(Maps, ParsesLines) {
  auto m = parse_maps(kMaps);
  ASSERT_TRUE(m) << m.error().message();
  ASSERT_EQ(m->size(), 6u);
  const MapEntry& e = (*m)[0];
  EXPECT_EQ(e.start, 0x55d0c8e00000u);
  EXPECT_EQ(e.end, 0x55d0c8e28000u);
  EXPECT_EQ(e.prot, static_cast<uint32_t>(PROT_READ));
  EXPECT_FALSE(e.shared);
  EXPECT_EQ(e.dev_major, 0xfeu);
  EXPECT_EQ(e.dev_minor, 1u);
  EXPECT_EQ(e.inode, 1311253u);
  EXPECT_EQ(e.path, "/usr/bin/my prog");
  EXPECT_FALSE(e.deleted);
  EXPECT_EQ((*m)[1].path, "[heap]");
  EXPECT_TRUE((*m)[1].is_special());
  EXPECT_EQ((*m)[1].prot, static_cast<uint32_t>(PROT_READ | PROT_WRITE));
  EXPECT_TRUE((*m)[2].shared);
  EXPECT_EQ((*m)[2].pgoff, 0x2000u);
  EXPECT_EQ((*m)[2].path, "/dev/zero");
  EXPECT_TRUE((*m)[2].deleted);
  EXPECT_EQ((*m)[3].path, "");
  EXPECT_FALSE((*m)[3].is_file());
  EXPECT_EQ((*m)[4].path, "/tmp/a\nb");
  EXPECT_EQ((*m)[4].prot, static_cast<uint32_t>(PROT_READ | PROT_EXEC));
  EXPECT_EQ((*m)[5].prot, static_cast<uint32_t>(PROT_EXEC));
}

TEST(Maps, Malformed) {
  for (const char* bad : {
           "", "55d0-55d1 r--p 0 fe:01", "55d0 r--p 00000000 fe:01 1 /x",
           "55d1-55d0 r--p 00000000 fe:01 1 /x", "55d0-55d1 r--q 00000000 fe:01 1 /x",
           "55d0-55d1 r-p 00000000 fe:01 1 /x", "55d0-55d1 r--p 0000000g fe:01 1 /x",
           "55d0-55d1 r--p 00000000 fe01 1 /x", "55d0-55d1 r--p 00000000 fe:01 -1 /x",
           "x55d0-55d1 r--p 00000000 fe:01 1 /x"}) {
    EXPECT_FALSE(parse_maps_line(bad)) << bad;
  }
  // Overlap between lines.
  auto m = parse_maps("1000-3000 r--p 0 00:00 0\n2000-4000 r--p 0 00:00 0\n");
  ASSERT_FALSE(m);
  EXPECT_NE(m.error().message().find("line 2"), std::string::npos) << m.error().message();
}

const char* kSmaps =
    "55d0c9a00000-55d0c9a21000 rw-p 00000000 00:00 0                          [heap]\n"
    "Size:                132 kB\n"
    "KernelPageSize:        4 kB\n"
    "Rss:                   8 kB\n"
    "Swap:                  4 kB\n"
    "FutureKey:     whatever text\n"
    "THPeligible:    1\n"
    "VmFlags: rd wr mr mw me ac sd \n"
    "7f2c8a000000-7f2c8a001000 rw-s 00000000 00:01 4097                       /dev/zero (deleted)\n"
    "Rss:                   0 kB\n"
    "VmFlags: rd wr sh mr mw me ms sd\n";

TEST(Smaps, ParsesFlagsAndNumbers) {
  auto m = parse_smaps(kSmaps);
  ASSERT_TRUE(m) << m.error().message();
  ASSERT_EQ(m->size(), 2u);
  EXPECT_EQ((*m)[0].path, "[heap]");
  EXPECT_EQ((*m)[0].rss_kb, 8u);
  EXPECT_EQ((*m)[0].swap_kb, 4u);
  EXPECT_EQ((*m)[0].thp_eligible, true);
  EXPECT_EQ((*m)[0].vm_flags, (std::vector<std::string>{"rd", "wr", "mr", "mw", "me", "ac", "sd"}));
  EXPECT_TRUE((*m)[1].has_vm_flag("sh"));
  EXPECT_FALSE((*m)[1].swap_kb.has_value());
  EXPECT_TRUE((*m)[1].deleted);
}

TEST(Smaps, Malformed) {
  // No VmFlags for an entry.
  EXPECT_FALSE(parse_smaps("1000-2000 r--p 0 00:00 0\nRss: 4 kB\n2000-3000 r--p 0 00:00 0\n"
                           "VmFlags: rd\n"));
  EXPECT_FALSE(parse_smaps("1000-2000 r--p 0 00:00 0\nRss: 4 kB\n"));
  EXPECT_FALSE(parse_smaps("Rss: 4 kB\n"));
  EXPECT_FALSE(parse_smaps("1000-2000 r--p 0 00:00 0\nRss: x kB\nVmFlags: rd\n"));
  EXPECT_FALSE(parse_smaps("1000-2000 r--p 0 00:00 0\nRss: 4\nVmFlags: rd\n"));
  EXPECT_FALSE(parse_smaps("1000-2000 r--p 0 00:00 0\nVmFlags: rdx\n"));
  EXPECT_FALSE(parse_smaps("1000-2000 r--p 0 00:00 0\nVmFlags: rd\nVmFlags: rd\n"));
}

TEST(Maps, OwnProcess) {
  // A private file mapping and an anonymous shared one must show up.
  char tmpl[] = "/tmp/ckpt-maps-XXXXXX";
  int fd = mkstemp(tmpl);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(ftruncate(fd, 4096), 0);
  void* f = mmap(nullptr, 4096, PROT_READ, MAP_PRIVATE, fd, 0);
  ASSERT_NE(f, MAP_FAILED);
  void* s = mmap(nullptr, 8192, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  ASSERT_NE(s, MAP_FAILED);
  unlink(tmpl);
  auto maps = read_maps(getpid());
  auto smaps = read_smaps(getpid());
  ASSERT_TRUE(maps) << maps.error().message();
  ASSERT_TRUE(smaps) << smaps.error().message();
  EXPECT_EQ(maps->size(), smaps->size());
  bool saw_file = false, saw_shared = false;
  for (const MapEntry& e : *smaps) {
    EXPECT_FALSE(e.vm_flags.empty());
    if (e.start == reinterpret_cast<uint64_t>(f)) {
      saw_file = true;
      EXPECT_EQ(e.path, tmpl);
      EXPECT_TRUE(e.deleted);
      EXPECT_TRUE(e.has_vm_flag("rd"));
      EXPECT_FALSE(e.has_vm_flag("wr"));
    }
    if (e.start == reinterpret_cast<uint64_t>(s)) {
      saw_shared = true;
      EXPECT_TRUE(e.shared);
      EXPECT_EQ(e.path, "/dev/zero");
      EXPECT_TRUE(e.has_vm_flag("sh"));
      EXPECT_EQ(e.size(), 8192u);
    }
  }
  EXPECT_TRUE(saw_file);
  EXPECT_TRUE(saw_shared);
  munmap(f, 4096);
  munmap(s, 8192);
  close(fd);
}

}  // namespace
}  // namespace ckpt::proc
