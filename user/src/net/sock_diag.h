// Socket state from the kernel's sock_diag netlink interface (NETLINK_SOCK_DIAG,
// SOCK_DIAG_BY_FAMILY dumps), parsed with libmnl.
//
// The dumps list the sockets of the network namespace the netlink socket was
// created in (the caller's): a dump of a tree in another net namespace must
// open it from inside that namespace.
//
// The parse functions take the bytes of one or more netlink messages (one
// recv() of a dump reply) so that tests can feed recorded or constructed
// replies.  Truncated headers, attributes running past their message, short
// payloads and NLMSG_ERROR are errors; unknown attributes are ignored.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "core/result.h"

namespace ckpt::net {

struct UnixSockInfo {
  uint64_t inode = 0;
  uint32_t type = 0;            // SOCK_STREAM, SOCK_DGRAM, SOCK_SEQPACKET
  uint32_t state = 0;           // TCP_ESTABLISHED, TCP_LISTEN, TCP_CLOSE
  std::string name;             // path, "@abstract" (NUL shown as '@'), "" unbound
  std::optional<uint64_t> vfs_inode, vfs_dev;  // a bound path's inode
  uint64_t peer_inode = 0;      // 0 if none
  uint32_t rqueue = 0;          // bytes, or queued connections of a listener
  uint32_t wqueue = 0;          // bytes, or the backlog of a listener
  std::vector<uint64_t> icons;  // listener: inodes of queued connections
  std::optional<uint32_t> shutdown;  // SHUT_* bits (RCV_SHUTDOWN 1, SEND_SHUTDOWN 2)
};
using UnixSockMap = std::map<uint64_t, UnixSockInfo>;

struct InetSockInfo {
  uint64_t inode = 0;
  uint32_t family = 0;          // AF_INET, AF_INET6
  uint32_t protocol = 0;        // IPPROTO_TCP, IPPROTO_UDP
  uint32_t state = 0;           // TCP_* numbering
  std::string src_addr;         // inet_ntop text
  uint32_t src_port = 0;
  std::string dst_addr;
  uint32_t dst_port = 0;
  uint32_t rqueue = 0;
  uint32_t wqueue = 0;
  uint32_t ifindex = 0;         // bound device, 0 if none
  uint32_t uid = 0;
  std::optional<uint32_t> shutdown;  // INET_DIAG_SHUTDOWN
};
using InetSockMap = std::map<uint64_t, InetSockInfo>;

// What a parse of one buffer found: more messages to come, or NLMSG_DONE.
enum class DumpStatus { more, done };

// Adds the sockets of @buf (SOCK_DIAG_BY_FAMILY replies for AF_UNIX) to
// @out.  A duplicate inode is an error.
Result<DumpStatus> parse_unix_diag(std::span<const uint8_t> buf, UnixSockMap& out);
// The same for inet_diag replies of @protocol (the reply does not say it).
Result<DumpStatus> parse_inet_diag(std::span<const uint8_t> buf, uint32_t protocol,
                                   InetSockMap& out);

// Live dumps of the caller's network namespace.
Result<UnixSockMap> dump_unix_sockets();
// TCP and UDP, IPv4 and IPv6, all states.
Result<InetSockMap> dump_inet_sockets();

}  // namespace ckpt::net
