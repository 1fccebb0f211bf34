#include "proc/pipe.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <cerrno>

#include "proc/procfs.h"

namespace ckpt::proc {

Result<uint32_t> pipe_capacity(int fd) {
  int r = ::fcntl(fd, F_GETPIPE_SZ);
  if (r < 0)
    return Error::from_errno("fcntl(F_GETPIPE_SZ)");
  return static_cast<uint32_t>(r);
}

Result<uint32_t> pipe_buffered(int fd) {
  int n = 0;
  if (::ioctl(fd, FIONREAD, &n) != 0)
    return Error::from_errno("ioctl(FIONREAD) on the pipe");
  if (n < 0)
    return Error::msg("FIONREAD returned a negative count", EIO);
  return static_cast<uint32_t>(n);
}

Result<Fd> open_pipe_reader(pid_t pid, int fd) {
  return Fd::open(proc_path(pid, fmt::format("fd/{}", fd)), O_RDONLY | O_NONBLOCK);
}

Result<std::string> peek_pipe(int read_fd) {
  auto cap = pipe_capacity(read_fd);
  if (!cap)
    return std::move(cap).error().context("peek pipe");
  auto buffered = pipe_buffered(read_fd);
  if (!buffered)
    return std::move(buffered).error().context("peek pipe");
  if (*buffered == 0)
    return std::string();

  auto priv = Pipe::create(O_NONBLOCK);
  if (!priv)
    return std::move(priv).error().context("peek pipe: private pipe");
  // As many slots as the source has, so that one tee takes every buffer.
  if (::fcntl(priv->write.get(), F_SETPIPE_SZ, static_cast<int>(*cap)) < 0)
    return Error::from_errno(fmt::format("peek pipe: F_SETPIPE_SZ {} on the private pipe (above "
                                         "/proc/sys/fs/pipe-max-size?)", *cap));
  ssize_t n;
  do {
    n = ::tee(read_fd, priv->write.get(), *buffered, SPLICE_F_NONBLOCK);
  } while (n < 0 && errno == EINTR);
  if (n < 0)
    return Error::from_errno("peek pipe: tee");
  if (static_cast<uint32_t>(n) != *buffered)
    return Error::msg(fmt::format("peek pipe: tee copied {} of {} buffered bytes", n, *buffered),
                      EIO);
  std::string data(static_cast<std::size_t>(n), '\0');
  std::size_t got = 0;
  while (got < data.size()) {
    ssize_t r = ::read(priv->read.get(), data.data() + got, data.size() - got);
    if (r < 0) {
      if (errno == EINTR)
        continue;
      return Error::from_errno("peek pipe: read the private pipe");
    }
    if (r == 0)
      return Error::msg("peek pipe: private pipe ended early", EIO);
    got += static_cast<std::size_t>(r);
  }
  return data;
}

}  // namespace ckpt::proc
