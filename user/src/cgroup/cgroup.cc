#include "cgroup/cgroup.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>

#include <cerrno>

#include "core/file.h"
#include "core/log.h"
#include "proc/keyed.h"
#include "proc/pidlist.h"

namespace ckpt::cg {
namespace {

// "/a/b/c" -> {"/a/b", "c"}; "c" -> {".", "c"}.
std::pair<std::string, std::string> split_parent(const std::string& path) {
  std::string p = path;
  while (p.size() > 1 && p.back() == '/')
    p.pop_back();
  std::size_t slash = p.rfind('/');
  if (slash == std::string::npos)
    return {".", p};
  if (slash == 0)
    return {"/", p.substr(1)};
  return {p.substr(0, slash), p.substr(slash + 1)};
}

}  // namespace

Result<Cgroup> Cgroup::open(const std::string& path, const std::vector<proc::MountInfo>& mounts) {
  auto dir = Fd::open(path, O_RDONLY | O_DIRECTORY);
  if (!dir)
    return Error::sys(dir.error().code(), "open cgroup " + path);
  struct stat st;
  if (::fstat(dir->get(), &st) < 0)
    return Error::from_errno("stat " + path);
  auto version = classify_dev(mounts, st.st_dev, path);
  if (!version)
    return std::move(version).error();
  return Cgroup(std::move(*dir), path, *version);
}

Result<Cgroup> Cgroup::open(const std::string& path) {
  auto mounts = proc::read_mountinfo();
  if (!mounts)
    return std::move(mounts).error();
  return open(path, *mounts);
}

Result<Cgroup> Cgroup::create(const std::string& path, const std::vector<proc::MountInfo>& mounts) {
  auto [parent_path, leaf] = split_parent(path);
  if (leaf.empty() || leaf == "." || leaf == "..")
    return Error::msg("bad cgroup name " + path);
  auto parent = open(parent_path, mounts);
  if (!parent)
    return std::move(parent).error().context("create cgroup " + path);
  if (::mkdirat(parent->dir_fd(), leaf.c_str(), 0755) < 0) {
    if (errno == EEXIST)
      return Error::msg("cgroup " + path + " already exists", EEXIST);
    return Error::from_errno("create cgroup " + path);
  }
  auto dir = Fd::open_at(parent->dir_fd(), leaf, O_RDONLY | O_DIRECTORY);
  if (!dir)
    return Error::sys(dir.error().code(), "open cgroup " + path);
  log::debug("created {} ({})", path, version_name(parent->version()));
  return Cgroup(std::move(*dir), path, parent->version());
}

Result<std::vector<pid_t>> Cgroup::procs() const {
  auto text = read_file_at(dir_fd(), "cgroup.procs");
  if (!text)
    return std::move(text).error().context(path_);
  return proc::parse_pid_list(*text).context(path_ + "/cgroup.procs");
}

Result<std::vector<pid_t>> Cgroup::threads() const {
  const char* file = version_ == Version::v2 ? "cgroup.threads" : "tasks";
  auto text = read_file_at(dir_fd(), file);
  if (!text)
    return std::move(text).error().context(path_);
  return proc::parse_pid_list(*text).context(path_ + "/" + file);
}

Result<void> Cgroup::add_process(pid_t pid) const {
  auto r = write_file_at(dir_fd(), "cgroup.procs", std::to_string(pid));
  if (!r)
    return std::move(r).error().context(fmt::format("move pid {} into {}", pid, path_));
  return {};
}

Result<bool> Cgroup::populated() const {
  if (version_ == Version::v2) {
    auto text = read_file_at(dir_fd(), "cgroup.events");
    if (!text)
      return std::move(text).error().context(path_);
    auto kv = proc::parse_flat_keyed(*text);
    if (!kv)
      return std::move(kv).error().context(path_ + "/cgroup.events");
    auto p = kv->get_u64("populated");
    if (!p)
      return std::move(p).error().context(path_ + "/cgroup.events");
    return *p != 0;
  }
  auto tids = subtree_threads();
  if (!tids)
    return std::move(tids).error();
  return !tids->empty();
}

Result<void> Cgroup::kill() const {
  if (version_ == Version::v2) {
    auto r = write_file_at(dir_fd(), "cgroup.kill", "1");
    if (r)
      return {};
    if (r.error().code() != ENOENT)
      return std::move(r).error().context("kill the tasks of " + path_);
    // Kernel < 5.14: no cgroup.kill.  v2-frozen tasks still die on SIGKILL.
  }
  auto pids = subtree_procs();
  if (!pids)
    return std::move(pids).error().context("kill the tasks of " + path_);
  for (pid_t pid : *pids)
    if (::kill(pid, SIGKILL) < 0 && errno != ESRCH)
      return Error::from_errno(fmt::format("kill pid {} of {}", pid, path_));
  if (version_ == Version::v1_freezer) {
    // Thaw every cgroup of the subtree: a child frozen by its own setting
    // would keep its killed tasks frozen.
    std::vector<Fd> stack;
    auto top = dir_.dup();
    if (!top)
      return std::move(top).error();
    stack.push_back(std::move(*top));
    while (!stack.empty()) {
      Fd d = std::move(stack.back());
      stack.pop_back();
      auto r = write_file_at(d.get(), "freezer.state", "THAWED");
      if (!r && r.error().code() != ENOENT)
        return std::move(r).error().context("thaw " + path_ + " to let its killed tasks die");
      auto subs = list_subdirs_at(d.get(), ".");
      if (!subs)
        return std::move(subs).error().context(path_);
      for (const auto& name : *subs) {
        auto sub = Fd::open_at(d.get(), name, O_RDONLY | O_DIRECTORY);
        if (sub)
          stack.push_back(std::move(*sub));
      }
    }
  }
  return {};
}

Result<void> Cgroup::remove() const {
  if (::rmdir(path_.c_str()) < 0) {
    if (errno == EBUSY)
      return Error::sys(EBUSY, "remove cgroup " + path_ + " (it still has tasks or child cgroups)");
    return Error::from_errno("remove cgroup " + path_);
  }
  log::debug("removed {}", path_);
  return {};
}

}  // namespace ckpt::cg
