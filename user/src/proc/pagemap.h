// /proc/PID/pagemap (Documentation/admin-guide/mm/pagemap.rst): one 64-bit
// entry per virtual page, at offset (vaddr / page_size) * 8.
//
//   bit 63 present, 62 swapped, 61 file-page or shared-anon,
//   56 exclusively mapped (4.2+), 55 soft-dirty, 0-54 PFN (zero without
//   CAP_SYS_ADMIN) or swap type/offset.
//
// The reader preads LARGE batches (kPagemapBatch entries per pread).
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <vector>

#include "core/fd.h"
#include "core/result.h"

namespace ckpt::proc {

inline constexpr uint64_t kPmPresent = 1ull << 63;
inline constexpr uint64_t kPmSwapped = 1ull << 62;
inline constexpr uint64_t kPmFileShared = 1ull << 61;
inline constexpr uint64_t kPmExclusive = 1ull << 56;
inline constexpr uint64_t kPmSoftDirty = 1ull << 55;
inline constexpr uint64_t kPmPfnMask = (1ull << 55) - 1;

inline constexpr std::size_t kPagemapBatch = 64 * 1024;  // entries per pread

struct PageEntry {
  bool present = false;
  bool swapped = false;
  bool file_or_shared = false;
  bool exclusive = false;
  bool soft_dirty = false;
  uint64_t pfn = 0;  // bits 0-54 (PFN if present, swap entry if swapped)
};
PageEntry decode_pagemap_entry(uint64_t raw);

// Which pages of a VMA a dump stores, from the raw entry.
using PagePredicate = std::function<bool(uint64_t raw)>;
// Private anonymous memory (and heap, stack): present or swapped.
bool want_private_anon(uint64_t raw);
// Private file mapping: pages COWed away from the file (present and not a
// file page) or swapped (only anonymous pages swap); clean file pages are
// read back from the file at restore.
bool want_private_file(uint64_t raw);
// Present or swapped (for counting Vma.pages_present).
bool page_in_memory(uint64_t raw);

// Consecutive pages to dump: [start, start + nr_pages * page_size).
struct PageRange {
  uint64_t start = 0;
  uint64_t nr_pages = 0;
};

struct ScanResult {
  std::vector<PageRange> runs;  // sorted, non-overlapping, maximal
  uint64_t scanned = 0;         // entries looked at
  uint64_t in_memory = 0;       // present or swapped
  uint64_t selected = 0;        // pages in @runs
};

// Appends to @out the runs of @entries (entry i is the page at
// @start + i * @page_size) that @want selects; a run adjacent to the last
// one already in @out->runs is extended.  Pure: the unit tests feed it
// synthetic entries.
void collect_runs(uint64_t start, std::span<const uint64_t> entries, const PagePredicate& want,
                  std::size_t page_size, ScanResult* out);

class PagemapReader {
 public:
  // Opens /proc/PID/pagemap (needs PTRACE_MODE_READ on @pid).
  static Result<PagemapReader> open(pid_t pid);
  // For tests and callers that already hold the fd.
  PagemapReader(Fd fd, std::size_t page_size) : fd_(std::move(fd)), page_size_(page_size) {}

  // The raw entries of [start, end) (page-aligned), one per page.
  Result<std::vector<uint64_t>> entries(uint64_t start, uint64_t end);
  // Scans [start, end) in batches of kPagemapBatch entries.
  Result<ScanResult> scan(uint64_t start, uint64_t end, const PagePredicate& want);

  std::size_t page_size() const { return page_size_; }

 private:
  Result<void> read_batch(uint64_t first_page, std::size_t count, uint64_t* out);
  Fd fd_;
  std::size_t page_size_ = 4096;
  std::string path_;
};

}  // namespace ckpt::proc
