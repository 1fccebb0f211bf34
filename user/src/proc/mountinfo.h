// /proc/PID/mountinfo (proc(5)):
//
//   36 35 98:0 /mnt1 /mnt/parent rw,noatime master:1 - ext3 /dev/root rw,errors=continue
//   (1)(2)(3)   (4)   (5)         (6)       (7)     (8) (9)  (10)      (11)
//
// Fields 4, 5 and 10 escape space, tab, newline and backslash as \ooo.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace ckpt::proc {

struct MountInfo {
  uint32_t mount_id = 0;
  uint32_t parent_id = 0;
  uint32_t major = 0;
  uint32_t minor = 0;
  std::string root;         // path of the mount's root inside its filesystem
  std::string mount_point;  // where it is mounted (relative to our root)
  std::string mount_options;
  std::vector<std::string> optional_fields;  // shared:N, master:N, ...
  std::string fstype;
  std::string source;
  std::string super_options;

  // Is @option one of the comma-separated super options ("freezer" in
  // "rw,freezer")?
  bool has_super_option(std::string_view option) const;
  dev_t dev() const;
};

// Undoes the kernel's \ooo escapes.  A backslash not followed by three octal
// digits (the kernel never writes one) is an error.
Result<std::string> unescape_mount_field(std::string_view field);

Result<MountInfo> parse_mountinfo_line(std::string_view line);
// All lines; a malformed line is an error naming the line number.
Result<std::vector<MountInfo>> parse_mountinfo(std::string_view text);
// /proc/self/mountinfo.
Result<std::vector<MountInfo>> read_mountinfo();

}  // namespace ckpt::proc
