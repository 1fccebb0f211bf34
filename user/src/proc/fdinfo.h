// /proc/PID/fdinfo/N (proc(5), fs/proc/fd.c and each file type's
// show_fdinfo):
//
//   pos:	0
//   flags:	02004002          (octal; O_CLOEXEC set if close-on-exec)
//   mnt_id:	15
//   ino:	1057               (Linux >= 5.14)
//   lock:	...                 (file locks, any number; skipped)
//   <type-specific lines>
//
// Type-specific lines recognized: eventfd (eventfd-count hex, eventfd-id,
// eventfd-semaphore on 6.12), timerfd (clockid, ticks, settime flags,
// it_value, it_interval), signalfd (sigmask), epoll ("tfd: ..." lines),
// inotify ("inotify wd:..."), fanotify ("fanotify ..."), pty (tty-index).
// Unknown lines are ignored (new kernels add some); a known line that does
// not parse is an error naming it.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace ckpt::proc {

struct EventfdInfo {
  uint64_t count = 0;
  std::optional<int32_t> id;          // Linux >= 5.2
  std::optional<bool> semaphore;      // Linux >= 6.7 (eventfd-semaphore)
};

struct TimerfdInfo {
  int32_t clockid = 0;
  uint64_t ticks = 0;
  uint32_t settime_flags = 0;         // octal in the file
  uint64_t value_sec = 0, value_nsec = 0;        // it_value (remaining)
  uint64_t interval_sec = 0, interval_nsec = 0;  // it_interval
};

struct EpollTargetInfo {
  int32_t tfd = 0;
  uint32_t events = 0;
  uint64_t data = 0;
  int64_t pos = 0;
  uint64_t ino = 0;
  uint32_t sdev = 0;                  // kernel dev_t encoding (major << 20 | minor)
};

struct InotifyWatchInfo {
  uint32_t wd = 0;
  uint64_t ino = 0;
  uint32_t sdev = 0;
  uint32_t mask = 0;
};

enum class FdInfoKind { plain, eventfd, timerfd, signalfd, epoll, inotify, fanotify, tty };

struct FdInfo {
  int64_t pos = 0;
  uint32_t flags = 0;                 // f_flags, with O_CLOEXEC for cloexec
  std::optional<int32_t> mnt_id;
  std::optional<uint64_t> ino;        // Linux >= 5.14
  FdInfoKind kind = FdInfoKind::plain;

  std::optional<EventfdInfo> eventfd;
  std::optional<TimerfdInfo> timerfd;
  std::optional<uint64_t> signalfd_sigmask;   // the signals it accepts
  // An epoll set without targets and an inotify without watches print no
  // type lines: they parse as plain, and the fd link (fds.h) says what they
  // are.  fanotify always prints its "fanotify flags:" line.
  std::vector<EpollTargetInfo> epoll;         // kind == epoll
  std::vector<InotifyWatchInfo> inotify;      // kind == inotify
  std::optional<uint32_t> fanotify_flags;     // kind == fanotify
  std::optional<int32_t> tty_index;           // pty: tty-index
  uint32_t locks = 0;                         // "lock:" lines seen

  bool cloexec() const;
};

std::string_view fdinfo_kind_name(FdInfoKind kind);

Result<FdInfo> parse_fdinfo(std::string_view text);
Result<FdInfo> read_fdinfo(pid_t pid, int fd);

}  // namespace ckpt::proc
