#include "proc/procfs.h"

#include <fmt/format.h>

#include <algorithm>

#include "core/file.h"
#include "core/parse.h"

namespace ckpt::proc {

std::string proc_path(pid_t pid, std::string_view file) {
  return fmt::format("/proc/{}/{}", pid, file);
}

std::string proc_task_path(pid_t pid, pid_t tid, std::string_view file) {
  return fmt::format("/proc/{}/task/{}/{}", pid, tid, file);
}

Result<std::string> read_proc(const std::string& path) { return read_file(path, 64u << 20); }

Result<std::vector<pid_t>> list_threads(pid_t pid) {
  auto names = list_dir(proc_path(pid, "task"));
  if (!names)
    return std::move(names).error();
  std::vector<pid_t> tids;
  for (const std::string& n : *names) {
    auto tid = parse_int<pid_t>(n);
    if (!tid || *tid <= 0)
      return Error::msg("unexpected entry " + quote(n) + " in " + proc_path(pid, "task"));
    tids.push_back(*tid);
  }
  std::sort(tids.begin(), tids.end());
  return tids;
}

std::string read_wchan(pid_t tid) {
  auto text = read_file(proc_path(tid, "wchan"), 4096);
  if (!text)
    return {};
  std::string_view w = trim(*text);
  if (w == "0")
    return {};
  return std::string(w);
}

}  // namespace ckpt::proc
