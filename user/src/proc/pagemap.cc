#include "proc/pagemap.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <cerrno>

#include "proc/procfs.h"

namespace ckpt::proc {

PageEntry decode_pagemap_entry(uint64_t raw) {
  PageEntry e;
  e.present = (raw & kPmPresent) != 0;
  e.swapped = (raw & kPmSwapped) != 0;
  e.file_or_shared = (raw & kPmFileShared) != 0;
  e.exclusive = (raw & kPmExclusive) != 0;
  e.soft_dirty = (raw & kPmSoftDirty) != 0;
  e.pfn = raw & kPmPfnMask;
  return e;
}

bool page_in_memory(uint64_t raw) { return (raw & (kPmPresent | kPmSwapped)) != 0; }

bool want_private_anon(uint64_t raw) { return page_in_memory(raw); }

bool want_private_file(uint64_t raw) {
  if (raw & kPmSwapped)
    return true;
  return (raw & kPmPresent) && !(raw & kPmFileShared);
}

void collect_runs(uint64_t start, std::span<const uint64_t> entries, const PagePredicate& want,
                  std::size_t page_size, ScanResult* out) {
  for (std::size_t i = 0; i < entries.size(); ++i) {
    uint64_t raw = entries[i];
    ++out->scanned;
    if (page_in_memory(raw))
      ++out->in_memory;
    if (!want(raw))
      continue;
    ++out->selected;
    uint64_t addr = start + i * page_size;
    if (!out->runs.empty()) {
      PageRange& last = out->runs.back();
      if (last.start + last.nr_pages * page_size == addr) {
        ++last.nr_pages;
        continue;
      }
    }
    out->runs.push_back(PageRange{addr, 1});
  }
}

Result<PagemapReader> PagemapReader::open(pid_t pid) {
  std::string path = proc_path(pid, "pagemap");
  auto fd = Fd::open(path, O_RDONLY);
  if (!fd)
    return std::move(fd).error();
  long ps = sysconf(_SC_PAGESIZE);
  if (ps <= 0)
    return Error::from_errno("sysconf(_SC_PAGESIZE)");
  PagemapReader r(std::move(*fd), static_cast<std::size_t>(ps));
  r.path_ = std::move(path);
  return r;
}

Result<void> PagemapReader::read_batch(uint64_t first_page, std::size_t count, uint64_t* out) {
  auto* dst = reinterpret_cast<char*>(out);
  std::size_t want = count * sizeof(uint64_t);
  std::size_t got = 0;
  while (got < want) {
    off_t off = static_cast<off_t>(first_page * sizeof(uint64_t) + got);
    ssize_t n = ::pread(fd_.get(), dst + got, want - got, off);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      return Error::from_errno(
          fmt::format("pread {} at page {:#x}", path_.empty() ? "pagemap" : path_,
                      first_page * page_size_));
    }
    if (n == 0)
      return Error::msg(fmt::format("{}: end of file at page {:#x}",
                                    path_.empty() ? "pagemap" : path_,
                                    (first_page + got / sizeof(uint64_t)) * page_size_),
                        EIO);
    got += static_cast<std::size_t>(n);
  }
  if (got % sizeof(uint64_t))
    return Error::msg("pagemap: read a partial entry", EIO);
  return {};
}

Result<std::vector<uint64_t>> PagemapReader::entries(uint64_t start, uint64_t end) {
  if (start % page_size_ || end % page_size_ || end < start)
    return Error::msg(fmt::format("pagemap range {:#x}-{:#x} not page-aligned", start, end));
  std::vector<uint64_t> out((end - start) / page_size_);
  std::size_t done = 0;
  while (done < out.size()) {
    std::size_t count = std::min(kPagemapBatch, out.size() - done);
    auto r = read_batch(start / page_size_ + done, count, out.data() + done);
    if (!r)
      return std::move(r).error();
    done += count;
  }
  return out;
}

Result<ScanResult> PagemapReader::scan(uint64_t start, uint64_t end, const PagePredicate& want) {
  if (start % page_size_ || end % page_size_ || end < start)
    return Error::msg(fmt::format("pagemap range {:#x}-{:#x} not page-aligned", start, end));
  ScanResult result;
  uint64_t total = (end - start) / page_size_;
  std::vector<uint64_t> buf(std::min<uint64_t>(kPagemapBatch, total));
  uint64_t done = 0;
  while (done < total) {
    std::size_t count = static_cast<std::size_t>(std::min<uint64_t>(kPagemapBatch, total - done));
    auto r = read_batch(start / page_size_ + done, count, buf.data());
    if (!r)
      return std::move(r).error();
    collect_runs(start + done * page_size_, std::span<const uint64_t>(buf.data(), count), want,
                 page_size_, &result);
    done += count;
  }
  return result;
}

}  // namespace ckpt::proc
