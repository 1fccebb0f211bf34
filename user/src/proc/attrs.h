// Small per-process attributes: rlimits, auxv, cmdline/environ, the exe, cwd
// and root links, namespace inodes, personality, oom_score_adj.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace ckpt::proc {

inline constexpr uint64_t kRlimInfinity = ~0ull;

struct RlimitValue {
  uint32_t resource = 0;  // RLIMIT_*
  uint64_t cur = 0;       // kRlimInfinity for "unlimited"
  uint64_t max = 0;
};

// /proc/PID/limits: the table "Limit  Soft Limit  Hard Limit  Units".  Every
// row must be a known limit name; result sorted by resource.
Result<std::vector<RlimitValue>> parse_limits(std::string_view text);
Result<std::vector<RlimitValue>> read_limits(pid_t pid);
// prlimit(2) for every resource 0..RLIM_NLIMITS-1 (exact numbers; the
// preferred source).
Result<std::vector<RlimitValue>> get_rlimits(pid_t pid);
// "RLIMIT_NOFILE" ... or "RLIMIT_<n>".
std::string rlimit_name(uint32_t resource);

// auxv: (key, value) pairs of native unsigned longs, ending with AT_NULL.
struct AuxvEntry {
  uint64_t key = 0;
  uint64_t value = 0;
};
// The pairs before AT_NULL; an error if the size is not a multiple of a
// pair or AT_NULL is missing.
Result<std::vector<AuxvEntry>> decode_auxv(std::string_view raw);
// "AT_PAGESZ", ... or "AT_<n>".
std::string auxv_key_name(uint64_t key);

// Raw contents (NUL-separated for cmdline/environ, binary for auxv).
Result<std::string> read_auxv(pid_t pid);
Result<std::string> read_cmdline(pid_t pid);
Result<std::string> read_environ(pid_t pid);

// readlink /proc/PID/{exe,cwd,root}.
Result<std::string> read_proc_link(pid_t pid, std::string_view name);

struct NamespaceId {
  std::string type;  // "mnt", "pid", "net", ... (the /proc/PID/ns name)
  uint64_t inode = 0;
};
// "mnt:[4026531841]" -> 4026531841; the type before ':' must be @type.
Result<uint64_t> parse_ns_link(std::string_view link, std::string_view type);
// Every entry of /proc/PID/ns, sorted by type.
Result<std::vector<NamespaceId>> read_namespaces(pid_t pid);

// /proc/PID/personality: 8 hex digits.
Result<uint32_t> parse_personality(std::string_view text);
Result<uint32_t> read_personality(pid_t pid);
// /proc/PID/oom_score_adj: -1000..1000.
Result<int32_t> parse_oom_score_adj(std::string_view text);
Result<int32_t> read_oom_score_adj(pid_t pid);

}  // namespace ckpt::proc
