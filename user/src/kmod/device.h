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

#include <sys/types.h>

#include <cstdint>
#include <span>
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

// CKPT_IOC_PAGES: pages of a process written into a file by the kernel, one
// copy per page and none through our memory.  Needs no session, so it
// serves the pre-copy of a running tree as well as the frozen pass.  It has
// its own open file of the device: the module runs PAGES without the
// per-file lock, but a Session owns its Device.
//
//   auto pc = kmod::PageCopier::open(dev, info);   // EOPNOTSUPP: old module
//   ckpt_pages_xxh64 h{};                           // if pc->can_hash()
//   pc->write(pid, pidfd, image_fd, ranges, payload_off, &h);  // h.digest
class PageCopier {
 public:
  static constexpr std::size_t kMaxRanges = CKPT_PAGES_MAX_RANGES;
  static constexpr uint64_t kMaxBytes = CKPT_PAGES_MAX_BYTES;

  // A second open of @dev's device, if @info lists CKPT_IOC_PAGES
  // (EOPNOTSUPP otherwise).
  static Result<PageCopier> open(const Device& dev, const ckpt_info& info);

  // Writes @ranges of @pid's memory back to back at @offset of @fd
  // (page-aligned; see Documentation/abi.md).  With @pidfd >= 0 the
  // process is named by that pidfd (a running process's pid may be
  // reused), @pid only names it in errors.  Any number of ranges and
  // bytes: split into calls within the module's limits.
  //
  // With @hash the module also hashes what it wrote (CKPT_PAGES_XXH64):
  // XXH64 (seed 0) of the bytes as the file holds them, continuing the
  // state in *@hash (zeroed: a new hash) and leaving there the state and
  // the digest of every byte hashed so far, over all the calls made.  @fd
  // must then be open for reading too; EOPNOTSUPP unless can_hash().
  Result<void> write(pid_t pid, int pidfd, int fd, std::span<const ckpt_page_range> ranges,
                     uint64_t offset, ckpt_pages_xxh64* hash = nullptr) const;
  // Whether the module offers CKPT_PAGES_XXH64 (CKPT_IOC_INFO pages_flags).
  bool can_hash() const { return can_hash_; }
  // ioctl calls made so far (the tests check the batching).
  std::size_t calls() const { return calls_; }

 private:
  PageCopier(Device dev, bool can_hash) : dev_(std::move(dev)), can_hash_(can_hash) {}
  Device dev_;
  bool can_hash_ = false;
  mutable std::size_t calls_ = 0;
};

// An error unless @info is usable by this binary (ABI version, record size).
Result<void> check_abi(const ckpt_info& info);

}  // namespace ckpt::kmod
