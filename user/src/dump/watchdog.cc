#include "dump/watchdog.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ftw.h>
#include <utility>

#include "core/file.h"
#include "core/log.h"

namespace ckpt::dump {
namespace {

// Helper side.  Only plain system calls: the parent may be multi-threaded
// by then (it is not today, but the helper must not depend on it).
int rm_entry(const char* path, const struct stat*, int type, struct FTW*) {
  if (type == FTW_DP)
    ::rmdir(path);
  else
    ::unlink(path);
  return 0;
}

void remove_tree(const std::string& path) {
  struct stat st;
  if (::lstat(path.c_str(), &st) != 0)
    return;
  if (S_ISDIR(st.st_mode))
    ::nftw(path.c_str(), rm_entry, 16, FTW_DEPTH | FTW_PHYS);
  else
    ::unlink(path.c_str());
}

bool thaw(const std::string& file, const std::string& value) {
  // The dead owner's session ends when the kernel releases its /dev/ckpt
  // file, which can lag its death a little: EBUSY until then.
  for (int i = 0; i < 2000; ++i) {
    int fd = ::open(file.c_str(), O_WRONLY | O_CLOEXEC);
    if (fd < 0)
      return false;
    ssize_t n = ::write(fd, value.data(), value.size());
    int err = errno;
    ::close(fd);
    if (n == static_cast<ssize_t>(value.size()))
      return true;
    if (err != EBUSY)
      return false;
    ::usleep(5000);
  }
  return false;
}

// Closes every fd from 3 up except @keep.
void close_all_but(int keep) {
  bool ok;
  if (keep < 3) {
    ok = ::close_range(3, ~0u, 0) == 0;
  } else {
    const auto k = static_cast<unsigned>(keep);
    ok = (k == 3 || ::close_range(3, k - 1, 0) == 0) && ::close_range(k + 1, ~0u, 0) == 0;
  }
  if (ok)
    return;
  long max = ::sysconf(_SC_OPEN_MAX);
  for (long fd = 3; fd < (max > 0 ? max : 1024); ++fd)
    if (fd != keep)
      ::close(static_cast<int>(fd));
}

[[noreturn]] void helper_main(int cmd_fd, const std::string& freeze_file,
                              const std::string& thaw_value) {
  ::setpgid(0, 0);
  struct sigaction ign = {};
  ign.sa_handler = SIG_IGN;
  ::sigaction(SIGINT, &ign, nullptr);
  ::sigaction(SIGTERM, &ign, nullptr);
  ::sigaction(SIGHUP, &ign, nullptr);
  ::sigaction(SIGPIPE, &ign, nullptr);
  ::prctl(PR_SET_NAME, "ckpt-watchdog");
  bool armed = false;
  std::string path;
  std::string buf;
  char chunk[4096];
  for (;;) {
    ssize_t n = ::read(cmd_fd, chunk, sizeof(chunk));
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      break;  // EOF: the owner is gone
    buf.append(chunk, static_cast<size_t>(n));
    size_t nl;
    while ((nl = buf.find('\n')) != std::string::npos) {
      std::string line = buf.substr(0, nl);
      buf.erase(0, nl + 1);
      if (line == "done")
        ::_exit(0);
      if (line == "thaw")
        armed = true;
      else if (line == "forget")
        path.clear();
      else if (line.rfind("path ", 0) == 0)
        path = line.substr(5);
    }
  }
  if (!path.empty())
    remove_tree(path);
  int status = 0;
  if (armed && !thaw(freeze_file, thaw_value))
    status = 1;
  ::_exit(status);
}

}  // namespace

Result<Watchdog> Watchdog::start(const std::string& freeze_file, const std::string& thaw_value) {
  auto p = Pipe::create();
  if (!p)
    return std::move(p).error().context("start the watchdog");
  pid_t pid = ::fork();
  if (pid < 0)
    return Error::from_errno("start the watchdog: fork");
  if (pid == 0) {
    p->write.reset();
    // Close every other inherited fd, however high: the helper must not
    // keep the parent's /dev/ckpt open (that would keep the session alive)
    // nor the image file.  close_range (5.9) closes them in one call; a
    // loop over the limit is the fallback.
    const int keep = p->read.get();
    close_all_but(keep);
    helper_main(keep, freeze_file, thaw_value);
  }
  p->read.reset();
  return Watchdog(pid, std::move(p->write));
}

Watchdog::Watchdog(Watchdog&& other) noexcept
    : pid_(std::exchange(other.pid_, -1)), cmd_(std::move(other.cmd_)) {}

Watchdog::~Watchdog() { dismiss(); }

Result<void> Watchdog::send(const std::string& line) {
  if (!cmd_)
    return Error::msg("watchdog already dismissed");
  return write_all(cmd_.get(), line + "\n").context("watchdog");
}

Result<void> Watchdog::arm_thaw() { return send("thaw"); }
Result<void> Watchdog::remove_on_death(const std::string& path) {
  if (path.find('\n') != std::string::npos)
    return Error::msg("image path contains a newline");
  return send("path " + path);
}
Result<void> Watchdog::forget_path() { return send("forget"); }

void Watchdog::dismiss() {
  if (pid_ < 0)
    return;
  auto r = send("done");
  if (!r)
    log::warn("{}", r.error().message());
  cmd_.reset();
  reap();
}

void Watchdog::reap() {
  int status;
  while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
  }
  pid_ = -1;
}

}  // namespace ckpt::dump
