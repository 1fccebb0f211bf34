// Cgroup: one cgroup directory on the v2 hierarchy or on a v1 freezer
// hierarchy, held open by a directory fd (every file is opened relative to
// it), with its freezer operations.
//
// Freezing (freeze.cc):
//   v2  write 1 to cgroup.freeze, then wait for "frozen 1" in cgroup.events
//       with poll(POLLPRI): event-driven, no sleep loop;
//   v1  write FROZEN to freezer.state, then re-read it with a short
//       exponential backoff, writing FROZEN again each round (6.1's v1
//       freezer can stall in FREEZING until FROZEN is written again, and it
//       records FROZEN only when the file is read).
// A wait that times out fails with a message naming the tasks that did not
// freeze (pid, comm, /proc state).  Use FreezeGuard to undo a freeze on
// every error path.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "cgroup/mounts.h"
#include "core/fd.h"
#include "core/result.h"
#include "core/time.h"
#include "proc/mountinfo.h"

namespace ckpt::cg {

enum class FreezerState { thawed, freezing, frozen };
std::string_view state_name(FreezerState s);

struct FreezerStatus {
  FreezerState state = FreezerState::thawed;  // effective state
  bool self = false;           // frozen (or freezing) by its own setting
  bool checkpointing = false;  // v1: freezer.state reads CHECKPOINTING (a ckpt session)
};

inline constexpr Clock::duration kDefaultFreezeTimeout = std::chrono::seconds(10);

class Cgroup {
 public:
  // An existing cgroup directory; the version comes from @mounts.
  static Result<Cgroup> open(const std::string& path, const std::vector<proc::MountInfo>& mounts);
  static Result<Cgroup> open(const std::string& path);  // reads /proc/self/mountinfo
  // mkdir a new cgroup: fails with EEXIST if it exists.  Its parent must
  // be a cgroup directory.
  static Result<Cgroup> create(const std::string& path, const std::vector<proc::MountInfo>& mounts);

  const std::string& path() const { return path_; }
  Version version() const { return version_; }
  int dir_fd() const { return dir_.get(); }

  // --- freezer (freeze.cc) ---
  Result<FreezerStatus> freezer_status() const;
  // Only writes the request; see freeze().
  Result<void> request_freeze() const;
  Result<void> request_thaw() const;
  // Requests a freeze and waits until the whole subtree is frozen.
  Result<void> freeze(Clock::duration timeout = kDefaultFreezeTimeout) const;
  // Waits for a requested freeze to complete (v1: re-asserting FROZEN).
  Result<void> wait_frozen(Clock::duration timeout) const;
  Result<void> thaw() const { return request_thaw(); }

  // --- tasks (cgroup.cc, tasks.cc) ---
  // Processes / threads of this cgroup only.
  Result<std::vector<pid_t>> procs() const;
  Result<std::vector<pid_t>> threads() const;
  // Threads of this cgroup and all its descendants.
  Result<std::vector<pid_t>> subtree_threads() const;
  Result<std::vector<pid_t>> subtree_procs() const;
  // Moves process @pid (all its threads) into this cgroup.
  Result<void> add_process(pid_t pid) const;
  // Does the subtree hold any task?
  Result<bool> populated() const;
  // SIGKILL every process of the subtree: v2 cgroup.kill when the kernel has
  // it (>= 5.14), else kill(2) each; v1 kills each and thaws the subtree,
  // since a v1-frozen task dies only once thawed.  Does not wait.
  Result<void> kill() const;
  // rmdir: fails with EBUSY while tasks or child cgroups remain.
  Result<void> remove() const;

 private:
  Cgroup(Fd dir, std::string path, Version version)
      : dir_(std::move(dir)), path_(std::move(path)), version_(version) {}
  Result<std::vector<pid_t>> subtree_list(const char* v2_file, const char* v1_file) const;

  Fd dir_;
  std::string path_;
  Version version_;
};

}  // namespace ckpt::cg
