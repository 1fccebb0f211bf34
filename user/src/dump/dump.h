// dump(): checkpoint the process tree rooted at a pid in a freezer cgroup
// into an image (Documentation/image-format.md).
//
//   1. freeze the cgroup (cgroup/freeze_guard.h) and wait until frozen;
//   2. begin a ckpt.ko session: CHECKPOINTING, nobody can thaw or migrate;
//   3. scan the tree (CKPT_IOC_SCAN) and serialise every process and
//      thread: /proc for what it tells, the module for the rest, memory
//      with pagemap + process_vm_readv, fds with pidfd_getfd + sock_diag;
//   4. end the session and leave the tree as asked (thaw, leave frozen,
//      kill); commit the image (fsync, rename);
//   5. on any error: end the session, put the cgroup back as it was, leave
//      no image that looks complete, and return one Error.
// A watchdog process (dump/watchdog.h) covers the case where ckpt-user
// itself is killed.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <string>

#include "cgroup/freeze_guard.h"
#include "core/result.h"
#include "core/time.h"

namespace ckpt::image {
class DumpStats;
}

namespace ckpt::dump {

struct DumpOptions {
  std::string cgroup;              // cgroup directory (absolute, or relative to the mount)
  pid_t root_pid = 0;              // root of the tree to dump
  std::string output;              // file path, directory path, or "-" for stdout
  bool directory = false;          // write a directory image at @output
  cg::EndAction end_action = cg::EndAction::thaw;
  Clock::duration freeze_timeout = cg::kDefaultFreezeTimeout;
  std::string command_line;        // recorded in the image, for humans
  bool pre_copy = true;            // copy memory before the freeze (soft-dirty tracking)
  bool kernel_pages = true;        // the module writes page data (CKPT_IOC_PAGES) if it can
  // Who hashes the page data the module writes (PAGES sections' XXH64):
  //   module  the module, as it writes it (CKPT_PAGES_XXH64): no second
  //           pass over the data, but the copy waits for the hash;
  //   writer  the writer's thread, from a mapping of the image, once the
  //           section is written: a second pass, on another CPU if there
  //           is one, in parallel with the next copy;
  //   auto    module if every CPU this process may run on has a page file
  //           of its own to copy into (one CPU, or --page-files as many),
  //           else writer.
  enum class PageHash { auto_, module, writer };
  PageHash page_hash = PageHash::auto_;
  uint64_t buffer_limit = 0;       // bytes of page data queued for writing; 0: half of MemAvailable
  // Page files of a directory image, each filled by its own thread making
  // the module's CKPT_IOC_PAGES calls (format 3.0 when more than one).
  // 0: auto, one per CPU this process may run on, at most kAutoPageFiles,
  // when the module writes the page data of a directory image; else 1.
  // More than 1 needs a directory image and the module's CKPT_IOC_PAGES.
  uint32_t page_files = 0;
  static constexpr uint32_t kAutoPageFiles = 4;
};

// Progress of a long dump: called often; the callee rate-limits.
struct Progress {
  uint32_t processes_done = 0;
  uint32_t processes_total = 0;
  uint64_t bytes_written = 0;
  const char* phase = "";
};
using ProgressFn = std::function<void(const Progress&)>;

struct DumpResult {
  uint32_t processes = 0;
  uint32_t threads = 0;
  uint64_t image_bytes = 0;
  // The statistics stored in the image (CRIU's names).
  uint64_t freezing_time_us = 0;
  uint64_t frozen_time_us = 0;
  uint64_t memdump_time_us = 0;
  uint64_t memwrite_time_us = 0;
  uint64_t pages_scanned = 0;
  uint64_t pages_written = 0;
  uint64_t shpages_scanned = 0;
  uint64_t shpages_written = 0;
  uint64_t scan_time_us = 0;
  uint64_t pages_zero = 0;        // zero-page mappings, not stored
  uint64_t pages_precopied = 0;   // copied before the freeze
  uint64_t pages_reused = 0;      // of those, still clean at the freeze
  uint64_t pages_by_kernel = 0;   // pages the module wrote (CKPT_IOC_PAGES)
  uint64_t pages_hashed_by_kernel = 0;  // of those, pages it also hashed
  uint64_t precopy_time_us = 0;
  uint64_t total_time_us = 0;
};

Result<DumpResult> dump(const DumpOptions& opts, const ProgressFn& progress = {});

}  // namespace ckpt::dump
