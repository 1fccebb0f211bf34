// Open file descriptors of a process: /proc/PID/fd/N links and stat, and
// taking a duplicate of a target's fd with pidfd_getfd(2).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/fd.h"
#include "core/result.h"

namespace ckpt::proc {

enum class FdType {
  regular,
  directory,
  pipe,          // pipe:[ino]
  fifo,          // a named FIFO (path, S_IFIFO)
  socket,        // socket:[ino]
  eventfd,       // anon_inode:[eventfd]
  timerfd,       // anon_inode:[timerfd]
  signalfd,      // anon_inode:[signalfd]
  epoll,         // anon_inode:[eventpoll]
  inotify,       // anon_inode:inotify
  fanotify,      // anon_inode:[fanotify]
  anon_inode,    // any other anon_inode: (name in FdTarget::anon_name)
  tty,           // character device of a terminal (pts, ptmx, tty, console)
  char_device,
  block_device,
  deleted_file,  // a regular file whose path ends in " (deleted)"
  memfd,         // /memfd:NAME (deleted)
  symlink,       // O_PATH|O_NOFOLLOW on a symlink
  other,         // anything else (e.g. "[pidfd]" style names, sockets of
                 // unknown kinds): the dump refuses it by name
};
std::string_view fd_type_name(FdType type);

struct FdStat {
  uint64_t dev = 0;
  uint64_t ino = 0;
  uint32_t mode = 0;
  uint64_t rdev = 0;
  uint64_t size = 0;
  int64_t mtime_ns = 0;
  uint64_t nlink = 0;
};

// The link text, classified (pure: @mode is st_mode from stat of the fd).
struct FdTarget {
  FdType type = FdType::other;
  std::string path;       // the link without " (deleted)"; "" for anon/pipe/socket
  std::string anon_name;  // "eventfd", "inotify", "[pidfd]" ... for anon_inode:
  uint64_t link_inode = 0;  // pipe:[N] / socket:[N]
  bool deleted = false;
  bool pty_master = false;  // /dev/ptmx or /dev/pts/ptmx
};
FdTarget classify_fd_link(std::string_view link, uint32_t mode, uint64_t rdev);

struct OpenFd {
  int fd = -1;
  std::string link;  // readlink as is
  FdTarget target;
  FdStat stat;       // stat(2) of /proc/PID/fd/N (follows to the open file)
};

// Numbers in /proc/PID/fd, sorted.
Result<std::vector<int>> list_fds(pid_t pid);
Result<std::string> read_fd_link(pid_t pid, int fd);
Result<FdStat> stat_fd(pid_t pid, int fd);
Result<OpenFd> inspect_fd(pid_t pid, int fd);
// Every fd; one that closes between the listing and its inspection (ENOENT)
// is an error: the tree is frozen while the dump reads it (except for the
// caller's own process, whose listing fd is gone by then: skipped).
Result<std::vector<OpenFd>> read_fds(pid_t pid);

// pidfd_open(2) (syscall 434, Linux >= 5.3).
Result<Fd> pidfd_open(pid_t pid);
// pidfd_getfd(2) (syscall 438, Linux >= 5.6): a close-on-exec duplicate of
// @target_fd of the process behind @pidfd.  ENOSYS and EPERM get messages
// that say why (old kernel; ptrace access denied).
Result<Fd> pidfd_getfd(int pidfd, int target_fd);
// pidfd_open + pidfd_getfd.
Result<Fd> steal_fd(pid_t pid, int target_fd);

}  // namespace ckpt::proc
