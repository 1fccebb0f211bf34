#include "kmod/device.h"

#include <fcntl.h>
#include <sys/ioctl.h>

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <vector>

#include "kmod/errors.h"

namespace ckpt::kmod {

Result<Device> Device::open(const std::string& path) {
  auto fd = Fd::open(path, O_RDWR);
  if (!fd) {
    int err = fd.error().code();
    if (err == ENOENT)
      return Error::msg("no " + path + ": the ckpt module is not loaded (insmod ckpt.ko)", ENOENT);
    if (err == EACCES || err == EPERM)
      return Error::sys(err, "open " + path + " (it is mode 0600: run as root)");
    return Error::sys(err, "open " + path);
  }
  return Device(std::move(*fd), path);
}

Result<ckpt_info> Device::info() const {
  ckpt_info info{};
  if (::ioctl(fd_.get(), CKPT_IOC_INFO, &info) < 0)
    return info_error(errno, path_);
  return info;
}

Result<ckpt_info> Device::checked_info() const {
  auto info = this->info();
  if (!info)
    return info;
  auto ok = check_abi(*info);
  if (!ok)
    return std::move(ok).error();
  return info;
}

Result<PageCopier> PageCopier::open(const Device& dev, const ckpt_info& info) {
  if (!(info.commands & CKPT_CMD_BIT(CKPT_IOC_PAGES)))
    return Error::msg("the loaded ckpt module cannot write pages (no CKPT_IOC_PAGES: older than "
                      "this program)",
                      EOPNOTSUPP);
  auto d = Device::open(dev.path());
  if (!d)
    return std::move(d).error();
  // A module older than CKPT_INFO_SIZE_VER2 leaves pages_flags 0.
  return PageCopier(std::move(*d), (info.pages_flags & CKPT_PAGES_XXH64) != 0);
}

Result<void> PageCopier::write(pid_t pid, int pidfd, int fd,
                               std::span<const ckpt_page_range> ranges, uint64_t offset,
                               ckpt_pages_xxh64* hash) const {
  if (hash && !can_hash_)
    return Error::msg("the loaded ckpt module cannot hash the pages it writes (no "
                      "CKPT_PAGES_XXH64: older than this program)",
                      EOPNOTSUPP);
  std::vector<ckpt_page_range> batch;
  std::size_t i = 0;
  uint64_t done_in_i = 0;  // bytes of ranges[i] already written
  while (i < ranges.size()) {
    // One call: at most kMaxRanges ranges and kMaxBytes bytes; a range
    // longer than what is left is split (lengths stay page multiples:
    // kMaxBytes is one).
    batch.clear();
    uint64_t bytes = 0;
    while (i < ranges.size() && batch.size() < kMaxRanges && bytes < kMaxBytes) {
      uint64_t start = ranges[i].start + done_in_i;
      uint64_t len = ranges[i].len - done_in_i;
      uint64_t take = std::min(len, kMaxBytes - bytes);
      batch.push_back({start, take});
      bytes += take;
      if (take == len) {
        ++i;
        done_in_i = 0;
      } else {
        done_in_i += take;
      }
    }
    ckpt_pages a{};
    a.flags = (pidfd >= 0 ? CKPT_PAGES_PIDFD : 0) | (hash ? CKPT_PAGES_XXH64 : 0);
    a.pid = static_cast<__u32>(pidfd >= 0 ? pidfd : pid);
    a.fd = static_cast<__u32>(fd);
    a.count = static_cast<__u32>(batch.size());
    a.ranges = reinterpret_cast<uintptr_t>(batch.data());
    a.offset = offset;
    a.hash = reinterpret_cast<uintptr_t>(hash);  // the state carries over calls
    ++calls_;
    if (::ioctl(dev_.fd(), CKPT_IOC_PAGES, &a) != 0) {
      int e = errno;
      return Error::sys(e, fmt::format("write {} bytes of pid {} from {:#x} at offset {} "
                                       "(CKPT_IOC_PAGES, {} ranges{})",
                                       bytes, pid, batch.front().start, offset, batch.size(),
                                       hash ? ", hashed" : ""));
    }
    offset += bytes;
  }
  return {};
}

Result<void> check_abi(const ckpt_info& info) {
  if (info.abi_version != kAbiVersion)
    return Error::msg(fmt::format("the module speaks ckpt ABI {}, this binary was built for ABI {} "
                                  "(build both from the same tree)",
                                  info.abi_version, kAbiVersion),
                      EPROTO);
  if (info.task_record_size < CKPT_TASK_SIZE_VER0)
    return Error::msg(fmt::format("the module reports task records of {} bytes, less than {}",
                                  info.task_record_size, CKPT_TASK_SIZE_VER0),
                      EPROTO);
  return {};
}

}  // namespace ckpt::kmod
