#include "cgroup/mounts.h"

#include <cerrno>

namespace ckpt::cg {

std::string_view version_name(Version v) {
  return v == Version::v2 ? "cgroup v2" : "cgroup v1 freezer";
}

const CgroupMount* CgroupMounts::preferred(Version v) const {
  const auto& list = v == Version::v2 ? v2 : v1_freezer;
  for (const auto& m : list)
    if (m.root == "/")
      return &m;
  return list.empty() ? nullptr : &list.front();
}

CgroupMounts find_cgroup_mounts(const std::vector<proc::MountInfo>& mounts) {
  CgroupMounts out;
  for (const auto& m : mounts) {
    if (m.fstype == "cgroup2")
      out.v2.push_back({Version::v2, m.mount_point, m.root, m.dev()});
    else if (m.fstype == "cgroup" && m.has_super_option("freezer"))
      out.v1_freezer.push_back({Version::v1_freezer, m.mount_point, m.root, m.dev()});
  }
  return out;
}

Result<Version> classify_dev(const std::vector<proc::MountInfo>& mounts, dev_t dev,
                             const std::string& what) {
  const proc::MountInfo* v1_other = nullptr;
  for (const auto& m : mounts) {
    if (m.dev() != dev)
      continue;
    if (m.fstype == "cgroup2")
      return Version::v2;
    if (m.fstype == "cgroup") {
      if (m.has_super_option("freezer"))
        return Version::v1_freezer;
      v1_other = &m;
    }
  }
  if (v1_other)
    return Error::msg(what + " is on a cgroup v1 hierarchy without the freezer controller (" +
                          v1_other->super_options + ")",
                      EOPNOTSUPP);
  return Error::msg(what + " is not on a cgroup filesystem (see /proc/self/mountinfo)", EINVAL);
}

}  // namespace ckpt::cg
