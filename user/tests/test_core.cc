// Result/Error, Fd, Pipe, Mapping, ScopeExit, the parse and time helpers.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <memory>

#include "core/error.h"
#include "core/fd.h"
#include "core/log.h"
#include "core/mapping.h"
#include "core/parse.h"
#include "core/result.h"
#include "core/scope_guard.h"
#include "core/time.h"

namespace ckpt {
namespace {

bool fd_is_open(int fd) { return ::fcntl(fd, F_GETFD) >= 0; }

TEST(Error, SysMessageEndsWithStrerror) {
  Error e = Error::sys(ENOENT, "open /x");
  EXPECT_EQ(e.code(), ENOENT);
  EXPECT_EQ(e.message(), "open /x: No such file or directory");
}

TEST(Error, ContextChainsOutermostFirst) {
  Error e = Error::sys(EBUSY, "write cgroup.freeze");
  e.context("freeze /sys/fs/cgroup/job").context("dump");
  EXPECT_EQ(e.message(), "dump: freeze /sys/fs/cgroup/job: write cgroup.freeze: Device or resource busy");
  EXPECT_EQ(e.what(), "write cgroup.freeze");
}

TEST(Error, MsgHasNoStrerrorButKeepsCode) {
  Error e = Error::msg("bad name", EINVAL);
  EXPECT_EQ(e.code(), EINVAL);
  EXPECT_EQ(e.message(), "bad name");
  EXPECT_EQ(Error::msg("x").code(), EINVAL);
}

TEST(Error, ZeroCodeBecomesEio) { EXPECT_EQ(Error::sys(0, "x").code(), EIO); }

TEST(Error, FromErrnoReadsErrno) {
  errno = EACCES;
  EXPECT_EQ(Error::from_errno("x").code(), EACCES);
}

Result<int> half(int x) {
  if (x % 2)
    return Error::msg("odd");
  return x / 2;
}

TEST(Result, ValueAndError) {
  auto a = half(4);
  ASSERT_TRUE(a);
  EXPECT_TRUE(a.ok());
  EXPECT_EQ(*a, 2);
  auto b = half(3);
  ASSERT_FALSE(b);
  EXPECT_EQ(b.error().message(), "odd");
  EXPECT_EQ(b.value_or(-1), -1);
}

TEST(Result, ContextOnlyTouchesErrors) {
  auto a = half(4).context("halving");
  EXPECT_EQ(*a, 2);
  auto b = half(5).context("halving 5");
  EXPECT_EQ(b.error().message(), "halving 5: odd");
}

TEST(Result, MoveOnlyValues) {
  Result<std::unique_ptr<int>> r(std::make_unique<int>(7));
  std::unique_ptr<int> p = std::move(r).value();
  EXPECT_EQ(*p, 7);
}

TEST(Result, Void) {
  Result<void> ok;
  EXPECT_TRUE(ok);
  Result<void> bad = Error::sys(EPERM, "x");
  EXPECT_FALSE(bad);
  EXPECT_EQ(bad.error().code(), EPERM);
  Error moved = std::move(bad).context("y").error();
  EXPECT_EQ(moved.message(), "y: x: Operation not permitted");
}

TEST(Fd, ClosesOnDestruction) {
  int raw;
  {
    auto fd = Fd::open("/dev/null", O_RDONLY);
    ASSERT_TRUE(fd) << fd.error().message();
    raw = fd->get();
    EXPECT_TRUE(fd_is_open(raw));
  }
  EXPECT_FALSE(fd_is_open(raw));
}

TEST(Fd, IsCloseOnExec) {
  auto fd = Fd::open("/dev/null", O_RDONLY);
  ASSERT_TRUE(fd);
  EXPECT_TRUE(::fcntl(fd->get(), F_GETFD) & FD_CLOEXEC);
  auto d = fd->dup();
  ASSERT_TRUE(d);
  EXPECT_TRUE(::fcntl(d->get(), F_GETFD) & FD_CLOEXEC);
  EXPECT_NE(d->get(), fd->get());
}

TEST(Fd, MoveTransfersOwnership) {
  auto r = Fd::open("/dev/null", O_RDONLY);
  ASSERT_TRUE(r);
  Fd a = std::move(*r);
  int raw = a.get();
  Fd b = std::move(a);
  EXPECT_FALSE(a.valid());  // NOLINT(bugprone-use-after-move): the point of the test
  EXPECT_EQ(b.get(), raw);
  Fd c;
  c = std::move(b);
  EXPECT_EQ(c.get(), raw);
  EXPECT_TRUE(fd_is_open(raw));
}

TEST(Fd, MoveAssignClosesOld) {
  auto r1 = Fd::open("/dev/null", O_RDONLY);
  auto r2 = Fd::open("/dev/null", O_RDONLY);
  ASSERT_TRUE(r1 && r2);
  int old = r1->get();
  *r1 = std::move(*r2);
  EXPECT_FALSE(fd_is_open(old));
}

TEST(Fd, ReleaseGivesUpOwnership) {
  int raw;
  {
    auto fd = Fd::open("/dev/null", O_RDONLY);
    ASSERT_TRUE(fd);
    raw = fd->release();
    EXPECT_FALSE(fd->valid());
  }
  EXPECT_TRUE(fd_is_open(raw));
  ::close(raw);
}

TEST(Fd, ExplicitCloseReports) {
  auto fd = Fd::open("/dev/null", O_RDONLY);
  ASSERT_TRUE(fd);
  EXPECT_TRUE(fd->close());
  EXPECT_FALSE(fd->valid());
  EXPECT_TRUE(fd->close());  // closing nothing is fine
}

TEST(Fd, OpenErrorNamesPath) {
  auto fd = Fd::open("/nonexistent/ckpt", O_RDONLY);
  ASSERT_FALSE(fd);
  EXPECT_EQ(fd.error().code(), ENOENT);
  EXPECT_EQ(fd.error().message(), "open /nonexistent/ckpt: No such file or directory");
}

TEST(Pipe, BothEndsWork) {
  auto p = Pipe::create();
  ASSERT_TRUE(p);
  ASSERT_EQ(::write(p->write.get(), "x", 1), 1);
  char c = 0;
  ASSERT_EQ(::read(p->read.get(), &c, 1), 1);
  EXPECT_EQ(c, 'x');
  EXPECT_TRUE(::fcntl(p->read.get(), F_GETFD) & FD_CLOEXEC);
}

TEST(Mapping, MapsAndUnmaps) {
  void* addr;
  {
    auto m = Mapping::anonymous(4096, PROT_READ | PROT_WRITE);
    ASSERT_TRUE(m);
    addr = m->data();
    static_cast<char*>(addr)[0] = 1;
    Mapping moved = std::move(*m);
    EXPECT_EQ(moved.data(), addr);
    EXPECT_FALSE(m->valid());
  }
  // Unmapped: msync on the range fails with ENOMEM.
  EXPECT_EQ(::msync(addr, 4096, MS_ASYNC), -1);
  EXPECT_EQ(errno, ENOMEM);
}

TEST(ScopeExit, RunsUnlessDismissed) {
  int runs = 0;
  {
    auto g = on_scope_exit([&] { ++runs; });
  }
  EXPECT_EQ(runs, 1);
  {
    auto g = on_scope_exit([&] { ++runs; });
    g.dismiss();
  }
  EXPECT_EQ(runs, 1);
  {
    auto g = on_scope_exit([&] { ++runs; });
    auto moved = std::move(g);
  }
  EXPECT_EQ(runs, 2);  // once, not twice
}

TEST(ParseInt, Good) {
  EXPECT_EQ(*parse_int<int>("0"), 0);
  EXPECT_EQ(*parse_int<int>("-17"), -17);
  EXPECT_EQ(*parse_int<uint64_t>("18446744073709551615"), UINT64_MAX);
  EXPECT_EQ(*parse_hex_u64("fffffffffffffeff"), 0xfffffffffffffeffull);
  EXPECT_EQ(*parse_hex_u64("000001fffeffffff"), 0x1fffeffffffull);
}

TEST(ParseInt, Bad) {
  EXPECT_FALSE(parse_int<int>(""));
  EXPECT_FALSE(parse_int<int>(" 1"));
  EXPECT_FALSE(parse_int<int>("1 "));
  EXPECT_FALSE(parse_int<int>("+1"));
  EXPECT_FALSE(parse_int<int>("1x"));
  EXPECT_FALSE(parse_int<int>("0x10"));
  EXPECT_FALSE(parse_int<unsigned>("-1"));
  auto big = parse_int<int32_t>("2147483648");
  ASSERT_FALSE(big);
  EXPECT_EQ(big.error().code(), ERANGE);
  EXPECT_FALSE(parse_int<uint64_t>("18446744073709551616"));
  EXPECT_FALSE(parse_hex_u64("10000000000000000"));
  EXPECT_FALSE(parse_hex_u64("xyz"));
}

TEST(Parse, QuoteEscapesAndShortens) {
  EXPECT_EQ(quote("ab"), "'ab'");
  EXPECT_EQ(quote("a\nb"), "'a\\x0ab'");
  EXPECT_EQ(quote(std::string(100, 'x'), 3), "'xxx...'");
  EXPECT_EQ(printable("a\nb\\c"), "a\\x0ab\\x5cc");
}

TEST(Parse, Split) {
  using V = std::vector<std::string_view>;
  EXPECT_EQ(split_ws("  a \tb  c "), (V{"a", "b", "c"}));
  EXPECT_EQ(split_ws(""), V{});
  EXPECT_EQ(split("a,,b", ','), (V{"a", "", "b"}));
  EXPECT_EQ(split("", ','), (V{""}));
  EXPECT_EQ(split_lines("a\nb\n"), (V{"a", "b"}));
  EXPECT_EQ(split_lines("a\n\nb"), (V{"a", "", "b"}));
  EXPECT_EQ(split_lines(""), V{});
  EXPECT_EQ(trim(" \t x y \n"), "x y");
  EXPECT_EQ(trim("   "), "");
}

TEST(Time, ParseDuration) {
  EXPECT_EQ(*parse_duration("10s"), milliseconds(10000));
  EXPECT_EQ(*parse_duration("500ms"), milliseconds(500));
  EXPECT_EQ(*parse_duration("1.5s"), milliseconds(1500));
  EXPECT_EQ(*parse_duration("2m"), milliseconds(120000));
  EXPECT_EQ(*parse_duration("3"), milliseconds(3000));
  EXPECT_EQ(*parse_duration("0"), milliseconds(0));
  for (const char* bad : {"", "s", "ms", "-1s", "1e3", "inf", "1..2s", "10 s", "1h", "nan"})
    EXPECT_FALSE(parse_duration(bad)) << bad;
  EXPECT_FALSE(parse_duration("99999999999999999999s"));
}

TEST(Time, FormatDuration) {
  EXPECT_EQ(format_duration(milliseconds(850)), "850 ms");
  EXPECT_EQ(format_duration(milliseconds(10000)), "10 s");
  EXPECT_EQ(format_duration(milliseconds(2500)), "2.5 s");
  EXPECT_EQ(format_duration(std::chrono::minutes(3)), "3.0 min");
}

TEST(Time, DeadlineNeverNegative) {
  Deadline past = Deadline::after(-std::chrono::seconds(1));
  EXPECT_TRUE(past.expired());
  EXPECT_EQ(past.remaining(), Clock::duration::zero());
  EXPECT_EQ(past.poll_timeout_ms(), 0);
  Deadline future = Deadline::after(std::chrono::hours(1));
  EXPECT_FALSE(future.expired());
  EXPECT_GT(future.poll_timeout_ms(), 0);
}

TEST(Log, QuietByDefaultVerboseOnRequest) {
  log::set_level(log::Level::warn);
  testing::internal::CaptureStderr();
  log::info("hidden {}", 1);
  log::warn("shown {}", 2);
  std::string err = testing::internal::GetCapturedStderr();
  EXPECT_EQ(err, "ckpt-user: warning: shown 2\n");
  log::set_level(log::Level::debug);
  testing::internal::CaptureStderr();
  log::debug("now {}", "visible");
  err = testing::internal::GetCapturedStderr();
  EXPECT_EQ(err, "ckpt-user: debug: now visible\n");
  log::set_level(log::Level::warn);
}

}  // namespace
}  // namespace ckpt
