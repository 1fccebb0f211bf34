// ScopeExit: runs a callable when the scope ends, unless dismissed.  For one-off
// cleanups (rmdir a cgroup created a moment ago); state that outlives a scope
// gets its own RAII class (Fd, Mapping, FreezeGuard, kmod::Session).
//
//   auto undo = on_scope_exit([&] { ::rmdirat(...); });
//   ...
//   undo.dismiss();   // success: keep it
#pragma once

#include <type_traits>
#include <utility>

namespace ckpt {

template <class F>
class [[nodiscard]] ScopeExit {
 public:
  explicit ScopeExit(F f) noexcept(std::is_nothrow_move_constructible_v<F>) : f_(std::move(f)) {}
  ScopeExit(ScopeExit&& other) noexcept(std::is_nothrow_move_constructible_v<F>)
      : f_(std::move(other.f_)), active_(std::exchange(other.active_, false)) {}
  ScopeExit(const ScopeExit&) = delete;
  ScopeExit& operator=(const ScopeExit&) = delete;
  ScopeExit& operator=(ScopeExit&&) = delete;
  ~ScopeExit() {
    if (active_)
      f_();
  }
  void dismiss() noexcept { active_ = false; }

 private:
  F f_;
  bool active_ = true;
};

template <class F>
ScopeExit<F> on_scope_exit(F f) {
  return ScopeExit<F>(std::move(f));
}

}  // namespace ckpt
