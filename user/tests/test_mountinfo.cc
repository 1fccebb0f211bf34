// /proc/PID/mountinfo parsing and the cgroup mounts found in it.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <cerrno>

#include "cgroup/mounts.h"
#include "proc/mountinfo.h"

namespace ckpt::proc {
namespace {

const char* kSample =
    "22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw,errors=remount-ro\n"
    "31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n"
    "32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu\n"
    "37 31 0:34 / /sys/fs/cgroup/freezer rw,relatime - cgroup cgroup rw,freezer\n"
    "41 31 0:38 / /sys/fs/cgroup/unified rw,relatime shared:9 master:3 - cgroup2 cgroup2 rw\n"
    "50 22 0:45 /jobs /srv/my\\040jobs rw - cgroup2 none rw,nsdelegate\n";

TEST(Mountinfo, ParsesAllFields) {
  auto m = parse_mountinfo(kSample);
  ASSERT_TRUE(m) << m.error().message();
  ASSERT_EQ(m->size(), 6u);
  const MountInfo& root = (*m)[0];
  EXPECT_EQ(root.mount_id, 22u);
  EXPECT_EQ(root.parent_id, 1u);
  EXPECT_EQ(root.major, 8u);
  EXPECT_EQ(root.minor, 1u);
  EXPECT_EQ(root.root, "/");
  EXPECT_EQ(root.mount_point, "/");
  EXPECT_EQ(root.mount_options, "rw,relatime");
  EXPECT_EQ(root.optional_fields, std::vector<std::string>{"shared:1"});
  EXPECT_EQ(root.fstype, "ext4");
  EXPECT_EQ(root.source, "/dev/sda1");
  EXPECT_EQ(root.super_options, "rw,errors=remount-ro");
  EXPECT_EQ((*m)[4].optional_fields, (std::vector<std::string>{"shared:9", "master:3"}));
  EXPECT_TRUE((*m)[3].optional_fields.empty());
  EXPECT_TRUE((*m)[3].has_super_option("freezer"));
  EXPECT_FALSE((*m)[3].has_super_option("free"));
  EXPECT_EQ((*m)[3].dev(), makedev(0, 34));
}

TEST(Mountinfo, UnescapesOctal) {
  auto m = parse_mountinfo(kSample);
  ASSERT_TRUE(m);
  EXPECT_EQ((*m)[5].mount_point, "/srv/my jobs");
  EXPECT_EQ((*m)[5].root, "/jobs");
  EXPECT_EQ(*unescape_mount_field("a\\011b\\012c\\134d"), "a\tb\nc\\d");
}

TEST(Mountinfo, BadEscapes) {
  EXPECT_FALSE(unescape_mount_field("a\\04"));
  EXPECT_FALSE(unescape_mount_field("a\\"));
  EXPECT_FALSE(unescape_mount_field("a\\089"));
  EXPECT_FALSE(unescape_mount_field("\\777"));  // > 0xff
  EXPECT_FALSE(parse_mountinfo_line("1 2 0:1 / /a\\04 rw - tmpfs t rw"));
}

TEST(Mountinfo, MalformedLines) {
  const char* bad[] = {
      "",                                                   // empty line
      "22 1 8:1 / / rw",                                    // truncated
      "22 1 8:1 / / rw shared:1 ext4 /dev/sda1 rw x",       // no separator
      "22 1 8:1 / / rw - ext4 /dev/sda1",                   // 2 fields after '-'
      "22 1 8:1 / / rw - ext4 /dev/sda1 rw extra",          // 4 fields after '-'
      "x 1 8:1 / / rw - ext4 /dev/sda1 rw",                 // id not a number
      "22 1 81 / / rw - ext4 /dev/sda1 rw",                 // no major:minor
      "22 1 8:x / / rw - ext4 /dev/sda1 rw",                // bad minor
      "22 1 8: / / rw - ext4 /dev/sda1 rw",                 // empty minor
      "99999999999 1 8:1 / / rw - ext4 /dev/sda1 rw",       // id out of range
      "22 1 8:1 rel / rw - ext4 /dev/sda1 rw",              // relative root
      "22 1 8:1 / rel rw - ext4 /dev/sda1 rw",              // relative mount point
  };
  for (const char* line : bad)
    EXPECT_FALSE(parse_mountinfo_line(line)) << "accepted: " << line;
}

TEST(Mountinfo, ErrorNamesLine) {
  std::string text = std::string(kSample) + "garbage\n";
  auto m = parse_mountinfo(text);
  ASSERT_FALSE(m);
  EXPECT_NE(m.error().message().find("line 7"), std::string::npos) << m.error().message();
}

TEST(Mountinfo, ReadsThisProcess) {
  auto m = read_mountinfo();
  ASSERT_TRUE(m) << m.error().message();
  bool root = false;
  for (const auto& e : *m)
    root |= e.mount_point == "/";
  EXPECT_TRUE(root);
}

TEST(CgroupMounts, FindsV2AndV1Freezer) {
  auto m = parse_mountinfo(kSample);
  ASSERT_TRUE(m);
  cg::CgroupMounts found = cg::find_cgroup_mounts(*m);
  ASSERT_EQ(found.v2.size(), 2u);
  ASSERT_EQ(found.v1_freezer.size(), 1u);
  EXPECT_EQ(found.v1_freezer[0].mount_point, "/sys/fs/cgroup/freezer");
  // The preferred v2 mount shows the whole hierarchy (root "/").
  EXPECT_EQ(found.preferred(cg::Version::v2)->mount_point, "/sys/fs/cgroup/unified");
  EXPECT_EQ(found.preferred(cg::Version::v1_freezer)->mount_point, "/sys/fs/cgroup/freezer");
}

TEST(CgroupMounts, NoneMounted) {
  auto m = parse_mountinfo("22 1 8:1 / / rw - ext4 /dev/sda1 rw\n");
  ASSERT_TRUE(m);
  cg::CgroupMounts found = cg::find_cgroup_mounts(*m);
  EXPECT_EQ(found.preferred(cg::Version::v2), nullptr);
  EXPECT_EQ(found.preferred(cg::Version::v1_freezer), nullptr);
}

TEST(CgroupMounts, ClassifyByDevice) {
  auto m = parse_mountinfo(kSample);
  ASSERT_TRUE(m);
  EXPECT_EQ(*cg::classify_dev(*m, makedev(0, 38), "x"), cg::Version::v2);
  EXPECT_EQ(*cg::classify_dev(*m, makedev(0, 34), "x"), cg::Version::v1_freezer);
  auto cpu = cg::classify_dev(*m, makedev(0, 29), "/sys/fs/cgroup/cpu/x");
  ASSERT_FALSE(cpu);
  EXPECT_EQ(cpu.error().code(), EOPNOTSUPP);
  EXPECT_NE(cpu.error().message().find("without the freezer"), std::string::npos);
  auto tmp = cg::classify_dev(*m, makedev(0, 28), "/sys/fs/cgroup");
  ASSERT_FALSE(tmp);
  EXPECT_EQ(tmp.error().code(), EINVAL);
  EXPECT_FALSE(cg::classify_dev(*m, makedev(9, 9), "x"));
}

TEST(CgroupMounts, NotFooledByThePathString) {
  // A tmpfs mounted at a cgroup-looking path is not a cgroup.
  auto m = parse_mountinfo("60 1 0:70 / /sys/fs/cgroup/unified rw - tmpfs tmpfs rw\n");
  ASSERT_TRUE(m);
  EXPECT_TRUE(cg::find_cgroup_mounts(*m).v2.empty());
  EXPECT_FALSE(cg::classify_dev(*m, makedev(0, 70), "/sys/fs/cgroup/unified"));
}

}  // namespace
}  // namespace ckpt::proc
