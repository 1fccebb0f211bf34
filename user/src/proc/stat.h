// /proc/PID/stat and /proc/PID/task/TID/stat (proc(5)).
//
//   1234 (a comm) S 1 1234 1234 0 -1 4194560 ...
//
// comm is whatever the task set with prctl(PR_SET_NAME): it may hold
// spaces, parentheses and newlines, so it ends at the LAST ')'.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "core/result.h"

namespace ckpt::proc {

struct ProcStat {
  // Fields 1-24 (always present since Linux 2.6).
  pid_t pid = 0;
  std::string comm;
  char state = '?';  // R S D Z T t X I ... (one letter)
  pid_t ppid = 0;
  pid_t pgrp = 0;
  pid_t session = 0;
  int32_t tty_nr = 0;
  int32_t tpgid = 0;  // -1 without a controlling terminal
  uint32_t flags = 0;
  uint64_t minflt = 0, cminflt = 0, majflt = 0, cmajflt = 0;
  uint64_t utime = 0, stime = 0;
  int64_t cutime = 0, cstime = 0;
  int64_t priority = 0, nice = 0;
  int64_t num_threads = 0;
  uint64_t starttime = 0;  // clock ticks after boot: with pid, identifies a task
  uint64_t vsize = 0;
  int64_t rss = 0;
  // Later fields, 0 when the kernel does not print them (or hides them from
  // a caller without ptrace access).
  uint64_t start_code = 0, end_code = 0, start_stack = 0;
  int32_t exit_signal = 0;
  int32_t processor = 0;
  uint32_t rt_priority = 0;
  uint32_t policy = 0;
  uint64_t start_data = 0, end_data = 0, start_brk = 0;
  uint64_t arg_start = 0, arg_end = 0, env_start = 0, env_end = 0;
  int32_t exit_code = 0;
  // How many fields the line had (52 on current kernels).
  std::size_t field_count = 0;
};

Result<ProcStat> parse_stat(std::string_view text);
// /proc/PID/stat.
Result<ProcStat> read_stat(pid_t pid);
// /proc/PID/task/TID/stat.
Result<ProcStat> read_task_stat(pid_t pid, pid_t tid);

// "sleeping" for 'S', and so on; "unknown" for letters we do not know.
std::string_view state_name(char state);

}  // namespace ckpt::proc
