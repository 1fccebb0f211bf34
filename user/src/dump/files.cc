// File descriptors.  Each fd is classified from its /proc link and stat;
// the type-specific state comes from fdinfo, sock_diag, or a duplicate of
// the fd taken with pidfd_getfd (no code runs in the target).  An fd type
// the image cannot describe fails the dump with pid, fd and type: nothing
// is dropped silently.
#include <fcntl.h>
#include <sys/ioctl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include <fmt/format.h>

#include <cerrno>

#include "core/log.h"
#include "dump/context.h"
#include "proc/attrs.h"
#include "proc/fdinfo.h"
#include "proc/fds.h"
#include "proc/pipe.h"

namespace ckpt::dump {
namespace {

Error unsupported(pid_t pid, int fd, std::string_view what) {
  return Error::msg(fmt::format("pid {} fd {}: {} is not supported", pid, fd, what), EOPNOTSUPP);
}

void fill_stat(const proc::FdStat& s, const proc::FdInfo& info, image::FileStat* f) {
  f->set_dev(s.dev);
  f->set_inode(s.ino);
  f->set_mode(s.mode);
  f->set_size(s.size);
  f->set_mtime_ns(s.mtime_ns);
  f->set_mnt_id(static_cast<uint32_t>(info.mnt_id.value_or(0)));
}

// Unread bytes of a stream socket, peeked through a duplicate of the fd;
// never consumes anything.  One MSG_PEEK with a buffer larger than the
// queue returns it all (TCP and unix stream peeks run across queued skbs);
// if it returns less, SO_PEEK_OFF steps through the rest (unix; TCP since
// Linux 6.10) and is switched off again.
Result<std::string> peek_stream(int pidfd, int fd, uint32_t expect) {
  auto dup = proc::pidfd_getfd(pidfd, fd);
  if (!dup)
    return std::move(dup).error();
  std::string data(static_cast<size_t>(expect) + 4096, '\0');
  ssize_t n;
  do {
    n = ::recv(dup->get(), data.data(), data.size(), MSG_PEEK | MSG_DONTWAIT);
  } while (n < 0 && errno == EINTR);
  if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
    return Error::from_errno("peek the socket's queue");
  data.resize(n < 0 ? 0 : static_cast<size_t>(n));
  if (data.size() >= expect)
    return data;

  int zero = 0;
  if (::setsockopt(dup->get(), SOL_SOCKET, SO_PEEK_OFF, &zero, sizeof(zero)) != 0)
    return Error::from_errno(fmt::format("peeked {} of the {} queued bytes; SO_PEEK_OFF",
                                         data.size(), expect));
  data.clear();
  Result<std::string> result = Error::msg("unreachable");
  for (;;) {
    char buf[65536];
    ssize_t m = ::recv(dup->get(), buf, sizeof(buf), MSG_PEEK | MSG_DONTWAIT);
    if (m < 0 && errno == EINTR)
      continue;
    if (m < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      result = std::move(data);
      break;
    }
    if (m < 0) {
      result = Error::from_errno("peek the socket's queue");
      break;
    }
    if (m == 0) {
      result = std::move(data);
      break;
    }
    data.append(buf, static_cast<size_t>(m));
  }
  int off = -1;
  ::setsockopt(dup->get(), SOL_SOCKET, SO_PEEK_OFF, &off, sizeof(off));
  if (result && result->size() < expect)
    return Error::msg(fmt::format("peeked {} of the {} queued bytes", result->size(), expect), EIO);
  return result;
}

Result<void> ensure_sockets(Context& ctx) {
  if (!ctx.unix_socks) {
    auto u = net::dump_unix_sockets();
    if (!u)
      return std::move(u).error().context("sock_diag (unix)");
    ctx.unix_socks = std::move(*u);
  }
  if (!ctx.inet_socks) {
    auto i = net::dump_inet_sockets();
    if (!i)
      return std::move(i).error().context("sock_diag (inet)");
    ctx.inet_socks = std::move(*i);
  }
  return {};
}

Result<void> dump_socket(Context& ctx, pid_t pid, int pidfd, const proc::OpenFd& of,
                         uint64_t netns, image::Fd* out) {
  if (netns != ctx.own_netns)
    return unsupported(pid, of.fd, "a socket in another network namespace");
  auto r = ensure_sockets(ctx);
  if (!r)
    return r;
  uint64_t ino = of.target.link_inode;
  if (auto it = ctx.unix_socks->find(ino); it != ctx.unix_socks->end()) {
    const auto& u = it->second;
    auto* s = out->mutable_unix_socket();
    s->set_inode(ino);
    s->set_type(u.type);
    s->set_state(u.state);
    s->set_name(u.name);
    s->set_peer_inode(u.peer_inode);
    s->set_rqueue(u.rqueue);
    s->set_wqueue(u.wqueue);
    s->set_shutdown(u.shutdown.value_or(0));
    for (uint64_t c : u.icons)
      s->add_pending_connections(c);
    if (u.state != 10 /* TCP_LISTEN */ && u.rqueue > 0) {
      if (u.type != SOCK_STREAM)
        return unsupported(pid, of.fd, fmt::format("a unix datagram socket with {} bytes queued", u.rqueue));
      auto q = peek_stream(pidfd, of.fd, u.rqueue);
      if (!q)
        return std::move(q).error().context(fmt::format("pid {} fd {}: unix socket", pid, of.fd));
      s->set_queued(*q);
    }
    if (u.state == 10 && !u.icons.empty())
      return unsupported(pid, of.fd, "a unix listener with connections not yet accepted");
    return {};
  }
  if (auto it = ctx.inet_socks->find(ino); it != ctx.inet_socks->end()) {
    const auto& i = it->second;
    auto* s = out->mutable_inet_socket();
    s->set_inode(ino);
    s->set_family(i.family);
    s->set_protocol(i.protocol);
    s->set_type(i.protocol == IPPROTO_TCP ? SOCK_STREAM : SOCK_DGRAM);
    s->set_state(i.state);
    s->set_src_addr(i.src_addr);
    s->set_src_port(i.src_port);
    s->set_dst_addr(i.dst_addr);
    s->set_dst_port(i.dst_port);
    s->set_rqueue(i.rqueue);
    s->set_wqueue(i.wqueue);
    s->set_bound_ifindex(i.ifindex);
    s->set_shutdown(i.shutdown.value_or(0));
    const bool listen = i.state == 10;
    if (!listen && i.wqueue > 0)
      return unsupported(pid, of.fd, fmt::format("a socket with {} unsent bytes", i.wqueue));
    if (!listen && i.rqueue > 0) {
      if (i.protocol != IPPROTO_TCP)
        return unsupported(pid, of.fd, fmt::format("a UDP socket with {} bytes queued", i.rqueue));
      auto q = peek_stream(pidfd, of.fd, i.rqueue);
      if (!q)
        return std::move(q).error().context(fmt::format("pid {} fd {}: TCP socket", pid, of.fd));
      s->set_queued(*q);
    }
    if (listen && i.rqueue > 0)
      return unsupported(pid, of.fd, "a TCP listener with connections not yet accepted");
    return {};
  }
  return unsupported(pid, of.fd, fmt::format("socket:[{}] (not unix, TCP or UDP)", ino));
}

Result<void> dump_pipe(Context& ctx, pid_t pid, int pidfd, const proc::OpenFd& of,
                       const proc::FdInfo& info, image::Fd* out) {
  auto* p = out->mutable_pipe();
  uint64_t ino = of.stat.ino;
  p->set_inode(ino);
  p->set_fifo(of.target.type == proc::FdType::fifo);
  p->set_path(of.target.path);
  p->set_write_end((info.flags & O_ACCMODE) == O_WRONLY);
  auto dup = proc::pidfd_getfd(pidfd, of.fd);
  if (!dup)
    return std::move(dup).error();
  auto cap = proc::pipe_capacity(dup->get());
  if (!cap)
    return std::move(cap).error();
  p->set_capacity(*cap);
  if (!ctx.pipes_done.insert(ino).second)
    return {};
  auto buffered = proc::pipe_buffered(dup->get());
  if (!buffered)
    return std::move(buffered).error();
  if (*buffered == 0)
    return {};
  // A read side of the same pipe: the fd itself if it is one, else a new
  // open of /proc/PID/fd/N (which opens the pipe like a FIFO).
  Fd reader;
  if ((info.flags & O_ACCMODE) != O_WRONLY) {
    reader = std::move(*dup);
  } else {
    auto r = proc::open_pipe_reader(pid, of.fd);
    if (!r)
      return std::move(r).error();
    reader = std::move(*r);
  }
  auto data = proc::peek_pipe(reader.get());
  if (!data)
    return std::move(data).error();
  image::PipeData pd;
  pd.set_inode(ino);
  pd.set_data(std::move(*data));
  ctx.pipe_data.push_back(std::move(pd));
  return {};
}

Result<void> dump_tty(pid_t pid, int pidfd, const proc::OpenFd& of, const proc::FdInfo& info,
                      image::Fd* out) {
  auto* t = out->mutable_tty();
  t->set_path(of.target.path);
  t->set_rdev(of.stat.rdev);
  t->set_pty_master(of.target.pty_master);
  t->set_index(static_cast<uint32_t>(info.tty_index.value_or(0)));
  auto dup = proc::pidfd_getfd(pidfd, of.fd);
  if (!dup)
    return std::move(dup).error();
  struct termios tio;
  if (::ioctl(dup->get(), TCGETS, &tio) != 0)
    return Error::from_errno(fmt::format("pid {} fd {}: TCGETS on {}", pid, of.fd, of.target.path));
  t->set_termios(reinterpret_cast<const char*>(&tio), sizeof(tio));
  struct winsize ws;
  if (::ioctl(dup->get(), TIOCGWINSZ, &ws) == 0) {
    t->set_winsize_rows(ws.ws_row);
    t->set_winsize_cols(ws.ws_col);
  }
  return {};
}

}  // namespace

Result<void> dump_files(Context& ctx, pid_t pid, int pidfd, image::Process* proc) {
  auto fds = proc::read_fds(pid);
  if (!fds)
    return std::move(fds).error();
  uint64_t netns = 0;
  for (const auto& ns : proc->namespaces())
    if (ns.type() == "net")
      netns = ns.inode();
  for (const auto& of : *fds) {
    auto info = proc::read_fdinfo(pid, of.fd);
    if (!info)
      return std::move(info).error();
    auto* out = proc->add_fds();
    out->set_fd(static_cast<uint32_t>(of.fd));
    out->set_flags(info->flags & ~static_cast<uint32_t>(O_CLOEXEC));
    out->set_cloexec(info->cloexec());
    out->set_pos(static_cast<uint64_t>(info->pos));
    out->set_mnt_id(static_cast<uint32_t>(info->mnt_id.value_or(0)));
    using T = proc::FdType;
    Result<void> r;
    switch (of.target.type) {
      case T::regular:
      case T::directory:
      case T::char_device:
      case T::block_device: {
        auto* f = out->mutable_file();
        f->set_path(of.target.path);
        f->set_directory(of.target.type == T::directory);
        fill_stat(of.stat, *info, f->mutable_stat());
        break;
      }
      case T::pipe:
      case T::fifo:
        r = dump_pipe(ctx, pid, pidfd, of, *info, out);
        break;
      case T::socket:
        r = dump_socket(ctx, pid, pidfd, of, netns, out);
        break;
      case T::eventfd: {
        if (!info->eventfd)
          return Error::msg(fmt::format("pid {} fd {}: eventfd without eventfd-count in fdinfo", pid, of.fd), EIO);
        auto* e = out->mutable_eventfd();
        e->set_count(info->eventfd->count);
        e->set_semaphore(info->eventfd->semaphore.value_or(false));
        break;
      }
      case T::timerfd: {
        if (!info->timerfd)
          return Error::msg(fmt::format("pid {} fd {}: timerfd without its fdinfo lines", pid, of.fd), EIO);
        const auto& ti = *info->timerfd;
        auto* t = out->mutable_timerfd();
        t->set_clockid(ti.clockid);
        t->set_ticks(ti.ticks);
        t->set_settime_flags(ti.settime_flags);
        t->set_value_ns(ti.value_sec * 1000000000ull + ti.value_nsec);
        t->set_interval_ns(ti.interval_sec * 1000000000ull + ti.interval_nsec);
        break;
      }
      case T::signalfd:
        if (!info->signalfd_sigmask)
          return Error::msg(fmt::format("pid {} fd {}: signalfd without sigmask in fdinfo", pid, of.fd), EIO);
        out->mutable_signalfd()->set_sigmask(*info->signalfd_sigmask);
        break;
      case T::epoll: {
        auto* e = out->mutable_epoll();
        for (const auto& tg : info->epoll) {
          auto* x = e->add_targets();
          x->set_tfd(static_cast<uint32_t>(tg.tfd));
          x->set_events(tg.events);
          x->set_data(tg.data);
          x->set_pos(static_cast<uint64_t>(tg.pos));
          x->set_inode(tg.ino);
          x->set_dev(tg.sdev);
        }
        break;
      }
      case T::tty:
        r = dump_tty(pid, pidfd, of, *info, out);
        break;
      case T::deleted_file:
        return unsupported(pid, of.fd, fmt::format("deleted file {}", of.target.path));
      default:
        return unsupported(pid, of.fd,
                           fmt::format("{} ({})", proc::fd_type_name(of.target.type), of.link));
    }
    if (!r)
      return std::move(r).error();
  }
  return {};
}

}  // namespace ckpt::dump
