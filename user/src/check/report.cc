#include "check/report.h"

#include <sys/utsname.h>

#include <fmt/format.h>

#include <algorithm>

#include "cgroup/mounts.h"
#include "check/features.h"
#include "check/probes.h"
#include "kmod/device.h"
#include "proc/mountinfo.h"

namespace ckpt::check {

std::string_view status_name(Status s) {
  switch (s) {
    case Status::ok: return "ok";
    case Status::missing: return "missing";
    case Status::absent: return "absent";
  }
  return "?";
}

int Report::problems() const {
  return static_cast<int>(std::count_if(items.begin(), items.end(),
                                        [](const Item& i) { return i.status == Status::missing; }));
}

Report run_checks(const CheckOptions& options) {
  Report r;
  struct utsname u;
  if (::uname(&u) == 0)
    r.kernel = u.release;

  r.items.push_back(probe_module(options.device_path));

  auto mountinfo = proc::read_mountinfo();
  if (!mountinfo) {
    Item it{"cgroup-v2", "cgroup v2 freezer", Status::missing, mountinfo.error().message(), {}, {}};
    r.items.push_back(it);
    it.name = "cgroup-v1-freezer";
    it.title = "cgroup v1 freezer";
    r.items.push_back(it);
  } else {
    cg::CgroupMounts mounts = cg::find_cgroup_mounts(*mountinfo);
    Item v2 = probe_cgroup_v2(mounts);
    Item v1 = probe_cgroup_v1_freezer(mounts);
    // Either freezer will do; without both, both are problems.
    if (v2.status != Status::ok && v1.status != Status::ok) {
      v2.status = Status::missing;
      v1.status = Status::missing;
    }
    r.items.push_back(std::move(v2));
    r.items.push_back(std::move(v1));
  }

  r.items.push_back(probe_privileges());
  r.items.push_back(probe_pidfd_open());
  r.items.push_back(probe_pidfd_getfd());
  r.items.push_back(probe_process_vm_readv());
  r.items.push_back(probe_pagemap());
  r.items.push_back(probe_soft_dirty());
  r.items.push_back(probe_proc_children());
  r.items.push_back(probe_clone3());
  r.items.push_back(probe_sock_diag());
  return r;
}

std::string verdict_line(const Report& report) {
  int n = report.problems();
  if (n == 0)
    return "ckpt-user check: ready";
  return fmt::format("ckpt-user check: NOT ready ({} problem{})", n, n == 1 ? "" : "s");
}

std::string render_text(const Report& report) {
  std::size_t width = 0;
  for (const auto& i : report.items)
    width = std::max(width, i.title.size());
  std::string out = fmt::format("ckpt-user check: kernel {}, ckpt ABI {}\n", report.kernel,
                                kmod::kAbiVersion);
  for (const auto& i : report.items) {
    std::string_view mark = i.status == Status::ok       ? "ok"
                            : i.status == Status::missing ? "MISSING"
                                                          : "absent";
    out += fmt::format("  {:<{}}  {:<7}  {}\n", i.title, width, mark, i.detail);
    if (i.status != Status::ok && !i.hint.empty())
      out += fmt::format("  {:<{}}  {:<7}  hint: {}\n", "", width, "", i.hint);
  }
  out += verdict_line(report);
  out += '\n';
  return out;
}

nlohmann::json render_json(const Report& report) {
  nlohmann::json j;
  j["kernel"] = report.kernel;
  j["built_abi"] = kmod::kAbiVersion;
  j["ready"] = report.ready();
  j["problems"] = report.problems();
  j["checks"] = nlohmann::json::array();
  for (const auto& i : report.items) {
    nlohmann::json c;
    c["name"] = i.name;
    c["title"] = i.title;
    c["status"] = status_name(i.status);
    c["detail"] = i.detail;
    c["hint"] = i.hint;
    c["data"] = i.data.is_null() ? nlohmann::json::object() : i.data;
    j["checks"].push_back(std::move(c));
  }
  return j;
}

}  // namespace ckpt::check
