#include "proc/attrs.h"

#include <elf.h>
#include <fmt/format.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "core/file.h"
#include "core/parse.h"
#include "proc/procfs.h"

namespace ckpt::proc {
namespace {

// fs/proc/base.c lnames[], in RLIMIT_* order.
constexpr std::string_view kLimitNames[] = {
    "Max cpu time",       "Max file size",       "Max data size",     "Max stack size",
    "Max core file size", "Max resident set",    "Max processes",     "Max open files",
    "Max locked memory",  "Max address space",   "Max file locks",    "Max pending signals",
    "Max msgqueue size",  "Max nice priority",   "Max realtime priority",
    "Max realtime timeout"};

Result<uint64_t> limit_value(std::string_view tok) {
  if (tok == "unlimited")
    return kRlimInfinity;
  return parse_int<uint64_t>(tok);
}

Result<std::string> read_raw(pid_t pid, std::string_view name) {
  return read_proc(proc_path(pid, name));
}

}  // namespace

std::string rlimit_name(uint32_t resource) {
  static const char* const names[] = {
      "RLIMIT_CPU",     "RLIMIT_FSIZE",   "RLIMIT_DATA",   "RLIMIT_STACK",
      "RLIMIT_CORE",    "RLIMIT_RSS",     "RLIMIT_NPROC",  "RLIMIT_NOFILE",
      "RLIMIT_MEMLOCK", "RLIMIT_AS",      "RLIMIT_LOCKS",  "RLIMIT_SIGPENDING",
      "RLIMIT_MSGQUEUE", "RLIMIT_NICE",   "RLIMIT_RTPRIO", "RLIMIT_RTTIME"};
  if (resource < std::size(names))
    return names[resource];
  return fmt::format("RLIMIT_{}", resource);
}

Result<std::vector<RlimitValue>> parse_limits(std::string_view text) {
  std::vector<std::string_view> lines = split_lines(text);
  if (lines.empty() || !lines[0].starts_with("Limit "))
    return Error::msg("no 'Limit' header line");
  std::vector<RlimitValue> out;
  for (std::size_t i = 1; i < lines.size(); ++i) {
    std::string_view line = lines[i];
    if (trim(line).empty())
      continue;
    uint32_t res = 0;
    bool found = false;
    for (; res < std::size(kLimitNames); ++res) {
      std::string_view name = kLimitNames[res];
      if (line.starts_with(name) && line.size() > name.size() && line[name.size()] == ' ') {
        found = true;
        break;
      }
    }
    if (!found)
      return Error::msg(fmt::format("line {}: unknown limit {}", i + 1, quote(line)));
    std::vector<std::string_view> t = split_ws(line.substr(kLimitNames[res].size()));
    if (t.size() < 2 || t.size() > 3)
      return Error::msg(fmt::format("line {}: expected soft, hard [units], got {}", i + 1,
                                    quote(line)));
    auto soft = limit_value(t[0]);
    if (!soft)
      return std::move(soft).error().context(fmt::format("line {}: soft limit", i + 1));
    auto hard = limit_value(t[1]);
    if (!hard)
      return std::move(hard).error().context(fmt::format("line {}: hard limit", i + 1));
    if (std::any_of(out.begin(), out.end(), [&](const RlimitValue& r) { return r.resource == res; }))
      return Error::msg(fmt::format("line {}: {} twice", i + 1, kLimitNames[res]));
    out.push_back(RlimitValue{res, *soft, *hard});
  }
  std::sort(out.begin(), out.end(),
            [](const RlimitValue& a, const RlimitValue& b) { return a.resource < b.resource; });
  return out;
}

Result<std::vector<RlimitValue>> read_limits(pid_t pid) {
  auto path = proc_path(pid, "limits");
  auto text = read_proc(path);
  if (!text)
    return std::move(text).error();
  return parse_limits(*text).context("parse " + path);
}

Result<std::vector<RlimitValue>> get_rlimits(pid_t pid) {
  std::vector<RlimitValue> out;
  for (uint32_t r = 0; r < RLIM_NLIMITS; ++r) {
    struct rlimit64 lim {};
    if (::prlimit64(pid, static_cast<__rlimit_resource>(r), nullptr, &lim) != 0)
      return Error::from_errno(fmt::format("prlimit(pid {}, {})", pid, rlimit_name(r)));
    out.push_back(RlimitValue{r, lim.rlim_cur, lim.rlim_max});
  }
  return out;
}

Result<std::vector<AuxvEntry>> decode_auxv(std::string_view raw) {
  constexpr std::size_t word = sizeof(unsigned long);
  if (raw.size() % (2 * word) != 0)
    return Error::msg(fmt::format("auxv: {} bytes is not a whole number of pairs", raw.size()));
  std::vector<AuxvEntry> out;
  for (std::size_t off = 0; off < raw.size(); off += 2 * word) {
    unsigned long k = 0, v = 0;
    std::memcpy(&k, raw.data() + off, word);
    std::memcpy(&v, raw.data() + off + word, word);
    if (k == AT_NULL)
      return out;
    out.push_back(AuxvEntry{k, v});
  }
  return Error::msg("auxv: no AT_NULL terminator");
}

std::string auxv_key_name(uint64_t key) {
  switch (key) {
    case AT_NULL: return "AT_NULL";
    case AT_IGNORE: return "AT_IGNORE";
    case AT_EXECFD: return "AT_EXECFD";
    case AT_PHDR: return "AT_PHDR";
    case AT_PHENT: return "AT_PHENT";
    case AT_PHNUM: return "AT_PHNUM";
    case AT_PAGESZ: return "AT_PAGESZ";
    case AT_BASE: return "AT_BASE";
    case AT_FLAGS: return "AT_FLAGS";
    case AT_ENTRY: return "AT_ENTRY";
    case AT_NOTELF: return "AT_NOTELF";
    case AT_UID: return "AT_UID";
    case AT_EUID: return "AT_EUID";
    case AT_GID: return "AT_GID";
    case AT_EGID: return "AT_EGID";
    case AT_PLATFORM: return "AT_PLATFORM";
    case AT_HWCAP: return "AT_HWCAP";
    case AT_CLKTCK: return "AT_CLKTCK";
    case AT_SECURE: return "AT_SECURE";
    case AT_BASE_PLATFORM: return "AT_BASE_PLATFORM";
    case AT_RANDOM: return "AT_RANDOM";
    case AT_HWCAP2: return "AT_HWCAP2";
    case AT_EXECFN: return "AT_EXECFN";
    case AT_SYSINFO_EHDR: return "AT_SYSINFO_EHDR";
    case 27: return "AT_RSEQ_FEATURE_SIZE";
    case 28: return "AT_RSEQ_ALIGN";
    case 51: return "AT_MINSIGSTKSZ";
    default: return fmt::format("AT_{}", key);
  }
}

Result<std::string> read_auxv(pid_t pid) { return read_raw(pid, "auxv"); }
Result<std::string> read_cmdline(pid_t pid) { return read_raw(pid, "cmdline"); }
Result<std::string> read_environ(pid_t pid) { return read_raw(pid, "environ"); }

Result<std::string> read_proc_link(pid_t pid, std::string_view name) {
  auto path = proc_path(pid, name);
  std::string buf(256, '\0');
  for (;;) {
    ssize_t n = ::readlink(path.c_str(), buf.data(), buf.size());
    if (n < 0)
      return Error::from_errno("readlink " + path);
    if (static_cast<std::size_t>(n) < buf.size()) {
      buf.resize(static_cast<std::size_t>(n));
      return buf;
    }
    if (buf.size() >= (1u << 16))
      return Error::msg("readlink " + path + ": link longer than 64 KiB", ENAMETOOLONG);
    buf.resize(buf.size() * 2);
  }
}

Result<uint64_t> parse_ns_link(std::string_view link, std::string_view type) {
  std::string_view rest = link;
  if (!rest.starts_with(type) || rest.size() < type.size() + 3 || rest[type.size()] != ':' ||
      rest[type.size() + 1] != '[' || rest.back() != ']')
    return Error::msg(fmt::format("namespace link {} is not {}:[inode]", quote(link), type));
  auto ino = parse_int<uint64_t>(rest.substr(type.size() + 2, rest.size() - type.size() - 3));
  if (!ino)
    return std::move(ino).error().context("namespace link " + quote(link));
  return ino;
}

Result<std::vector<NamespaceId>> read_namespaces(pid_t pid) {
  auto names = list_dir(proc_path(pid, "ns"));
  if (!names)
    return std::move(names).error();
  std::sort(names->begin(), names->end());
  std::vector<NamespaceId> out;
  for (const std::string& name : *names) {
    auto link = read_proc_link(pid, "ns/" + name);
    if (!link)
      return std::move(link).error();
    // pid_for_children -> "pid:[...]", time_for_children -> "time:[...]".
    std::string_view type = name;
    if (type.ends_with("_for_children"))
      type.remove_suffix(std::string_view("_for_children").size());
    auto ino = parse_ns_link(*link, type);
    if (!ino)
      return std::move(ino).error();
    out.push_back(NamespaceId{name, *ino});
  }
  return out;
}

Result<uint32_t> parse_personality(std::string_view text) {
  auto v = parse_int<uint32_t>(trim(text), 16);
  if (!v)
    return std::move(v).error().context("personality");
  return v;
}

Result<uint32_t> read_personality(pid_t pid) {
  auto path = proc_path(pid, "personality");
  auto text = read_proc(path);
  if (!text)
    return std::move(text).error();
  return parse_personality(*text).context("parse " + path);
}

Result<int32_t> parse_oom_score_adj(std::string_view text) {
  auto v = parse_int<int32_t>(trim(text));
  if (!v)
    return std::move(v).error().context("oom_score_adj");
  if (*v < -1000 || *v > 1000)
    return Error::msg(fmt::format("oom_score_adj {} out of range -1000..1000", *v), ERANGE);
  return v;
}

Result<int32_t> read_oom_score_adj(pid_t pid) {
  auto path = proc_path(pid, "oom_score_adj");
  auto text = read_proc(path);
  if (!text)
    return std::move(text).error();
  return parse_oom_score_adj(*text).context("parse " + path);
}

}  // namespace ckpt::proc
