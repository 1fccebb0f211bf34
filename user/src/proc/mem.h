// Reading another process's memory: process_vm_readv(2), batched (up to
// IOV_MAX remote iovecs per call, the local side one big buffer), with a
// fallback to pread on /proc/PID/mem.
//
// Both need PTRACE_MODE_ATTACH_REALCREDS on the target.  A page that cannot
// be read is an error naming its address (never zero-filled): the dump must
// not store silently wrong memory.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <span>

#include "core/fd.h"
#include "core/result.h"

namespace ckpt::proc {

struct MemRange {
  uint64_t addr = 0;  // in the target
  std::size_t len = 0;
};

class MemReader {
 public:
  enum class Method { vm_readv, proc_mem };

  // process_vm_readv by default; proc_mem opens /proc/PID/mem now.
  static Result<MemReader> open(pid_t pid, Method method = Method::vm_readv);

  // Reads @ranges in order into @out, back to back; the sum of the lengths
  // must equal out.size().  A short transfer continues where it stopped;
  // an address that cannot be read (EFAULT from process_vm_readv, EIO from
  // /proc/PID/mem, or no progress) is an error naming it.
  Result<void> read(std::span<const MemRange> ranges, std::span<std::byte> out);

  Method method() const { return method_; }
  pid_t pid() const { return pid_; }
  // Calls made so far (for the tests: batching really happens).
  std::size_t syscalls() const { return syscalls_; }

 private:
  MemReader(pid_t pid, Method m, Fd mem) : pid_(pid), method_(m), mem_(std::move(mem)) {}
  Result<void> read_vm(std::span<const MemRange> ranges, std::span<std::byte> out);
  Result<void> read_mem(std::span<const MemRange> ranges, std::span<std::byte> out);
  pid_t pid_ = 0;
  Method method_ = Method::vm_readv;
  Fd mem_;
  std::size_t syscalls_ = 0;
};

}  // namespace ckpt::proc
