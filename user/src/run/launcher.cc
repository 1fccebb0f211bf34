#include "run/launcher.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>

#include "core/fd.h"
#include "core/file.h"
#include "core/log.h"
#include "core/scope_guard.h"
#include "core/time.h"
#include "proc/mountinfo.h"
#include "run/target.h"

namespace ckpt::run {
namespace {

// In the child, between fork and exec: async-signal-safe calls only.
[[noreturn]] void child_main(int go_fd, int err_fd, char* const* argv, bool new_session) {
  if (new_session)
    ::setsid();
  char go = 0;
  ssize_t n;
  do {
    n = ::read(go_fd, &go, 1);
  } while (n < 0 && errno == EINTR);
  if (n != 1)
    ::_exit(125);  // the parent gave up (it reports why)
  ::execvp(argv[0], argv);
  int err = errno;
  ssize_t w;
  do {
    w = ::write(err_fd, &err, sizeof(err));
  } while (w < 0 && errno == EINTR);
  ::_exit(127);
}

// SIGINT and SIGQUIT ignored while waiting, as a shell does: the terminal
// sends them to the workload too, and its status decides.
class IgnoreInteractiveSignals {
 public:
  IgnoreInteractiveSignals() {
    struct sigaction ign = {};
    ign.sa_handler = SIG_IGN;
    ::sigaction(SIGINT, &ign, &old_int_);
    ::sigaction(SIGQUIT, &ign, &old_quit_);
  }
  ~IgnoreInteractiveSignals() {
    ::sigaction(SIGINT, &old_int_, nullptr);
    ::sigaction(SIGQUIT, &old_quit_, nullptr);
  }
  IgnoreInteractiveSignals(const IgnoreInteractiveSignals&) = delete;
  IgnoreInteractiveSignals& operator=(const IgnoreInteractiveSignals&) = delete;

 private:
  struct sigaction old_int_ = {};
  struct sigaction old_quit_ = {};
};

// rmdir, retrying briefly: the last task's exit can lag behind its reaping.
void remove_when_empty(const cg::Cgroup& cg) {
  Clock::duration backoff = std::chrono::milliseconds(1);
  Deadline deadline = Deadline::after(std::chrono::seconds(1));
  for (;;) {
    auto r = cg.remove();
    if (r)
      return;
    if (r.error().code() != EBUSY || deadline.expired()) {
      if (r.error().code() == EBUSY)
        log::warn("{} still has processes; left in place", cg.path());
      else
        log::warn("{}", r.error().message());
      return;
    }
    sleep_for(backoff);
    backoff = std::min<Clock::duration>(backoff * 2, std::chrono::milliseconds(100));
  }
}

}  // namespace

Result<Started> start_in_cgroup(const cg::Cgroup& cg, const std::vector<std::string>& argv,
                                bool new_session) {
  if (argv.empty())
    return Error::msg("no command given");
  // Everything the child needs is built before fork.
  std::vector<char*> cargv;
  for (const std::string& a : argv)
    cargv.push_back(const_cast<char*>(a.c_str()));
  cargv.push_back(nullptr);

  auto go = Pipe::create();
  if (!go)
    return std::move(go).error();
  auto err = Pipe::create();
  if (!err)
    return std::move(err).error();

  pid_t pid = ::fork();
  if (pid < 0)
    return Error::from_errno("fork");
  if (pid == 0) {
    ::close(go->write.get());
    ::close(err->read.get());
    child_main(go->read.get(), err->write.get(), cargv.data(), new_session);
  }
  go->read.reset();
  err->write.reset();
  auto reap = on_scope_exit([&] {
    go->write.reset();  // EOF: the child exits without running anything
    int status;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
  });

  auto moved = cg.add_process(pid);
  if (!moved)
    return std::move(moved).error();
  log::debug("pid {} moved into {}", pid, cg.path());
  auto sent = write_all(go->write.get(), "g");
  if (!sent)
    return std::move(sent).error().context("start the command");
  go->write.reset();

  int exec_errno = 0;
  ssize_t n;
  do {
    n = ::read(err->read.get(), &exec_errno, sizeof(exec_errno));
  } while (n < 0 && errno == EINTR);
  if (n < 0)
    return Error::from_errno("read the exec status pipe");
  if (n == 0) {  // closed by a successful exec
    reap.dismiss();
    return Started{pid, 0};
  }
  if (n != sizeof(exec_errno) || exec_errno == 0)
    exec_errno = EIO;
  return Started{pid, exec_errno};  // reap runs: the child has exited
}

Result<int> wait_exit_status(pid_t pid) {
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR)
      return Error::from_errno(fmt::format("wait for pid {}", pid));
  }
  if (WIFEXITED(status))
    return WEXITSTATUS(status);
  if (WIFSIGNALED(status))
    return 128 + WTERMSIG(status);
  return Error::msg(fmt::format("pid {}: unexpected wait status {:#x}", pid, status));
}

Result<RunStatus> run(const RunRequest& request,
                      const std::function<void(pid_t, const std::string&)>& on_started) {
  auto mounts = proc::read_mountinfo();
  if (!mounts)
    return std::move(mounts).error();
  auto target = resolve_target(request.cgroup, request.v1, *mounts);
  if (!target)
    return std::move(target).error();
  auto cg = cg::Cgroup::create(target->path, *mounts);
  if (!cg)
    return std::move(cg).error();
  auto remove_on_error = on_scope_exit([&] { remove_when_empty(*cg); });

  auto started = start_in_cgroup(*cg, request.argv, request.detach);
  if (!started)
    return std::move(started).error();
  if (started->exec_errno != 0)
    return RunStatus{0, started->exec_errno};
  remove_on_error.dismiss();
  on_started(started->pid, cg->path());
  if (request.detach)
    return RunStatus{0, 0};

  IgnoreInteractiveSignals quiet;
  auto status = wait_exit_status(started->pid);
  if (!status)
    return std::move(status).error();
  log::debug("pid {} exited with status {}", started->pid, *status);
  remove_when_empty(*cg);
  return RunStatus{*status, 0};
}

}  // namespace ckpt::run
