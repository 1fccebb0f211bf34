#include "check/features.h"

#include <fcntl.h>
#include <linux/netlink.h>
#include <linux/sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fmt/format.h>

#include <cerrno>
#include <cstring>

#include "core/fd.h"
#include "core/file.h"
#include "core/mapping.h"

namespace ckpt::check {
namespace {

Item make(const char* name, const char* title) {
  return Item{name, title, Status::missing, {}, {}, {}};
}

std::string errno_text(int err) { return std::strerror(err); }

// The pagemap entry of the page at @addr in this process.
Result<uint64_t> pagemap_entry(const void* addr) {
  auto fd = Fd::open("/proc/self/pagemap", O_RDONLY);
  if (!fd)
    return std::move(fd).error();
  uint64_t entry = 0;
  long page = ::sysconf(_SC_PAGESIZE);
  off_t off = static_cast<off_t>(reinterpret_cast<uintptr_t>(addr) / static_cast<uintptr_t>(page) *
                                 sizeof(entry));
  ssize_t n = ::pread(fd->get(), &entry, sizeof(entry), off);
  if (n < 0)
    return Error::from_errno("read /proc/self/pagemap");
  if (n != sizeof(entry))
    return Error::msg("short read of /proc/self/pagemap", EIO);
  return entry;
}

constexpr uint64_t kPagemapPresent = 1ull << 63;
constexpr uint64_t kPagemapSoftDirty = 1ull << 55;
constexpr uint64_t kPagemapPfnMask = (1ull << 55) - 1;

}  // namespace

Item probe_pidfd_open() {
  Item it = make("pidfd_open", "pidfd_open(2)");
  int fd = static_cast<int>(::syscall(SYS_pidfd_open, ::getpid(), 0));
  if (fd < 0) {
    it.detail = "pidfd_open: " + errno_text(errno);
    it.hint = errno == ENOSYS ? "needs Linux 5.3 or later" : "";
    return it;
  }
  ::close(fd);
  it.status = Status::ok;
  it.detail = "works";
  return it;
}

Item probe_pidfd_getfd() {
  Item it = make("pidfd_getfd", "pidfd_getfd(2)");
  Fd pidfd(static_cast<int>(::syscall(SYS_pidfd_open, ::getpid(), 0)));
  if (!pidfd) {
    it.detail = "needs pidfd_open: " + errno_text(errno);
    it.hint = "needs Linux 5.6 or later";
    return it;
  }
  // Fetch our own pidfd through itself.
  int fd = static_cast<int>(::syscall(SYS_pidfd_getfd, pidfd.get(), pidfd.get(), 0));
  if (fd < 0) {
    it.detail = "pidfd_getfd: " + errno_text(errno);
    it.hint = errno == ENOSYS ? "needs Linux 5.6 or later" : "needs ptrace access (run as root)";
    return it;
  }
  ::close(fd);
  it.status = Status::ok;
  it.detail = "works";
  return it;
}

Item probe_process_vm_readv() {
  Item it = make("process_vm_readv", "process_vm_readv(2)");
  char src[32] = "ckpt process_vm_readv probe";
  char dst[32] = {};
  struct iovec local = {dst, sizeof(dst)};
  struct iovec remote = {src, sizeof(src)};
  ssize_t n = ::process_vm_readv(::getpid(), &local, 1, &remote, 1, 0);
  if (n < 0) {
    it.detail = "process_vm_readv: " + errno_text(errno);
    it.hint = errno == ENOSYS ? "needs CONFIG_CROSS_MEMORY_ATTACH" : "";
    return it;
  }
  if (n != static_cast<ssize_t>(sizeof(src)) || std::memcmp(src, dst, sizeof(src)) != 0) {
    it.detail = "process_vm_readv returned wrong data";
    return it;
  }
  it.status = Status::ok;
  it.detail = "works";
  return it;
}

Item probe_pagemap() {
  Item it = make("pagemap", "/proc/PID/pagemap");
  long page = ::sysconf(_SC_PAGESIZE);
  auto map = Mapping::anonymous(static_cast<std::size_t>(page), PROT_READ | PROT_WRITE);
  if (!map) {
    it.detail = map.error().message();
    return it;
  }
  static_cast<volatile char*>(map->data())[0] = 1;
  auto entry = pagemap_entry(map->data());
  if (!entry) {
    it.detail = entry.error().message();
    it.hint = "needs CONFIG_PROC_PAGE_MONITOR";
    return it;
  }
  bool present = *entry & kPagemapPresent;
  bool pfn = (*entry & kPagemapPfnMask) != 0;
  it.data["present_bit"] = present;
  it.data["pfn_visible"] = pfn;
  if (!present) {
    it.detail = "a touched page is not reported present";
    return it;
  }
  if (!pfn) {
    it.detail = "readable, but PFNs are hidden";
    it.hint = "PFNs need CAP_SYS_ADMIN: run as root";
    return it;
  }
  it.status = Status::ok;
  it.detail = "present bits and PFNs visible";
  return it;
}

Item probe_soft_dirty() {
  Item it = make("soft-dirty", "soft-dirty bits");
  it.status = Status::absent;
  long page = ::sysconf(_SC_PAGESIZE);
  auto map = Mapping::anonymous(static_cast<std::size_t>(page), PROT_READ | PROT_WRITE);
  if (!map) {
    it.detail = map.error().message();
    return it;
  }
  volatile char* p = static_cast<volatile char*>(map->data());
  p[0] = 1;
  // Clearing our own soft-dirty bits changes nothing else.
  auto clear = write_file("/proc/self/clear_refs", "4");
  if (!clear) {
    it.detail = clear.error().message();
    it.hint = "optional (incremental dumps); needs CONFIG_MEM_SOFT_DIRTY";
    return it;
  }
  p[0] = 2;
  auto entry = pagemap_entry(map->data());
  if (!entry) {
    it.detail = entry.error().message();
    return it;
  }
  if (!(*entry & kPagemapSoftDirty)) {
    it.detail = "pagemap bit 55 stays clear after a write";
    it.hint = "optional (incremental dumps); needs CONFIG_MEM_SOFT_DIRTY";
    return it;
  }
  it.status = Status::ok;
  it.detail = "tracked";
  return it;
}

Item probe_proc_children() {
  Item it = make("proc-children", "/proc/PID/task/TID/children");
  std::string path = fmt::format("/proc/self/task/{}/children", ::gettid());
  auto text = read_file(path);
  if (!text) {
    it.detail = text.error().message();
    it.hint = "needs CONFIG_PROC_CHILDREN";
    return it;
  }
  it.status = Status::ok;
  it.detail = "readable";
  return it;
}

Item probe_clone3() {
  Item it = make("clone3", "clone3(2) with set_tid");
  // An unreadable set_tid array: a kernel that knows set_tid fails with
  // EFAULT before creating anything; one that does not refuses the larger
  // struct with E2BIG; one without clone3 says ENOSYS.
  struct clone_args args;
  std::memset(&args, 0, sizeof(args));
  args.exit_signal = SIGCHLD;
  args.set_tid = ~0ull;
  args.set_tid_size = 1;
  long r = ::syscall(SYS_clone3, &args, sizeof(args));
  int err = errno;
  if (r == 0)
    ::_exit(0);  // cannot happen; never run on in a child
  if (r > 0) {
    ::waitpid(static_cast<pid_t>(r), nullptr, 0);
    it.detail = "clone3 accepted an unreadable set_tid";
    return it;
  }
  it.data["errno"] = err;
  switch (err) {
    case EFAULT:
      it.status = Status::ok;
      it.detail = "available, with set_tid";
      it.data["set_tid"] = true;
      break;
    case E2BIG:
      it.detail = "available, but without set_tid";
      it.hint = "restoring pids needs Linux 5.5 or later";
      it.data["set_tid"] = false;
      break;
    case ENOSYS:
      it.detail = "not available";
      it.hint = "needs Linux 5.3 or later (5.5 for set_tid)";
      break;
    default:
      it.detail = "unexpected result: " + errno_text(err);
      break;
  }
  return it;
}

Item probe_sock_diag() {
  Item it = make("sock_diag", "sock_diag netlink");
  Fd s(::socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG));
  if (!s) {
    it.detail = "socket(AF_NETLINK, NETLINK_SOCK_DIAG): " + errno_text(errno);
    it.hint = "needs CONFIG_INET_DIAG / CONFIG_UNIX_DIAG (modprobe inet_diag unix_diag)";
    return it;
  }
  it.status = Status::ok;
  it.detail = "socket opens";
  return it;
}

}  // namespace ckpt::check
