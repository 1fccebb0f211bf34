// FreezeGuard: freezes a cgroup for the length of a scope and puts its
// freezer back the way it was.
//
//   auto guard = FreezeGuard::freeze(cg, timeout);   // waits until frozen
//   if (!guard) return guard.error();                // already restored
//   ... work on the frozen tree ...
//   return guard->finish(EndAction::thaw);           // or leave_frozen, kill
//
// If the scope ends without finish() (an error path), the destructor
// restores the state found at freeze(): thawed again if it was thawed, left
// frozen if it was frozen by its own setting.  A cgroup that was already
// frozen before therefore stays frozen whatever happens, except with an
// explicit EndAction::kill.
#pragma once

#include "cgroup/cgroup.h"
#include "core/result.h"
#include "core/time.h"

namespace ckpt::cg {

// What to do with the tree at the end of a dump.
enum class EndAction {
  thaw,          // let it run on (a snapshot); a cgroup frozen before stays frozen
  leave_frozen,  // keep it frozen
  kill,          // SIGKILL every task of the subtree
};

class FreezeGuard {
 public:
  // Freezes @cg and waits until it is frozen.  On failure the cgroup is
  // already restored.  @cg must outlive the guard.
  static Result<FreezeGuard> freeze(const Cgroup& cg, Clock::duration timeout = kDefaultFreezeTimeout);

  FreezeGuard(FreezeGuard&& other) noexcept;
  FreezeGuard& operator=(FreezeGuard&&) = delete;
  FreezeGuard(const FreezeGuard&) = delete;
  FreezeGuard& operator=(const FreezeGuard&) = delete;
  ~FreezeGuard();

  // Was the cgroup frozen by its own setting before freeze()?
  bool was_frozen() const { return was_frozen_; }
  bool active() const { return cg_ != nullptr; }

  // Ends the guard with an explicit choice.  After it (even on error) the
  // destructor does nothing.
  Result<void> finish(EndAction action);
  // Ends the guard by restoring the state found at freeze(), reporting
  // errors (the destructor can only log them).
  Result<void> restore();

 private:
  FreezeGuard(const Cgroup* cg, bool was_frozen) : cg_(cg), was_frozen_(was_frozen) {}
  const Cgroup* cg_;
  bool was_frozen_;
};

std::string_view end_action_name(EndAction a);

}  // namespace ckpt::cg
