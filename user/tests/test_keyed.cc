// Flat-keyed cgroup files, /proc/PID/cgroup, pid lists.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cerrno>

#include "proc/keyed.h"
#include "proc/pid_cgroup.h"
#include "proc/pidlist.h"

namespace ckpt::proc {
namespace {

TEST(FlatKeyed, CgroupEvents) {
  auto kv = parse_flat_keyed("populated 1\nfrozen 0\n");
  ASSERT_TRUE(kv) << kv.error().message();
  EXPECT_EQ(kv->size(), 2u);
  EXPECT_EQ(*kv->get_u64("populated"), 1u);
  EXPECT_EQ(*kv->get_u64("frozen"), 0u);
  EXPECT_EQ(*kv->get("frozen"), "0");
  EXPECT_FALSE(kv->get("nope"));
  auto missing = kv->get_u64("nope");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code(), ENOENT);
}

TEST(FlatKeyed, NoTrailingNewlineAndEmpty) {
  EXPECT_EQ(*parse_flat_keyed("frozen 1")->get_u64("frozen"), 1u);
  EXPECT_EQ(parse_flat_keyed("")->size(), 0u);
}

TEST(FlatKeyed, Malformed) {
  for (const char* bad : {"populated\n", "populated 1 2\n", "a 1\na 2\n", "\n", "a 1\n\nb 2\n"})
    EXPECT_FALSE(parse_flat_keyed(bad)) << "accepted: " << bad;
  auto kv = parse_flat_keyed("frozen x\nbig 18446744073709551616\n");
  ASSERT_TRUE(kv);  // values are checked when asked for
  EXPECT_FALSE(kv->get_u64("frozen"));
  EXPECT_FALSE(kv->get_u64("big"));
}

TEST(ProcCgroup, V1AndV2) {
  auto e = parse_proc_cgroup(
      "9:name=systemd:/\n6:freezer:/job\n4:cpu,cpuacct:/a:b c\n0::/user.slice/job\n");
  ASSERT_TRUE(e) << e.error().message();
  ASSERT_EQ(e->size(), 4u);
  EXPECT_EQ((*e)[0].controllers, std::vector<std::string>{"name=systemd"});
  EXPECT_EQ((*e)[2].controllers, (std::vector<std::string>{"cpu", "cpuacct"}));
  EXPECT_EQ((*e)[2].path, "/a:b c");  // ':' and spaces inside the path
  const CgroupMembership* v2 = find_v2(*e);
  ASSERT_NE(v2, nullptr);
  EXPECT_EQ(v2->path, "/user.slice/job");
  const CgroupMembership* fr = find_controller(*e, "freezer");
  ASSERT_NE(fr, nullptr);
  EXPECT_EQ(fr->hierarchy_id, 6u);
  EXPECT_EQ(fr->path, "/job");
  EXPECT_EQ(find_controller(*e, "memory"), nullptr);
}

TEST(ProcCgroup, Malformed) {
  for (const char* bad : {"0:/x\n", "x::/\n", "0::relative\n", "0::\n", "1:a,,b:/\n",
                          "0:cpu:/\n", "-1::/\n", "99999999999::/\n", "\n", "garbage"})
    EXPECT_FALSE(parse_proc_cgroup(bad)) << "accepted: " << bad;
}

TEST(ProcCgroup, ReadsThisProcess) {
  auto e = read_proc_cgroup(::getpid());
  ASSERT_TRUE(e) << e.error().message();
  EXPECT_FALSE(e->empty());
}

TEST(PidList, GoodAndBad) {
  EXPECT_EQ(*parse_pid_list("1\n22\n333\n"), (std::vector<pid_t>{1, 22, 333}));
  EXPECT_TRUE(parse_pid_list("")->empty());
  for (const char* bad : {"0\n", "-1\n", "1 2\n", "x\n", "1\n\n2\n", "4294967296\n", " 1\n"})
    EXPECT_FALSE(parse_pid_list(bad)) << "accepted: " << bad;
}

}  // namespace
}  // namespace ckpt::proc
