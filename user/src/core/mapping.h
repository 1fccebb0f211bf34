// Mapping: a move-only owner of an mmap(2) region; the destructor unmaps it.
#pragma once

#include <cstddef>

#include "core/result.h"

namespace ckpt {

class Mapping {
 public:
  Mapping() noexcept = default;
  Mapping(const Mapping&) = delete;
  Mapping& operator=(const Mapping&) = delete;
  Mapping(Mapping&& other) noexcept;
  Mapping& operator=(Mapping&& other) noexcept;
  ~Mapping() { reset(); }

  // A private anonymous mapping of @length bytes.
  // @populate: fault every page in now (MAP_POPULATE), in one pass in the
  // kernel, rather than one fault per page on first touch.
  static Result<Mapping> anonymous(std::size_t length, int prot, bool populate = false);
  // A mapping of @length bytes of @fd at @offset.
  static Result<Mapping> of_fd(int fd, std::size_t length, int prot, int flags, long offset);

  void* data() const noexcept { return addr_; }
  std::size_t size() const noexcept { return length_; }
  bool valid() const noexcept { return addr_ != nullptr; }
  void reset() noexcept;

 private:
  Mapping(void* addr, std::size_t length) noexcept : addr_(addr), length_(length) {}
  void* addr_ = nullptr;
  std::size_t length_ = 0;
};

}  // namespace ckpt
