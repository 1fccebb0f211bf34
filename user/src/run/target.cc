#include "run/target.h"

#include <sys/stat.h>

#include <cerrno>

#include "core/parse.h"

namespace ckpt::run {
namespace {

Result<void> check_components(std::string_view name) {
  std::string_view rest = name;
  if (!rest.empty() && rest.front() == '/')
    rest.remove_prefix(1);
  if (rest.empty())
    return Error::msg("empty cgroup name " + quote(name));
  for (std::string_view c : split(rest, '/')) {
    if (c.empty() || c == "." || c == "..")
      return Error::msg("bad cgroup name " + quote(name) +
                        " (no empty, '.' or '..' components, no trailing '/')");
  }
  return {};
}

std::string parent_of(const std::string& path) {
  std::size_t slash = path.rfind('/');
  return slash == 0 ? "/" : path.substr(0, slash);
}

}  // namespace

Result<Target> resolve_target(std::string_view name, bool want_v1,
                              const std::vector<proc::MountInfo>& mounts) {
  auto ok = check_components(name);
  if (!ok)
    return std::move(ok).error();
  if (name.front() != '/') {
    cg::CgroupMounts found = cg::find_cgroup_mounts(mounts);
    cg::Version v = want_v1 ? cg::Version::v1_freezer : cg::Version::v2;
    const cg::CgroupMount* m = found.preferred(v);
    if (!m)
      return Error::msg(std::string(cg::version_name(v)) + " is not mounted (see ckpt-user check)",
                        ENOENT);
    return Target{m->mount_point + "/" + std::string(name), v};
  }
  std::string path(name);
  std::string parent = parent_of(path);
  struct stat st;
  if (::stat(parent.c_str(), &st) < 0)
    return Error::from_errno("parent cgroup " + parent);
  auto version = cg::classify_dev(mounts, st.st_dev, parent);
  if (!version)
    return std::move(version).error();
  if (want_v1 && *version != cg::Version::v1_freezer)
    return Error::msg("--v1 given, but " + path + " is on " + std::string(cg::version_name(*version)));
  return Target{path, *version};
}

}  // namespace ckpt::run
