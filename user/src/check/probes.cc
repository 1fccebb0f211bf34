#include "check/probes.h"

#include <linux/capability.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <fmt/format.h>

#include <cerrno>
#include <cstring>

#include "core/file.h"
#include "core/scope_guard.h"
#include "kmod/device.h"

#ifndef CAP_CHECKPOINT_RESTORE
#define CAP_CHECKPOINT_RESTORE 40
#endif

namespace ckpt::check {
namespace {

// Does a cgroup under @mount_point have @file?  Looks at existing child
// cgroups first; failing that creates a short-lived one.  Returns "" and
// sets *found, or an explanation when it cannot tell.
std::string probe_v2_file(const std::string& mount_point, const char* file, bool* found) {
  *found = false;
  auto subs = list_dir(mount_point);
  if (subs) {
    for (const auto& name : *subs) {
      std::string dir = mount_point + "/" + name;
      struct stat st;
      if (::stat(dir.c_str(), &st) == 0 && S_ISDIR(st.st_mode) &&
          ::access((dir + "/cgroup.procs").c_str(), F_OK) == 0) {
        *found = ::access((dir + "/" + file).c_str(), F_OK) == 0;
        return {};
      }
    }
  }
  std::string probe = fmt::format("{}/ckpt-check.{}", mount_point, ::getpid());
  if (::mkdir(probe.c_str(), 0700) < 0)
    return fmt::format("no child cgroup to look at, and mkdir failed: {}", std::strerror(errno));
  auto cleanup = on_scope_exit([&] { ::rmdir(probe.c_str()); });
  *found = ::access((probe + "/" + file).c_str(), F_OK) == 0;
  return {};
}

}  // namespace

Item probe_module(const std::string& device_path) {
  Item it{"module", "ckpt.ko (" + device_path + ")", Status::missing, {}, {}, {}};
  it.data["device"] = device_path;
  it.data["built_abi"] = kmod::kAbiVersion;
  auto dev = kmod::Device::open(device_path);
  if (!dev) {
    it.detail = dev.error().message();
    it.hint = dev.error().code() == ENOENT
                  ? "load the module: insmod build/$(uname -r)/kmod/ckpt.ko (Documentation/usage.md)"
                  : "run ckpt-user as root";
    return it;
  }
  auto info = dev->info();
  if (!info) {
    it.detail = info.error().message();
    it.hint = "is " + device_path + " the ckpt module's device?";
    return it;
  }
  it.data["abi"] = info->abi_version;
  it.data["xstate_size"] = info->xstate_size;
  it.data["task_record_size"] = info->task_record_size;
  auto abi = kmod::check_abi(*info);
  if (!abi) {
    it.detail = abi.error().message();
    it.hint = "build ckpt.ko and ckpt-user from the same tree";
    return it;
  }
  it.status = Status::ok;
  it.detail = fmt::format("ABI {} (this binary: {}), XSAVE area {} bytes", info->abi_version,
                          kmod::kAbiVersion, info->xstate_size);
  return it;
}

Item probe_cgroup_v2(const cg::CgroupMounts& mounts) {
  Item it{"cgroup-v2", "cgroup v2 freezer", Status::absent, {}, {}, {}};
  const cg::CgroupMount* m = mounts.preferred(cg::Version::v2);
  if (!m) {
    it.detail = "cgroup2 is not mounted";
    it.hint = "mount -t cgroup2 none /sys/fs/cgroup (or use the v1 freezer)";
    return it;
  }
  it.data["mount"] = m->mount_point;
  bool freeze = false;
  std::string why = probe_v2_file(m->mount_point, "cgroup.freeze", &freeze);
  it.data["cgroup_freeze"] = freeze;
  if (!why.empty()) {
    it.detail = fmt::format("mounted at {}; cgroup.freeze: cannot tell ({})", m->mount_point, why);
    it.hint = "run as root";
    return it;
  }
  if (!freeze) {
    it.detail = fmt::format("mounted at {}, but its cgroups have no cgroup.freeze", m->mount_point);
    it.hint = "the v2 freezer needs Linux 5.2 or later; use the v1 freezer";
    return it;
  }
  bool kill = false;
  (void)probe_v2_file(m->mount_point, "cgroup.kill", &kill);
  it.data["cgroup_kill"] = kill;
  it.status = Status::ok;
  it.detail = fmt::format("mounted at {}, cgroup.freeze available{}", m->mount_point,
                          kill ? ", cgroup.kill available" : "");
  return it;
}

Item probe_cgroup_v1_freezer(const cg::CgroupMounts& mounts) {
  Item it{"cgroup-v1-freezer", "cgroup v1 freezer", Status::absent, {}, {}, {}};
  const cg::CgroupMount* m = mounts.preferred(cg::Version::v1_freezer);
  if (!m) {
    it.detail = "no cgroup v1 hierarchy with the freezer controller is mounted";
    it.hint = "mkdir -p /sys/fs/cgroup/freezer && mount -t cgroup -o freezer freezer "
              "/sys/fs/cgroup/freezer (or use cgroup v2)";
    return it;
  }
  it.data["mount"] = m->mount_point;
  it.status = Status::ok;
  it.detail = "mounted at " + m->mount_point;
  return it;
}

Item probe_privileges() {
  Item it{"privileges", "privileges", Status::missing, {}, {}, {}};
  struct __user_cap_header_struct hdr {};
  struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3] = {};
  hdr.version = _LINUX_CAPABILITY_VERSION_3;
  hdr.pid = 0;
  if (::syscall(SYS_capget, &hdr, data) < 0) {
    it.detail = fmt::format("capget: {}", std::strerror(errno));
    return it;
  }
  uint64_t eff = static_cast<uint64_t>(data[0].effective) |
                 (static_cast<uint64_t>(data[1].effective) << 32);
  bool ckpt = (eff >> CAP_CHECKPOINT_RESTORE) & 1;
  bool admin = (eff >> CAP_SYS_ADMIN) & 1;
  it.data["cap_checkpoint_restore"] = ckpt;
  it.data["cap_sys_admin"] = admin;
  it.data["euid"] = ::geteuid();
  if (!ckpt && !admin) {
    it.detail = "neither CAP_CHECKPOINT_RESTORE nor CAP_SYS_ADMIN is effective";
    it.hint = "run as root, or give ckpt-user CAP_CHECKPOINT_RESTORE "
              "(setcap cap_checkpoint_restore+ep)";
    return it;
  }
  it.status = Status::ok;
  std::string caps = ckpt && admin ? "CAP_CHECKPOINT_RESTORE, CAP_SYS_ADMIN"
                     : ckpt        ? "CAP_CHECKPOINT_RESTORE"
                                   : "CAP_SYS_ADMIN";
  it.detail = fmt::format("{} effective (euid {})", caps, ::geteuid());
  return it;
}

}  // namespace ckpt::check
