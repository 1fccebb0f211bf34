#include "kmod/session.h"

#include <sys/ioctl.h>

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string>
#include <string_view>
#include <utility>

#include "core/log.h"
#include "kmod/errors.h"

namespace ckpt::kmod {
namespace {

constexpr int kScanTries = 4;

// The errors of the per-thread commands (Documentation/abi.md, "Per-thread
// commands"), worded like regs_error().
Error thread_cmd_error(std::string_view cmd, int err, pid_t tid) {
  std::string what;
  switch (err) {
    case ENOENT: what = "no session on this file"; break;
    case ESRCH: what = fmt::format("no thread {}", tid); break;
    case EXDEV: what = fmt::format("thread {} is not in the session's tree or cgroup", tid); break;
    case EBUSY: what = fmt::format("thread {} is not frozen, or is traced", tid); break;
    case EPERM: what = fmt::format("no ptrace access to thread {}", tid); break;
    case EAGAIN: what = fmt::format("thread {} is exiting", tid); break;
    case EOPNOTSUPP:
      what = fmt::format("thread {} is a 32-bit task or a kernel worker thread", tid);
      break;
    case EINVAL: what = "the module refused the request"; break;
    default: what = fmt::format("thread {}", tid); break;
  }
  return Error::sys(err, fmt::format("{}: {}", cmd, what));
}

// Does the module know command @cmd?  INFO version 1 says so; a module older
// than that leaves `commands` at 0 and knows none of the newer commands.
Result<void> require_command(const ckpt_info& info, unsigned long cmd, std::string_view name) {
  if (info.commands & CKPT_CMD_BIT(cmd))
    return {};
  return Error::msg(fmt::format("{}: the loaded ckpt module does not support this command "
                                "(it is older than this program)",
                                name),
                    EOPNOTSUPP);
}

}  // namespace

Result<Session> Session::begin(Device dev, int cgroup_fd, Root root) {
  auto info = dev.checked_info();
  if (!info)
    return std::move(info).error();
  ckpt_begin b{};
  b.flags = root.is_pidfd ? CKPT_BEGIN_ROOT_PIDFD : 0;
  b.cgroup_fd = static_cast<__u32>(cgroup_fd);
  b.root = static_cast<__u32>(root.value);
  if (::ioctl(dev.fd(), CKPT_IOC_BEGIN, &b) < 0)
    return begin_error(errno, root.value, root.is_pidfd);
  log::debug("session begun on {}", dev.path());
  return Session(std::move(dev), *info);
}

Session::Session(Session&& other) noexcept
    : dev_(std::move(other.dev_)), info_(other.info_), active_(std::exchange(other.active_, false)) {}

Session::~Session() {
  if (!active_)
    return;
  auto r = end();
  if (!r)
    log::warn("{}", r.error().message());
  // Closing the device ends the session anyway.
}

Result<void> Session::end() {
  if (!std::exchange(active_, false))
    return {};
  ckpt_end e{};
  if (::ioctl(dev_.fd(), CKPT_IOC_END, &e) < 0)
    return end_error(errno);
  log::debug("session ended");
  return {};
}

Result<std::vector<ckpt_task>> Session::scan() const {
  // The module writes records of its own size, which may be larger than ours
  // if it is newer; keep our prefix of each.
  const std::size_t stride = info_.task_record_size;
  std::vector<std::byte> buf;
  uint32_t capacity = 0;
  for (int attempt = 0; attempt < kScanTries; ++attempt) {
    ckpt_scan s{};
    s.capacity = capacity;
    s.records = capacity ? reinterpret_cast<uintptr_t>(buf.data()) : 0;
    if (::ioctl(dev_.fd(), CKPT_IOC_SCAN, &s) == 0) {
      if (s.count > capacity)
        return Error::msg(fmt::format("scan: the module wrote {} records into room for {}", s.count,
                                      capacity),
                          EPROTO);
      std::vector<ckpt_task> tasks(s.count);
      for (uint32_t i = 0; i < s.count; ++i)
        std::memcpy(&tasks[i], buf.data() + i * stride, std::min(stride, sizeof(ckpt_task)));
      return tasks;
    }
    int err = errno;
    if (err != ENOSPC || s.count <= capacity)
      return scan_error(err, s);
    capacity = s.count;
    buf.assign(static_cast<std::size_t>(capacity) * stride, std::byte{0});
  }
  return Error::sys(EAGAIN, "scan: the tree kept growing while it was sized");
}

Result<Regs> Session::regs(pid_t tid, bool with_xstate) const {
  Regs out;
  if (with_xstate) {
    if (info_.xstate_size == 0)
      return Error::msg("registers: the module reports no XSAVE on this CPU", EOPNOTSUPP);
    out.xstate.resize(info_.xstate_size);
  }
  for (int attempt = 0; attempt < 2; ++attempt) {
    ckpt_regs r{};
    r.flags = CKPT_REGS_GP | (with_xstate ? CKPT_REGS_XSTATE : 0u);
    r.tid = static_cast<__u32>(tid);
    if (with_xstate) {
      r.xstate = reinterpret_cast<uintptr_t>(out.xstate.data());
      r.xstate_size = static_cast<__u32>(out.xstate.size());
    }
    if (::ioctl(dev_.fd(), CKPT_IOC_REGS, &r) == 0) {
      out.gp = r.gp;
      if (with_xstate)
        out.xstate.resize(std::min<std::size_t>(r.xstate_size, out.xstate.size()));
      return out;
    }
    int err = errno;
    if (err != ENOSPC || !with_xstate || r.xstate_size <= out.xstate.size())
      return regs_error(err, tid);
    out.xstate.resize(r.xstate_size);
  }
  return regs_error(ENOSPC, tid);
}

Result<std::vector<ckpt_sigaction>> Session::sigactions(pid_t tid) const {
  if (auto ok = require_command(info_, CKPT_IOC_SIGACTIONS, "signal actions"); !ok)
    return std::move(ok).error();
  std::vector<ckpt_sigaction> actions(CKPT_SIGACTIONS_NR);
  ckpt_sigactions a{};
  a.tid = static_cast<__u32>(tid);
  a.actions = reinterpret_cast<uintptr_t>(actions.data());
  a.count = static_cast<__u32>(actions.size());
  if (::ioctl(dev_.fd(), CKPT_IOC_SIGACTIONS, &a) < 0) {
    int err = errno;
    if (err == ENOSPC)
      return Error::msg(fmt::format("signal actions: the module has {} signals, this program {}",
                                    a.count, actions.size()),
                        EPROTO);
    return thread_cmd_error("signal actions", err, tid);
  }
  if (a.count != actions.size())
    return Error::msg(fmt::format("signal actions: the module wrote {} entries, expected {}", a.count,
                                  actions.size()),
                      EPROTO);
  return actions;
}

Result<ckpt_thread> Session::thread(pid_t tid) const {
  if (auto ok = require_command(info_, CKPT_IOC_THREAD, "thread state"); !ok)
    return std::move(ok).error();
  ckpt_thread t{};
  t.tid = static_cast<__u32>(tid);
  if (::ioctl(dev_.fd(), CKPT_IOC_THREAD, &t) < 0)
    return thread_cmd_error("thread state", errno, tid);
  return t;
}

bool Session::has_vmas() const { return (info_.commands & CKPT_CMD_BIT(CKPT_IOC_VMAS)) != 0; }

Result<Session::VmaMap> Session::vmas(pid_t pid) const {
  if (auto ok = require_command(info_, CKPT_IOC_VMAS, "memory map"); !ok)
    return std::move(ok).error();
  // A frozen process's map does not change: the size from the first call
  // fits the second.  Start with room for a typical process.
  std::vector<ckpt_vma> v(256);
  for (int tries = 0; tries < kScanTries; ++tries) {
    ckpt_vmas a{};
    a.pid = static_cast<__u32>(pid);
    a.vmas = reinterpret_cast<uintptr_t>(v.data());
    a.count = static_cast<__u32>(v.size());
    if (::ioctl(dev_.fd(), CKPT_IOC_VMAS, &a) == 0) {
      if (a.count > v.size())
        return Error::msg(fmt::format("memory map of {}: the module wrote {} entries into {}", pid,
                                      a.count, v.size()),
                          EPROTO);
      v.resize(a.count);
      return VmaMap{std::move(v), a.start_brk, a.brk};
    }
    int err = errno;
    if (err != ENOSPC)
      return thread_cmd_error("memory map", err, pid);
    if (a.count <= v.size())
      return Error::msg(fmt::format("memory map of {}: ENOSPC with {} entries of room for {}", pid,
                                    v.size(), a.count),
                        EPROTO);
    v.resize(a.count);
  }
  return Error::msg(fmt::format("memory map of {}: it kept growing", pid), EAGAIN);
}

}  // namespace ckpt::kmod
