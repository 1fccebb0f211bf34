// Pid lists, one decimal per line: cgroup.procs, cgroup.threads, tasks.
#pragma once

#include <sys/types.h>

#include <string_view>
#include <vector>

#include "core/result.h"

namespace ckpt::proc {

Result<std::vector<pid_t>> parse_pid_list(std::string_view text);

}  // namespace ckpt::proc
