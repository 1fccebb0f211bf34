// Cgroup and FreezeGuard against the host's real hierarchies: every test
// runs once on cgroup v2 and once on the v1 freezer, and skips (saying why)
// where the hierarchy is not mounted or we are not root.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>

#include "cgroup/cgroup.h"
#include "cgroup/freeze_guard.h"
#include "proc/stat.h"
#include "test_util.h"

namespace ckpt::cg {
namespace {

using test::Sandbox;

class CgroupHost : public testing::TestWithParam<Version> {
 protected:
  // A fresh cgroup with one sleeping process in it.
  Cgroup populated(Sandbox& sb, pid_t* pid) {
    std::string path = sb.make_cgroup(GetParam());
    auto cg = Cgroup::open(path);
    EXPECT_TRUE(cg) << cg.error().message();
    *pid = sb.spawn_sleeper();
    auto r = cg->add_process(*pid);
    EXPECT_TRUE(r) << r.error().message();
    return std::move(*cg);
  }
  FreezerStatus status(const Cgroup& cg) {
    auto st = cg.freezer_status();
    EXPECT_TRUE(st) << st.error().message();
    return st ? *st : FreezerStatus{};
  }
};

TEST_P(CgroupHost, OpenDetectsVersionFromMountinfo) {
  CKPT_REQUIRE_HIERARCHY(GetParam(), root);
  Sandbox sb;
  auto cg = Cgroup::open(sb.make_cgroup(GetParam()));
  ASSERT_TRUE(cg) << cg.error().message();
  EXPECT_EQ(cg->version(), GetParam());
  auto top = Cgroup::open(root);
  ASSERT_TRUE(top);
  EXPECT_EQ(top->version(), GetParam());
}

TEST_P(CgroupHost, CreateIsFreshOnly) {
  CKPT_REQUIRE_HIERARCHY(GetParam(), root);
  Sandbox sb;
  std::string path = root + "/" + sb.unique_name();
  sb.track_cgroup(path, GetParam());
  auto mounts = proc::read_mountinfo();
  ASSERT_TRUE(mounts);
  auto cg = Cgroup::create(path, *mounts);
  ASSERT_TRUE(cg) << cg.error().message();
  EXPECT_EQ(cg->version(), GetParam());
  auto again = Cgroup::create(path, *mounts);
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code(), EEXIST);
  EXPECT_EQ(again.error().message(), "cgroup " + path + " already exists");
  EXPECT_TRUE(cg->remove());
  EXPECT_FALSE(Cgroup::open(path));
}

TEST_P(CgroupHost, FreezeAndThaw) {
  CKPT_REQUIRE_HIERARCHY(GetParam(), root);
  Sandbox sb;
  pid_t pid;
  Cgroup cg = populated(sb, &pid);
  EXPECT_EQ(status(cg).state, FreezerState::thawed);
  EXPECT_FALSE(status(cg).self);
  auto r = cg.freeze();
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(status(cg).state, FreezerState::frozen);
  EXPECT_TRUE(status(cg).self);
  auto st = proc::read_stat(pid);
  ASSERT_TRUE(st);
  EXPECT_EQ(st->state, GetParam() == Version::v2 ? 'S' : 'D');
  ASSERT_TRUE(cg.thaw());
  auto after = status(cg);
  EXPECT_FALSE(after.self);
  EXPECT_NE(after.state, FreezerState::frozen);
}

TEST_P(CgroupHost, FreezeEmptyCgroup) {
  CKPT_REQUIRE_HIERARCHY(GetParam(), root);
  Sandbox sb;
  auto cg = Cgroup::open(sb.make_cgroup(GetParam()));
  ASSERT_TRUE(cg);
  ASSERT_TRUE(cg->freeze());
  EXPECT_EQ(status(*cg).state, FreezerState::frozen);
  auto populated = cg->populated();
  ASSERT_TRUE(populated);
  EXPECT_FALSE(*populated);
}

TEST_P(CgroupHost, FreezeCoversChildCgroups) {
  CKPT_REQUIRE_HIERARCHY(GetParam(), root);
  Sandbox sb;
  std::string top_path = sb.make_cgroup(GetParam());
  std::string child_path = top_path + "/inner";
  sb.track_cgroup(child_path, GetParam());
  auto mounts = proc::read_mountinfo();
  ASSERT_TRUE(mounts);
  auto child = Cgroup::create(child_path, *mounts);
  ASSERT_TRUE(child) << child.error().message();
  pid_t pid = sb.spawn_sleeper();
  ASSERT_TRUE(child->add_process(pid));
  auto top = Cgroup::open(top_path);
  ASSERT_TRUE(top);
  auto tids = top->subtree_threads();
  ASSERT_TRUE(tids);
  EXPECT_EQ(*tids, std::vector<pid_t>{pid});
  auto procs = top->procs();
  ASSERT_TRUE(procs);
  EXPECT_TRUE(procs->empty());
  EXPECT_TRUE(*top->populated());
  ASSERT_TRUE(top->freeze());
  EXPECT_EQ(status(*child).state, FreezerState::frozen);
  EXPECT_FALSE(status(*child).self);  // frozen by its parent
}

TEST_P(CgroupHost, GuardRestoresThawedCgroup) {
  CKPT_REQUIRE_HIERARCHY(GetParam(), root);
  Sandbox sb;
  pid_t pid;
  Cgroup cg = populated(sb, &pid);
  {
    auto guard = FreezeGuard::freeze(cg);
    ASSERT_TRUE(guard) << guard.error().message();
    EXPECT_FALSE(guard->was_frozen());
    EXPECT_EQ(status(cg).state, FreezerState::frozen);
    // An error path: the guard goes out of scope without finish().
  }
  EXPECT_FALSE(status(cg).self);
  EXPECT_NE(status(cg).state, FreezerState::frozen);
}

TEST_P(CgroupHost, GuardLeavesPreviouslyFrozenCgroupFrozen) {
  CKPT_REQUIRE_HIERARCHY(GetParam(), root);
  Sandbox sb;
  pid_t pid;
  Cgroup cg = populated(sb, &pid);
  ASSERT_TRUE(cg.freeze());
  {
    auto guard = FreezeGuard::freeze(cg);
    ASSERT_TRUE(guard) << guard.error().message();
    EXPECT_TRUE(guard->was_frozen());
  }
  EXPECT_EQ(status(cg).state, FreezerState::frozen);
  {
    auto guard = FreezeGuard::freeze(cg);
    ASSERT_TRUE(guard);
    ASSERT_TRUE(guard->finish(EndAction::thaw));  // thaw does not undo the user's freeze
  }
  EXPECT_EQ(status(cg).state, FreezerState::frozen);
  EXPECT_TRUE(status(cg).self);
}

TEST_P(CgroupHost, GuardFinishThaw) {
  CKPT_REQUIRE_HIERARCHY(GetParam(), root);
  Sandbox sb;
  pid_t pid;
  Cgroup cg = populated(sb, &pid);
  auto guard = FreezeGuard::freeze(cg);
  ASSERT_TRUE(guard);
  ASSERT_TRUE(guard->finish(EndAction::thaw));
  EXPECT_FALSE(guard->active());
  EXPECT_FALSE(status(cg).self);
  EXPECT_FALSE(guard->finish(EndAction::thaw));  // only once
}

TEST_P(CgroupHost, GuardFinishLeaveFrozen) {
  CKPT_REQUIRE_HIERARCHY(GetParam(), root);
  Sandbox sb;
  pid_t pid;
  Cgroup cg = populated(sb, &pid);
  {
    auto guard = FreezeGuard::freeze(cg);
    ASSERT_TRUE(guard);
    ASSERT_TRUE(guard->finish(EndAction::leave_frozen));
  }
  EXPECT_EQ(status(cg).state, FreezerState::frozen);
  EXPECT_TRUE(status(cg).self);
}

TEST_P(CgroupHost, GuardFinishKill) {
  CKPT_REQUIRE_HIERARCHY(GetParam(), root);
  Sandbox sb;
  pid_t pid;
  Cgroup cg = populated(sb, &pid);
  auto guard = FreezeGuard::freeze(cg);
  ASSERT_TRUE(guard);
  ASSERT_TRUE(guard->finish(EndAction::kill));
  EXPECT_EQ(sb.reap(pid), 128 + SIGKILL);
}

TEST_P(CgroupHost, KillWithoutFreezing) {
  CKPT_REQUIRE_HIERARCHY(GetParam(), root);
  Sandbox sb;
  pid_t pid;
  Cgroup cg = populated(sb, &pid);
  ASSERT_TRUE(cg.kill());
  EXPECT_EQ(sb.reap(pid), 128 + SIGKILL);
}

TEST_P(CgroupHost, RootCannotBeFrozen) {
  CKPT_REQUIRE_HIERARCHY(GetParam(), root);
  auto cg = Cgroup::open(root);
  ASSERT_TRUE(cg);
  auto r = cg->request_freeze();
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), ENOENT);
  EXPECT_NE(r.error().message().find("root cgroup cannot be frozen"), std::string::npos)
      << r.error().message();
}

TEST_P(CgroupHost, MoveOfMissingPidFails) {
  CKPT_REQUIRE_HIERARCHY(GetParam(), root);
  Sandbox sb;
  auto cg = Cgroup::open(sb.make_cgroup(GetParam()));
  ASSERT_TRUE(cg);
  auto r = cg->add_process(0x3ffffff0);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), ESRCH);
  EXPECT_NE(r.error().message().find("move pid"), std::string::npos);
}

INSTANTIATE_TEST_SUITE_P(Hierarchies, CgroupHost,
                         testing::Values(Version::v2, Version::v1_freezer),
                         [](const testing::TestParamInfo<Version>& i) {
                           return i.param == Version::v2 ? "v2" : "v1";
                         });

TEST(CgroupOpen, NotACgroup) {
  auto cg = Cgroup::open("/tmp");
  ASSERT_FALSE(cg);
  EXPECT_EQ(cg.error().code(), EINVAL);
  EXPECT_NE(cg.error().message().find("not on a cgroup filesystem"), std::string::npos);
  auto missing = Cgroup::open("/sys/fs/cgroup/ckpt-no-such-cgroup");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code(), ENOENT);
}

}  // namespace
}  // namespace ckpt::cg
