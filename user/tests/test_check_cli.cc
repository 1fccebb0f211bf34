// ckpt-user check (--json and the table), --version, --help, and usage
// errors (exit status 2, one message naming the option).
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <set>

#include "test_util.h"

namespace ckpt {
namespace {

using test::Output;
using test::run_capture;

const std::set<std::string> kProbes = {
    "module",       "cgroup-v2", "cgroup-v1-freezer", "privileges", "pidfd_open",
    "pidfd_getfd",  "process_vm_readv", "pagemap", "soft-dirty", "proc-children",
    "clone3",       "sock_diag"};

TEST(CheckCli, JsonHasEveryProbeAndAConsistentVerdict) {
  Output res = run_capture({CKPT_USER_BIN, "check", "--json"});
  ASSERT_TRUE(res.status == 0 || res.status == 1) << res.err;
  auto j = nlohmann::json::parse(res.out, nullptr, false);
  ASSERT_FALSE(j.is_discarded()) << res.out;
  ASSERT_TRUE(j["checks"].is_array());
  std::set<std::string> names;
  int missing = 0;
  for (const auto& c : j["checks"]) {
    std::string name = c.at("name");
    names.insert(name);
    std::string status = c.at("status");
    EXPECT_TRUE(status == "ok" || status == "missing" || status == "absent") << name << ": " << status;
    EXPECT_TRUE(c.at("detail").is_string());
    EXPECT_FALSE(c.at("detail").get<std::string>().empty()) << name;
    EXPECT_TRUE(c.at("hint").is_string());
    EXPECT_TRUE(c.at("data").is_object());
    if (status == "missing") {
      ++missing;
      EXPECT_FALSE(c.at("hint").get<std::string>().empty()) << name << " is missing without a hint";
    }
  }
  EXPECT_EQ(names, kProbes);
  EXPECT_EQ(j.at("problems").get<int>(), missing);
  EXPECT_EQ(j.at("ready").get<bool>(), missing == 0);
  EXPECT_EQ(res.status, missing == 0 ? 0 : 1);
  EXPECT_EQ(j.at("built_abi").get<int>(), 1);
}

TEST(CheckCli, ModuleProbeOnAForeignDevice) {
  Output res = run_capture({CKPT_USER_BIN, "check", "--json", "--device", "/dev/null"});
  EXPECT_EQ(res.status, 1);
  auto j = nlohmann::json::parse(res.out);
  const auto& m = j["checks"][0];
  EXPECT_EQ(m["name"], "module");
  EXPECT_EQ(m["status"], "missing");
  EXPECT_NE(m["detail"].get<std::string>().find("not a ckpt device"), std::string::npos) << m;
}

TEST(CheckCli, MissingDeviceSaysLoadIt) {
  Output res = run_capture({CKPT_USER_BIN, "check", "--device", "/nonexistent/ckpt"});
  EXPECT_EQ(res.status, 1);
  EXPECT_NE(res.out.find("MISSING"), std::string::npos) << res.out;
  EXPECT_NE(res.out.find("hint: load the module"), std::string::npos) << res.out;
  EXPECT_NE(res.out.find("\nckpt-user check: NOT ready ("), std::string::npos) << res.out;
}

TEST(CheckCli, TableEndsWithVerdict) {
  Output res = run_capture({CKPT_USER_BIN, "-v", "check"});
  ASSERT_FALSE(res.out.empty());
  std::string last = res.out.substr(res.out.rfind('\n', res.out.size() - 2) + 1);
  if (res.status == 0)
    EXPECT_EQ(last, "ckpt-user check: ready\n");
  else
    EXPECT_EQ(last.rfind("ckpt-user check: NOT ready (", 0), 0u) << last;
}

TEST(Cli, VersionAndHelp) {
  Output v = run_capture({CKPT_USER_BIN, "--version"});
  EXPECT_EQ(v.status, 0);
  EXPECT_NE(v.out.find("(ckpt ABI 1)"), std::string::npos) << v.out;
  Output h = run_capture({CKPT_USER_BIN, "--help"});
  EXPECT_EQ(h.status, 0);
  EXPECT_NE(h.out.find("check"), std::string::npos);
  EXPECT_NE(h.out.find("run"), std::string::npos);
  Output rh = run_capture({CKPT_USER_BIN, "run", "--help"});
  EXPECT_EQ(rh.status, 0);
  EXPECT_NE(rh.out.find("--detach"), std::string::npos);
}

// A bad value is a usage error that names the option and what it accepts;
// a good one gets past parsing (to fail on the missing cgroup instead).
TEST(Cli, DumpOptionValues) {
  auto dump = [](std::vector<std::string> extra) {
    std::vector<std::string> args = {CKPT_USER_BIN, "dump", "--cgroup", "/nonexistent/ckpt-cg", "--pid", "1",
                                     "-o", "/nonexistent/img", "--no-progress"};
    args.insert(args.end(), extra.begin(), extra.end());
    return run_capture(args);
  };
  Output none = dump({"--page-hash="});
  EXPECT_EQ(none.status, 2);
  EXPECT_EQ(none.err.rfind("--page-hash: ", 0), 0u) << none.err;
  for (const char* bad : {"foo", "1", "Module"}) {
    Output r = dump({std::string("--page-hash=") + bad});
    EXPECT_EQ(r.status, 2) << bad;
    EXPECT_NE(r.err.find(std::string("--page-hash: ") + bad + " not in {auto,module,writer}"),
              std::string::npos)
        << r.err;
  }
  Output t = dump({"--freeze-timeout", "soon"});
  EXPECT_EQ(t.status, 2);
  EXPECT_NE(t.err.find("--freeze-timeout"), std::string::npos) << t.err;
  for (const char* good : {"auto", "module", "writer"}) {
    Output r = dump({std::string("--page-hash=") + good});
    EXPECT_EQ(r.status, 1) << good << ": " << r.err;
    EXPECT_NE(r.err.find("ckpt-cg"), std::string::npos) << r.err;
  }
}

TEST(Cli, DumpPageFiles) {
  auto dump = [](const char* where, std::string files) {
    return run_capture({CKPT_USER_BIN, "dump", "--cgroup", "/nonexistent/ckpt-cg", "--pid", "1",
                        where, "/nonexistent/img", "--no-progress", "--page-files", files});
  };
  for (const char* bad : {"0", "65", "two", "2x", "-1", ""}) {
    Output r = dump("-D", bad);
    EXPECT_EQ(r.status, 2) << bad;
    EXPECT_NE(r.err.find(std::string("--page-files: ") + bad +
                         " is not 'auto' or a number from 1 to 64"),
              std::string::npos)
        << r.err;
  }
  // Several page files are a directory image's only.
  Output f = dump("-o", "2");
  EXPECT_EQ(f.status, 2);
  EXPECT_NE(f.err.find("--page-files 2: several page files need a directory image (-D)"),
            std::string::npos)
      << f.err;
  // Good values get past parsing, to the missing cgroup.
  for (auto [where, good] : {std::pair{"-D", "auto"}, {"-D", "1"}, {"-D", "64"}, {"-o", "1"},
                             {"-o", "auto"}}) {
    Output r = dump(where, good);
    EXPECT_EQ(r.status, 1) << where << " " << good << ": " << r.err;
    EXPECT_NE(r.err.find("ckpt-cg"), std::string::npos) << r.err;
  }
}

}  // namespace
}  // namespace ckpt
