// Where `ckpt-user run --cgroup NAME` creates its cgroup.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "cgroup/mounts.h"
#include "core/result.h"
#include "proc/mountinfo.h"

namespace ckpt::run {

struct Target {
  std::string path;  // the cgroup directory to create
  cg::Version version;
};

// NAME relative ("job", "batch/job"): under the v2 mount, or under the v1
// freezer mount when @want_v1.  NAME absolute: a path inside a mounted
// cgroup hierarchy; its version is what mountinfo says (--v1 must agree).
// No "." or ".." components, no empty ones.
Result<Target> resolve_target(std::string_view name, bool want_v1,
                              const std::vector<proc::MountInfo>& mounts);

}  // namespace ckpt::run
