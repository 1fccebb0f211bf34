// sock_diag parsing (constructed replies) and live dumps of our own sockets.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <libmnl/libmnl.h>
#include <linux/inet_diag.h>
#include <linux/sock_diag.h>
#include <linux/unix_diag.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <vector>

#include "core/fd.h"
#include "net/sock_diag.h"

namespace ckpt::net {
namespace {

// Builds a buffer of netlink messages.
class Builder {
 public:
  nlmsghdr* begin(uint16_t type) {
    start_ = used_;
    buf_.resize(used_ + 4096);
    auto* nlh = mnl_nlmsg_put_header(buf_.data() + used_);
    nlh->nlmsg_type = type;
    nlh->nlmsg_flags = NLM_F_MULTI;
    return nlh;
  }
  nlmsghdr* cur() { return reinterpret_cast<nlmsghdr*>(buf_.data() + start_); }
  void end() { used_ = start_ + MNL_ALIGN(cur()->nlmsg_len); }
  void done() {
    begin(NLMSG_DONE);
    mnl_nlmsg_put_extra_header(cur(), sizeof(int));
    end();
  }
  std::span<const uint8_t> bytes() const { return {buf_.data(), used_}; }
  std::vector<uint8_t>& raw() { return buf_; }

 private:
  alignas(8) std::vector<uint8_t> buf_;
  std::size_t used_ = 0, start_ = 0;
};

void add_unix(Builder& b, uint32_t ino, uint8_t type, uint8_t state) {
  nlmsghdr* nlh = b.begin(SOCK_DIAG_BY_FAMILY);
  auto* m = static_cast<unix_diag_msg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(unix_diag_msg)));
  m->udiag_family = AF_UNIX;
  m->udiag_type = type;
  m->udiag_state = state;
  m->udiag_ino = ino;
}

TEST(UnixDiagParse, ConstructedReply) {
  Builder b;
  add_unix(b, 100, SOCK_STREAM, TCP_LISTEN);
  const char path[] = "/run/x.sock";  // with its NUL, as the kernel sends it
  mnl_attr_put(b.cur(), UNIX_DIAG_NAME, sizeof path, path);
  uint32_t icons[] = {201, 202};
  mnl_attr_put(b.cur(), UNIX_DIAG_ICONS, sizeof icons, icons);
  unix_diag_rqlen q{2, 128};
  mnl_attr_put(b.cur(), UNIX_DIAG_RQLEN, sizeof q, &q);
  mnl_attr_put_u32(b.cur(), 200, 7);  // unknown: ignored
  mnl_attr_put_u8(b.cur(), UNIX_DIAG_SHUTDOWN, 0);
  b.end();
  add_unix(b, 101, SOCK_DGRAM, TCP_ESTABLISHED);
  const char abs[] = {'\0', 'a', 'b'};
  mnl_attr_put(b.cur(), UNIX_DIAG_NAME, sizeof abs, abs);
  mnl_attr_put_u32(b.cur(), UNIX_DIAG_PEER, 102);
  mnl_attr_put_u8(b.cur(), UNIX_DIAG_SHUTDOWN, 2);
  b.end();
  UnixSockMap out;
  auto st = parse_unix_diag(b.bytes(), out);
  ASSERT_TRUE(st) << st.error().message();
  EXPECT_EQ(*st, DumpStatus::more);
  b.done();
  out.clear();
  st = parse_unix_diag(b.bytes(), out);
  ASSERT_TRUE(st) << st.error().message();
  EXPECT_EQ(*st, DumpStatus::done);
  ASSERT_EQ(out.size(), 2u);
  const UnixSockInfo& l = out.at(100);
  EXPECT_EQ(l.name, "/run/x.sock");
  EXPECT_EQ(l.state, static_cast<uint32_t>(TCP_LISTEN));
  EXPECT_EQ(l.icons, (std::vector<uint64_t>{201, 202}));
  EXPECT_EQ(l.rqueue, 2u);
  EXPECT_EQ(l.wqueue, 128u);
  EXPECT_EQ(l.shutdown, 0u);
  const UnixSockInfo& d = out.at(101);
  EXPECT_EQ(d.name, "@ab");
  EXPECT_EQ(d.type, static_cast<uint32_t>(SOCK_DGRAM));
  EXPECT_EQ(d.peer_inode, 102u);
  EXPECT_EQ(d.shutdown, 2u);
  // The same socket twice is an error.
  EXPECT_FALSE(parse_unix_diag(b.bytes(), out));
}

TEST(UnixDiagParse, Malformed) {
  UnixSockMap out;
  // Truncated header.
  std::vector<uint8_t> tiny(10, 0);
  EXPECT_FALSE(parse_unix_diag(tiny, out));
  // nlmsg_len past the buffer.
  {
    Builder b;
    add_unix(b, 1, SOCK_STREAM, TCP_CLOSE);
    b.end();
    std::vector<uint8_t> v(b.bytes().begin(), b.bytes().end());
    v.resize(v.size() - 4);
    EXPECT_FALSE(parse_unix_diag(v, out));
  }
  // Payload shorter than unix_diag_msg.
  {
    Builder b;
    nlmsghdr* nlh = b.begin(SOCK_DIAG_BY_FAMILY);
    mnl_nlmsg_put_extra_header(nlh, 4);
    b.end();
    auto r = parse_unix_diag(b.bytes(), out);
    ASSERT_FALSE(r);
    EXPECT_NE(r.error().message().find("unix_diag message of"), std::string::npos);
  }
  // Attribute length past the end of its message.
  {
    Builder b;
    add_unix(b, 2, SOCK_STREAM, TCP_CLOSE);
    nlattr* a = mnl_attr_nest_start(b.cur(), UNIX_DIAG_PEER);
    mnl_attr_put_u32(b.cur(), 1, 5);
    mnl_attr_nest_end(b.cur(), a);
    a->nla_len = 200;
    b.end();
    auto r = parse_unix_diag(b.bytes(), out);
    ASSERT_FALSE(r);
    EXPECT_NE(r.error().message().find("past the end"), std::string::npos) << r.error().message();
  }
  // An attribute too short for its type.
  {
    Builder b;
    add_unix(b, 3, SOCK_STREAM, TCP_CLOSE);
    mnl_attr_put_u8(b.cur(), UNIX_DIAG_PEER, 1);
    b.end();
    EXPECT_FALSE(parse_unix_diag(b.bytes(), out));
  }
  // NLMSG_ERROR with an errno.
  {
    Builder b;
    nlmsghdr* nlh = b.begin(NLMSG_ERROR);
    auto* e = static_cast<nlmsgerr*>(mnl_nlmsg_put_extra_header(nlh, sizeof(nlmsgerr)));
    e->error = -EPERM;
    b.end();
    auto r = parse_unix_diag(b.bytes(), out);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code(), EPERM);
  }
  // Wrong family.
  {
    Builder b;
    add_unix(b, 4, SOCK_STREAM, TCP_CLOSE);
    reinterpret_cast<unix_diag_msg*>(mnl_nlmsg_get_payload(b.cur()))->udiag_family = AF_INET;
    b.end();
    EXPECT_FALSE(parse_unix_diag(b.bytes(), out));
  }
}

TEST(InetDiagParse, ConstructedReply) {
  Builder b;
  nlmsghdr* nlh = b.begin(SOCK_DIAG_BY_FAMILY);
  auto* m = static_cast<inet_diag_msg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(inet_diag_msg)));
  m->idiag_family = AF_INET;
  m->idiag_state = TCP_ESTABLISHED;
  m->id.idiag_sport = htons(8080);
  m->id.idiag_dport = htons(40000);
  inet_pton(AF_INET, "127.0.0.1", m->id.idiag_src);
  inet_pton(AF_INET, "10.1.2.3", m->id.idiag_dst);
  m->id.idiag_if = 3;
  m->idiag_rqueue = 5;
  m->idiag_wqueue = 6;
  m->idiag_inode = 777;
  mnl_attr_put_u8(b.cur(), INET_DIAG_SHUTDOWN, 1);
  mnl_attr_put_u32(b.cur(), 99, 1);  // unknown
  b.end();
  nlh = b.begin(SOCK_DIAG_BY_FAMILY);
  m = static_cast<inet_diag_msg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(inet_diag_msg)));
  m->idiag_family = AF_INET6;
  m->idiag_state = TCP_TIME_WAIT;
  m->idiag_inode = 0;  // no socket: skipped
  b.end();
  nlh = b.begin(SOCK_DIAG_BY_FAMILY);
  m = static_cast<inet_diag_msg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(inet_diag_msg)));
  m->idiag_family = AF_INET6;
  m->idiag_state = TCP_LISTEN;
  inet_pton(AF_INET6, "::1", m->id.idiag_src);
  m->id.idiag_sport = htons(443);
  m->idiag_inode = 778;
  b.end();
  b.done();
  InetSockMap out;
  auto st = parse_inet_diag(b.bytes(), IPPROTO_TCP, out);
  ASSERT_TRUE(st) << st.error().message();
  EXPECT_EQ(*st, DumpStatus::done);
  ASSERT_EQ(out.size(), 2u);
  const InetSockInfo& s = out.at(777);
  EXPECT_EQ(s.family, static_cast<uint32_t>(AF_INET));
  EXPECT_EQ(s.protocol, static_cast<uint32_t>(IPPROTO_TCP));
  EXPECT_EQ(s.src_addr, "127.0.0.1");
  EXPECT_EQ(s.src_port, 8080u);
  EXPECT_EQ(s.dst_addr, "10.1.2.3");
  EXPECT_EQ(s.dst_port, 40000u);
  EXPECT_EQ(s.ifindex, 3u);
  EXPECT_EQ(s.rqueue, 5u);
  EXPECT_EQ(s.shutdown, 1u);
  EXPECT_EQ(out.at(778).src_addr, "::1");
  EXPECT_FALSE(out.at(778).shutdown.has_value());
  // Truncated inet_diag_msg.
  Builder t;
  nlh = t.begin(SOCK_DIAG_BY_FAMILY);
  mnl_nlmsg_put_extra_header(nlh, sizeof(inet_diag_msg) - 8);
  t.end();
  EXPECT_FALSE(parse_inet_diag(t.bytes(), IPPROTO_TCP, out));
}

// Found by fuzzing: a nlmsg_len of 2 GiB or more is negative as an int and
// passed mnl_nlmsg_ok(); the inet_diag_msg was then copied from past the
// buffer.
TEST(InetDiagParse, HugeNlmsgLen) {
  Builder b;
  nlmsghdr* nlh = b.begin(SOCK_DIAG_BY_FAMILY);
  auto* m = static_cast<inet_diag_msg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(inet_diag_msg)));
  m->idiag_family = AF_INET;
  m->idiag_inode = 5;
  b.end();
  // Only the netlink header and part of the payload are in the buffer.
  std::vector<uint8_t> v(b.bytes().begin(), b.bytes().begin() + 40);
  uint32_t huge = 0xa3ff0084;
  std::memcpy(v.data(), &huge, sizeof huge);  // nlmsg_len
  InetSockMap out;
  auto r = parse_inet_diag(v, IPPROTO_TCP, out);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message().find("truncated"), std::string::npos) << r.error().message();
  EXPECT_TRUE(out.empty());
  UnixSockMap uout;
  auto u = parse_unix_diag(v, uout);
  ASSERT_FALSE(u);
  EXPECT_NE(u.error().message().find("truncated"), std::string::npos) << u.error().message();
}

// An unpadded last message (nlmsg_len not a multiple of 4): attributes are
// bounded by nlmsg_len, not by its aligned value (which lies past the
// buffer).  Here 2 bytes of an attribute header are inside the message and
// its type would be read from the 2 bytes after it.
TEST(InetDiagParse, AttributeHeaderPastUnpaddedMessage) {
  Builder b;
  nlmsghdr* nlh = b.begin(SOCK_DIAG_BY_FAMILY);
  auto* m = static_cast<inet_diag_msg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(inet_diag_msg)));
  m->idiag_family = AF_INET;
  m->idiag_inode = 6;
  std::size_t hdr = nlh->nlmsg_len;  // 16 + 72
  std::vector<uint8_t> v(b.raw().begin(), b.raw().begin() + hdr + 4);
  nlattr a{4, 0};  // a complete empty attribute, if the 4 bytes were there
  std::memcpy(v.data() + hdr, &a, sizeof a);
  uint32_t len = static_cast<uint32_t>(hdr + 2);
  std::memcpy(v.data(), &len, sizeof len);
  InetSockMap out;
  auto r = parse_inet_diag(std::span<const uint8_t>(v.data(), hdr + 2), IPPROTO_TCP, out);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message().find("past the end"), std::string::npos) << r.error().message();
  // The same attribute whole, in an unpadded message of 16 + 72 + 5 bytes:
  // accepted.
  std::vector<uint8_t> w(b.raw().begin(), b.raw().begin() + hdr + 5);
  nlattr sd{5, INET_DIAG_SHUTDOWN};
  std::memcpy(w.data() + hdr, &sd, sizeof sd);
  w[hdr + 4] = 2;
  len = static_cast<uint32_t>(hdr + 5);
  std::memcpy(w.data(), &len, sizeof len);
  auto ok = parse_inet_diag(w, IPPROTO_TCP, out);
  ASSERT_TRUE(ok) << ok.error().message();
  EXPECT_EQ(out.at(6).shutdown, 2u);
}

uint64_t inode_of(int fd) {
  struct stat st {};
  EXPECT_EQ(fstat(fd, &st), 0);
  return st.st_ino;
}

TEST(SockDiagLive, UnixSockets) {
  int sv[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
  Fd a(sv[0]), b(sv[1]);
  ASSERT_EQ(shutdown(a.get(), SHUT_WR), 0);
  ASSERT_EQ(write(b.get(), "hello", 5), 5);

  std::string path = "/tmp/ckpt-diag-" + std::to_string(getpid());
  unlink(path.c_str());
  Fd lst(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_un sa{};
  sa.sun_family = AF_UNIX;
  strncpy(sa.sun_path, path.c_str(), sizeof sa.sun_path - 1);
  ASSERT_EQ(bind(lst.get(), reinterpret_cast<sockaddr*>(&sa), sizeof sa), 0);
  ASSERT_EQ(listen(lst.get(), 8), 0);
  Fd cli(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  ASSERT_EQ(connect(cli.get(), reinterpret_cast<sockaddr*>(&sa), sizeof sa), 0);

  Fd absock(socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  sockaddr_un ab{};
  ab.sun_family = AF_UNIX;
  std::string aname = "ckpt-abs-" + std::to_string(getpid());
  memcpy(ab.sun_path + 1, aname.data(), aname.size());
  ASSERT_EQ(bind(absock.get(), reinterpret_cast<sockaddr*>(&ab),
                 static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + 1 + aname.size())),
            0);

  auto m = dump_unix_sockets();
  unlink(path.c_str());
  ASSERT_TRUE(m) << m.error().message();
  uint64_t ia = inode_of(a.get()), ib = inode_of(b.get()), il = inode_of(lst.get()),
           ic = inode_of(cli.get());
  ASSERT_TRUE(m->count(ia) && m->count(ib) && m->count(il) && m->count(ic));
  EXPECT_EQ(m->at(ia).peer_inode, ib);
  EXPECT_EQ(m->at(ib).peer_inode, ia);
  EXPECT_EQ(m->at(ia).type, static_cast<uint32_t>(SOCK_SEQPACKET));
  EXPECT_EQ(m->at(ia).shutdown, static_cast<uint32_t>(2));  // SEND_SHUTDOWN
  EXPECT_EQ(m->at(ia).rqueue, 5u);
  const UnixSockInfo& l = m->at(il);
  EXPECT_EQ(l.state, static_cast<uint32_t>(TCP_LISTEN));
  EXPECT_EQ(l.name, path);
  struct stat pst {};
  ASSERT_EQ(lstat(path.c_str(), &pst), -1);  // unlinked above; vfs inode came before
  EXPECT_TRUE(l.vfs_inode.has_value());
  // One connection not yet accepted: the kernel lists the CLIENT's inode
  // (the peer of the queued embryo), and the client's peer, the embryo, has
  // no inode yet (peer_inode 0).
  ASSERT_EQ(l.icons.size(), 1u);
  EXPECT_EQ(l.icons[0], ic);
  EXPECT_EQ(l.rqueue, 1u);
  EXPECT_EQ(l.wqueue, 8u);
  EXPECT_EQ(m->at(ic).peer_inode, 0u);
  EXPECT_EQ(m->at(ic).state, static_cast<uint32_t>(TCP_ESTABLISHED));
  EXPECT_EQ(m->at(inode_of(absock.get())).name, "@" + aname);
}

TEST(SockDiagLive, InetSockets) {
  Fd lst(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(lst.get(), reinterpret_cast<sockaddr*>(&sa), sizeof sa), 0);
  ASSERT_EQ(listen(lst.get(), 4), 0);
  socklen_t len = sizeof sa;
  ASSERT_EQ(getsockname(lst.get(), reinterpret_cast<sockaddr*>(&sa), &len), 0);
  uint32_t port = ntohs(sa.sin_port);
  Fd cli(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  ASSERT_EQ(connect(cli.get(), reinterpret_cast<sockaddr*>(&sa), sizeof sa), 0);
  Fd srv(accept4(lst.get(), nullptr, nullptr, SOCK_CLOEXEC));
  ASSERT_TRUE(srv.valid());
  ASSERT_EQ(write(cli.get(), "abc", 3), 3);
  sockaddr_in ca{};
  len = sizeof ca;
  ASSERT_EQ(getsockname(cli.get(), reinterpret_cast<sockaddr*>(&ca), &len), 0);

  Fd udp(socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  sockaddr_in6 u{};
  u.sin6_family = AF_INET6;
  u.sin6_addr = in6addr_loopback;
  ASSERT_EQ(bind(udp.get(), reinterpret_cast<sockaddr*>(&u), sizeof u), 0);
  len = sizeof u;
  ASSERT_EQ(getsockname(udp.get(), reinterpret_cast<sockaddr*>(&u), &len), 0);

  // Wait until the 3 bytes reached the server's receive queue.
  char c;
  for (int i = 0; i < 100 && recv(srv.get(), &c, 1, MSG_PEEK | MSG_DONTWAIT) != 1; ++i)
    usleep(1000);

  auto m = dump_inet_sockets();
  ASSERT_TRUE(m) << m.error().message();
  uint64_t il = inode_of(lst.get()), ic = inode_of(cli.get()), is = inode_of(srv.get()),
           iu = inode_of(udp.get());
  ASSERT_TRUE(m->count(il) && m->count(ic) && m->count(is) && m->count(iu));
  EXPECT_EQ(m->at(il).state, static_cast<uint32_t>(TCP_LISTEN));
  EXPECT_EQ(m->at(il).src_port, port);
  EXPECT_EQ(m->at(il).src_addr, "127.0.0.1");
  EXPECT_EQ(m->at(il).protocol, static_cast<uint32_t>(IPPROTO_TCP));
  const InetSockInfo& cs = m->at(ic);
  EXPECT_EQ(cs.state, static_cast<uint32_t>(TCP_ESTABLISHED));
  EXPECT_EQ(cs.dst_port, port);
  EXPECT_EQ(cs.src_port, ntohs(ca.sin_port));
  const InetSockInfo& ss = m->at(is);
  EXPECT_EQ(ss.src_port, port);
  EXPECT_EQ(ss.dst_port, ntohs(ca.sin_port));
  EXPECT_EQ(ss.rqueue, 3u);
  EXPECT_EQ(ss.shutdown, 0u);
  const InetSockInfo& us = m->at(iu);
  EXPECT_EQ(us.family, static_cast<uint32_t>(AF_INET6));
  EXPECT_EQ(us.protocol, static_cast<uint32_t>(IPPROTO_UDP));
  EXPECT_EQ(us.src_addr, "::1");
  EXPECT_EQ(us.src_port, ntohs(u.sin6_port));
  EXPECT_EQ(us.state, static_cast<uint32_t>(TCP_CLOSE));
}

}  // namespace
}  // namespace ckpt::net
