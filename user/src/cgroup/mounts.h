// Where the cgroup hierarchies are mounted, from /proc/self/mountinfo.
//
// A cgroup's version is decided by the filesystem it lives on (matched by
// device number against mountinfo), never by the look of its path.
#pragma once

#include <sys/types.h>

#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "proc/mountinfo.h"

namespace ckpt::cg {

enum class Version {
  v1_freezer,  // a cgroup v1 hierarchy with the freezer controller
  v2,          // the unified hierarchy
};

// "cgroup v2" / "cgroup v1 freezer".
std::string_view version_name(Version v);

struct CgroupMount {
  Version version;
  std::string mount_point;
  std::string root;  // the hierarchy path mounted there ("/" normally)
  dev_t dev = 0;
};

struct CgroupMounts {
  std::vector<CgroupMount> v2;
  std::vector<CgroupMount> v1_freezer;

  // The mount to create cgroups under: the first one that shows the whole
  // hierarchy (root "/"), else the first; nullptr if none.
  const CgroupMount* preferred(Version v) const;
};

CgroupMounts find_cgroup_mounts(const std::vector<proc::MountInfo>& mounts);

// Which hierarchy the filesystem with device @dev is; an error if it is not
// a cgroup filesystem (EINVAL) or a v1 hierarchy without the freezer
// (EOPNOTSUPP).  @what names the path in messages.
Result<Version> classify_dev(const std::vector<proc::MountInfo>& mounts, dev_t dev,
                             const std::string& what);

}  // namespace ckpt::cg
