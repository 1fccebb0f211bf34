#include "proc/stat.h"

#include <fmt/format.h>

#include <optional>
#include <vector>

#include "core/parse.h"
#include "proc/procfs.h"

namespace ckpt::proc {
namespace {

constexpr std::size_t kRequiredFields = 24;

// Field names, 1-based as in proc(5), for error messages.
const char* field_name(std::size_t n) {
  static const char* const names[] = {
      "",           "pid",        "comm",        "state",       "ppid",       "pgrp",
      "session",    "tty_nr",     "tpgid",       "flags",       "minflt",     "cminflt",
      "majflt",     "cmajflt",    "utime",       "stime",       "cutime",     "cstime",
      "priority",   "nice",       "num_threads", "itrealvalue", "starttime",  "vsize",
      "rss",        "rsslim",     "startcode",   "endcode",     "startstack", "kstkesp",
      "kstkeip",    "signal",     "blocked",     "sigignore",   "sigcatch",   "wchan",
      "nswap",      "cnswap",     "exit_signal", "processor",   "rt_priority", "policy",
      "delayacct_blkio_ticks", "guest_time", "cguest_time", "start_data", "end_data",
      "start_brk",  "arg_start",  "arg_end",     "env_start",   "env_end",    "exit_code"};
  return n < std::size(names) ? names[n] : "field";
}

class Fields {
 public:
  explicit Fields(std::vector<std::string_view> rest) : rest_(std::move(rest)) {}
  // Field @n (1-based, n >= 3) as T; an absent optional field gives 0.
  template <class T>
  Result<T> get(std::size_t n, bool required) const {
    std::size_t idx = n - 3;
    if (idx >= rest_.size()) {
      if (required)
        return Error::msg(fmt::format("field {} ({}) missing", n, field_name(n)));
      return T{};
    }
    auto v = parse_int<T>(rest_[idx]);
    if (!v)
      return std::move(v).error().context(fmt::format("field {} ({})", n, field_name(n)));
    return v;
  }
  std::size_t count() const { return rest_.size() + 2; }

 private:
  std::vector<std::string_view> rest_;  // fields 3 and on
};

}  // namespace

Result<ProcStat> parse_stat(std::string_view text) {
  if (!text.empty() && text.back() == '\n')
    text.remove_suffix(1);
  std::size_t open = text.find(" (");
  std::size_t close = text.rfind(')');
  if (open == std::string_view::npos || close == std::string_view::npos || close < open + 2)
    return Error::msg("no '(comm)' field");
  ProcStat st;
  auto pid = parse_int<pid_t>(text.substr(0, open));
  if (!pid || *pid <= 0)
    return Error::msg("field 1 (pid): bad pid " + quote(text.substr(0, open)));
  st.pid = *pid;
  st.comm = std::string(text.substr(open + 2, close - open - 2));
  std::string_view after = text.substr(close + 1);
  if (after.empty() || after[0] != ' ')
    return Error::msg("nothing after '(comm)'");

  std::vector<std::string_view> tokens = split_ws(after);
  if (tokens.size() + 2 < kRequiredFields)
    return Error::msg(fmt::format("{} fields, expected at least {}", tokens.size() + 2,
                                  kRequiredFields));
  std::string_view state = tokens[0];
  Fields f(std::move(tokens));
  if (state.size() != 1 || !((state[0] >= 'A' && state[0] <= 'Z') || (state[0] >= 'a' && state[0] <= 'z')))
    return Error::msg("field 3 (state): bad state " + quote(state));
  st.state = state[0];
  st.field_count = f.count();

  // The numeric fields; the first bad one is the error.
  std::optional<Error> first;
  auto take = [&](auto& out, std::size_t n, bool required) {
    if (first)
      return;
    using T = std::remove_reference_t<decltype(out)>;
    auto v = f.get<T>(n, required);
    if (!v)
      first = std::move(v).error();
    else
      out = *v;
  };
  take(st.ppid, 4, true);
  take(st.pgrp, 5, true);
  take(st.session, 6, true);
  take(st.tty_nr, 7, true);
  take(st.tpgid, 8, true);
  take(st.flags, 9, true);
  take(st.minflt, 10, true);
  take(st.cminflt, 11, true);
  take(st.majflt, 12, true);
  take(st.cmajflt, 13, true);
  take(st.utime, 14, true);
  take(st.stime, 15, true);
  take(st.cutime, 16, true);
  take(st.cstime, 17, true);
  take(st.priority, 18, true);
  take(st.nice, 19, true);
  take(st.num_threads, 20, true);
  int64_t itrealvalue = 0;
  take(itrealvalue, 21, true);
  take(st.starttime, 22, true);
  take(st.vsize, 23, true);
  take(st.rss, 24, true);
  uint64_t unused = 0;
  take(unused, 25, false);  // rsslim
  take(st.start_code, 26, false);
  take(st.end_code, 27, false);
  take(st.start_stack, 28, false);
  for (std::size_t n = 29; n <= 37; ++n)  // kstkesp .. cnswap: obsolete or shown elsewhere
    take(unused, n, false);
  take(st.exit_signal, 38, false);
  take(st.processor, 39, false);
  take(st.rt_priority, 40, false);
  take(st.policy, 41, false);
  for (std::size_t n = 42; n <= 44; ++n)
    take(unused, n, false);
  take(st.start_data, 45, false);
  take(st.end_data, 46, false);
  take(st.start_brk, 47, false);
  take(st.arg_start, 48, false);
  take(st.arg_end, 49, false);
  take(st.env_start, 50, false);
  take(st.env_end, 51, false);
  take(st.exit_code, 52, false);
  if (first)
    return std::move(*first);
  if (st.ppid < 0 || st.pgrp < 0 || st.session < 0 || st.num_threads < 0)
    return Error::msg("negative pid, group, session or thread count");
  return st;
}

Result<ProcStat> read_stat(pid_t pid) {
  auto path = proc_path(pid, "stat");
  auto text = read_proc(path);
  if (!text)
    return std::move(text).error();
  return parse_stat(*text).context("parse " + path);
}

Result<ProcStat> read_task_stat(pid_t pid, pid_t tid) {
  auto path = proc_task_path(pid, tid, "stat");
  auto text = read_proc(path);
  if (!text)
    return std::move(text).error();
  return parse_stat(*text).context("parse " + path);
}

std::string_view state_name(char state) {
  switch (state) {
    case 'R': return "running";
    case 'S': return "sleeping";
    case 'D': return "disk sleep";
    case 'T': return "stopped";
    case 't': return "tracing stop";
    case 'X': return "dead";
    case 'Z': return "zombie";
    case 'P': return "parked";
    case 'I': return "idle";
    default: return "unknown";
  }
}

}  // namespace ckpt::proc
