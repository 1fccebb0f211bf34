#include "dump/vmas.h"

#include <sys/mman.h>

#include <fmt/format.h>

#include <array>
#include <cerrno>

namespace ckpt::dump {
namespace {

// CKPT_IOC_VMAS bit -> smaps mnemonic (uapi/linux/ckpt.h).  The bits are
// numbered in smaps' order, so listing them from 0 up gives that order.
constexpr std::array<const char*, 64> kNames = [] {
  std::array<const char*, 64> n{};
  auto set = [&n](unsigned long long bit, const char* name) {
    for (unsigned i = 0; i < 64; ++i)
      if (bit == (1ULL << i))
        n[i] = name;
  };
  set(CKPT_VMA_READ, "rd");
  set(CKPT_VMA_WRITE, "wr");
  set(CKPT_VMA_EXEC, "ex");
  set(CKPT_VMA_SHARED, "sh");
  set(CKPT_VMA_MAYREAD, "mr");
  set(CKPT_VMA_MAYWRITE, "mw");
  set(CKPT_VMA_MAYEXEC, "me");
  set(CKPT_VMA_MAYSHARE, "ms");
  set(CKPT_VMA_GROWSDOWN, "gd");
  set(CKPT_VMA_UFFD_MISSING, "um");
  set(CKPT_VMA_PFNMAP, "pf");
  set(CKPT_VMA_UFFD_WP, "uw");
  set(CKPT_VMA_LOCKED, "lo");
  set(CKPT_VMA_IO, "io");
  set(CKPT_VMA_SEQ_READ, "sr");
  set(CKPT_VMA_RAND_READ, "rr");
  set(CKPT_VMA_DONTCOPY, "dc");
  set(CKPT_VMA_DONTEXPAND, "de");
  set(CKPT_VMA_LOCKONFAULT, "lf");
  set(CKPT_VMA_ACCOUNT, "ac");
  set(CKPT_VMA_NORESERVE, "nr");
  set(CKPT_VMA_HUGETLB, "ht");
  set(CKPT_VMA_SYNC, "sf");
  set(CKPT_VMA_ARCH_1, "ar");
  set(CKPT_VMA_WIPEONFORK, "wf");
  set(CKPT_VMA_DONTDUMP, "dd");
  set(CKPT_VMA_SOFTDIRTY, "sd");
  set(CKPT_VMA_MIXEDMAP, "mm");
  set(CKPT_VMA_HUGEPAGE, "hg");
  set(CKPT_VMA_NOHUGEPAGE, "nh");
  set(CKPT_VMA_MERGEABLE, "mg");
  set(CKPT_VMA_SHADOW_STACK, "ss");
  set(CKPT_VMA_UFFD_MINOR, "ui");
  set(CKPT_VMA_DROPPABLE, "dp");
  set(CKPT_VMA_SEALED, "sl");
  return n;
}();

std::string describe(const proc::MapEntry& m) {
  return fmt::format("{:x}-{:x} {}", m.start, m.end, m.path.empty() ? "(anonymous)" : m.path);
}

}  // namespace

std::vector<std::string> vma_flag_names(const ckpt_vma& v) {
  std::vector<std::string> out;
  for (unsigned i = 0; i < 64; ++i) {
    if (!(v.flags & (1ULL << i)))
      continue;
    out.emplace_back(kNames[i] ? kNames[i] : "??");
  }
  for (uint32_t i = 0; i < v.nr_unknown; ++i)
    out.emplace_back("??");
  return out;
}

Result<std::vector<proc::MapEntry>> join_vmas(std::vector<proc::MapEntry> maps,
                                              std::span<const ckpt_vma> vmas) {
  std::size_t j = 0;
  for (auto& m : maps) {
    if (j == vmas.size() || vmas[j].start != m.start) {
      // The vsyscall page: the kernel's gate VMA, no VMA of the process.
      // smaps prints its flags as the mnemonics of VM_READ/VM_EXEC.
      if (m.path == "[vsyscall]" && m.inode == 0) {
        m.vm_flags.clear();
        if (m.prot & PROT_READ)
          m.vm_flags.emplace_back("rd");
        if (m.prot & PROT_EXEC)
          m.vm_flags.emplace_back("ex");
        continue;
      }
      return Error::msg(
          fmt::format("memory map: /proc/PID/maps lists {} where the module has {}", describe(m),
                      j == vmas.size() ? std::string("no more VMAs")
                                       : fmt::format("a VMA at {:x}", vmas[j].start)),
          EIO);
    }
    const ckpt_vma& v = vmas[j++];
    uint32_t prot = ((v.flags & CKPT_VMA_READ) ? PROT_READ : 0) |
                    ((v.flags & CKPT_VMA_WRITE) ? PROT_WRITE : 0) |
                    ((v.flags & CKPT_VMA_EXEC) ? PROT_EXEC : 0);
    bool shared = (v.flags & CKPT_VMA_MAYSHARE) != 0;
    if (v.end != m.end || v.pgoff != m.pgoff || v.ino != m.inode || v.dev_major != m.dev_major ||
        v.dev_minor != m.dev_minor || prot != m.prot || shared != m.shared)
      return Error::msg(
          fmt::format("memory map: /proc/PID/maps and the module disagree about {} (module: "
                      "{:x}-{:x} offset {:x} dev {:x}:{:x} inode {} flags {:#x})",
                      describe(m), v.start, v.end, v.pgoff, v.dev_major, v.dev_minor, v.ino,
                      static_cast<unsigned long long>(v.flags)),
          EIO);
    m.vm_flags = vma_flag_names(v);
  }
  if (j != vmas.size())
    return Error::msg(fmt::format("memory map: the module has a VMA at {:x} that /proc/PID/maps "
                                  "does not list",
                                  vmas[j].start),
                      EIO);
  return maps;
}

Result<std::vector<proc::MapEntry>> read_vmas(const kmod::Session* session, pid_t pid,
                                              uint64_t* brk) {
  if (brk)
    *brk = 0;
  if (!session || !session->has_vmas())
    return proc::read_smaps(pid);
  auto maps = proc::read_maps(pid);
  if (!maps)
    return std::move(maps).error();
  auto vmas = session->vmas(pid);
  if (!vmas)
    return std::move(vmas).error();
  auto joined = join_vmas(std::move(*maps), vmas->vmas);
  if (!joined)
    return std::move(joined).error().context(fmt::format("pid {}", pid));
  if (brk)
    *brk = vmas->brk;
  return joined;
}

}  // namespace ckpt::dump
