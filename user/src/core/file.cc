#include "core/file.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <memory>

#include "core/fd.h"

namespace ckpt {
namespace {

// Reads until EOF, with read() or, when @positional, pread() from offset 0.
Result<std::string> read_loop(int fd, std::size_t max, bool positional) {
  std::string buf;
  std::size_t len = 0;
  buf.resize(4096);
  for (;;) {
    if (len == buf.size()) {
      if (buf.size() > max)
        return Error::msg("file is larger than " + std::to_string(max) + " bytes", EFBIG);
      buf.resize(std::min(buf.size() * 2, max + 1));
    }
    ssize_t n = positional ? ::pread(fd, buf.data() + len, buf.size() - len, static_cast<off_t>(len))
                           : ::read(fd, buf.data() + len, buf.size() - len);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      return Error::from_errno("read");
    }
    if (n == 0)
      break;
    len += static_cast<std::size_t>(n);
  }
  if (len > max)
    return Error::msg("file is larger than " + std::to_string(max) + " bytes", EFBIG);
  buf.resize(len);
  return buf;
}

Result<void> write_once(int fd, std::string_view data) {
  for (;;) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0)
      return Error::from_errno("write");
    if (static_cast<std::size_t>(n) != data.size())
      return Error::msg("short write", EIO);
    return {};
  }
}

struct DirCloser {
  void operator()(DIR* d) const noexcept { ::closedir(d); }
};

Result<std::vector<std::string>> list_fd(Fd fd, bool dirs_only) {
  DIR* raw = ::fdopendir(fd.get());
  if (!raw)
    return Error::from_errno("fdopendir");
  (void)fd.release();  // the DIR owns it now
  std::unique_ptr<DIR, DirCloser> dir(raw);
  std::vector<std::string> names;
  for (;;) {
    errno = 0;
    struct dirent* de = ::readdir(dir.get());
    if (!de) {
      if (errno != 0)
        return Error::from_errno("readdir");
      break;
    }
    std::string_view name = de->d_name;
    if (name == "." || name == "..")
      continue;
    if (dirs_only) {
      bool is_dir = de->d_type == DT_DIR;
      if (de->d_type == DT_UNKNOWN) {
        struct stat st;
        is_dir = ::fstatat(::dirfd(dir.get()), de->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
                 S_ISDIR(st.st_mode);
      }
      if (!is_dir)
        continue;
    }
    names.emplace_back(name);
  }
  return names;
}

}  // namespace

Result<std::string> read_file(const std::string& path, std::size_t max) {
  return read_file_at(AT_FDCWD, path, max);
}

Result<std::string> read_file_at(int dirfd, const std::string& name, std::size_t max) {
  auto fd = Fd::open_at(dirfd, name, O_RDONLY);
  if (!fd)
    return Error::sys(fd.error().code(), "read " + name);
  auto data = read_loop(fd->get(), max, false);
  if (!data)
    return std::move(data).error().context("read " + name);
  return data;
}

Result<std::string> pread_all(int fd, std::size_t max) { return read_loop(fd, max, true); }

Result<std::string> read_all(int fd, std::size_t max) { return read_loop(fd, max, false); }

Result<void> write_file(const std::string& path, std::string_view data) {
  return write_file_at(AT_FDCWD, path, data);
}

Result<void> write_file_at(int dirfd, const std::string& name, std::string_view data) {
  auto fd = Fd::open_at(dirfd, name, O_WRONLY);
  if (!fd)
    return Error::sys(fd.error().code(), "write " + name);
  auto r = write_once(fd->get(), data);
  if (!r)
    return Error::sys(r.error().code(), "write " + name);
  return {};
}

Result<void> write_all(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0)
      return Error::from_errno("write");
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  return {};
}

Result<std::vector<std::string>> list_dir(const std::string& path) {
  return list_dir_at(AT_FDCWD, path);
}

Result<std::vector<std::string>> list_dir_at(int dirfd, const std::string& name) {
  auto fd = Fd::open_at(dirfd, name, O_RDONLY | O_DIRECTORY);
  if (!fd)
    return Error::sys(fd.error().code(), "list " + name);
  return list_fd(std::move(*fd), false).context("list " + name);
}

Result<std::vector<std::string>> list_subdirs_at(int dirfd, const std::string& name) {
  auto fd = Fd::open_at(dirfd, name, O_RDONLY | O_DIRECTORY);
  if (!fd)
    return Error::sys(fd.error().code(), "list " + name);
  return list_fd(std::move(*fd), true).context("list " + name);
}

bool path_exists(const std::string& path) noexcept {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0;
}

}  // namespace ckpt
