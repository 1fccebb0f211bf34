#include "cgroup/tasks.h"

#include <fcntl.h>

#include <fmt/format.h>

#include <algorithm>

#include "cgroup/cgroup.h"
#include "core/file.h"
#include "core/parse.h"
#include "proc/pidlist.h"
#include "proc/procfs.h"
#include "proc/stat.h"

namespace ckpt::cg {

Result<std::vector<pid_t>> Cgroup::subtree_list(const char* v2_file, const char* v1_file) const {
  const char* file = version_ == Version::v2 ? v2_file : v1_file;
  std::vector<pid_t> out;
  struct Pending {
    Fd dir;
    std::string path;
  };
  std::vector<Pending> stack;
  auto top = dir_.dup();
  if (!top)
    return std::move(top).error();
  stack.push_back({std::move(*top), path_});
  while (!stack.empty()) {
    Pending p = std::move(stack.back());
    stack.pop_back();
    auto text = read_file_at(p.dir.get(), file);
    if (!text) {
      if (text.error().code() == ENOENT && p.path != path_)
        continue;  // a child cgroup removed meanwhile
      return std::move(text).error().context(p.path);
    }
    auto pids = proc::parse_pid_list(*text);
    if (!pids)
      return std::move(pids).error().context(p.path + "/" + file);
    out.insert(out.end(), pids->begin(), pids->end());
    auto subs = list_subdirs_at(p.dir.get(), ".");
    if (!subs)
      return std::move(subs).error().context(p.path);
    for (const auto& name : *subs) {
      auto sub = Fd::open_at(p.dir.get(), name, O_RDONLY | O_DIRECTORY);
      if (!sub) {
        if (sub.error().code() == ENOENT)
          continue;
        return std::move(sub).error().context(p.path);
      }
      stack.push_back({std::move(*sub), p.path + "/" + name});
    }
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

Result<std::vector<pid_t>> Cgroup::subtree_threads() const {
  return subtree_list("cgroup.threads", "tasks");
}

Result<std::vector<pid_t>> Cgroup::subtree_procs() const {
  return subtree_list("cgroup.procs", "cgroup.procs");
}

std::vector<TaskSnapshot> snapshot_tasks(const std::vector<pid_t>& tids) {
  std::vector<TaskSnapshot> out;
  for (pid_t tid : tids) {
    auto st = proc::read_stat(tid);
    if (!st)
      continue;
    out.push_back({tid, st->comm, st->state, proc::read_wchan(tid)});
  }
  return out;
}

bool looks_frozen(Version v, const TaskSnapshot& t) {
  if (t.state == 'Z' || t.state == 'X')
    return true;  // exited: the freezer does not wait for it
  if (v == Version::v1_freezer)
    return t.state == 'D';
  if (t.state == 'T' || t.state == 't')
    return true;
  return t.state == 'S' &&
         (t.wchan.empty() || t.wchan == "get_signal" || t.wchan == "do_freezer_trap");
}

std::string describe_unfrozen(Version v, const std::vector<TaskSnapshot>& tasks, std::size_t max) {
  std::vector<const TaskSnapshot*> named;
  for (const auto& t : tasks)
    if (!looks_frozen(v, t))
      named.push_back(&t);
  std::string head;
  if (!named.empty()) {
    head = fmt::format("{} task{} not frozen: ", named.size(), named.size() == 1 ? "" : "s");
  } else {
    if (tasks.empty())
      return "no task left in the cgroup";
    for (const auto& t : tasks)
      named.push_back(&t);
    head = fmt::format("{} task{} in the cgroup: ", named.size(), named.size() == 1 ? "" : "s");
  }
  std::string out = head;
  for (std::size_t i = 0; i < named.size() && i < max; ++i) {
    const TaskSnapshot& t = *named[i];
    if (i)
      out += ", ";
    out += fmt::format("{} ({}) {} {}", t.tid, printable(t.comm), t.state, proc::state_name(t.state));
    if (!t.wchan.empty())
      out += " in " + t.wchan;
  }
  if (named.size() > max)
    out += fmt::format(", and {} more", named.size() - max);
  return out;
}

}  // namespace ckpt::cg
