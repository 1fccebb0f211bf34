#include "core/mapping.h"

#include <sys/mman.h>

#include <utility>

namespace ckpt {

Mapping::Mapping(Mapping&& other) noexcept
    : addr_(std::exchange(other.addr_, nullptr)), length_(std::exchange(other.length_, 0)) {}

Mapping& Mapping::operator=(Mapping&& other) noexcept {
  if (this != &other) {
    reset();
    addr_ = std::exchange(other.addr_, nullptr);
    length_ = std::exchange(other.length_, 0);
  }
  return *this;
}

void Mapping::reset() noexcept {
  if (addr_)
    ::munmap(addr_, length_);
  addr_ = nullptr;
  length_ = 0;
}

Result<Mapping> Mapping::anonymous(std::size_t length, int prot, bool populate) {
  void* p = ::mmap(nullptr, length, prot,
                   MAP_PRIVATE | MAP_ANONYMOUS | (populate ? MAP_POPULATE : 0), -1, 0);
  if (p == MAP_FAILED)
    return Error::from_errno("mmap anonymous memory");
  return Mapping(p, length);
}

Result<Mapping> Mapping::of_fd(int fd, std::size_t length, int prot, int flags, long offset) {
  void* p = ::mmap(nullptr, length, prot, flags, fd, offset);
  if (p == MAP_FAILED)
    return Error::from_errno("mmap");
  return Mapping(p, length);
}

}  // namespace ckpt
