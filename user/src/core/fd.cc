#include "core/fd.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <utility>

namespace ckpt {

Fd& Fd::operator=(Fd&& other) noexcept {
  if (this != &other)
    reset(other.release());
  return *this;
}

int Fd::release() noexcept { return std::exchange(fd_, -1); }

void Fd::reset(int fd) noexcept {
  int old = std::exchange(fd_, fd);
  if (old >= 0)
    ::close(old);
}

Result<void> Fd::close() {
  int old = release();
  if (old >= 0 && ::close(old) < 0 && errno != EINTR)
    return Error::from_errno("close");
  return {};
}

Result<Fd> Fd::open(const std::string& path, int flags, mode_t mode) {
  int fd = ::open(path.c_str(), flags | O_CLOEXEC, mode);
  if (fd < 0)
    return Error::from_errno("open " + path);
  return Fd(fd);
}

Result<Fd> Fd::open_at(int dirfd, const std::string& name, int flags, mode_t mode) {
  int fd = ::openat(dirfd, name.c_str(), flags | O_CLOEXEC, mode);
  if (fd < 0)
    return Error::from_errno("open " + name);
  return Fd(fd);
}

Result<Fd> Fd::dup() const {
  int fd = ::fcntl(fd_, F_DUPFD_CLOEXEC, 0);
  if (fd < 0)
    return Error::from_errno("dup");
  return Fd(fd);
}

Result<Pipe> Pipe::create(int flags) {
  int fds[2];
  if (::pipe2(fds, flags | O_CLOEXEC) < 0)
    return Error::from_errno("pipe");
  return Pipe{Fd(fds[0]), Fd(fds[1])};
}

}  // namespace ckpt
