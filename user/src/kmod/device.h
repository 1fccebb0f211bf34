// Client for /dev/ckpt (uapi/linux/ckpt.h, Documentation/abi.md).
//
//   auto dev = kmod::Device::open();            // /dev/ckpt
//   auto info = dev->info();                    // CKPT_IOC_INFO, no session needed
//   auto s = kmod::Session::begin(std::move(*dev), cg.dir_fd(), kmod::Root::pid(1234));
//   auto tasks = s->scan();                     // the frozen tree, DFS pre-order
//   auto regs = s->regs(tid, true);             // gp + xstate of one thread
//   // ~Session: CKPT_IOC_END, then close
#pragma once

#include <linux/ckpt.h>

#include <cstdint>
#include <string>

#include "core/fd.h"
#include "core/result.h"

namespace ckpt::kmod {

inline constexpr const char* kDevicePath = "/dev/" CKPT_DEVICE_NAME;
// The ABI this binary was built against.
inline constexpr uint32_t kAbiVersion = CKPT_ABI_VERSION;

class Device {
 public:
  // open(2) O_RDWR.  ENOENT gets a hint to load the module.
  static Result<Device> open(const std::string& path = kDevicePath);

  // CKPT_IOC_INFO.
  Result<ckpt_info> info() const;
  // INFO, and an error unless the module speaks this binary's ABI.
  Result<ckpt_info> checked_info() const;

  int fd() const { return fd_.get(); }
  const std::string& path() const { return path_; }

 private:
  Device(Fd fd, std::string path) : fd_(std::move(fd)), path_(std::move(path)) {}
  Fd fd_;
  std::string path_;
};

// An error unless @info is usable by this binary (ABI version, record size).
Result<void> check_abi(const ckpt_info& info);

}  // namespace ckpt::kmod
