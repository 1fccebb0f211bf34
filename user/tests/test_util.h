// Shared helpers of the host tests: children, cgroups that clean up after
// themselves, running ckpt-user.
#pragma once

#include <gtest/gtest.h>
#include <sys/types.h>
#include <unistd.h>

#include <ostream>
#include <string>
#include <vector>

#include "cgroup/mounts.h"
#include "core/fd.h"

namespace ckpt::cg {
// Readable test names: ".../v2" rather than "4-byte object <01-00 00-00>".
inline void PrintTo(Version v, std::ostream* os) { *os << version_name(v); }
}  // namespace ckpt::cg

namespace ckpt::test {

// The mount point of the hierarchy (from /proc/self/mountinfo), or "".
std::string hierarchy_root(cg::Version v);

// Skips the test unless ckpt.ko is loaded (/dev/ckpt exists): it loads only
// in the VM lane.
#define CKPT_REQUIRE_MODULE()                                                   \
  if (::access("/dev/ckpt", F_OK) != 0)                                        \
  GTEST_SKIP() << "no /dev/ckpt: ckpt.ko is not loaded (it loads in the VM lane)"

// Skips the test, with the reason, unless it can use hierarchy @v.
#define CKPT_REQUIRE_HIERARCHY(v, root_var)                                              \
  std::string root_var = ::ckpt::test::hierarchy_root(v);                                \
  if (::geteuid() != 0)                                                                  \
    GTEST_SKIP() << "needs root to create cgroups";                                      \
  if (root_var.empty())                                                                  \
    GTEST_SKIP() << ::ckpt::cg::version_name(v) << " is not mounted on this host"

struct Child {
  pid_t pid = 0;
  Fd stdin_w;   // the child's stdin
  Fd stdout_r;  // the child's stdout
};

struct Output {
  int status = -1;  // exit code, or 128 + signal
  std::string out;
  std::string err;
};

// Runs @argv to completion, capturing stdout and stderr.
Output run_capture(const std::vector<std::string>& argv);
// One line (without '\n') from @fd; "" on EOF.
std::string read_line(int fd);
// The exit status of @pid (waits).
int wait_status(pid_t pid);

// Tracks what a test creates and undoes it at the end, whatever happened:
// thaws every cgroup, SIGKILLs and reaps every child, removes the cgroups
// (deepest first).
class Sandbox {
 public:
  Sandbox() = default;
  Sandbox(const Sandbox&) = delete;
  Sandbox& operator=(const Sandbox&) = delete;
  ~Sandbox();

  // A unique name for this process: "ckpt-test-<pid>-<n>".
  std::string unique_name();
  // mkdir a fresh cgroup under hierarchy @v's mount point.
  std::string make_cgroup(cg::Version v);
  // Registers a cgroup created by someone else (ckpt-user run).
  void track_cgroup(const std::string& path, cg::Version v);
  // Starts @argv with pipes on stdin and stdout; tracked.
  Child& spawn(const std::vector<std::string>& argv);
  // A process that sleeps until killed; tracked.
  pid_t spawn_sleeper();
  void track_pid(pid_t pid);
  // Reaps @pid now (it is no longer killed at the end).
  int reap(pid_t pid);

 private:
  struct Tracked {
    std::string path;
    cg::Version version;
  };
  std::vector<Tracked> cgroups_;
  std::vector<Child> children_;
  std::vector<pid_t> pids_;
  int counter_ = 0;
};

// `ckpt-test-helper busy-pages N` (helper.cc) started by @sb: the child,
// and the addresses of its idle and busy regions (0 if it printed none).
struct BusyPages {
  Child* child = nullptr;
  uint64_t idle = 0, busy = 0;
};
BusyPages spawn_busy_pages(Sandbox& sb, const std::string& helper, long n);

}  // namespace ckpt::test
