// Watchdog: puts the cgroup back and removes the half-written image if
// ckpt-user dies in the middle of a dump (SIGKILL, a crash), when no
// destructor runs.
//
// Before freezing, dump() forks a small helper outside the cgroup.  It
// blocks reading a pipe whose write end only ckpt-user holds.  ckpt-user
// tells it what to undo (thaw or not; the temporary image path once known)
// and, at a clean end, "done".  If the pipe reaches EOF without "done",
// ckpt-user died: the helper waits for the module to end the dead owner's
// session (a thaw is refused with EBUSY until then), thaws the cgroup if it
// was thawed before the dump, and removes the temporary image.
//
// The helper ignores SIGINT/SIGTERM/SIGHUP (a Ctrl-C that kills ckpt-user
// must not kill the one process that can clean up) and runs in its own
// process group.
#pragma once

#include <sys/types.h>

#include <string>

#include "core/fd.h"
#include "core/result.h"

namespace ckpt::dump {

class Watchdog {
 public:
  // Forks the helper.  @freeze_file: the cgroup's freezer control file
  // (cgroup.freeze or freezer.state), @thaw_value what thaws it ("0" or
  // "THAWED").  The helper does nothing until arm().
  static Result<Watchdog> start(const std::string& freeze_file, const std::string& thaw_value);
  Watchdog(Watchdog&& other) noexcept;
  Watchdog& operator=(Watchdog&&) = delete;
  Watchdog(const Watchdog&) = delete;
  Watchdog& operator=(const Watchdog&) = delete;
  // dismiss(): an error path in this process unwinds through its own RAII
  // guards (FreezeGuard, the image writer), which the helper must not
  // second-guess.  Declare the watchdog before those guards so that it
  // outlives them.
  ~Watchdog();

  // From now on, thaw the cgroup if ckpt-user dies.
  Result<void> arm_thaw();
  // From now on, remove @path (a file or a directory tree) if ckpt-user dies.
  Result<void> remove_on_death(const std::string& path);
  // The temporary image has been renamed into place: do not remove it.
  Result<void> forget_path();
  // A clean end: the helper exits without touching anything.
  void dismiss();

  pid_t pid() const { return pid_; }

 private:
  Watchdog(pid_t pid, Fd cmd) : pid_(pid), cmd_(std::move(cmd)) {}
  Result<void> send(const std::string& line);
  void reap();
  pid_t pid_ = -1;
  Fd cmd_;
};

}  // namespace ckpt::dump
