// Small per-process attributes.
#include <elf.h>
#include <gtest/gtest.h>
#include <sys/auxv.h>
#include <sys/personality.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>

#include "proc/attrs.h"

namespace ckpt::proc {
namespace {

const char* kLimits =
    "Limit                     Soft Limit           Hard Limit           Units     \n"
    "Max cpu time              unlimited            unlimited            seconds   \n"
    "Max file size             unlimited            unlimited            bytes     \n"
    "Max data size             unlimited            unlimited            bytes     \n"
    "Max stack size            8388608              unlimited            bytes     \n"
    "Max core file size        0                    unlimited            bytes     \n"
    "Max resident set          unlimited            unlimited            bytes     \n"
    "Max processes             62811                62811                processes \n"
    "Max open files            1024                 524288               files     \n"
    "Max locked memory         8388608              8388608              bytes     \n"
    "Max address space         unlimited            unlimited            bytes     \n"
    "Max file locks            unlimited            unlimited            locks     \n"
    "Max pending signals       62811                62811                signals   \n"
    "Max msgqueue size         819200               819200               bytes     \n"
    "Max nice priority         0                    0                    \n"
    "Max realtime priority     0                    0                    \n"
    "Max realtime timeout      unlimited            unlimited            us        \n";

TEST(Limits, ParsesTable) {
  auto l = parse_limits(kLimits);
  ASSERT_TRUE(l) << l.error().message();
  ASSERT_EQ(l->size(), 16u);
  EXPECT_EQ((*l)[RLIMIT_STACK].cur, 8388608u);
  EXPECT_EQ((*l)[RLIMIT_STACK].max, kRlimInfinity);
  EXPECT_EQ((*l)[RLIMIT_NOFILE].cur, 1024u);
  EXPECT_EQ((*l)[RLIMIT_NOFILE].max, 524288u);
  EXPECT_EQ((*l)[RLIMIT_RTTIME].resource, static_cast<uint32_t>(RLIMIT_RTTIME));
  EXPECT_EQ(rlimit_name(RLIMIT_NOFILE), "RLIMIT_NOFILE");
}

TEST(Limits, Malformed) {
  EXPECT_FALSE(parse_limits(""));
  EXPECT_FALSE(parse_limits("Max cpu time  unlimited unlimited seconds\n"));  // no header
  std::string t = kLimits;
  EXPECT_FALSE(parse_limits(t + "Max unknown thing   1   2   x\n"));
  EXPECT_FALSE(parse_limits(t + "Max cpu time   1   2   seconds\n"));  // twice
  EXPECT_FALSE(parse_limits("Limit x\nMax cpu time   lots   2   seconds\n"));
  EXPECT_FALSE(parse_limits("Limit x\nMax cpu time   1\n"));
}

TEST(Limits, ProcFileAgreesWithPrlimit) {
  struct rlimit old {};
  ASSERT_EQ(getrlimit(RLIMIT_NOFILE, &old), 0);
  struct rlimit lim = old;
  lim.rlim_cur = old.rlim_cur > 100 ? old.rlim_cur - 7 : old.rlim_cur;
  ASSERT_EQ(setrlimit(RLIMIT_NOFILE, &lim), 0);
  auto a = read_limits(getpid());
  auto b = get_rlimits(getpid());
  setrlimit(RLIMIT_NOFILE, &old);
  ASSERT_TRUE(a) << a.error().message();
  ASSERT_TRUE(b) << b.error().message();
  ASSERT_EQ(a->size(), b->size());
  for (std::size_t i = 0; i < a->size(); ++i) {
    EXPECT_EQ((*a)[i].resource, (*b)[i].resource);
    EXPECT_EQ((*a)[i].cur, (*b)[i].cur) << rlimit_name((*a)[i].resource);
    EXPECT_EQ((*a)[i].max, (*b)[i].max) << rlimit_name((*a)[i].resource);
  }
  EXPECT_EQ((*b)[RLIMIT_NOFILE].cur, lim.rlim_cur);
}

TEST(Auxv, DecodesOwn) {
  auto raw = read_auxv(getpid());
  ASSERT_TRUE(raw) << raw.error().message();
  auto a = decode_auxv(*raw);
  ASSERT_TRUE(a) << a.error().message();
  bool page = false, random = false;
  for (const AuxvEntry& e : *a) {
    if (e.key == AT_PAGESZ) {
      page = true;
      EXPECT_EQ(e.value, static_cast<uint64_t>(sysconf(_SC_PAGESIZE)));
    }
    if (e.key == AT_RANDOM) {
      random = true;
      EXPECT_EQ(e.value, getauxval(AT_RANDOM));
    }
  }
  EXPECT_TRUE(page);
  EXPECT_TRUE(random);
  EXPECT_EQ(auxv_key_name(AT_PAGESZ), "AT_PAGESZ");
  EXPECT_EQ(auxv_key_name(999), "AT_999");
  EXPECT_FALSE(decode_auxv(raw->substr(0, raw->size() - 3)));        // partial pair
  EXPECT_FALSE(decode_auxv(raw->substr(0, raw->size() - 16)));       // no AT_NULL
  auto none = decode_auxv(std::string(16, '\0'));
  ASSERT_TRUE(none);
  EXPECT_TRUE(none->empty());
}

TEST(Attrs, CmdlineLinksNamespaces) {
  auto cmd = read_cmdline(getpid());
  ASSERT_TRUE(cmd) << cmd.error().message();
  EXPECT_FALSE(cmd->empty());
  EXPECT_EQ(cmd->back(), '\0');
  auto env = read_environ(getpid());
  ASSERT_TRUE(env) << env.error().message();
  char cwd[4096];
  ASSERT_NE(getcwd(cwd, sizeof cwd), nullptr);
  auto c = read_proc_link(getpid(), "cwd");
  ASSERT_TRUE(c) << c.error().message();
  EXPECT_EQ(*c, cwd);
  auto root = read_proc_link(getpid(), "root");
  ASSERT_TRUE(root);
  EXPECT_EQ(*root, "/");
  auto exe = read_proc_link(getpid(), "exe");
  ASSERT_TRUE(exe);
  EXPECT_NE(exe->find("unit_tests"), std::string::npos) << *exe;

  auto ns = read_namespaces(getpid());
  ASSERT_TRUE(ns) << ns.error().message();
  bool net = false;
  for (const NamespaceId& n : *ns) {
    if (n.type == "net") {
      net = true;
      struct stat st {};
      ASSERT_EQ(stat("/proc/self/ns/net", &st), 0);
      EXPECT_EQ(n.inode, st.st_ino);
    }
  }
  EXPECT_TRUE(net);
  EXPECT_EQ(parse_ns_link("mnt:[4026531841]", "mnt").value_or(0), 4026531841u);
  EXPECT_FALSE(parse_ns_link("mnt:[4026531841]", "net"));
  EXPECT_FALSE(parse_ns_link("mnt:[]", "mnt"));
  EXPECT_FALSE(parse_ns_link("mnt:4026531841", "mnt"));
  EXPECT_FALSE(parse_ns_link("mnt:[12x]", "mnt"));
}

TEST(Attrs, PersonalityAndOom) {
  EXPECT_EQ(parse_personality("00400000\n").value_or(0), 0x400000u);
  EXPECT_FALSE(parse_personality("xyz\n"));
  auto p = read_personality(getpid());
  ASSERT_TRUE(p) << p.error().message();
  EXPECT_EQ(*p, static_cast<uint32_t>(personality(0xffffffff)));
  EXPECT_EQ(parse_oom_score_adj("-1000\n").value_or(0), -1000);
  EXPECT_FALSE(parse_oom_score_adj("1001\n"));
  EXPECT_FALSE(parse_oom_score_adj("\n"));
  auto o = read_oom_score_adj(getpid());
  ASSERT_TRUE(o) << o.error().message();
  EXPECT_GE(*o, -1000);
  EXPECT_LE(*o, 1000);
}

}  // namespace
}  // namespace ckpt::proc
