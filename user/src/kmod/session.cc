#include "kmod/session.h"

#include <sys/ioctl.h>

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>

#include "core/log.h"
#include "kmod/errors.h"

namespace ckpt::kmod {
namespace {

constexpr int kScanTries = 4;

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

}  // namespace ckpt::kmod
