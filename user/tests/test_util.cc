#include "test_util.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <sstream>
#include <chrono>
#include <thread>

#include "core/file.h"
#include "proc/mountinfo.h"
#include "proc/pidlist.h"

namespace ckpt::test {

std::string hierarchy_root(cg::Version v) {
  auto mounts = proc::read_mountinfo();
  if (!mounts)
    return {};
  cg::CgroupMounts found = cg::find_cgroup_mounts(*mounts);
  const cg::CgroupMount* m = found.preferred(v);
  return m ? m->mount_point : std::string();
}

namespace {

[[noreturn]] void exec_child(const std::vector<std::string>& argv) {
  std::vector<char*> args;
  for (const auto& a : argv)
    args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  ::execvp(args[0], args.data());
  ::_exit(127);
}

}  // namespace

Output run_capture(const std::vector<std::string>& argv) {
  Output res;
  auto out = Pipe::create();
  auto err = Pipe::create();
  if (!out || !err)
    return res;
  pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(out->write.get(), STDOUT_FILENO);
    ::dup2(err->write.get(), STDERR_FILENO);
    int devnull = ::open("/dev/null", O_RDONLY);
    ::dup2(devnull, STDIN_FILENO);
    exec_child(argv);
  }
  out->write.reset();
  err->write.reset();
  // Read both until EOF, without deadlocking on a full pipe.
  struct pollfd p[2] = {{out->read.get(), POLLIN, 0}, {err->read.get(), POLLIN, 0}};
  std::string* dst[2] = {&res.out, &res.err};
  int open_fds = 2;
  while (open_fds > 0) {
    if (::poll(p, 2, -1) < 0) {
      if (errno == EINTR)
        continue;
      break;
    }
    for (int i = 0; i < 2; ++i) {
      if (p[i].fd < 0 || !(p[i].revents & (POLLIN | POLLHUP | POLLERR)))
        continue;
      char buf[4096];
      ssize_t n = ::read(p[i].fd, buf, sizeof(buf));
      if (n > 0) {
        dst[i]->append(buf, static_cast<size_t>(n));
      } else if (n == 0 || errno != EINTR) {
        p[i].fd = -1;
        --open_fds;
      }
    }
  }
  res.status = wait_status(pid);
  return res;
}

std::string read_line(int fd) {
  std::string line;
  char c;
  for (;;) {
    ssize_t n = ::read(fd, &c, 1);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0 || c == '\n')
      return line;
    line += c;
  }
}

int wait_status(pid_t pid) {
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR)
      return -1;
  }
  if (WIFEXITED(status))
    return WEXITSTATUS(status);
  if (WIFSIGNALED(status))
    return 128 + WTERMSIG(status);
  return -1;
}

std::string Sandbox::unique_name() {
  return "ckpt-test-" + std::to_string(::getpid()) + "-" + std::to_string(counter_++);
}

std::string Sandbox::make_cgroup(cg::Version v) {
  std::string root = hierarchy_root(v);
  EXPECT_FALSE(root.empty());
  std::string path = root + "/" + unique_name();
  EXPECT_EQ(::mkdir(path.c_str(), 0755), 0) << path << ": " << std::strerror(errno);
  track_cgroup(path, v);
  return path;
}

void Sandbox::track_cgroup(const std::string& path, cg::Version v) {
  cgroups_.push_back({path, v});
}

Child& Sandbox::spawn(const std::vector<std::string>& argv) {
  auto in = Pipe::create();
  auto out = Pipe::create();
  EXPECT_TRUE(in && out);
  pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(in->read.get(), STDIN_FILENO);
    ::dup2(out->write.get(), STDOUT_FILENO);
    exec_child(argv);
  }
  children_.push_back({pid, std::move(in->write), std::move(out->read)});
  return children_.back();
}

pid_t Sandbox::spawn_sleeper() {
  pid_t pid = ::fork();
  if (pid == 0) {
    for (;;)
      ::pause();
  }
  track_pid(pid);
  return pid;
}

void Sandbox::track_pid(pid_t pid) { pids_.push_back(pid); }

int Sandbox::reap(pid_t pid) {
  pids_.erase(std::remove(pids_.begin(), pids_.end(), pid), pids_.end());
  for (auto& c : children_)
    if (c.pid == pid)
      c.pid = 0;
  return wait_status(pid);
}

Sandbox::~Sandbox() {
  // Thaw first: a v1-frozen task does not die until thawed.
  for (const auto& c : cgroups_) {
    if (c.version == cg::Version::v2)
      (void)write_file(c.path + "/cgroup.freeze", "0");
    else
      (void)write_file(c.path + "/freezer.state", "THAWED");
  }
  std::vector<pid_t> all = pids_;
  for (const auto& c : children_)
    if (c.pid > 0)
      all.push_back(c.pid);
  for (pid_t pid : all)
    ::kill(pid, SIGKILL);
  for (pid_t pid : all)
    wait_status(pid);
  children_.clear();
  // Anything else left inside (grandchildren, detached workloads).
  for (const auto& c : cgroups_) {
    auto procs = read_file(c.path + "/cgroup.procs");
    if (!procs)
      continue;
    auto pids = proc::parse_pid_list(*procs);
    if (!pids)
      continue;
    for (pid_t pid : *pids)
      ::kill(pid, SIGKILL);
  }
  // Deepest first; a cgroup empties a moment after its last task is reaped.
  std::sort(cgroups_.begin(), cgroups_.end(),
            [](const Tracked& a, const Tracked& b) { return a.path.size() > b.path.size(); });
  for (const auto& c : cgroups_) {
    for (int i = 0; i < 200; ++i) {
      if (::rmdir(c.path.c_str()) == 0 || errno == ENOENT)
        break;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }
}

BusyPages spawn_busy_pages(Sandbox& sb, const std::string& helper, long n) {
  BusyPages b;
  b.child = &sb.spawn({helper, "busy-pages", std::to_string(n)});
  std::istringstream line(read_line(b.child->stdout_r.get()));
  line >> std::hex >> b.idle >> b.busy;
  return b;
}

}  // namespace ckpt::test
