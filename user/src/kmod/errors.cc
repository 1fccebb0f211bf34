#include "kmod/errors.h"

#include <fmt/format.h>

#include <cerrno>

namespace ckpt::kmod {

std::string_view scan_reason_name(uint32_t reason) {
  switch (reason) {
    case CKPT_SCAN_ERR_NONE: return "NONE";
    case CKPT_SCAN_ERR_NOT_FROZEN: return "NOT_FROZEN";
    case CKPT_SCAN_ERR_PTRACED: return "PTRACED";
    case CKPT_SCAN_ERR_CGROUP: return "CGROUP";
    case CKPT_SCAN_ERR_ACCESS: return "ACCESS";
    case CKPT_SCAN_ERR_DEAD: return "DEAD";
    case CKPT_SCAN_ERR_UNSTABLE: return "UNSTABLE";
    default: return "?";
  }
}

Error info_error(int err, const std::string& device) {
  switch (err) {
    case ENOTTY:
      return Error::msg(device + " is not a ckpt device (it does not know CKPT_IOC_INFO)", ENOTTY);
    case EINVAL:
      return Error::sys(err, "info: the module refused the request");
    default:
      return Error::sys(err, "info");
  }
}

Error begin_error(int err, int root, bool root_is_pidfd) {
  std::string who = root_is_pidfd ? "the root task (pidfd)" : fmt::format("pid {}", root);
  std::string what;
  switch (err) {
    case EINVAL:
      what = fmt::format("the module refused the request (unknown flags, or {} is a thread, not a "
                         "process)", who);
      break;
    case EPERM:
      what = fmt::format("needs CAP_CHECKPOINT_RESTORE or CAP_SYS_ADMIN, and ptrace access to {}", who);
      break;
    case EALREADY: what = "this /dev/ckpt file already has a session"; break;
    case EBADF:
      what = root_is_pidfd ? "not a cgroup directory fd, or not a pidfd" : "not a cgroup directory fd";
      break;
    case ENOENT: what = "the cgroup is being removed"; break;
    case EOPNOTSUPP: what = "the cgroup is on a v1 hierarchy without the freezer controller"; break;
    case ESRCH: what = fmt::format("no process {}, or it is exiting", who); break;
    case EBUSY:
      what = "a checkpoint session is already active on this cgroup, an ancestor or a descendant";
      break;
    case EAGAIN:
      what = "the cgroup is not frozen by its own setting, or not yet fully frozen";
      break;
    case EXDEV: what = fmt::format("{} is not in the cgroup", who); break;
    default: break;
  }
  return Error::sys(err, what.empty() ? "begin session" : "begin session: " + what);
}

Error end_error(int err) {
  if (err == ENOENT)
    return Error::sys(err, "end session: no session on this file");
  return Error::sys(err, "end session");
}

Error scan_error(int err, const ckpt_scan& s) {
  const uint32_t pid = s.err_pid;
  std::string what;
  switch (s.err_reason) {
    case CKPT_SCAN_ERR_NONE: break;
    case CKPT_SCAN_ERR_NOT_FROZEN: what = fmt::format("pid {} is not frozen", pid); break;
    case CKPT_SCAN_ERR_PTRACED: what = fmt::format("pid {} is traced by another process", pid); break;
    case CKPT_SCAN_ERR_CGROUP: what = fmt::format("pid {} is outside the session's cgroup", pid); break;
    case CKPT_SCAN_ERR_ACCESS: what = fmt::format("no ptrace access to pid {}", pid); break;
    case CKPT_SCAN_ERR_DEAD:
      what = pid ? fmt::format("pid {} is exiting", pid) : std::string("the root task is exiting");
      break;
    case CKPT_SCAN_ERR_UNSTABLE: what = "the tree kept changing while it was scanned"; break;
    default: what = fmt::format("pid {}: unknown reason {}", pid, s.err_reason); break;
  }
  if (what.empty()) {
    switch (err) {
      case ENOENT: what = "no session on this file"; break;
      case EINVAL: what = "the module refused the request"; break;
      case EFAULT: what = "bad record buffer"; break;
      case ENOSPC: what = fmt::format("the tree grew to {} tasks while it was sized", s.count); break;
      default: break;
    }
  }
  return Error::sys(err, what.empty() ? "scan" : "scan: " + what);
}

Error regs_error(int err, pid_t tid) {
  std::string what;
  switch (err) {
    case ENOENT: what = "no session on this file"; break;
    case ESRCH: what = fmt::format("no thread {}", tid); break;
    case EXDEV: what = fmt::format("thread {} is not in the session's tree or cgroup", tid); break;
    case EBUSY: what = fmt::format("thread {} is not frozen, or is traced", tid); break;
    case EPERM: what = fmt::format("no ptrace access to thread {}", tid); break;
    case EAGAIN:
      what = fmt::format("thread {} is exiting, or did not get off the CPU in time", tid);
      break;
    case EOPNOTSUPP:
      what = fmt::format("thread {} is a 32-bit task, or the CPU has no XSAVE", tid);
      break;
    case EINVAL: what = "the module refused the request"; break;
    case ENOSPC: what = "the xstate buffer is too small"; break;
    default: what = fmt::format("thread {}", tid); break;
  }
  return Error::sys(err, "registers: " + what);
}

}  // namespace ckpt::kmod
