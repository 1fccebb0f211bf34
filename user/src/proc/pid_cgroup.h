// /proc/PID/cgroup (cgroups(7)): "hierarchy-ID:controller-list:cgroup-path".
//
//   0::/user.slice/job          cgroup v2 (ID 0, no controllers)
//   6:freezer:/job              a v1 hierarchy
//   9:name=systemd:/            a named v1 hierarchy
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace ckpt::proc {

struct CgroupMembership {
  uint32_t hierarchy_id = 0;
  std::vector<std::string> controllers;  // empty for v2
  std::string path;                      // relative to the hierarchy's root
  bool is_v2() const { return hierarchy_id == 0 && controllers.empty(); }
  bool has_controller(std::string_view name) const;
};

Result<std::vector<CgroupMembership>> parse_proc_cgroup(std::string_view text);
Result<std::vector<CgroupMembership>> read_proc_cgroup(pid_t pid);

// The v2 entry, or the v1 entry carrying @controller; nullptr if none.
const CgroupMembership* find_v2(const std::vector<CgroupMembership>& entries);
const CgroupMembership* find_controller(const std::vector<CgroupMembership>& entries,
                                        std::string_view controller);

}  // namespace ckpt::proc
