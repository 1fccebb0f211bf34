// Small-file helpers for /proc, /sys and cgroup files.
//
// These files report a size of 0 and are generated at read time, so reads
// loop until EOF into a growing buffer (bounded by @max, so a runaway file
// cannot exhaust memory).  Writes to kernel control files are one write(2):
// the kernel acts on each write, and its errno is the answer.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace ckpt {

inline constexpr std::size_t kMaxSmallFile = 4u << 20;  // 4 MiB

// Whole file.  Errors read "read PATH: <strerror>".
Result<std::string> read_file(const std::string& path, std::size_t max = kMaxSmallFile);
// @name relative to the directory fd @dirfd.
Result<std::string> read_file_at(int dirfd, const std::string& name,
                                 std::size_t max = kMaxSmallFile);
// From offset 0 of an open fd, with pread (an fd kept open for poll()).
Result<std::string> pread_all(int fd, std::size_t max = kMaxSmallFile);
// From the current offset of an open fd until EOF.
Result<std::string> read_all(int fd, std::size_t max = kMaxSmallFile);

// One write(2) of @data into an existing file (no O_CREAT, no O_TRUNC), as
// cgroup and /proc control files want.  A short write is an error (EIO).
Result<void> write_file(const std::string& path, std::string_view data);
Result<void> write_file_at(int dirfd, const std::string& name, std::string_view data);
// All of @data to an fd (pipes, regular files), retrying short writes.
Result<void> write_all(int fd, std::string_view data);

// Names in a directory, without "." and "..", in readdir order.
Result<std::vector<std::string>> list_dir(const std::string& path);
Result<std::vector<std::string>> list_dir_at(int dirfd, const std::string& name);
// Subdirectories of the directory fd (for walking cgroup trees).
Result<std::vector<std::string>> list_subdirs_at(int dirfd, const std::string& name);

bool path_exists(const std::string& path) noexcept;

}  // namespace ckpt
