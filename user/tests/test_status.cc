// /proc/PID/status parsing.
#include <gtest/gtest.h>
#include <unistd.h>

#include "proc/status.h"

namespace ckpt::proc {
namespace {

// From Linux 6.1, trimmed of lines the parser ignores.
const char* kStatus =
    "Name:\tbash\n"
    "Umask:\t0022\n"
    "State:\tS (sleeping)\n"
    "Tgid:\t1234\n"
    "Ngid:\t0\n"
    "Pid:\t1234\n"
    "PPid:\t1000\n"
    "TracerPid:\t0\n"
    "Uid:\t1000\t1001\t1002\t1003\n"
    "Gid:\t100\t101\t102\t103\n"
    "FDSize:\t256\n"
    "Groups:\t4 24 27 \n"
    "NStgid:\t1234\t1\n"
    "NSpid:\t1234\t1\n"
    "NSpgid:\t1234\t1\n"
    "NSsid:\t1234\t1\n"
    "VmPeak:\t    8880 kB\n"
    "Threads:\t1\n"
    "SigQ:\t0/63388\n"
    "SigPnd:\t0000000000000000\n"
    "ShdPnd:\t0000000000000100\n"
    "SigBlk:\t0000000000010000\n"
    "SigIgn:\t0000000000380004\n"
    "SigCgt:\t000000004b817efb\n"
    "CapInh:\t0000000000000000\n"
    "CapPrm:\t000001ffffffffff\n"
    "CapEff:\t000001ffffffffff\n"
    "CapBnd:\t000001ffffffffff\n"
    "CapAmb:\t0000000000000000\n"
    "NoNewPrivs:\t0\n"
    "Seccomp:\t2\n"
    "Seccomp_filters:\t1\n"
    "Speculation_Store_Bypass:\tthread vulnerable\n"
    "Cpus_allowed_list:\t0-1\n";

std::string replace_line(const std::string& key, const std::string& line) {
  std::string s = kStatus;
  std::size_t at = s.find(key + ":");
  std::size_t end = s.find('\n', at);
  return s.substr(0, at) + line + s.substr(end);
}

std::string drop_line(const std::string& key) {
  std::string s = kStatus;
  std::size_t at = s.find(key + ":");
  std::size_t end = s.find('\n', at);
  return s.substr(0, at) + s.substr(end + 1);
}

TEST(Status, ParsesRealFile) {
  auto st = parse_status(kStatus);
  ASSERT_TRUE(st) << st.error().message();
  EXPECT_EQ(st->name, "bash");
  EXPECT_EQ(st->umask, 022u);
  EXPECT_EQ(st->state, 'S');
  EXPECT_EQ(st->tgid, 1234);
  EXPECT_EQ(st->pid, 1234);
  EXPECT_EQ(st->ppid, 1000);
  EXPECT_EQ(st->tracer_pid, 0);
  EXPECT_EQ(st->uid.real, 1000u);
  EXPECT_EQ(st->uid.effective, 1001u);
  EXPECT_EQ(st->uid.saved, 1002u);
  EXPECT_EQ(st->uid.fs, 1003u);
  EXPECT_EQ(st->gid.fs, 103u);
  EXPECT_EQ(st->groups, (std::vector<uint32_t>{4, 24, 27}));
  EXPECT_EQ(st->ns_pid, (std::vector<pid_t>{1234, 1}));
  EXPECT_EQ(st->ns_sid, (std::vector<pid_t>{1234, 1}));
  EXPECT_EQ(st->threads, 1u);
  EXPECT_EQ(st->shd_pnd, 0x100u);
  EXPECT_EQ(st->sig_blk, 0x10000u);
  EXPECT_EQ(st->sig_ign, 0x380004u);
  EXPECT_EQ(st->sig_cgt, 0x4b817efbu);
  EXPECT_EQ(st->cap_prm, 0x1ffffffffffu);
  EXPECT_EQ(st->cap_eff, 0x1ffffffffffu);
  EXPECT_EQ(st->cap_bnd, 0x1ffffffffffu);
  EXPECT_EQ(st->cap_amb, 0u);
  EXPECT_EQ(st->no_new_privs, false);
  EXPECT_EQ(st->seccomp, 2u);
}

TEST(Status, EmptyGroupsAndOptionalLines) {
  std::string s = replace_line("Groups", "Groups:\t");
  for (const char* key : {"Umask", "CapAmb", "NoNewPrivs", "Seccomp", "NStgid", "NSpid", "NSpgid", "NSsid"}) {
    std::string at = std::string(key) + ":";
    std::size_t pos = s.find(at);
    ASSERT_NE(pos, std::string::npos);
    s.erase(pos, s.find('\n', pos) - pos + 1);
  }
  auto st = parse_status(s);
  ASSERT_TRUE(st) << st.error().message();
  EXPECT_TRUE(st->groups.empty());
  EXPECT_FALSE(st->umask);
  EXPECT_FALSE(st->cap_amb);
  EXPECT_FALSE(st->no_new_privs);
  EXPECT_FALSE(st->seccomp);
  EXPECT_TRUE(st->ns_pid.empty());
}

TEST(Status, NameEscapes) {
  auto st = parse_status(replace_line("Name", "Name:\t a\\nb\\\\c\\td"));
  ASSERT_TRUE(st) << st.error().message();
  EXPECT_EQ(st->name, " a\nb\\c\td");
  EXPECT_EQ(unescape_status_name("x\\101y"), "xAy");
  EXPECT_EQ(unescape_status_name("trailing\\"), "trailing\\");
  EXPECT_EQ(unescape_status_name("\\q"), "\\q");
  EXPECT_EQ(unescape_status_name("(x) y"), "(x) y");
}

TEST(Status, MissingRequiredLines) {
  for (const char* key : {"Name", "State", "Tgid", "Pid", "PPid", "TracerPid", "Uid", "Gid",
                          "Groups", "Threads", "SigPnd", "ShdPnd", "SigBlk", "SigIgn", "SigCgt",
                          "CapInh", "CapPrm", "CapEff", "CapBnd"}) {
    auto st = parse_status(drop_line(key));
    ASSERT_FALSE(st) << "accepted without " << key;
    EXPECT_NE(st.error().message().find(key), std::string::npos) << st.error().message();
  }
}

TEST(Status, Malformed) {
  const std::pair<const char*, const char*> bad[] = {
      {"Uid", "Uid:\t1000\t1000\t1000"},                  // 3 ids
      {"Uid", "Uid:\t1000\t1000\t1000\t1000\t1000"},      // 5 ids
      {"Uid", "Uid:\t-1\t0\t0\t0"},
      {"Gid", "Gid:\t4294967296\t0\t0\t0"},               // > u32
      {"Groups", "Groups:\t4 x 27"},
      {"SigBlk", "SigBlk:\t10000000000000000"},           // 2^64: too big
      {"SigBlk", "SigBlk:\tzz"},
      {"SigBlk", "SigBlk:\t"},
      {"CapEff", "CapEff:\t0x1ff"},
      {"Seccomp", "Seccomp:\t3"},
      {"NoNewPrivs", "NoNewPrivs:\t2"},
      {"Umask", "Umask:\t0999"},
      {"Umask", "Umask:\t7777"},
      {"State", "State:\t"},
      {"State", "State:\t? (x)"},
      {"State", "State:\tSleeping"},
      {"Pid", "Pid:\t0"},
      {"Pid", "Pid:\t99999999999"},
      {"NSpid", "NSpid:\t999\t1"},                        // does not start with Pid
      {"Threads", "Threads:\t-1"},
      {"Tgid", "Tgid 1234"},                              // no colon
  };
  for (const auto& [key, line] : bad)
    EXPECT_FALSE(parse_status(replace_line(key, line))) << "accepted: " << line;
  EXPECT_FALSE(parse_status(std::string(kStatus) + "Pid:\t1\n"));  // duplicate
  EXPECT_FALSE(parse_status(std::string(kStatus) + "\n\n"));       // empty line
  EXPECT_FALSE(parse_status(""));
  EXPECT_FALSE(parse_status(std::string(kStatus).substr(0, 100)));  // truncated
}

TEST(Status, ReadsThisProcess) {
  auto st = read_status(::getpid());
  ASSERT_TRUE(st) << st.error().message();
  EXPECT_EQ(st->pid, ::getpid());
  EXPECT_EQ(st->uid.effective, ::geteuid());
  EXPECT_GE(st->threads, 1u);
}

}  // namespace
}  // namespace ckpt::proc
