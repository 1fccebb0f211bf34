#include "net/sock_diag.h"

#include <arpa/inet.h>
#include <fmt/format.h>
#include <libmnl/libmnl.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <linux/unix_diag.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <functional>
#include <memory>
#include <vector>

namespace ckpt::net {
namespace {

constexpr std::size_t kRecvBuffer = 64 * 1024;

// The attributes of one message, each checked to lie inside it.
using AttrFn = std::function<Result<void>(const nlattr* attr)>;

Result<void> for_each_attr(const nlmsghdr* nlh, std::size_t header_len, const AttrFn& fn) {
  // Offsets from the message start, bounded by nlmsg_len itself (not by its
  // aligned value: the last message of a buffer may end unpadded).
  const auto* base = reinterpret_cast<const char*>(nlh);
  std::size_t end = nlh->nlmsg_len;
  std::size_t off = MNL_NLMSG_HDRLEN + MNL_ALIGN(header_len);
  while (off < end) {
    const auto* attr = reinterpret_cast<const nlattr*>(base + off);
    if (!mnl_attr_ok(attr, static_cast<int>(end - off)))
      return Error::msg(fmt::format("attribute at offset {} runs past the end of its message",
                                    off));
    auto r = fn(attr);
    if (!r)
      return r;
    off += MNL_ALIGN(attr->nla_len);
  }
  return {};
}

Result<void> need_len(const nlattr* attr, std::size_t len, const char* what) {
  if (mnl_attr_get_payload_len(attr) < len)
    return Error::msg(fmt::format("{} attribute of {} bytes, expected {}", what,
                                  mnl_attr_get_payload_len(attr), len));
  return {};
}

template <class T>
T payload_as(const nlattr* attr) {
  T v{};
  std::memcpy(&v, mnl_attr_get_payload(attr), sizeof v);
  return v;
}

// Walks the messages of @buf.  @on_msg gets each SOCK_DIAG_BY_FAMILY message.
using MsgFn = std::function<Result<void>(const nlmsghdr* nlh)>;

Result<DumpStatus> walk(std::span<const uint8_t> bytes, const MsgFn& on_msg) {
  // Netlink headers need 4-byte alignment: copy a misaligned buffer.
  std::vector<uint32_t> aligned;
  const void* data = bytes.data();
  if (reinterpret_cast<uintptr_t>(data) % alignof(nlmsghdr) != 0) {
    aligned.resize((bytes.size() + 3) / 4);
    std::memcpy(aligned.data(), bytes.data(), bytes.size());
    data = aligned.data();
  }
  const auto* nlh = static_cast<const nlmsghdr*>(data);
  int len = static_cast<int>(bytes.size());
  std::size_t index = 0;
  while (len > 0) {
    ++index;
    // Not only mnl_nlmsg_ok(): it compares nlmsg_len as an int, so a length
    // of 2 GiB or more passes as negative.
    if (len < static_cast<int>(sizeof(nlmsghdr)) || nlh->nlmsg_len < sizeof(nlmsghdr) ||
        nlh->nlmsg_len > static_cast<uint32_t>(len))
      return Error::msg(fmt::format("netlink message {}: truncated ({} bytes left, header says "
                                    "{})", index, len,
                                    len >= static_cast<int>(sizeof(nlmsghdr))
                                        ? static_cast<long>(nlh->nlmsg_len) : -1L));
    if (nlh->nlmsg_flags & NLM_F_DUMP_INTR)
      return Error::msg("sock_diag dump interrupted by a concurrent change", EAGAIN);
    switch (nlh->nlmsg_type) {
      case NLMSG_DONE:
        return DumpStatus::done;
      case NLMSG_NOOP:
        break;
      case NLMSG_ERROR: {
        if (mnl_nlmsg_get_payload_len(nlh) < sizeof(nlmsgerr))
          return Error::msg(fmt::format("netlink message {}: NLMSG_ERROR too short", index));
        nlmsgerr err{};
        std::memcpy(&err, mnl_nlmsg_get_payload(nlh), sizeof err);
        if (err.error == 0)  // an ACK
          break;
        int code = err.error < 0 ? -err.error : err.error;
        return Error::sys(code, "sock_diag request refused by the kernel");
      }
      case SOCK_DIAG_BY_FAMILY: {
        auto r = on_msg(nlh);
        if (!r)
          return std::move(r).error().context(fmt::format("netlink message {}", index));
        break;
      }
      default:
        return Error::msg(fmt::format("netlink message {}: unexpected type {}", index,
                                      nlh->nlmsg_type));
    }
    nlh = mnl_nlmsg_next(nlh, &len);
  }
  return DumpStatus::more;
}

std::string unix_name(const nlattr* attr) {
  const auto* p = static_cast<const char*>(mnl_attr_get_payload(attr));
  std::size_t n = mnl_attr_get_payload_len(attr);
  if (n == 0)
    return {};
  if (p[0] == '\0')  // abstract: the bytes after the NUL, as they are
    return "@" + std::string(p + 1, n - 1);
  std::string path(p, n);
  while (!path.empty() && path.back() == '\0')
    path.pop_back();
  return path;
}

std::string addr_text(uint32_t family, const uint32_t* words) {
  char buf[INET6_ADDRSTRLEN] = {};
  if (!inet_ntop(static_cast<int>(family), words, buf, sizeof buf))
    return {};
  return buf;
}

// One netlink socket (libmnl), closed on scope exit.
struct MnlCloser {
  void operator()(mnl_socket* s) const { mnl_socket_close(s); }
};
using MnlSocket = std::unique_ptr<mnl_socket, MnlCloser>;

Result<MnlSocket> open_diag_socket() {
  MnlSocket nl(mnl_socket_open2(NETLINK_SOCK_DIAG, SOCK_CLOEXEC));
  if (!nl)
    return Error::from_errno("socket(AF_NETLINK, NETLINK_SOCK_DIAG)");
  if (mnl_socket_bind(nl.get(), 0, MNL_SOCKET_AUTOPID) < 0)
    return Error::from_errno("bind the sock_diag netlink socket");
  return nl;
}

// Sends @req (a header plus the family's request struct) and feeds every
// reply buffer to @parse until NLMSG_DONE.
template <class Req, class Parse>
Result<void> run_dump(const Req& req, const Parse& parse, const std::string& what) {
  auto nl = open_diag_socket();
  if (!nl)
    return std::move(nl).error().context(what);
  alignas(nlmsghdr) uint8_t sbuf[256] = {};
  nlmsghdr* nlh = mnl_nlmsg_put_header(sbuf);
  nlh->nlmsg_type = SOCK_DIAG_BY_FAMILY;
  nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
  nlh->nlmsg_seq = 1;
  void* extra = mnl_nlmsg_put_extra_header(nlh, sizeof req);
  std::memcpy(extra, &req, sizeof req);
  if (mnl_socket_sendto(nl->get(), nlh, nlh->nlmsg_len) < 0)
    return Error::from_errno(what + ": send the sock_diag request");
  std::vector<uint8_t> rbuf(kRecvBuffer);
  for (;;) {
    ssize_t n = mnl_socket_recvfrom(nl->get(), rbuf.data(), rbuf.size());
    if (n < 0) {
      if (errno == EINTR)
        continue;
      return Error::from_errno(what + ": receive the sock_diag reply");
    }
    if (n == 0)
      return Error::msg(what + ": sock_diag socket closed before NLMSG_DONE", EIO);
    auto st = parse(std::span<const uint8_t>(rbuf.data(), static_cast<std::size_t>(n)));
    if (!st)
      return std::move(st).error().context(what);
    if (*st == DumpStatus::done)
      return {};
  }
}

}  // namespace

Result<DumpStatus> parse_unix_diag(std::span<const uint8_t> buf, UnixSockMap& out) {
  return walk(buf, [&](const nlmsghdr* nlh) -> Result<void> {
    if (mnl_nlmsg_get_payload_len(nlh) < sizeof(unix_diag_msg))
      return Error::msg(fmt::format("unix_diag message of {} bytes, expected at least {}",
                                    mnl_nlmsg_get_payload_len(nlh), sizeof(unix_diag_msg)));
    unix_diag_msg msg{};
    std::memcpy(&msg, mnl_nlmsg_get_payload(nlh), sizeof msg);
    if (msg.udiag_family != AF_UNIX)
      return Error::msg(fmt::format("unix_diag message of family {}", msg.udiag_family));
    UnixSockInfo s;
    s.inode = msg.udiag_ino;
    s.type = msg.udiag_type;
    s.state = msg.udiag_state;
    auto r = for_each_attr(nlh, sizeof(unix_diag_msg), [&](const nlattr* a) -> Result<void> {
      switch (mnl_attr_get_type(a)) {
        case UNIX_DIAG_NAME:
          s.name = unix_name(a);
          break;
        case UNIX_DIAG_VFS: {
          auto ok = need_len(a, sizeof(unix_diag_vfs), "UNIX_DIAG_VFS");
          if (!ok)
            return ok;
          auto v = payload_as<unix_diag_vfs>(a);
          s.vfs_inode = v.udiag_vfs_ino;
          s.vfs_dev = v.udiag_vfs_dev;
          break;
        }
        case UNIX_DIAG_PEER: {
          auto ok = need_len(a, sizeof(uint32_t), "UNIX_DIAG_PEER");
          if (!ok)
            return ok;
          s.peer_inode = payload_as<uint32_t>(a);
          break;
        }
        case UNIX_DIAG_ICONS: {
          std::size_t n = mnl_attr_get_payload_len(a);
          if (n % sizeof(uint32_t))
            return Error::msg(fmt::format("UNIX_DIAG_ICONS of {} bytes", n));
          const auto* p = static_cast<const uint8_t*>(mnl_attr_get_payload(a));
          for (std::size_t off = 0; off < n; off += sizeof(uint32_t)) {
            uint32_t ino = 0;
            std::memcpy(&ino, p + off, sizeof ino);
            s.icons.push_back(ino);
          }
          break;
        }
        case UNIX_DIAG_RQLEN: {
          auto ok = need_len(a, sizeof(unix_diag_rqlen), "UNIX_DIAG_RQLEN");
          if (!ok)
            return ok;
          auto q = payload_as<unix_diag_rqlen>(a);
          s.rqueue = q.udiag_rqueue;
          s.wqueue = q.udiag_wqueue;
          break;
        }
        case UNIX_DIAG_SHUTDOWN: {
          auto ok = need_len(a, sizeof(uint8_t), "UNIX_DIAG_SHUTDOWN");
          if (!ok)
            return ok;
          s.shutdown = payload_as<uint8_t>(a);
          break;
        }
        default:  // MEMINFO, UID, newer ones: not needed
          break;
      }
      return {};
    });
    if (!r)
      return std::move(r).error().context(fmt::format("unix socket {}", s.inode));
    if (!out.emplace(s.inode, s).second)
      return Error::msg(fmt::format("unix socket inode {} listed twice", s.inode));
    return {};
  });
}

Result<DumpStatus> parse_inet_diag(std::span<const uint8_t> buf, uint32_t protocol,
                                   InetSockMap& out) {
  return walk(buf, [&](const nlmsghdr* nlh) -> Result<void> {
    if (mnl_nlmsg_get_payload_len(nlh) < sizeof(inet_diag_msg))
      return Error::msg(fmt::format("inet_diag message of {} bytes, expected at least {}",
                                    mnl_nlmsg_get_payload_len(nlh), sizeof(inet_diag_msg)));
    inet_diag_msg msg{};
    std::memcpy(&msg, mnl_nlmsg_get_payload(nlh), sizeof msg);
    if (msg.idiag_family != AF_INET && msg.idiag_family != AF_INET6)
      return Error::msg(fmt::format("inet_diag message of family {}", msg.idiag_family));
    InetSockInfo s;
    s.inode = msg.idiag_inode;
    s.family = msg.idiag_family;
    s.protocol = protocol;
    s.state = msg.idiag_state;
    s.src_addr = addr_text(s.family, msg.id.idiag_src);
    s.dst_addr = addr_text(s.family, msg.id.idiag_dst);
    s.src_port = ntohs(msg.id.idiag_sport);
    s.dst_port = ntohs(msg.id.idiag_dport);
    s.rqueue = msg.idiag_rqueue;
    s.wqueue = msg.idiag_wqueue;
    s.ifindex = msg.id.idiag_if;
    s.uid = msg.idiag_uid;
    auto r = for_each_attr(nlh, sizeof(inet_diag_msg), [&](const nlattr* a) -> Result<void> {
      if (mnl_attr_get_type(a) == INET_DIAG_SHUTDOWN) {
        auto ok = need_len(a, sizeof(uint8_t), "INET_DIAG_SHUTDOWN");
        if (!ok)
          return ok;
        s.shutdown = payload_as<uint8_t>(a);
      }
      return {};
    });
    if (!r)
      return std::move(r).error().context(fmt::format("inet socket {}", s.inode));
    // TIME_WAIT and SYN_RECV entries have no socket inode: no fd refers to
    // them, so the dump has nothing to match them with.
    if (s.inode == 0)
      return {};
    if (!out.emplace(s.inode, s).second)
      return Error::msg(fmt::format("inet socket inode {} listed twice", s.inode));
    return {};
  });
}

Result<UnixSockMap> dump_unix_sockets() {
  unix_diag_req req{};
  req.sdiag_family = AF_UNIX;
  req.udiag_states = ~0u;
  req.udiag_show = UDIAG_SHOW_NAME | UDIAG_SHOW_VFS | UDIAG_SHOW_PEER | UDIAG_SHOW_ICONS |
                   UDIAG_SHOW_RQLEN;  // UNIX_DIAG_SHUTDOWN comes always
  UnixSockMap out;
  auto r = run_dump(req, [&](std::span<const uint8_t> b) { return parse_unix_diag(b, out); },
                    "dump unix sockets");
  if (!r)
    return std::move(r).error();
  return out;
}

Result<InetSockMap> dump_inet_sockets() {
  InetSockMap out;
  for (uint8_t family : {AF_INET, AF_INET6}) {
    for (uint8_t proto : {IPPROTO_TCP, IPPROTO_UDP}) {
      inet_diag_req_v2 req{};
      req.sdiag_family = family;
      req.sdiag_protocol = proto;
      req.idiag_states = ~0u;
      auto r = run_dump(
          req, [&](std::span<const uint8_t> b) { return parse_inet_diag(b, proto, out); },
          fmt::format("dump {} {} sockets", family == AF_INET ? "IPv4" : "IPv6",
                      proto == IPPROTO_TCP ? "TCP" : "UDP"));
      if (!r)
        return std::move(r).error();
    }
  }
  return out;
}

}  // namespace ckpt::net
