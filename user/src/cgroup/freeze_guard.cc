#include "cgroup/freeze_guard.h"

#include <utility>

#include "core/log.h"

namespace ckpt::cg {

std::string_view end_action_name(EndAction a) {
  switch (a) {
    case EndAction::thaw: return "thaw";
    case EndAction::leave_frozen: return "leave frozen";
    case EndAction::kill: return "kill";
  }
  return "?";
}

Result<FreezeGuard> FreezeGuard::freeze(const Cgroup& cg, Clock::duration timeout) {
  auto before = cg.freezer_status();
  if (!before)
    return std::move(before).error();
  FreezeGuard guard(&cg, before->self);
  log::debug("{}: freezer {} (self {}) before freezing", cg.path(), state_name(before->state),
             before->self ? 1 : 0);
  // From here on, an error return destroys the guard, which restores.
  auto r = cg.freeze(timeout);
  if (!r)
    return std::move(r).error();
  return guard;
}

FreezeGuard::FreezeGuard(FreezeGuard&& other) noexcept
    : cg_(std::exchange(other.cg_, nullptr)), was_frozen_(other.was_frozen_) {}

FreezeGuard::~FreezeGuard() {
  if (!cg_)
    return;
  auto r = restore();
  if (!r)
    log::warn("{}", r.error().message());
}

Result<void> FreezeGuard::restore() {
  const Cgroup* cg = std::exchange(cg_, nullptr);
  if (!cg || was_frozen_)
    return {};
  log::debug("{}: restoring: thaw", cg->path());
  return cg->request_thaw();
}

Result<void> FreezeGuard::finish(EndAction action) {
  const Cgroup* cg = std::exchange(cg_, nullptr);
  if (!cg)
    return Error::msg("freeze guard already finished");
  switch (action) {
    case EndAction::leave_frozen:
      return {};
    case EndAction::thaw:
      if (was_frozen_) {
        log::info("{} was frozen before; leaving it frozen", cg->path());
        return {};
      }
      return cg->request_thaw();
    case EndAction::kill:
      return cg->kill();
  }
  return {};
}

}  // namespace ckpt::cg
