// Fd: a move-only owner of a file descriptor; the destructor closes it.
#pragma once

#include <sys/types.h>

#include <string>

#include "core/result.h"

namespace ckpt {

class Fd {
 public:
  Fd() noexcept = default;
  explicit Fd(int fd) noexcept : fd_(fd) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  Fd(Fd&& other) noexcept : fd_(other.release()) {}
  Fd& operator=(Fd&& other) noexcept;
  ~Fd() { reset(); }

  int get() const noexcept { return fd_; }
  bool valid() const noexcept { return fd_ >= 0; }
  explicit operator bool() const noexcept { return valid(); }

  // Gives up ownership: the caller must close the returned fd.
  [[nodiscard]] int release() noexcept;
  // Closes the current fd (errors ignored: Linux always frees the fd) and
  // owns @fd instead.
  void reset(int fd = -1) noexcept;
  // Closes now and reports close()'s error, for fds written to.
  Result<void> close();

  // open(2) and openat(2); O_CLOEXEC is always added.  The error names @path.
  static Result<Fd> open(const std::string& path, int flags, mode_t mode = 0);
  static Result<Fd> open_at(int dirfd, const std::string& name, int flags, mode_t mode = 0);
  // A close-on-exec duplicate.
  Result<Fd> dup() const;

 private:
  int fd_ = -1;
};

// pipe2(2): both ends, close-on-exec unless @flags says otherwise.
struct Pipe {
  Fd read;
  Fd write;
  static Result<Pipe> create(int flags = 0);
};

}  // namespace ckpt
