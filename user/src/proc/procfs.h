// Paths and reads under /proc.
//
// A task can exit between any two reads; its files then fail with ENOENT or
// ESRCH, which callers see as an Error naming the file.
#pragma once

#include <sys/types.h>

#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace ckpt::proc {

std::string proc_path(pid_t pid, std::string_view file);
std::string proc_task_path(pid_t pid, pid_t tid, std::string_view file);

// A whole /proc file (up to 64 MiB: maps and similar lists can be long).
Result<std::string> read_proc(const std::string& path);

// Thread ids of process @pid (/proc/PID/task), sorted.
Result<std::vector<pid_t>> list_threads(pid_t pid);

// /proc/TID/wchan: the kernel function a sleeping task waits in, or "" when
// the kernel does not say (running, no permission, no CONFIG_KALLSYMS).
std::string read_wchan(pid_t tid);

}  // namespace ckpt::proc
