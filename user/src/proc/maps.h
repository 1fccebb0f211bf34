// /proc/PID/maps and /proc/PID/smaps (proc(5)).
//
//   7f2c8a000000-7f2c8a021000 rw-p 00000000 00:00 0          [heap]
//   7f2c8b000000-7f2c8b1c8000 r-xp 00028000 fe:01 1311253    /usr/lib/libc.so.6
//
// The path starts after the padding that follows the inode and runs to the
// end of the line: it may hold spaces.  The kernel escapes '\n' in it as
// "\012"; that is undone.  A " (deleted)" suffix on a file mapping is
// stripped from @path and sets @deleted (a file really named "x (deleted)"
// that still exists cannot be told apart: the kernel prints the same text;
// the caller can check with stat of map_files or the inode).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace ckpt::proc {

struct MapEntry {
  uint64_t start = 0;
  uint64_t end = 0;               // exclusive
  uint32_t prot = 0;              // PROT_READ | PROT_WRITE | PROT_EXEC
  bool shared = false;            // 's' (else 'p')
  uint64_t pgoff = 0;             // file offset in bytes (hex in the file)
  uint32_t dev_major = 0;
  uint32_t dev_minor = 0;
  uint64_t inode = 0;
  std::string path;               // "" anonymous, "[heap]", a file path ...
  bool deleted = false;           // " (deleted)" was stripped from @path

  // smaps only (empty / nullopt after a maps parse).
  std::vector<std::string> vm_flags;  // "rd", "wr", "mr", ...
  std::optional<uint64_t> rss_kb;
  std::optional<uint64_t> swap_kb;
  std::optional<bool> thp_eligible;

  uint64_t size() const { return end - start; }
  bool is_file() const { return inode != 0; }
  // "[heap]", "[stack]", "[vdso]", "[vvar]", "[vsyscall]", "[anon:...]"...
  bool is_special() const { return !path.empty() && path.front() == '[' && inode == 0; }
  bool has_vm_flag(std::string_view flag) const;
};

// One maps line (the first line of an smaps entry has the same format).
Result<MapEntry> parse_maps_line(std::string_view line);
// A whole maps file; a bad line is an error naming its number.
Result<std::vector<MapEntry>> parse_maps(std::string_view text);
Result<std::vector<MapEntry>> read_maps(pid_t pid);

// A whole smaps file: a header line per VMA (as maps) followed by "Key: value"
// lines.  Known keys: Rss, Swap, THPeligible, VmFlags; other keys are skipped
// (new kernels add some), but every line must be either a header or a
// "Key:" line.  A VMA without VmFlags is an error (every kernel since 3.8
// prints it).
Result<std::vector<MapEntry>> parse_smaps(std::string_view text);
Result<std::vector<MapEntry>> read_smaps(pid_t pid);

}  // namespace ckpt::proc
