// System probes of `ckpt-user check`: the module, the cgroup hierarchies,
// privileges.  Kernel features are in features.h.
#pragma once

#include <string>

#include "cgroup/mounts.h"
#include "check/item.h"

namespace ckpt::check {

// /dev/ckpt present, CKPT_IOC_INFO answering with this binary's ABI.
Item probe_module(const std::string& device_path);
// cgroup v2 mounted, and cgroup.freeze (kernel >= 5.2) in its cgroups.
Item probe_cgroup_v2(const cg::CgroupMounts& mounts);
// A cgroup v1 hierarchy with the freezer controller mounted.
Item probe_cgroup_v1_freezer(const cg::CgroupMounts& mounts);
// CAP_CHECKPOINT_RESTORE or CAP_SYS_ADMIN in the effective set (capget).
Item probe_privileges();

}  // namespace ckpt::check
