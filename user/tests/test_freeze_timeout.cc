// A freeze that cannot complete must time out with a message naming the
// tasks it waited for, and FreezeGuard must restore the cgroup.  Two
// deterministic ways to make a task unfreezable on a host with both
// hierarchies:
//   v2: the task is already frozen by a v1 freezer; it sits in the v1
//       refrigerator and never reaches the signal code where v2 freezes.
//   v1: the task is in execve(), waiting (uninterruptibly, not freezable)
//       for its other thread to die, and that thread is frozen by another
//       v1 cgroup.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <string>
#include <thread>

#include "cgroup/cgroup.h"
#include "cgroup/freeze_guard.h"
#include "core/file.h"
#include "proc/stat.h"
#include "test_util.h"

namespace ckpt::cg {
namespace {

using test::Sandbox;
constexpr auto kShortTimeout = std::chrono::milliseconds(300);

#define CKPT_REQUIRE_BOTH(v2root, v1root)                            \
  CKPT_REQUIRE_HIERARCHY(Version::v2, v2root);                       \
  CKPT_REQUIRE_HIERARCHY(Version::v1_freezer, v1root)

TEST(FreezeTimeout, V2NamesTaskHeldByV1Freezer) {
  CKPT_REQUIRE_BOTH(v2root, v1root);
  Sandbox sb;
  auto u = Cgroup::open(sb.make_cgroup(Version::v2));
  auto g = Cgroup::open(sb.make_cgroup(Version::v1_freezer));
  ASSERT_TRUE(u && g);
  test::Child& child = sb.spawn({CKPT_TEST_HELPER, "sleep"});
  ASSERT_EQ(test::read_line(child.stdout_r.get()), "ready");  // exec'ed: comm is known
  ASSERT_TRUE(u->add_process(child.pid));
  ASSERT_TRUE(g->add_process(child.pid));
  ASSERT_TRUE(g->freeze());

  auto guard = FreezeGuard::freeze(*u, kShortTimeout);
  ASSERT_FALSE(guard);
  const Error& e = guard.error();
  EXPECT_EQ(e.code(), ETIMEDOUT);
  std::string msg = e.message();
  EXPECT_NE(msg.find("freeze " + u->path()), std::string::npos) << msg;
  EXPECT_NE(msg.find("not frozen after 300 ms"), std::string::npos) << msg;
  EXPECT_NE(msg.find("1 task not frozen: " + std::to_string(child.pid) + " (ckpt-test-helpe) D"),
            std::string::npos)
      << msg;
  // The guard put the v2 cgroup back: not asked to freeze any more.
  auto st = u->freezer_status();
  ASSERT_TRUE(st);
  EXPECT_FALSE(st->self);
}

TEST(FreezeTimeout, V1NamesTaskStuckInExec) {
  CKPT_REQUIRE_BOTH(v2root, v1root);
  Sandbox sb;
  auto f = Cgroup::open(sb.make_cgroup(Version::v1_freezer));
  auto g = Cgroup::open(sb.make_cgroup(Version::v1_freezer));
  ASSERT_TRUE(f && g);
  test::Child& child = sb.spawn({CKPT_TEST_HELPER, "exec-stuck"});
  std::string tid = test::read_line(child.stdout_r.get());
  ASSERT_FALSE(tid.empty());
  ASSERT_TRUE(f->add_process(child.pid));
  // v1 moves single threads: the second thread alone goes to g, frozen.
  ASSERT_TRUE(write_file_at(g->dir_fd(), "tasks", tid));
  ASSERT_TRUE(g->freeze());
  ASSERT_EQ(::write(child.stdin_w.get(), "x", 1), 1);  // main thread: execve()
  // Wait (no time assertion) until execve is stuck waiting for the thread.
  for (int i = 0; i < 1000; ++i) {
    auto st = proc::read_stat(child.pid);
    ASSERT_TRUE(st);
    if (st->state == 'D')
      break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }

  auto guard = FreezeGuard::freeze(*f, kShortTimeout);
  ASSERT_FALSE(guard);
  std::string msg = guard.error().message();
  EXPECT_EQ(guard.error().code(), ETIMEDOUT);
  EXPECT_NE(msg.find("not frozen after 300 ms"), std::string::npos) << msg;
  // v1 cannot tell this D from a frozen D, so every task is listed.
  EXPECT_NE(msg.find(std::to_string(child.pid) + " (ckpt-test-helpe) D"), std::string::npos) << msg;
  // ASSERT: if f stayed frozen, reaping below would wait for ever (the
  // Sandbox thaws everything on the early return).
  auto st = f->freezer_status();
  ASSERT_TRUE(st);
  ASSERT_FALSE(st->self);
  ASSERT_EQ(st->state, FreezerState::thawed);
  // Thawing g lets the thread die and execve finish: /bin/true exits 0.
  ASSERT_TRUE(g->thaw());
  EXPECT_EQ(sb.reap(child.pid), 0);
}

}  // namespace
}  // namespace ckpt::cg
