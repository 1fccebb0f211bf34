// The /dev/ckpt client against the real module.  ckpt.ko loads only in the
// VM lane (vmtest/), so on a host without /dev/ckpt these tests skip.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <csignal>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <span>
#include <sstream>
#include <vector>

#include "cgroup/cgroup.h"
#include "cgroup/freeze_guard.h"
#include "core/fd.h"
#include "core/parse.h"
#include "dump/vmas.h"
#include "image/format.h"
#include "kmod/device.h"
#include "kmod/session.h"
#include "proc/maps.h"
#include "test_util.h"

namespace ckpt::kmod {
namespace {

using cg::Version;
using test::Sandbox;


class KmodLive : public testing::TestWithParam<Version> {};

TEST_P(KmodLive, InfoSpeaksOurAbi) {
  CKPT_REQUIRE_MODULE();
  auto dev = Device::open();
  ASSERT_TRUE(dev) << dev.error().message();
  auto info = dev->checked_info();
  ASSERT_TRUE(info) << info.error().message();
  EXPECT_EQ(info->abi_version, kAbiVersion);
  EXPECT_GE(info->task_record_size, sizeof(ckpt_task));
}

TEST_P(KmodLive, ScanAndRegsOfAFrozenTree) {
  CKPT_REQUIRE_MODULE();
  CKPT_REQUIRE_HIERARCHY(GetParam(), root);
  Sandbox sb;
  auto cg = cg::Cgroup::open(sb.make_cgroup(GetParam()));
  ASSERT_TRUE(cg);
  // One process with two threads.
  test::Child& child = sb.spawn({CKPT_TEST_HELPER, "exec-stuck"});
  std::string tid_text = test::read_line(child.stdout_r.get());
  auto tid = parse_int<pid_t>(tid_text);
  ASSERT_TRUE(tid) << tid_text;
  ASSERT_TRUE(cg->add_process(child.pid));

  auto dev = Device::open();
  ASSERT_TRUE(dev);
  // Not frozen yet: BEGIN refuses with EAGAIN and says why.
  {
    auto early = Device::open();
    ASSERT_TRUE(early);
    auto s = Session::begin(std::move(*early), cg->dir_fd(), Root::pid(child.pid));
    ASSERT_FALSE(s);
    EXPECT_EQ(s.error().code(), EAGAIN) << s.error().message();
    EXPECT_NE(s.error().message().find("not frozen"), std::string::npos);
  }

  auto guard = cg::FreezeGuard::freeze(*cg);
  ASSERT_TRUE(guard) << guard.error().message();
  Fd pidfd(static_cast<int>(::syscall(SYS_pidfd_open, child.pid, 0)));
  ASSERT_TRUE(pidfd.valid());
  auto s = Session::begin(std::move(*dev), cg->dir_fd(), Root::pidfd(pidfd.get()));
  ASSERT_TRUE(s) << s.error().message();

  auto tasks = s->scan();
  ASSERT_TRUE(tasks) << tasks.error().message();
  ASSERT_EQ(tasks->size(), 2u);
  const ckpt_task& leader = (*tasks)[0];
  const ckpt_task& thread = (*tasks)[1];
  EXPECT_EQ(leader.vpid, static_cast<__u32>(child.pid));
  EXPECT_TRUE(leader.flags & CKPT_TASK_ROOT);
  EXPECT_TRUE(leader.flags & CKPT_TASK_LEADER);
  EXPECT_EQ(thread.vpid, static_cast<__u32>(*tid));
  EXPECT_EQ(thread.vtgid, static_cast<__u32>(child.pid));
  EXPECT_TRUE(thread.flags & CKPT_TASK_THREAD);
  EXPECT_EQ(leader.depth, 0u);

  auto regs = s->regs(*tid, s->info().xstate_size != 0);
  ASSERT_TRUE(regs) << regs.error().message();
  EXPECT_NE(regs->gp.ip, 0u);
  EXPECT_NE(regs->gp.sp, 0u);
  if (s->info().xstate_size != 0) {
    EXPECT_GT(regs->xstate.size(), 512u);  // at least the legacy FXSAVE area
  }

  auto bad = s->regs(0x3ffffff0, false);
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message().find("thread"), std::string::npos);

  // While the session holds it, nobody can thaw the cgroup.
  auto thaw = cg->request_thaw();
  ASSERT_FALSE(thaw);
  EXPECT_EQ(thaw.error().code(), EBUSY);

  ASSERT_TRUE(s->end());
  ASSERT_TRUE(guard->finish(cg::EndAction::thaw));
  auto st = cg->freezer_status();
  ASSERT_TRUE(st);
  EXPECT_FALSE(st->self);
}

// CKPT_IOC_VMAS joined with /proc/PID/maps gives what /proc/PID/smaps
// says, VmFlags included, for a frozen process (the helper: libc, a thread
// stack, heap, vdso, vsyscall).
TEST_P(KmodLive, VmasMatchSmaps) {
  CKPT_REQUIRE_MODULE();
  CKPT_REQUIRE_HIERARCHY(GetParam(), root);
  Sandbox sb;
  auto cg = cg::Cgroup::open(sb.make_cgroup(GetParam()));
  ASSERT_TRUE(cg);
  test::Child& child = sb.spawn({CKPT_TEST_HELPER, "exec-stuck"});
  std::string tid_text = test::read_line(child.stdout_r.get());
  auto tid = parse_int<pid_t>(tid_text);
  ASSERT_TRUE(tid) << tid_text;
  ASSERT_TRUE(cg->add_process(child.pid));
  auto guard = cg::FreezeGuard::freeze(*cg);
  ASSERT_TRUE(guard) << guard.error().message();
  auto dev = Device::open();
  ASSERT_TRUE(dev);
  auto s = Session::begin(std::move(*dev), cg->dir_fd(), Root::pid(child.pid));
  ASSERT_TRUE(s) << s.error().message();
  ASSERT_TRUE(s->has_vmas());

  auto fast = dump::read_vmas(&*s, child.pid);
  ASSERT_TRUE(fast) << fast.error().message();
  auto smaps = proc::read_smaps(child.pid);
  ASSERT_TRUE(smaps) << smaps.error().message();
  ASSERT_EQ(fast->size(), smaps->size());
  ASSERT_GT(fast->size(), 5u);
  for (std::size_t i = 0; i < fast->size(); ++i) {
    const auto& a = (*fast)[i];
    const auto& b = (*smaps)[i];
    SCOPED_TRACE(b.path);
    EXPECT_EQ(a.start, b.start);
    EXPECT_EQ(a.end, b.end);
    EXPECT_EQ(a.prot, b.prot);
    EXPECT_EQ(a.shared, b.shared);
    EXPECT_EQ(a.pgoff, b.pgoff);
    EXPECT_EQ(a.inode, b.inode);
    EXPECT_EQ(a.path, b.path);
    EXPECT_EQ(a.vm_flags, b.vm_flags);
  }
  // A thread of the process gives the same map; a pid outside the tree
  // is refused and named.
  auto by_thread = s->vmas(*tid);
  ASSERT_TRUE(by_thread) << by_thread.error().message();
  auto by_leader = s->vmas(child.pid);
  ASSERT_TRUE(by_leader);
  ASSERT_EQ(by_thread->vmas.size(), by_leader->vmas.size());
  EXPECT_EQ(by_thread->brk, by_leader->brk);
  EXPECT_GE(by_leader->brk, by_leader->start_brk);
  EXPECT_NE(by_leader->start_brk, 0u);
  auto outside = s->vmas(::getpid());
  ASSERT_FALSE(outside);
  EXPECT_EQ(outside.error().code(), EXDEV) << outside.error().message();

  ASSERT_TRUE(s->end());
  ASSERT_TRUE(guard->finish(cg::EndAction::thaw));
}

// CKPT_IOC_PAGES through PageCopier: no session, a running process, more
// ranges than one call takes (so two calls), and the file holds exactly
// what process_vm_readv reads, at the offset asked for.
TEST(KmodLivePages, PageCopierWritesWhatProcessVmReadvReads) {
  CKPT_REQUIRE_MODULE();
  Sandbox sb;
  const long n = 8200, ps = ::sysconf(_SC_PAGESIZE);
  auto bp = test::spawn_busy_pages(sb, CKPT_TEST_HELPER, n);
  test::Child& child = *bp.child;
  const uint64_t idle = bp.idle;
  ASSERT_NE(idle, 0u);
  auto dev = Device::open();
  ASSERT_TRUE(dev);
  auto info = dev->checked_info();
  ASSERT_TRUE(info);
  auto pc = PageCopier::open(*dev, *info);
  ASSERT_TRUE(pc) << pc.error().message();

  // Every other page of the idle region: n / 2 = 4100 ranges.
  std::vector<ckpt_page_range> ranges;
  for (long i = 0; i < n; i += 2)
    ranges.push_back({idle + static_cast<uint64_t>(i * ps), static_cast<uint64_t>(ps)});
  ASSERT_GT(ranges.size(), PageCopier::kMaxRanges);
  char path[] = "/tmp/ckpt-pages-live-XXXXXX";
  Fd fd(::mkstemp(path));
  ASSERT_TRUE(fd.valid());
  ::unlink(path);
  const uint64_t at = static_cast<uint64_t>(ps);
  // By pidfd, as the pre-copy does it.
  Fd pidfd(static_cast<int>(::syscall(SYS_pidfd_open, child.pid, 0)));
  ASSERT_TRUE(pidfd.valid());
  auto w = pc->write(child.pid, pidfd.get(), fd.get(), ranges, at);
  ASSERT_TRUE(w) << w.error().message();
  EXPECT_EQ(pc->calls(), 2u);

  const std::size_t total = ranges.size() * static_cast<std::size_t>(ps);
  std::vector<char> want(total), got(total);
  std::vector<iovec> remote;
  for (const auto& r : ranges)
    remote.push_back({reinterpret_cast<void*>(r.start), static_cast<std::size_t>(r.len)});
  std::size_t done = 0;
  for (std::size_t i = 0; i < remote.size(); i += 1024) {
    std::size_t k = std::min<std::size_t>(1024, remote.size() - i);
    iovec local{want.data() + done, k * static_cast<std::size_t>(ps)};
    ASSERT_EQ(::process_vm_readv(child.pid, &local, 1, &remote[i], k, 0),
              static_cast<ssize_t>(local.iov_len));
    done += local.iov_len;
  }
  ASSERT_EQ(::pread(fd.get(), got.data(), total, static_cast<off_t>(at)), static_cast<ssize_t>(total));
  EXPECT_TRUE(want == got);
  // The helper's idle pages carry their index: page 2k of the region.
  uint64_t w0;
  std::memcpy(&w0, got.data() + 5 * static_cast<std::size_t>(ps), sizeof w0);
  EXPECT_EQ(w0, 0x1d1e0000ull + 10);

  // Its errors carry the errno: a range that is not mapped is EFAULT.
  ckpt_page_range bad{ps * 16ull, static_cast<uint64_t>(ps)};
  auto e = pc->write(child.pid, -1, fd.get(), std::span(&bad, 1), 0);
  ASSERT_FALSE(e);
  EXPECT_EQ(e.error().code(), EFAULT) << e.error().message();
  // By pid, the same bytes, hashed by the module as it writes them (the
  // hash carried over its two calls); not by a pidfd of a reaped process.
  ASSERT_TRUE(pc->can_hash());
  std::vector<char> again(total);
  ckpt_pages_xxh64 h{};
  auto w2 = pc->write(child.pid, -1, fd.get(), ranges, 0, &h);
  ASSERT_TRUE(w2) << w2.error().message();
  EXPECT_EQ(pc->calls(), 5u);  // 2, the EFAULT, 2
  ASSERT_EQ(::pread(fd.get(), again.data(), total, 0), static_cast<ssize_t>(total));
  EXPECT_TRUE(again == want);
  EXPECT_EQ(h.len, total);
  EXPECT_EQ(h.digest, image::xxh64(again.data(), again.size()));
  const pid_t cpid = child.pid;
  ASSERT_EQ(::kill(cpid, SIGKILL), 0);
  sb.reap(cpid);
  auto gone = pc->write(0, pidfd.get(), fd.get(), ranges, 0);
  ASSERT_FALSE(gone);
  EXPECT_EQ(gone.error().code(), ESRCH) << gone.error().message();
}

INSTANTIATE_TEST_SUITE_P(Hierarchies, KmodLive, testing::Values(Version::v2, Version::v1_freezer),
                         [](const testing::TestParamInfo<Version>& i) {
                           return i.param == Version::v2 ? "v2" : "v1";
                         });

}  // namespace
}  // namespace ckpt::kmod
