#include "proc/status.h"

#include <fmt/format.h>

#include <map>

#include "core/parse.h"
#include "proc/procfs.h"

namespace ckpt::proc {
namespace {

using Lines = std::map<std::string_view, std::string_view, std::less<>>;

class StatusFields {
 public:
  explicit StatusFields(Lines lines) : lines_(std::move(lines)) {}

  Result<std::string_view> raw(std::string_view key) const {
    auto it = lines_.find(key);
    if (it == lines_.end())
      return Error::msg(fmt::format("no {}: line", key));
    return it->second;
  }
  bool has(std::string_view key) const { return lines_.count(key) != 0; }

  template <class T>
  Result<T> number(std::string_view key, int base = 10) const {
    auto v = raw(key);
    if (!v)
      return std::move(v).error();
    auto n = parse_int<T>(trim(*v), base);
    if (!n)
      return std::move(n).error().context(std::string(key));
    return n;
  }

  template <class T>
  Result<std::vector<T>> list(std::string_view key) const {
    auto v = raw(key);
    if (!v)
      return std::move(v).error();
    std::vector<T> out;
    for (std::string_view tok : split_ws(*v)) {
      auto n = parse_int<T>(tok);
      if (!n)
        return std::move(n).error().context(std::string(key));
      out.push_back(*n);
    }
    return out;
  }

  Result<IdQuad> ids(std::string_view key) const {
    auto v = list<uint32_t>(key);
    if (!v)
      return std::move(v).error();
    if (v->size() != 4)
      return Error::msg(fmt::format("{}: {} ids, expected 4", key, v->size()));
    return IdQuad{(*v)[0], (*v)[1], (*v)[2], (*v)[3]};
  }

 private:
  Lines lines_;
};

Result<Lines> split_status(std::string_view text) {
  Lines lines;
  std::size_t n = 0;
  for (std::string_view line : split_lines(text)) {
    ++n;
    std::size_t colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0)
      return Error::msg(fmt::format("line {}: no 'Key:' in {}", n, quote(line)));
    std::string_view key = line.substr(0, colon);
    std::string_view value = line.substr(colon + 1);
    if (!value.empty() && value[0] == '\t')  // the kernel's separator
      value.remove_prefix(1);
    if (!lines.emplace(key, value).second)
      return Error::msg(fmt::format("line {}: duplicate {}:", n, key));
  }
  return lines;
}

}  // namespace

std::string unescape_status_name(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '\\' || i + 1 == s.size()) {
      out += s[i];
      continue;
    }
    char c = s[++i];
    switch (c) {
      case 'n': out += '\n'; break;
      case 't': out += '\t'; break;
      case 'r': out += '\r'; break;
      case 'f': out += '\f'; break;
      case 'v': out += '\v'; break;
      case 'a': out += '\a'; break;
      case 'e': out += '\x1b'; break;
      case '\\': out += '\\'; break;
      default:
        // \ooo (octal) for other bytes; anything else stays as written.
        if (c >= '0' && c <= '7' && i + 2 < s.size() && s[i + 1] >= '0' && s[i + 1] <= '7' &&
            s[i + 2] >= '0' && s[i + 2] <= '7') {
          unsigned v = static_cast<unsigned>((c - '0') * 64 + (s[i + 1] - '0') * 8 + (s[i + 2] - '0'));
          if (v <= 0xff) {
            out += static_cast<char>(v);
            i += 2;
            break;
          }
        }
        out += '\\';
        out += c;
    }
  }
  return out;
}

Result<ProcStatus> parse_status(std::string_view text) {
  auto lines = split_status(text);
  if (!lines)
    return std::move(lines).error();
  StatusFields f(std::move(*lines));
  ProcStatus st;

  // Every failure below is returned at once: one clear message per file.
#define CKPT_STATUS_TAKE(expr, dest)        \
  do {                                      \
    auto r_ = (expr);                       \
    if (!r_)                                \
      return std::move(r_).error();         \
    dest = std::move(*r_);                  \
  } while (0)

  auto name = f.raw("Name");
  if (!name)
    return std::move(name).error();
  st.name = unescape_status_name(*name);
  if (f.has("Umask")) {
    uint32_t umask = 0;
    CKPT_STATUS_TAKE(f.number<uint32_t>("Umask", 8), umask);
    if (umask > 0777)
      return Error::msg(fmt::format("Umask: {:o} out of range", umask));
    st.umask = umask;
  }
  auto state = f.raw("State");
  if (!state)
    return std::move(state).error();
  std::string_view s = trim(*state);
  if (s.empty() || !((s[0] >= 'A' && s[0] <= 'Z') || (s[0] >= 'a' && s[0] <= 'z')) ||
      (s.size() > 1 && s[1] != ' '))
    return Error::msg("State: bad state " + quote(*state));
  st.state = s[0];
  CKPT_STATUS_TAKE(f.number<pid_t>("Tgid"), st.tgid);
  CKPT_STATUS_TAKE(f.number<pid_t>("Pid"), st.pid);
  CKPT_STATUS_TAKE(f.number<pid_t>("PPid"), st.ppid);
  CKPT_STATUS_TAKE(f.number<pid_t>("TracerPid"), st.tracer_pid);
  CKPT_STATUS_TAKE(f.ids("Uid"), st.uid);
  CKPT_STATUS_TAKE(f.ids("Gid"), st.gid);
  CKPT_STATUS_TAKE(f.list<uint32_t>("Groups"), st.groups);
  if (f.has("NStgid"))
    CKPT_STATUS_TAKE(f.list<pid_t>("NStgid"), st.ns_tgid);
  if (f.has("NSpid"))
    CKPT_STATUS_TAKE(f.list<pid_t>("NSpid"), st.ns_pid);
  if (f.has("NSpgid"))
    CKPT_STATUS_TAKE(f.list<pid_t>("NSpgid"), st.ns_pgid);
  if (f.has("NSsid"))
    CKPT_STATUS_TAKE(f.list<pid_t>("NSsid"), st.ns_sid);
  CKPT_STATUS_TAKE(f.number<uint32_t>("Threads"), st.threads);
  CKPT_STATUS_TAKE(f.number<uint64_t>("SigPnd", 16), st.sig_pnd);
  CKPT_STATUS_TAKE(f.number<uint64_t>("ShdPnd", 16), st.shd_pnd);
  CKPT_STATUS_TAKE(f.number<uint64_t>("SigBlk", 16), st.sig_blk);
  CKPT_STATUS_TAKE(f.number<uint64_t>("SigIgn", 16), st.sig_ign);
  CKPT_STATUS_TAKE(f.number<uint64_t>("SigCgt", 16), st.sig_cgt);
  CKPT_STATUS_TAKE(f.number<uint64_t>("CapInh", 16), st.cap_inh);
  CKPT_STATUS_TAKE(f.number<uint64_t>("CapPrm", 16), st.cap_prm);
  CKPT_STATUS_TAKE(f.number<uint64_t>("CapEff", 16), st.cap_eff);
  CKPT_STATUS_TAKE(f.number<uint64_t>("CapBnd", 16), st.cap_bnd);
  if (f.has("CapAmb")) {
    uint64_t amb = 0;
    CKPT_STATUS_TAKE(f.number<uint64_t>("CapAmb", 16), amb);
    st.cap_amb = amb;
  }
  if (f.has("NoNewPrivs")) {
    uint32_t nnp = 0;
    CKPT_STATUS_TAKE(f.number<uint32_t>("NoNewPrivs"), nnp);
    if (nnp > 1)
      return Error::msg(fmt::format("NoNewPrivs: {} is not 0 or 1", nnp));
    st.no_new_privs = nnp == 1;
  }
  if (f.has("Seccomp")) {
    uint32_t mode = 0;
    CKPT_STATUS_TAKE(f.number<uint32_t>("Seccomp"), mode);
    if (mode > 2)
      return Error::msg(fmt::format("Seccomp: unknown mode {}", mode));
    st.seccomp = mode;
  }
#undef CKPT_STATUS_TAKE

  if (st.pid <= 0 || st.tgid <= 0 || st.ppid < 0 || st.tracer_pid < 0)
    return Error::msg("Pid/Tgid/PPid/TracerPid out of range");
  if (!st.ns_pid.empty() && st.ns_pid.front() != st.pid)
    return Error::msg("NSpid does not start with Pid");
  return st;
}

Result<ProcStatus> read_status(pid_t pid) {
  auto path = proc_path(pid, "status");
  auto text = read_proc(path);
  if (!text)
    return std::move(text).error();
  return parse_status(*text).context("parse " + path);
}

Result<ProcStatus> read_task_status(pid_t pid, pid_t tid) {
  auto path = proc_task_path(pid, tid, "status");
  auto text = read_proc(path);
  if (!text)
    return std::move(text).error();
  return parse_status(*text).context("parse " + path);
}

}  // namespace ckpt::proc
