// The dump's watchdog (dump/watchdog.h): when its owner dies without a
// clean end it thaws (writes the thaw value to the freezer file) and
// removes the half-written image; dismissed, it touches nothing.  The
// "freezer file" here is a plain file, and the owner a forked child that
// is SIGKILLed, as ckpt-user would be.
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <string>

#include "core/file.h"
#include "dump/watchdog.h"

namespace ckpt::dump {
namespace {

struct TempDir {
  std::string path;
  TempDir() {
    char tmpl[] = "/tmp/ckpt-watchdog-XXXXXX";
    path = ::mkdtemp(tmpl);
  }
  ~TempDir() { std::system(("rm -rf '" + path + "'").c_str()); }
};

std::string slurp(const std::string& p) {
  auto r = read_file(p);
  return r ? *r : "<missing>";
}

void touch(const std::string& p, const std::string& text) {
  std::ofstream(p) << text;
}

// Runs @body in a child (the watchdog's owner), then SIGKILLs the child
// once it has reported ready on a pipe.
template <class F>
void run_owner_and_kill(F body) {
  int p[2];
  ASSERT_EQ(::pipe(p), 0);
  pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    ::close(p[0]);
    body();
    char c = 'r';
    (void)!::write(p[1], &c, 1);
    for (;;)
      ::pause();
  }
  ::close(p[1]);
  char c;
  ASSERT_EQ(::read(p[0], &c, 1), 1);
  ::close(p[0]);
  ::kill(child, SIGKILL);
  int st;
  ASSERT_EQ(::waitpid(child, &st, 0), child);
}

// The helper is a grandchild: wait until it has done its work.
bool wait_for(const std::function<bool()>& cond) {
  for (int i = 0; i < 500; ++i) {
    if (cond())
      return true;
    ::usleep(10000);
  }
  return false;
}

TEST(Watchdog, OwnerKilledThawsAndRemovesTheImage) {
  TempDir d;
  std::string freeze = d.path + "/cgroup.freeze", img = d.path + "/img.tmp.x";
  touch(freeze, "1");
  ::mkdir(img.c_str(), 0700);
  touch(img + "/meta.ckpt", "partial");
  run_owner_and_kill([&] {
    auto w = Watchdog::start(freeze, "0");
    if (!w || !w->arm_thaw() || !w->remove_on_death(img))
      ::_exit(1);
    (void)w.value();
    // Leaked on purpose: the owner dies with the watchdog armed.
    new Watchdog(std::move(*w));
  });
  EXPECT_TRUE(wait_for([&] { return !path_exists(img); })) << "image not removed";
  EXPECT_TRUE(wait_for([&] { return slurp(freeze).substr(0, 1) == "0"; })) << slurp(freeze);
}

TEST(Watchdog, NotArmedLeavesTheCgroupAlone) {
  // A cgroup frozen before the dump stays frozen whatever happens.
  TempDir d;
  std::string freeze = d.path + "/cgroup.freeze", img = d.path + "/img.tmp.y";
  touch(freeze, "1");
  touch(img, "partial");
  run_owner_and_kill([&] {
    auto w = Watchdog::start(freeze, "0");
    if (!w || !w->remove_on_death(img))
      ::_exit(1);
    new Watchdog(std::move(*w));
  });
  EXPECT_TRUE(wait_for([&] { return !path_exists(img); }));
  ::usleep(100000);
  EXPECT_EQ(slurp(freeze), "1");
}

TEST(Watchdog, ForgottenPathIsKept) {
  // After the rename the image is complete: a death then must not remove it.
  TempDir d;
  std::string freeze = d.path + "/cgroup.freeze", img = d.path + "/done.ckpt";
  touch(freeze, "1");
  touch(img, "complete");
  run_owner_and_kill([&] {
    auto w = Watchdog::start(freeze, "0");
    if (!w || !w->arm_thaw() || !w->remove_on_death(img) || !w->forget_path())
      ::_exit(1);
    new Watchdog(std::move(*w));
  });
  EXPECT_TRUE(wait_for([&] { return slurp(freeze).substr(0, 1) == "0"; }));
  EXPECT_EQ(slurp(img), "complete");
}

TEST(Watchdog, DismissedDoesNothing) {
  TempDir d;
  std::string freeze = d.path + "/cgroup.freeze", img = d.path + "/img";
  touch(freeze, "1");
  touch(img, "x");
  {
    auto w = Watchdog::start(freeze, "0");
    ASSERT_TRUE(w) << w.error().message();
    ASSERT_TRUE(w->arm_thaw());
    ASSERT_TRUE(w->remove_on_death(img));
    w->dismiss();
    EXPECT_LT(w->pid(), 0);  // reaped
  }
  EXPECT_EQ(slurp(freeze), "1");
  EXPECT_TRUE(path_exists(img));
}

// The helper keeps none of its owner's fds, however high (the owner's
// /dev/ckpt would keep the session, and with it the freeze, alive): a pipe
// whose only other write end is at fd 1500 in the owner reads EOF once the
// owner closes that end.
TEST(Watchdog, HelperKeepsNoHighFd) {
  rlimit rl{};
  ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &rl), 0);
  if (rl.rlim_max <= 1500)
    GTEST_SKIP() << "RLIMIT_NOFILE hard limit " << rl.rlim_max;
  const rlimit saved = rl;
  rl.rlim_cur = rl.rlim_max;
  ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &rl), 0);
  int p[2];
  ASSERT_EQ(::pipe(p), 0);
  ASSERT_EQ(::dup2(p[1], 1500), 1500);
  ::close(p[1]);
  TempDir d;
  auto w = Watchdog::start(d.path + "/f", "0");
  ASSERT_TRUE(w) << w.error().message();
  ::close(1500);
  pollfd pfd{p[0], POLLIN, 0};
  ASSERT_EQ(::poll(&pfd, 1, 10000), 1) << "the helper still holds fd 1500";
  char c;
  EXPECT_EQ(::read(p[0], &c, 1), 0);
  ::close(p[0]);
  w->dismiss();
  ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &saved), 0);
}

TEST(Watchdog, RejectsPathWithNewline) {
  TempDir d;
  auto w = Watchdog::start(d.path + "/f", "0");
  ASSERT_TRUE(w);
  auto r = w->remove_on_death("a\nb");
  EXPECT_FALSE(r);
}

}  // namespace
}  // namespace ckpt::dump
