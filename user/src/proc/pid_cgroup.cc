#include "proc/pid_cgroup.h"

#include <fmt/format.h>

#include "core/parse.h"
#include "proc/procfs.h"

namespace ckpt::proc {

bool CgroupMembership::has_controller(std::string_view name) const {
  for (const std::string& c : controllers)
    if (c == name)
      return true;
  return false;
}

Result<std::vector<CgroupMembership>> parse_proc_cgroup(std::string_view text) {
  std::vector<CgroupMembership> out;
  std::size_t n = 0;
  for (std::string_view line : split_lines(text)) {
    ++n;
    // The path may itself contain ':', so split at the first two only.
    std::size_t c1 = line.find(':');
    std::size_t c2 = c1 == std::string_view::npos ? c1 : line.find(':', c1 + 1);
    if (c2 == std::string_view::npos)
      return Error::msg(fmt::format("line {}: expected 'id:controllers:path', got {}", n,
                                    quote(line)));
    CgroupMembership m;
    auto id = parse_int<uint32_t>(line.substr(0, c1));
    if (!id)
      return std::move(id).error().context(fmt::format("line {}: hierarchy id", n));
    m.hierarchy_id = *id;
    std::string_view ctrl = line.substr(c1 + 1, c2 - c1 - 1);
    if (!ctrl.empty()) {
      for (std::string_view c : split(ctrl, ',')) {
        if (c.empty())
          return Error::msg(fmt::format("line {}: empty controller name", n));
        m.controllers.emplace_back(c);
      }
    }
    m.path = std::string(line.substr(c2 + 1));
    if (m.path.empty() || m.path[0] != '/')
      return Error::msg(fmt::format("line {}: path {} is not absolute", n, quote(m.path)));
    if (m.hierarchy_id == 0 && !m.controllers.empty())
      return Error::msg(fmt::format("line {}: hierarchy 0 with controllers", n));
    out.push_back(std::move(m));
  }
  return out;
}

Result<std::vector<CgroupMembership>> read_proc_cgroup(pid_t pid) {
  auto path = proc_path(pid, "cgroup");
  auto text = read_proc(path);
  if (!text)
    return std::move(text).error();
  return parse_proc_cgroup(*text).context("parse " + path);
}

const CgroupMembership* find_v2(const std::vector<CgroupMembership>& entries) {
  for (const auto& e : entries)
    if (e.is_v2())
      return &e;
  return nullptr;
}

const CgroupMembership* find_controller(const std::vector<CgroupMembership>& entries,
                                        std::string_view controller) {
  for (const auto& e : entries)
    if (e.has_controller(controller))
      return &e;
  return nullptr;
}

}  // namespace ckpt::proc
