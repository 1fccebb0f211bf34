// fdinfo parsing, fd classification, pidfd_getfd and pipe peeking.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <cstring>

#include "core/fd.h"
#include "proc/fdinfo.h"
#include "proc/fds.h"
#include "proc/pipe.h"

namespace ckpt::proc {
namespace {

TEST(FdInfo, Samples) {
  auto e = parse_fdinfo("pos:\t0\nflags:\t02004002\nmnt_id:\t15\nino:\t1057\n"
                        "eventfd-count:                5\neventfd-id: 3\neventfd-semaphore: 1\n");
  ASSERT_TRUE(e) << e.error().message();
  EXPECT_EQ(e->kind, FdInfoKind::eventfd);
  EXPECT_EQ(e->flags, 02004002u);
  EXPECT_TRUE(e->cloexec());
  EXPECT_EQ(e->mnt_id, 15);
  EXPECT_EQ(e->ino, 1057u);
  ASSERT_TRUE(e->eventfd);
  EXPECT_EQ(e->eventfd->count, 5u);
  EXPECT_EQ(e->eventfd->id, 3);
  EXPECT_EQ(e->eventfd->semaphore, true);

  auto t = parse_fdinfo("pos:\t0\nflags:\t02\nmnt_id:\t15\nclockid: 1\nticks: 7\n"
                        "settime flags: 01\nit_value: (4, 500)\nit_interval: (1, 999999999)\n");
  ASSERT_TRUE(t) << t.error().message();
  EXPECT_EQ(t->kind, FdInfoKind::timerfd);
  EXPECT_FALSE(t->ino.has_value());
  EXPECT_EQ(t->timerfd->clockid, 1);
  EXPECT_EQ(t->timerfd->ticks, 7u);
  EXPECT_EQ(t->timerfd->settime_flags, 1u);
  EXPECT_EQ(t->timerfd->value_sec, 4u);
  EXPECT_EQ(t->timerfd->value_nsec, 500u);
  EXPECT_EQ(t->timerfd->interval_nsec, 999999999u);

  auto s = parse_fdinfo("pos:\t0\nflags:\t02\nmnt_id:\t15\nsigmask:\t0000000000000a00\n");
  ASSERT_TRUE(s) << s.error().message();
  EXPECT_EQ(s->kind, FdInfoKind::signalfd);
  EXPECT_EQ(s->signalfd_sigmask, 0xa00u);

  auto ep = parse_fdinfo(
      "pos:\t0\nflags:\t02\nmnt_id:\t15\nino:\t9\n"
      "tfd:        5 events:       19 data:       ffffffffff  pos:0 ino:3f sdev:d\n"
      "tfd:       12 events:        1 data:                0  pos:-3 ino:1a2b sdev:800001\n");
  ASSERT_TRUE(ep) << ep.error().message();
  EXPECT_EQ(ep->kind, FdInfoKind::epoll);
  ASSERT_EQ(ep->epoll.size(), 2u);
  EXPECT_EQ(ep->epoll[0].tfd, 5);
  EXPECT_EQ(ep->epoll[0].events, 0x19u);
  EXPECT_EQ(ep->epoll[0].data, 0xffffffffffu);
  EXPECT_EQ(ep->epoll[0].ino, 0x3fu);
  EXPECT_EQ(ep->epoll[0].sdev, 0xdu);
  EXPECT_EQ(ep->epoll[1].pos, -3);
  EXPECT_EQ(ep->epoll[1].sdev, 0x800001u);

  auto in = parse_fdinfo("pos:\t0\nflags:\t00\nmnt_id:\t15\n"
                         "inotify wd:1 ino:2 sdev:fd00001 mask:fff ignored_mask:0 "
                         "fhandle-bytes:8 fhandle-type:1 f_handle:0200000000000000\n");
  ASSERT_TRUE(in) << in.error().message();
  EXPECT_EQ(in->kind, FdInfoKind::inotify);
  ASSERT_EQ(in->inotify.size(), 1u);
  EXPECT_EQ(in->inotify[0].sdev, 0xfd00001u);
  EXPECT_EQ(in->inotify[0].mask, 0xfffu);

  auto fa = parse_fdinfo("pos:\t0\nflags:\t02\nmnt_id:\t15\nfanotify flags:10 event-flags:0\n"
                         "fanotify mnt_id:20 mflags:0 mask:3b ignored_mask:0\n");
  ASSERT_TRUE(fa) << fa.error().message();
  EXPECT_EQ(fa->kind, FdInfoKind::fanotify);
  EXPECT_EQ(fa->fanotify_flags, 0x10u);

  auto tty = parse_fdinfo("pos:\t0\nflags:\t0100002\nmnt_id:\t25\nino:\t3\ntty-index:\t4\n");
  ASSERT_TRUE(tty) << tty.error().message();
  EXPECT_EQ(tty->kind, FdInfoKind::tty);
  EXPECT_EQ(tty->tty_index, 4);

  auto locks = parse_fdinfo("pos:\t10\nflags:\t0100002\nmnt_id:\t25\n"
                            "lock:\t1: POSIX  ADVISORY  WRITE 1234 fd:01:5 0 EOF\nnew-key: 1\n");
  ASSERT_TRUE(locks) << locks.error().message();
  EXPECT_EQ(locks->kind, FdInfoKind::plain);
  EXPECT_EQ(locks->pos, 10);
  EXPECT_EQ(locks->locks, 1u);
}

TEST(FdInfo, Malformed) {
  for (const char* bad : {
           "",
           "flags:\t02\n",                                   // no pos
           "pos:\t0\n",                                      // no flags
           "pos:\tx\nflags:\t02\n",
           "pos:\t0\nflags:\t9\n",                           // not octal
           "pos:\t0\nflags:\t02\nno colon here\n",
           "pos:\t0\nflags:\t02\neventfd-count: zz\n",
           "pos:\t0\nflags:\t02\neventfd-id: 1\n",           // id before count
           "pos:\t0\nflags:\t02\nclockid: 1\nticks: 0\n",    // incomplete timerfd
           "pos:\t0\nflags:\t02\nclockid: 1\nticks: 0\nsettime flags: 0\nit_value: 0, 0\n"
           "it_interval: (0, 0)\n",
           "pos:\t0\nflags:\t02\nclockid: 1\nticks: 0\nsettime flags: 0\nit_value: (0, 1000000000)\n"
           "it_interval: (0, 0)\n",
           "pos:\t0\nflags:\t02\ntfd: 5 events: 19 data: 0 pos:0 ino:zz sdev:d\n",
           "pos:\t0\nflags:\t02\ntfd: 5 events: 19 data:\n",
           "pos:\t0\nflags:\t02\ninotify wd:1 ino:2\n",       // no sdev/mask
           "pos:\t0\nflags:\t02\nsigmask:\t0\ntty-index:\t1\n",  // two kinds
       }) {
    auto r = parse_fdinfo(bad);
    EXPECT_FALSE(r) << bad;
  }
}

// Real fds of this process, read back from /proc/self/fdinfo.
TEST(FdInfo, OwnFds) {
  Fd efd(eventfd(7, EFD_CLOEXEC | EFD_SEMAPHORE));
  ASSERT_TRUE(efd.valid());
  auto e = read_fdinfo(getpid(), efd.get());
  ASSERT_TRUE(e) << e.error().message();
  EXPECT_EQ(e->kind, FdInfoKind::eventfd);
  EXPECT_EQ(e->eventfd->count, 7u);
  EXPECT_TRUE(e->cloexec());
  if (e->eventfd->semaphore) {
    EXPECT_TRUE(*e->eventfd->semaphore);
  }

  Fd tfd(timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC));
  ASSERT_TRUE(tfd.valid());
  itimerspec its{};
  its.it_value.tv_sec = 1000;
  its.it_interval.tv_sec = 5;
  its.it_interval.tv_nsec = 250;
  ASSERT_EQ(timerfd_settime(tfd.get(), 0, &its, nullptr), 0);
  auto t = read_fdinfo(getpid(), tfd.get());
  ASSERT_TRUE(t) << t.error().message();
  EXPECT_EQ(t->kind, FdInfoKind::timerfd);
  EXPECT_EQ(t->timerfd->clockid, CLOCK_MONOTONIC);
  EXPECT_EQ(t->timerfd->interval_sec, 5u);
  EXPECT_EQ(t->timerfd->interval_nsec, 250u);
  EXPECT_GT(t->timerfd->value_sec, 900u);
  EXPECT_LE(t->timerfd->value_sec, 1000u);

  sigset_t mask;
  sigemptyset(&mask);
  sigaddset(&mask, SIGUSR1);
  sigaddset(&mask, SIGTERM);
  Fd sfd(signalfd(-1, &mask, SFD_CLOEXEC));
  ASSERT_TRUE(sfd.valid());
  auto s = read_fdinfo(getpid(), sfd.get());
  ASSERT_TRUE(s) << s.error().message();
  EXPECT_EQ(s->kind, FdInfoKind::signalfd);
  EXPECT_EQ(s->signalfd_sigmask, (1ull << (SIGUSR1 - 1)) | (1ull << (SIGTERM - 1)));

  Fd ep(epoll_create1(EPOLL_CLOEXEC));
  ASSERT_TRUE(ep.valid());
  epoll_event ev{};
  ev.events = EPOLLIN | EPOLLET;
  ev.data.u64 = 0xdeadbeef42ull;
  ASSERT_EQ(epoll_ctl(ep.get(), EPOLL_CTL_ADD, efd.get(), &ev), 0);
  auto epi = read_fdinfo(getpid(), ep.get());
  ASSERT_TRUE(epi) << epi.error().message();
  EXPECT_EQ(epi->kind, FdInfoKind::epoll);
  ASSERT_EQ(epi->epoll.size(), 1u);
  EXPECT_EQ(epi->epoll[0].tfd, efd.get());
  // epoll_ctl always adds EPOLLERR | EPOLLHUP.
  EXPECT_EQ(epi->epoll[0].events,
            static_cast<uint32_t>(EPOLLIN | EPOLLET | EPOLLERR | EPOLLHUP));
  EXPECT_EQ(epi->epoll[0].data, 0xdeadbeef42ull);
  struct stat est {};
  ASSERT_EQ(fstat(efd.get(), &est), 0);
  EXPECT_EQ(epi->epoll[0].ino, est.st_ino);

  Fd in(inotify_init1(IN_CLOEXEC));
  ASSERT_TRUE(in.valid());
  ASSERT_GE(inotify_add_watch(in.get(), "/tmp", IN_CREATE), 0);
  auto ini = read_fdinfo(getpid(), in.get());
  ASSERT_TRUE(ini) << ini.error().message();
  EXPECT_EQ(ini->kind, FdInfoKind::inotify);
  ASSERT_EQ(ini->inotify.size(), 1u);
  struct stat tst {};
  ASSERT_EQ(stat("/tmp", &tst), 0);
  EXPECT_EQ(ini->inotify[0].ino, tst.st_ino);

  // The fd list classifies them all.
  auto fds = read_fds(getpid());
  ASSERT_TRUE(fds) << fds.error().message();
  auto type_of = [&](int fd) {
    for (const OpenFd& o : *fds)
      if (o.fd == fd)
        return o.target.type;
    return FdType::other;
  };
  EXPECT_EQ(type_of(efd.get()), FdType::eventfd);
  EXPECT_EQ(type_of(tfd.get()), FdType::timerfd);
  EXPECT_EQ(type_of(sfd.get()), FdType::signalfd);
  EXPECT_EQ(type_of(ep.get()), FdType::epoll);
  EXPECT_EQ(type_of(in.get()), FdType::inotify);
}

TEST(Fds, ClassifyLinks) {
  EXPECT_EQ(classify_fd_link("pipe:[123]", S_IFIFO | 0600, 0).type, FdType::pipe);
  EXPECT_EQ(classify_fd_link("pipe:[123]", S_IFIFO | 0600, 0).link_inode, 123u);
  EXPECT_EQ(classify_fd_link("socket:[99]", S_IFSOCK | 0777, 0).type, FdType::socket);
  EXPECT_EQ(classify_fd_link("socket:[99]", S_IFSOCK, 0).link_inode, 99u);
  EXPECT_EQ(classify_fd_link("anon_inode:[eventfd]", 0600, 0).type, FdType::eventfd);
  EXPECT_EQ(classify_fd_link("anon_inode:[timerfd]", 0600, 0).type, FdType::timerfd);
  EXPECT_EQ(classify_fd_link("anon_inode:[signalfd]", 0600, 0).type, FdType::signalfd);
  EXPECT_EQ(classify_fd_link("anon_inode:[eventpoll]", 0600, 0).type, FdType::epoll);
  EXPECT_EQ(classify_fd_link("anon_inode:inotify", 0600, 0).type, FdType::inotify);
  EXPECT_EQ(classify_fd_link("anon_inode:[fanotify]", 0600, 0).type, FdType::fanotify);
  FdTarget pidfd = classify_fd_link("anon_inode:[pidfd]", 0600, 0);
  EXPECT_EQ(pidfd.type, FdType::anon_inode);
  EXPECT_EQ(pidfd.anon_name, "[pidfd]");
  EXPECT_EQ(classify_fd_link("/etc/passwd", S_IFREG | 0644, 0).type, FdType::regular);
  FdTarget del = classify_fd_link("/tmp/a b (deleted)", S_IFREG | 0644, 0);
  EXPECT_EQ(del.type, FdType::deleted_file);
  EXPECT_EQ(del.path, "/tmp/a b");
  EXPECT_EQ(classify_fd_link("/memfd:x (deleted)", S_IFREG | 0600, 0).type, FdType::memfd);
  EXPECT_EQ(classify_fd_link("/tmp", S_IFDIR | 0755, 0).type, FdType::directory);
  EXPECT_EQ(classify_fd_link("/tmp/f", S_IFIFO | 0600, 0).type, FdType::fifo);
  FdTarget pts = classify_fd_link("/dev/pts/3", S_IFCHR | 0620, makedev(136, 3));
  EXPECT_EQ(pts.type, FdType::tty);
  EXPECT_FALSE(pts.pty_master);
  EXPECT_TRUE(classify_fd_link("/dev/ptmx", S_IFCHR | 0666, makedev(5, 2)).pty_master);
  EXPECT_EQ(classify_fd_link("/dev/null", S_IFCHR | 0666, makedev(1, 3)).type,
            FdType::char_device);
  EXPECT_EQ(classify_fd_link("/dev/sda", S_IFBLK | 0660, makedev(8, 0)).type,
            FdType::block_device);
  EXPECT_EQ(classify_fd_link("net:[4026531840]", 0444, 0).type, FdType::other);
  EXPECT_EQ(classify_fd_link("pipe:[x]", S_IFIFO, 0).type, FdType::other);
}

TEST(Fds, OwnFdsAndStat) {
  auto p = Pipe::create();
  ASSERT_TRUE(p);
  int sv[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
  Fd s0(sv[0]), s1(sv[1]);
  auto reg = Fd::open("/proc/self/exe", O_RDONLY);
  ASSERT_TRUE(reg);
  auto fds = read_fds(getpid());
  ASSERT_TRUE(fds) << fds.error().message();
  struct stat pst {}, sst {};
  ASSERT_EQ(fstat(p->read.get(), &pst), 0);
  ASSERT_EQ(fstat(s0.get(), &sst), 0);
  int seen = 0;
  for (const OpenFd& o : *fds) {
    if (o.fd == p->read.get() || o.fd == p->write.get()) {
      EXPECT_EQ(o.target.type, FdType::pipe);
      EXPECT_EQ(o.target.link_inode, pst.st_ino);
      EXPECT_EQ(o.stat.ino, pst.st_ino);
      ++seen;
    } else if (o.fd == s0.get()) {
      EXPECT_EQ(o.target.type, FdType::socket);
      EXPECT_EQ(o.target.link_inode, sst.st_ino);
      ++seen;
    } else if (o.fd == reg->get()) {
      EXPECT_EQ(o.target.type, FdType::regular);
      EXPECT_GT(o.stat.size, 0u);
      EXPECT_GT(o.stat.mtime_ns, 0);
      ++seen;
    }
  }
  EXPECT_EQ(seen, 4);
  EXPECT_FALSE(read_fd_link(getpid(), 1 << 29));
}

TEST(Fds, PidfdGetfd) {
  auto p = Pipe::create();
  ASSERT_TRUE(p);
  auto dup = steal_fd(getpid(), p->write.get());
  if (!dup && dup.error().code() == ENOSYS)
    GTEST_SKIP() << dup.error().message();
  ASSERT_TRUE(dup) << dup.error().message();
  ASSERT_EQ(write(dup->get(), "z", 1), 1);
  char c = 0;
  ASSERT_EQ(read(p->read.get(), &c, 1), 1);
  EXPECT_EQ(c, 'z');
  EXPECT_TRUE(fcntl(dup->get(), F_GETFD) & FD_CLOEXEC);
  auto bad = steal_fd(getpid(), 1 << 29);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code(), EBADF);
  EXPECT_NE(bad.error().message().find("no fd"), std::string::npos) << bad.error().message();
}

TEST(Pipe, PeekLeavesTheDataInPlace) {
  auto p = Pipe::create();
  ASSERT_TRUE(p);
  std::string payload;
  for (int i = 0; i < 20000; ++i)
    payload += static_cast<char>('a' + i % 26);
  ASSERT_EQ(write(p->write.get(), payload.data(), 10000), 10000);  // several buffers
  ASSERT_EQ(write(p->write.get(), payload.data() + 10000, 10000), 10000);
  auto cap = pipe_capacity(p->read.get());
  ASSERT_TRUE(cap) << cap.error().message();
  EXPECT_GE(*cap, 4096u);
  // Through the read end, and through a reader opened from the write end.
  for (int round = 0; round < 2; ++round) {
    auto d = peek_pipe(p->read.get());
    ASSERT_TRUE(d) << d.error().message();
    EXPECT_EQ(*d, payload);
  }
  auto reader = open_pipe_reader(getpid(), p->write.get());
  ASSERT_TRUE(reader) << reader.error().message();
  auto d = peek_pipe(reader->get());
  ASSERT_TRUE(d) << d.error().message();
  EXPECT_EQ(*d, payload);
  // The real reader still gets everything.
  std::string got(payload.size(), '\0');
  std::size_t n = 0;
  while (n < got.size()) {
    ssize_t r = read(p->read.get(), got.data() + n, got.size() - n);
    ASSERT_GT(r, 0);
    n += static_cast<std::size_t>(r);
  }
  EXPECT_EQ(got, payload);
  auto empty = peek_pipe(p->read.get());
  ASSERT_TRUE(empty) << empty.error().message();
  EXPECT_EQ(*empty, "");
  // Not a pipe.
  auto f = Fd::open("/proc/self/exe", O_RDONLY);
  ASSERT_TRUE(f);
  EXPECT_FALSE(peek_pipe(f->get()));
}

}  // namespace
}  // namespace ckpt::proc
