// ckpt-user run, end to end, on the host's real hierarchies.
#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <regex>
#include <sstream>
#include <thread>

#include "cgroup/cgroup.h"
#include "core/file.h"
#include "core/parse.h"
#include "proc/pidlist.h"
#include "proc/stat.h"
#include "test_util.h"

namespace ckpt {
namespace {

using cg::Version;
using test::Output;
using test::run_capture;
using test::Sandbox;

class RunE2E : public testing::TestWithParam<Version> {
 protected:
  std::vector<std::string> run_args(const std::string& name) {
    std::vector<std::string> a = {CKPT_USER_BIN, "run", "--cgroup", name};
    if (GetParam() == Version::v1_freezer)
      a.push_back("--v1");
    return a;
  }
  static std::string temp_file() {
    char tmpl[] = "/tmp/ckpt-run-XXXXXX";
    int fd = ::mkstemp(tmpl);
    ::close(fd);
    return tmpl;
  }
};

TEST_P(RunE2E, WholeTreeBornInsideAndStatusPropagated) {
  CKPT_REQUIRE_HIERARCHY(GetParam(), root);
  Sandbox sb;
  std::string name = sb.unique_name();
  std::string path = root + "/" + name;
  sb.track_cgroup(path, GetParam());
  std::string out = temp_file();
  // The shell, a background child and a grandchild report their cgroups.
  std::string script =
      "sleep 30 & a=$!; sh -c 'sleep 30 & wait' & b=$!; sleep 0.2; "
      "read c < /proc/$b/task/$b/children; "
      "cat /proc/$$/cgroup /proc/$a/cgroup /proc/$b/cgroup /proc/$c/cgroup > " + out +
      "; kill $a $c; wait; exit 7";
  auto args = run_args(name);
  args.insert(args.end(), {"--", "sh", "-c", script});
  Output res = run_capture(args);
  EXPECT_EQ(res.status, 7) << res.err;
  EXPECT_NE(res.err.find("in " + path + "\n"), std::string::npos) << res.err;
  EXPECT_TRUE(std::regex_search(res.err, std::regex("^pid [0-9]+ in ")));

  auto text = read_file(out);
  ::unlink(out.c_str());
  ASSERT_TRUE(text);
  std::string want = GetParam() == Version::v2 ? "0::/" + name : ":freezer:/" + name;
  int found = 0;
  for (std::string_view line : split_lines(*text)) {
    if (GetParam() == Version::v2 ? line.starts_with("0::") : line.find(":freezer:") != std::string_view::npos) {
      EXPECT_TRUE(line.ends_with(want)) << line;
      ++found;
    }
  }
  EXPECT_EQ(found, 4) << *text;
  EXPECT_FALSE(path_exists(path)) << "cgroup not removed after the command ended";
}

TEST_P(RunE2E, DetachLeavesWorkloadRunning) {
  CKPT_REQUIRE_HIERARCHY(GetParam(), root);
  Sandbox sb;
  std::string name = sb.unique_name();
  std::string path = root + "/" + name;
  sb.track_cgroup(path, GetParam());
  auto args = run_args(name);
  args.insert(args.end(), {"--detach", "--", "sh", "-c",
                           "exec >/dev/null 2>&1 </dev/null; sleep 1000 & exec sleep 1000"});
  Output res = run_capture(args);
  ASSERT_EQ(res.status, 0) << res.err;
  std::smatch m;
  ASSERT_TRUE(std::regex_match(res.out, m, std::regex("pid ([0-9]+) in (.*)\n"))) << res.out;
  pid_t pid = std::stoi(m[1]);
  EXPECT_EQ(m[2], path);
  auto cg = cg::Cgroup::open(path);
  ASSERT_TRUE(cg) << cg.error().message();
  // Both sleeps end up inside (the background one and the root's exec come
  // a moment after the root starts).
  std::vector<pid_t> procs;
  std::string comm;
  for (int i = 0; i < 500; ++i) {
    auto p = cg->procs();
    ASSERT_TRUE(p);
    procs = *p;
    auto st = proc::read_stat(pid);
    ASSERT_TRUE(st);
    comm = st->comm;
    if (procs.size() == 2 && comm == "sleep")
      break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_EQ(procs.size(), 2u);
  EXPECT_EQ(comm, "sleep");
  EXPECT_NE(std::find(procs.begin(), procs.end(), pid), procs.end());
  auto st = proc::read_stat(pid);
  ASSERT_TRUE(st);
  EXPECT_EQ(st->session, pid) << "--detach makes the root a session leader";
}

TEST_P(RunE2E, ExistingCgroupIsRefusedAndKept) {
  CKPT_REQUIRE_HIERARCHY(GetParam(), root);
  Sandbox sb;
  std::string path = sb.make_cgroup(GetParam());
  std::string name = path.substr(root.size() + 1);
  auto args = run_args(name);
  args.insert(args.end(), {"--", "true"});
  Output res = run_capture(args);
  EXPECT_EQ(res.status, 125);
  EXPECT_EQ(res.err, "ckpt-user: run: cgroup " + path + " already exists\n");
  EXPECT_TRUE(path_exists(path));
}

TEST_P(RunE2E, ExecFailureReportedByParent) {
  CKPT_REQUIRE_HIERARCHY(GetParam(), root);
  Sandbox sb;
  std::string name = sb.unique_name();
  std::string path = root + "/" + name;
  sb.track_cgroup(path, GetParam());
  auto args = run_args(name);
  args.insert(args.end(), {"--", "ckpt-no-such-command", "arg"});
  Output res = run_capture(args);
  EXPECT_EQ(res.status, 127);
  EXPECT_EQ(res.err,
            "ckpt-user: run: cannot execute 'ckpt-no-such-command': No such file or directory\n");
  EXPECT_FALSE(path_exists(path)) << "cgroup left behind after a failed start";

  args = run_args(name);
  args.insert(args.end(), {"--", "/etc/passwd"});
  res = run_capture(args);
  EXPECT_EQ(res.status, 126);
  EXPECT_NE(res.err.find("Permission denied"), std::string::npos) << res.err;
}

TEST_P(RunE2E, KilledBySignal) {
  CKPT_REQUIRE_HIERARCHY(GetParam(), root);
  Sandbox sb;
  std::string name = sb.unique_name();
  sb.track_cgroup(root + "/" + name, GetParam());
  auto args = run_args(name);
  args.insert(args.end(), {"--", "sh", "-c", "kill -TERM $$"});
  EXPECT_EQ(run_capture(args).status, 128 + 15);
}

INSTANTIATE_TEST_SUITE_P(Hierarchies, RunE2E, testing::Values(Version::v2, Version::v1_freezer),
                         [](const testing::TestParamInfo<Version>& i) {
                           return i.param == Version::v2 ? "v2" : "v1";
                         });

TEST(RunCli, BadInput) {
  struct Case {
    std::vector<std::string> args;
    int status;
    std::string err;
  };
  const Case cases[] = {
      {{"run", "--cgroup", "../x", "--", "true"}, 125, "bad cgroup name '../x'"},
      {{"run", "--cgroup", "a//b", "--", "true"}, 125, "bad cgroup name"},
      {{"run", "--cgroup", "", "--", "true"}, 125, "empty cgroup name"},
      {{"run", "--cgroup", "/tmp/x", "--", "true"}, 125, "/tmp is not on a cgroup filesystem"},
      {{"run", "--cgroup", "x"}, 2, "no command given"},
      {{"run", "--", "true"}, 2, "--cgroup is required"},
      {{"run", "--cgroup", "x", "true", "--", "y"}, 2, "unexpected arguments before '--'"},
      {{"nosuch"}, 2, "subcommand is required"},
      {{}, 2, "subcommand"},
  };
  for (const auto& c : cases) {
    std::vector<std::string> argv = {CKPT_USER_BIN};
    argv.insert(argv.end(), c.args.begin(), c.args.end());
    Output res = run_capture(argv);
    std::string shown;
    for (const auto& a : c.args)
      shown += a + " ";
    EXPECT_EQ(res.status, c.status) << shown << "\n" << res.err;
    EXPECT_NE(res.err.find(c.err), std::string::npos) << shown << "\n" << res.err;
  }
}

}  // namespace
}  // namespace ckpt
