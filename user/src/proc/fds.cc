#include "proc/fds.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <optional>

#include "core/file.h"
#include "core/parse.h"
#include "proc/procfs.h"

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
#ifndef SYS_pidfd_getfd
#define SYS_pidfd_getfd 438
#endif

namespace ckpt::proc {
namespace {

constexpr std::string_view kDeleted = " (deleted)";

// "pipe:[123]" -> 123 for @prefix "pipe:".
std::optional<uint64_t> bracket_inode(std::string_view link, std::string_view prefix) {
  if (!link.starts_with(prefix))
    return std::nullopt;
  std::string_view rest = link.substr(prefix.size());
  if (rest.size() < 3 || rest.front() != '[' || rest.back() != ']')
    return std::nullopt;
  auto v = parse_int<uint64_t>(rest.substr(1, rest.size() - 2));
  if (!v)
    return std::nullopt;
  return *v;
}

bool is_tty_rdev(uint64_t rdev) {
  unsigned maj = major(rdev), min = minor(rdev);
  if (maj == 4)  // virtual consoles and serial ports
    return true;
  if (maj == 5 && min <= 2)  // /dev/tty, /dev/console, /dev/ptmx
    return true;
  return maj >= 136 && maj <= 143;  // Unix98 pty slaves
}

}  // namespace

std::string_view fd_type_name(FdType type) {
  switch (type) {
    case FdType::regular: return "regular file";
    case FdType::directory: return "directory";
    case FdType::pipe: return "pipe";
    case FdType::fifo: return "fifo";
    case FdType::socket: return "socket";
    case FdType::eventfd: return "eventfd";
    case FdType::timerfd: return "timerfd";
    case FdType::signalfd: return "signalfd";
    case FdType::epoll: return "epoll";
    case FdType::inotify: return "inotify";
    case FdType::fanotify: return "fanotify";
    case FdType::anon_inode: return "anon inode";
    case FdType::tty: return "tty";
    case FdType::char_device: return "character device";
    case FdType::block_device: return "block device";
    case FdType::deleted_file: return "deleted file";
    case FdType::memfd: return "memfd";
    case FdType::symlink: return "symlink";
    case FdType::other: return "other";
  }
  return "unknown";
}

FdTarget classify_fd_link(std::string_view link, uint32_t mode, uint64_t rdev) {
  FdTarget t;
  if (auto ino = bracket_inode(link, "pipe:")) {
    t.type = FdType::pipe;
    t.link_inode = *ino;
    return t;
  }
  if (auto ino = bracket_inode(link, "socket:")) {
    t.type = FdType::socket;
    t.link_inode = *ino;
    return t;
  }
  if (link.starts_with("anon_inode:")) {
    std::string_view name = link.substr(11);
    t.anon_name = std::string(name);
    if (name == "[eventfd]")
      t.type = FdType::eventfd;
    else if (name == "[timerfd]")
      t.type = FdType::timerfd;
    else if (name == "[signalfd]")
      t.type = FdType::signalfd;
    else if (name == "[eventpoll]")
      t.type = FdType::epoll;
    else if (name == "inotify")
      t.type = FdType::inotify;
    else if (name == "[fanotify]")
      t.type = FdType::fanotify;
    else
      t.type = FdType::anon_inode;
    return t;
  }
  if (link.empty() || link.front() != '/') {
    // Other pseudo-filesystem names ("net:[...]", "mnt:[...]", ...).
    t.type = FdType::other;
    t.anon_name = std::string(link);
    return t;
  }
  std::string_view path = link;
  if (path.ends_with(kDeleted)) {
    path.remove_suffix(kDeleted.size());
    t.deleted = true;
  }
  t.path = std::string(path);
  if (path.starts_with("/memfd:") && t.deleted && S_ISREG(mode)) {
    t.type = FdType::memfd;
    return t;
  }
  if (S_ISREG(mode))
    t.type = t.deleted ? FdType::deleted_file : FdType::regular;
  else if (S_ISDIR(mode))
    t.type = FdType::directory;
  else if (S_ISFIFO(mode))
    t.type = FdType::fifo;
  else if (S_ISSOCK(mode))
    t.type = FdType::socket;
  else if (S_ISLNK(mode))
    t.type = FdType::symlink;
  else if (S_ISBLK(mode))
    t.type = FdType::block_device;
  else if (S_ISCHR(mode)) {
    if (is_tty_rdev(rdev)) {
      t.type = FdType::tty;
      t.pty_master = path == "/dev/ptmx" || path == "/dev/pts/ptmx";
    } else {
      t.type = FdType::char_device;
    }
  } else {
    t.type = FdType::other;
  }
  return t;
}

Result<std::vector<int>> list_fds(pid_t pid) {
  auto dir = proc_path(pid, "fd");
  auto names = list_dir(dir);
  if (!names)
    return std::move(names).error();
  std::vector<int> fds;
  for (const std::string& n : *names) {
    auto fd = parse_int<int>(n);
    if (!fd || *fd < 0)
      return Error::msg("unexpected entry " + quote(n) + " in " + dir);
    fds.push_back(*fd);
  }
  std::sort(fds.begin(), fds.end());
  return fds;
}

Result<std::string> read_fd_link(pid_t pid, int fd) {
  auto path = proc_path(pid, fmt::format("fd/{}", fd));
  std::string buf(256, '\0');
  for (;;) {
    ssize_t n = ::readlink(path.c_str(), buf.data(), buf.size());
    if (n < 0)
      return Error::from_errno("readlink " + path);
    if (static_cast<std::size_t>(n) < buf.size()) {
      buf.resize(static_cast<std::size_t>(n));
      return buf;
    }
    if (buf.size() >= (1u << 16))
      return Error::msg("readlink " + path + ": link longer than 64 KiB", ENAMETOOLONG);
    buf.resize(buf.size() * 2);
  }
}

Result<FdStat> stat_fd(pid_t pid, int fd) {
  auto path = proc_path(pid, fmt::format("fd/{}", fd));
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0)
    return Error::from_errno("stat " + path);
  FdStat s;
  s.dev = st.st_dev;
  s.ino = st.st_ino;
  s.mode = st.st_mode;
  s.rdev = st.st_rdev;
  s.size = static_cast<uint64_t>(st.st_size);
  s.mtime_ns = static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
  s.nlink = st.st_nlink;
  return s;
}

Result<OpenFd> inspect_fd(pid_t pid, int fd) {
  OpenFd o;
  o.fd = fd;
  auto link = read_fd_link(pid, fd);
  if (!link)
    return std::move(link).error();
  o.link = std::move(*link);
  auto st = stat_fd(pid, fd);
  if (!st)
    return std::move(st).error();
  o.stat = *st;
  o.target = classify_fd_link(o.link, o.stat.mode, o.stat.rdev);
  return o;
}

Result<std::vector<OpenFd>> read_fds(pid_t pid) {
  auto fds = list_fds(pid);
  if (!fds)
    return std::move(fds).error();
  std::vector<OpenFd> out;
  out.reserve(fds->size());
  for (int fd : *fds) {
    auto o = inspect_fd(pid, fd);
    if (!o) {
      // Our own listing has its directory fd open while it reads: that one
      // is gone by now.  Another (frozen) process's fds do not vanish.
      if (pid == ::getpid() && o.error().code() == ENOENT)
        continue;
      return std::move(o).error();
    }
    out.push_back(std::move(*o));
  }
  return out;
}

Result<Fd> pidfd_open(pid_t pid) {
  long r = ::syscall(SYS_pidfd_open, pid, 0);
  if (r < 0) {
    int e = errno;
    if (e == ENOSYS)
      return Error::sys(e, fmt::format("pidfd_open({}): the kernel lacks pidfd_open "
                                       "(Linux >= 5.3)", pid));
    return Error::sys(e, fmt::format("pidfd_open({})", pid));
  }
  return Fd(static_cast<int>(r));
}

Result<Fd> pidfd_getfd(int pidfd, int target_fd) {
  long r = ::syscall(SYS_pidfd_getfd, pidfd, target_fd, 0);
  if (r < 0) {
    int e = errno;
    if (e == ENOSYS)
      return Error::sys(e, fmt::format("pidfd_getfd(fd {}): the kernel lacks pidfd_getfd "
                                       "(Linux >= 5.6)", target_fd));
    if (e == EPERM)
      return Error::sys(e, fmt::format("pidfd_getfd(fd {}): ptrace access to the target "
                                       "denied (PTRACE_MODE_ATTACH_REALCREDS: same uid and "
                                       "ptrace_scope, or CAP_SYS_PTRACE)", target_fd));
    if (e == EBADF)
      return Error::sys(e, fmt::format("pidfd_getfd: the target has no fd {}", target_fd));
    return Error::sys(e, fmt::format("pidfd_getfd(fd {})", target_fd));
  }
  return Fd(static_cast<int>(r));  // the kernel sets O_CLOEXEC on it
}

Result<Fd> steal_fd(pid_t pid, int target_fd) {
  auto pfd = pidfd_open(pid);
  if (!pfd)
    return std::move(pfd).error();
  return pidfd_getfd(pfd->get(), target_fd).context(fmt::format("pid {}", pid));
}

}  // namespace ckpt::proc
