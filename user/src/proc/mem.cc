#include "proc/mem.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <limits.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <vector>

#include "proc/procfs.h"

namespace ckpt::proc {
namespace {

Result<void> check_sizes(std::span<const MemRange> ranges, std::span<std::byte> out) {
  std::size_t total = 0;
  for (const MemRange& r : ranges)
    total += r.len;
  if (total != out.size())
    return Error::msg(fmt::format("memory read: ranges total {} bytes, buffer has {}", total,
                                  out.size()));
  return {};
}

}  // namespace

Result<MemReader> MemReader::open(pid_t pid, Method method) {
  Fd mem;
  if (method == Method::proc_mem) {
    auto fd = Fd::open(proc_path(pid, "mem"), O_RDONLY);
    if (!fd)
      return std::move(fd).error();
    mem = std::move(*fd);
  }
  return MemReader(pid, method, std::move(mem));
}

Result<void> MemReader::read(std::span<const MemRange> ranges, std::span<std::byte> out) {
  auto ok = check_sizes(ranges, out);
  if (!ok)
    return ok;
  return method_ == Method::vm_readv ? read_vm(ranges, out) : read_mem(ranges, out);
}

Result<void> MemReader::read_vm(std::span<const MemRange> ranges, std::span<std::byte> out) {
  std::size_t idx = 0;   // current range
  std::size_t roff = 0;  // bytes of ranges[idx] already read
  std::size_t opos = 0;  // bytes of @out filled
  std::vector<iovec> remote;
  remote.reserve(IOV_MAX);
  while (opos < out.size()) {
    while (idx < ranges.size() && roff == ranges[idx].len) {
      ++idx;
      roff = 0;
    }
    // Up to IOV_MAX remote pieces from the current position.
    remote.clear();
    std::size_t batch = 0;
    for (std::size_t i = idx; i < ranges.size() && remote.size() < IOV_MAX; ++i) {
      std::size_t skip = i == idx ? roff : 0;
      std::size_t len = ranges[i].len - skip;
      if (len == 0)
        continue;
      remote.push_back(iovec{reinterpret_cast<void*>(ranges[i].addr + skip), len});
      batch += len;
    }
    iovec local{out.data() + opos, batch};
    uint64_t at = ranges[idx].addr + roff;
    ssize_t n = ::process_vm_readv(pid_, &local, 1, remote.data(), remote.size(), 0);
    ++syscalls_;
    if (n < 0) {
      if (errno == EINTR)
        continue;
      if (errno == EFAULT)
        return Error::sys(EFAULT, fmt::format("process_vm_readv pid {}: cannot read address "
                                              "{:#x}", pid_, at));
      return Error::from_errno(fmt::format("process_vm_readv pid {} at {:#x}", pid_, at));
    }
    if (n == 0)
      return Error::msg(fmt::format("process_vm_readv pid {}: no progress at address {:#x}",
                                    pid_, at),
                        EIO);
    // Advance by n bytes (a short read continues from where it stopped).
    std::size_t left = static_cast<std::size_t>(n);
    opos += left;
    while (left > 0) {
      std::size_t room = ranges[idx].len - roff;
      std::size_t step = std::min(room, left);
      roff += step;
      left -= step;
      if (roff == ranges[idx].len && left > 0) {
        ++idx;
        roff = 0;
      }
    }
  }
  return {};
}

Result<void> MemReader::read_mem(std::span<const MemRange> ranges, std::span<std::byte> out) {
  std::size_t opos = 0;
  for (const MemRange& r : ranges) {
    std::size_t got = 0;
    while (got < r.len) {
      uint64_t at = r.addr + got;
      iovec local{out.data() + opos + got, r.len - got};
      ssize_t n = ::preadv(mem_.get(), &local, 1, static_cast<off_t>(at));
      ++syscalls_;
      if (n < 0) {
        if (errno == EINTR)
          continue;
        if (errno == EIO || errno == EFAULT)
          return Error::sys(errno, fmt::format("read /proc/{}/mem: cannot read address {:#x}",
                                               pid_, at));
        return Error::from_errno(fmt::format("read /proc/{}/mem at {:#x}", pid_, at));
      }
      if (n == 0)
        return Error::msg(fmt::format("read /proc/{}/mem: end of file at address {:#x} (the "
                                      "process exited?)", pid_, at),
                          EIO);
      got += static_cast<std::size_t>(n);
    }
    opos += r.len;
  }
  return {};
}

}  // namespace ckpt::proc
