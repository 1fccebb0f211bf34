// Starting a command inside a cgroup from its first instruction, and
// `ckpt-user run` itself.
//
// The child blocks on a pipe until the parent has written its pid into
// cgroup.procs, then execs: everything it forks is born inside.  A second,
// close-on-exec pipe carries exec's errno back, so the parent can tell
// "running" from "could not start".
#pragma once

#include <sys/types.h>

#include <functional>
#include <string>
#include <vector>

#include "cgroup/cgroup.h"
#include "core/result.h"

namespace ckpt::run {

struct Started {
  pid_t pid = 0;
  int exec_errno = 0;  // nonzero: exec failed and the child is reaped
};

// Forks, moves the child into @cg, lets it exec @argv (PATH is searched).
// With @new_session the child calls setsid() first.
Result<Started> start_in_cgroup(const cg::Cgroup& cg, const std::vector<std::string>& argv,
                                bool new_session);

// waitpid until @pid ends: its exit code, or 128 + signal number.
Result<int> wait_exit_status(pid_t pid);

struct RunRequest {
  std::string cgroup;             // NAME as given
  bool v1 = false;                // --v1
  bool detach = false;            // --detach: do not wait; the child calls setsid()
  std::vector<std::string> argv;  // CMD ARGS...
};

struct RunStatus {
  int exit_status = 0;  // the command's (0 with --detach)
  int exec_errno = 0;   // nonzero: the command could not be started
};

// Creates a fresh cgroup, starts the command in it, calls @on_started(pid,
// cgroup path) once it runs; then, without --detach, waits for it, removes
// the cgroup if it is empty, and returns its status.  Setup errors remove
// the cgroup again.
Result<RunStatus> run(const RunRequest& request,
                      const std::function<void(pid_t, const std::string&)>& on_started);

}  // namespace ckpt::run
