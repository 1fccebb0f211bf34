// /proc/PID/stat parsing.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cerrno>

#include "proc/stat.h"

namespace ckpt::proc {
namespace {

// A real line from Linux 6.1 (52 fields).
const char* kLine =
    "1234 (bash) S 1000 1234 1234 34816 1300 4194560 7151 52313 0 3 9 4 52 19 20 0 1 0 "
    "2727467 11292672 1249 18446744073709551615 94713040928768 94713041839373 "
    "140734632960464 0 0 0 65536 3686404 1266761467 1 0 0 17 1 0 0 0 0 0 94713042079472 "
    "94713042127588 94713057357824 140734632967803 140734632967809 140734632967809 "
    "140734632968174 0\n";

std::string with_comm(const std::string& comm) {
  std::string line = kLine;
  return "1234 (" + comm + ")" + line.substr(line.find(')') + 1);
}

TEST(Stat, ParsesRealLine) {
  auto st = parse_stat(kLine);
  ASSERT_TRUE(st) << st.error().message();
  EXPECT_EQ(st->pid, 1234);
  EXPECT_EQ(st->comm, "bash");
  EXPECT_EQ(st->state, 'S');
  EXPECT_EQ(st->ppid, 1000);
  EXPECT_EQ(st->pgrp, 1234);
  EXPECT_EQ(st->session, 1234);
  EXPECT_EQ(st->tty_nr, 34816);
  EXPECT_EQ(st->tpgid, 1300);
  EXPECT_EQ(st->flags, 4194560u);
  EXPECT_EQ(st->num_threads, 1);
  EXPECT_EQ(st->starttime, 2727467u);
  EXPECT_EQ(st->vsize, 11292672u);
  EXPECT_EQ(st->rss, 1249);
  EXPECT_EQ(st->start_code, 94713040928768u);
  EXPECT_EQ(st->exit_signal, 17);
  EXPECT_EQ(st->processor, 1);
  EXPECT_EQ(st->start_brk, 94713057357824u);
  EXPECT_EQ(st->env_end, 140734632968174u);
  EXPECT_EQ(st->exit_code, 0);
  EXPECT_EQ(st->field_count, 52u);
}

TEST(Stat, CommWithSpacesAndParentheses) {
  for (const char* comm : {"a b", "(x)", ") S 1 2 3", "a) (b", "", " ", "x\ny", "((("}) {
    auto st = parse_stat(with_comm(comm));
    ASSERT_TRUE(st) << "comm '" << comm << "': " << st.error().message();
    EXPECT_EQ(st->comm, comm);
    EXPECT_EQ(st->state, 'S');
    EXPECT_EQ(st->ppid, 1000);
  }
}

TEST(Stat, OldKernelsWithFewerFields) {
  // The first 24 fields are enough; later ones default to 0.
  auto st = parse_stat("1 (init) S 0 1 1 0 -1 4194560 1 2 3 4 5 6 7 8 20 0 1 0 5 100 7\n");
  ASSERT_TRUE(st) << st.error().message();
  EXPECT_EQ(st->tpgid, -1);
  EXPECT_EQ(st->ppid, 0);
  EXPECT_EQ(st->rss, 7);
  EXPECT_EQ(st->start_brk, 0u);
  EXPECT_EQ(st->field_count, 24u);
}

TEST(Stat, Malformed) {
  std::string line = kLine;
  const std::string bad[] = {
      "",
      "\n",
      "1234",
      "1234 (bash",                                  // no ')'
      "1234 bash) S 1",                               // no '('
      "(bash) S 1 2 3",                               // no pid
      "abc (bash) S 1000 1234 1234 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 1 1 1",
      "-5 (bash) S 1000 1234 1234 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 1 1 1",
      "0 (bash) S 1000 1234 1234 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 1 1 1",
      "1234 (bash)S 1000 1234 1234 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 1 1 1",  // no space
      "1234 (bash) S 1000 1234",                      // truncated
      "1234 (bash) SS 1000 1234 1234 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 1 1 1",
      "1234 (bash) 5 1000 1234 1234 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 1 1 1",
      "1234 (bash) S x 1234 1234 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 1 1 1",
      "1234 (bash) S -1 1234 1234 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 1 1 1",
      "1234 (bash) S 99999999999 1234 1234 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 1 1 1",
      "1234 (bash) S 1 1234 1234 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 99999999999999999999 1 1",
      "1234 (bash) S 1 1234 1234 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 1 1 1 garbage",
      line.substr(0, 40),                             // truncated in field 9
      line.substr(0, 8),                              // truncated inside comm
  };
  for (const auto& s : bad)
    EXPECT_FALSE(parse_stat(s)) << "accepted: " << s;
}

TEST(Stat, ErrorNamesField) {
  auto st = parse_stat("1234 (bash) S 1000 1234 1234 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 1 zz 1");
  ASSERT_FALSE(st);
  EXPECT_NE(st.error().message().find("field 23 (vsize)"), std::string::npos) << st.error().message();
}

TEST(Stat, ReadsThisProcess) {
  auto st = read_stat(::getpid());
  ASSERT_TRUE(st) << st.error().message();
  EXPECT_EQ(st->pid, ::getpid());
  EXPECT_EQ(st->ppid, ::getppid());
  EXPECT_EQ(st->state, 'R');
  auto task = read_task_stat(::getpid(), ::gettid());
  ASSERT_TRUE(task);
  EXPECT_EQ(task->pid, ::gettid());
}

TEST(Stat, ReadOfMissingPidFails) {
  auto st = read_stat(0x3fffffff);
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code(), ENOENT);
}

TEST(Stat, StateNames) {
  EXPECT_EQ(state_name('D'), "disk sleep");
  EXPECT_EQ(state_name('?'), "unknown");
}

}  // namespace
}  // namespace ckpt::proc
