// /proc/PID/status (proc(5)): "Key:\tvalue" lines.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace ckpt::proc {

// Uid: and Gid: lines: real, effective, saved set, filesystem.
struct IdQuad {
  uint32_t real = 0, effective = 0, saved = 0, fs = 0;
};

struct ProcStatus {
  std::string name;  // comm, unescaped
  std::optional<uint32_t> umask;  // Linux >= 4.7
  char state = '?';
  pid_t tgid = 0, pid = 0, ppid = 0, tracer_pid = 0;
  IdQuad uid, gid;
  std::vector<uint32_t> groups;
  // Ids in each pid namespace, outermost first (Linux >= 4.1; empty before).
  std::vector<pid_t> ns_tgid, ns_pid, ns_pgid, ns_sid;
  uint32_t threads = 0;
  uint64_t sig_pnd = 0, shd_pnd = 0, sig_blk = 0, sig_ign = 0, sig_cgt = 0;
  uint64_t cap_inh = 0, cap_prm = 0, cap_eff = 0, cap_bnd = 0;
  std::optional<uint64_t> cap_amb;     // Linux >= 4.3
  std::optional<bool> no_new_privs;    // Linux >= 4.10
  std::optional<uint32_t> seccomp;     // 0 off, 1 strict, 2 filter; CONFIG_SECCOMP
};

// Name: as printed by the kernel: \n, \t, \\ ... escaped.
std::string unescape_status_name(std::string_view escaped);

Result<ProcStatus> parse_status(std::string_view text);
Result<ProcStatus> read_status(pid_t pid);
Result<ProcStatus> read_task_status(pid_t pid, pid_t tid);

}  // namespace ckpt::proc
