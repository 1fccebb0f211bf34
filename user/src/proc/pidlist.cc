#include "proc/pidlist.h"

#include <fmt/format.h>

#include "core/parse.h"

namespace ckpt::proc {

Result<std::vector<pid_t>> parse_pid_list(std::string_view text) {
  std::vector<pid_t> pids;
  std::size_t n = 0;
  for (std::string_view line : split_lines(text)) {
    ++n;
    auto pid = parse_int<pid_t>(line);
    if (!pid)
      return std::move(pid).error().context(fmt::format("line {}", n));
    if (*pid <= 0)
      return Error::msg(fmt::format("line {}: pid {} out of range", n, *pid));
    pids.push_back(*pid);
  }
  return pids;
}

}  // namespace ckpt::proc
