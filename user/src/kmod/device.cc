#include "kmod/device.h"

#include <fcntl.h>
#include <sys/ioctl.h>

#include <fmt/format.h>

#include <cerrno>

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
