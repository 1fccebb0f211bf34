// Session: one CKPT_IOC_BEGIN .. CKPT_IOC_END on an open /dev/ckpt.
//
// While it lives, the cgroup is CHECKPOINTING: nobody can thaw it or move
// tasks in or out.  The destructor ends it (END, then close); the module
// also ends it if this process dies.  A session never thaws anything: the
// cgroup is FROZEN again afterwards (see cgroup/freeze_guard.h for what
// happens next).
#pragma once

#include <linux/ckpt.h>
#include <sys/types.h>

#include <cstddef>
#include <vector>

#include "core/result.h"
#include "kmod/device.h"

namespace ckpt::kmod {

// The session's root task: a pid in our pid namespace, or a pidfd (which
// cannot be confused with a recycled pid).
struct Root {
  int value = 0;
  bool is_pidfd = false;
  static Root pid(pid_t p) { return {p, false}; }
  static Root pidfd(int fd) { return {fd, true}; }
};

struct Regs {
  ckpt_gpregs gp{};
  std::vector<std::byte> xstate;  // NT_X86_XSTATE layout; empty unless asked
};

class Session {
 public:
  // BEGIN on @cgroup_fd (a cgroup directory fd; the cgroup must be frozen
  // by its own setting and fully frozen).  The session owns @dev.
  static Result<Session> begin(Device dev, int cgroup_fd, Root root);

  Session(Session&& other) noexcept;
  Session& operator=(Session&&) = delete;
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;
  ~Session();

  // CKPT_IOC_SCAN: one call with capacity 0 sizes the buffer, one fills it
  // (again if the tree grew in between, which a frozen tree cannot do).
  Result<std::vector<ckpt_task>> scan() const;
  // CKPT_IOC_REGS for thread @tid (our pid namespace: ckpt_task.vpid).
  Result<Regs> regs(pid_t tid, bool with_xstate) const;
  // CKPT_IOC_SIGACTIONS: the signal actions of @tid's process, one entry per
  // signal 1..64 (entry i is signal i + 1), as rt_sigaction() returns them.
  // An error names the module's refusal; a module without the command
  // (older than the INFO commands bit) gives EOPNOTSUPP.
  Result<std::vector<ckpt_sigaction>> sigactions(pid_t tid) const;
  // CKPT_IOC_THREAD: per-thread state of @tid (sigaltstack, robust list,
  // clear_child_tid, rseq, securebits, personality, pdeath signal, timer
  // slack, signal masks and thread-private pending signals).
  Result<ckpt_thread> thread(pid_t tid) const;
  // CKPT_IOC_VMAS: the VMAs of @pid's process in address order (the
  // vsyscall page is not one) and its heap break, in one snapshot.
  // has_vmas() says whether the module knows the command (older modules:
  // read /proc/PID/smaps instead).
  struct VmaMap {
    std::vector<ckpt_vma> vmas;
    uint64_t start_brk = 0;
    uint64_t brk = 0;
  };
  bool has_vmas() const;
  Result<VmaMap> vmas(pid_t pid) const;
  // CKPT_IOC_END, reporting errors; the destructor then does nothing more
  // than close.
  Result<void> end();

  const ckpt_info& info() const { return info_; }

 private:
  Session(Device dev, ckpt_info info) : dev_(std::move(dev)), info_(info), active_(true) {}
  Device dev_;
  ckpt_info info_;
  bool active_;
};

}  // namespace ckpt::kmod
