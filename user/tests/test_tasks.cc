// The heuristic that names the tasks a freeze is waiting for.
#include <gtest/gtest.h>

#include "cgroup/tasks.h"

namespace ckpt::cg {
namespace {

TEST(Tasks, LooksFrozenV2) {
  EXPECT_TRUE(looks_frozen(Version::v2, {1, "a", 'S', "get_signal"}));
  EXPECT_TRUE(looks_frozen(Version::v2, {1, "a", 'S', "do_freezer_trap"}));
  EXPECT_TRUE(looks_frozen(Version::v2, {1, "a", 'S', ""}));
  EXPECT_TRUE(looks_frozen(Version::v2, {1, "a", 'T', "do_signal_stop"}));
  EXPECT_TRUE(looks_frozen(Version::v2, {1, "a", 'Z', ""}));
  EXPECT_FALSE(looks_frozen(Version::v2, {1, "a", 'R', ""}));
  EXPECT_FALSE(looks_frozen(Version::v2, {1, "a", 'S', "hrtimer_nanosleep"}));
  EXPECT_FALSE(looks_frozen(Version::v2, {1, "a", 'D', "hrtimer_nanosleep"}));
}

TEST(Tasks, LooksFrozenV1) {
  EXPECT_TRUE(looks_frozen(Version::v1_freezer, {1, "a", 'D', "hrtimer_nanosleep"}));
  EXPECT_FALSE(looks_frozen(Version::v1_freezer, {1, "a", 'S', "hrtimer_nanosleep"}));
  EXPECT_FALSE(looks_frozen(Version::v1_freezer, {1, "a", 'R', ""}));
}

TEST(Tasks, DescribeNamesTheUnfrozen) {
  std::vector<TaskSnapshot> t = {{10, "ok", 'S', "get_signal"},
                                 {11, "busy loop", 'R', ""},
                                 {12, "na\nme", 'S', "do_nanosleep"}};
  EXPECT_EQ(describe_unfrozen(Version::v2, t),
            "2 tasks not frozen: 11 (busy loop) R running, 12 (na\\x0ame) S sleeping in "
            "do_nanosleep");
}

TEST(Tasks, DescribeFallsBackToAll) {
  std::vector<TaskSnapshot> t = {{20, "x", 'D', "de_thread"}};
  EXPECT_EQ(describe_unfrozen(Version::v1_freezer, t),
            "1 task in the cgroup: 20 (x) D disk sleep in de_thread");
  EXPECT_EQ(describe_unfrozen(Version::v2, {}), "no task left in the cgroup");
}

TEST(Tasks, DescribeCapsTheList) {
  std::vector<TaskSnapshot> t;
  for (int i = 0; i < 12; ++i)
    t.push_back({100 + i, "r", 'R', ""});
  std::string s = describe_unfrozen(Version::v2, t, 3);
  EXPECT_EQ(s, "12 tasks not frozen: 100 (r) R running, 101 (r) R running, 102 (r) R running, "
               "and 9 more");
}

}  // namespace
}  // namespace ckpt::cg
