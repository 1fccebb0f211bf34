// The tasks of a cgroup as /proc shows them, to explain a freeze that did not
// complete: "1234 (sleep) R running".
//
// /proc does not say whether a task is frozen; it shows what the freezer
// leaves behind:
//   v2  a frozen task sleeps in the signal code: state S (or T/t when it was
//       stopped or traced, which v2 counts as frozen), wchan get_signal or
//       do_freezer_trap;
//   v1  a frozen task is reported as D (uninterruptible), whatever it was
//       sleeping in.
// So looks_frozen() is a heuristic: exact for running tasks, blind to a v1
// task stuck in a real uninterruptible sleep.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "cgroup/mounts.h"

namespace ckpt::cg {

struct TaskSnapshot {
  pid_t tid = 0;
  std::string comm;
  char state = '?';
  std::string wchan;  // "" when unknown
};

// /proc/TID/stat and /proc/TID/wchan of each; tasks that exited meanwhile
// are left out.
std::vector<TaskSnapshot> snapshot_tasks(const std::vector<pid_t>& tids);

bool looks_frozen(Version v, const TaskSnapshot& t);

// "2 tasks not frozen: 1234 (sleep) R running, 1240 (a b) S sleeping in
// do_nanosleep" -- at most @max named, then "and N more".  When the
// heuristic clears every task, lists them all as "tasks in the cgroup".
std::string describe_unfrozen(Version v, const std::vector<TaskSnapshot>& tasks,
                              std::size_t max = 8);

}  // namespace ckpt::cg
