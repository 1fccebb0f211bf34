// The memory map of a frozen process: ranges, protections, backing files
// and VmFlags, as /proc/PID/smaps shows them.
//
// With a module that has CKPT_IOC_VMAS, the flags come from the module (a
// walk of the VMA tree) and the paths from /proc/PID/maps, which does not
// walk page tables either; smaps, which computes Rss, Pss, Swap... for
// every VMA, is the single largest cost of the frozen window for a process
// with many mappings.  Without the command, /proc/PID/smaps is read.
#pragma once

#include <sys/types.h>

#include <linux/ckpt.h>

#include <span>
#include <string>
#include <vector>

#include "core/result.h"
#include "kmod/session.h"
#include "proc/maps.h"

namespace ckpt::dump {

// The smaps mnemonics of @v's flags ("rd", "wr", ...), in smaps' order,
// then "??" for each flag the module has no bit for (as smaps prints).
std::vector<std::string> vma_flag_names(const ckpt_vma& v);

// @maps (parsed /proc/PID/maps) with vm_flags filled from @vmas (the
// module's records of the same process).  The two must describe the same
// VMAs (start, end, offset, device, inode, protections, sharing), except
// for the vsyscall page, which maps lists and the module does not (its
// flags are derived from its protections, as smaps prints them); anything
// else is an EIO error naming the first difference.
Result<std::vector<proc::MapEntry>> join_vmas(std::vector<proc::MapEntry> maps,
                                              std::span<const ckpt_vma> vmas);

// The map of frozen process @pid: through @session when the module has
// CKPT_IOC_VMAS, otherwise (or with no session) from /proc/PID/smaps.
// @brk, if given, gets the program break, which only the module knows
// (/proc shows start_brk only): 0 without it.
Result<std::vector<proc::MapEntry>> read_vmas(const kmod::Session* session, pid_t pid,
                                              uint64_t* brk = nullptr);

}  // namespace ckpt::dump
