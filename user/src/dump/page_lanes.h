// PageLanes: page data written by several threads at once, one per page
// file of a directory image, each making the module's CKPT_IOC_PAGES calls
// for the sections handed to it.  Two writers into one file wait for each
// other on its inode lock; into two files they do not (performance.md,
// "two page files").
//
// The dump's thread stays the only user of the ImageWriter: it reserves a
// section in the page file of a free lane (acquire()), hands the lane the
// ranges to copy (submit()), and goes on scanning; the section's seq and
// offset are known at the reservation, so its PageRuns are final at once.
// A lane's finished section is committed (or cancelled, after an error)
// by the dump's thread, the next time it needs that lane or at sync().
// Each lane has at most one section in flight, so it is always its page
// file's open slot (ImageWriter: one per file) and the file's sections are
// committed in seq order.
//
//   auto file = lanes.acquire();               // waits for a free lane
//   auto slot = writer.reserve_pages_by_fd(total, *file);
//   lanes.submit(std::move(*slot), pid, pidfd, ranges, hash);
//   ...
//   lanes.sync();   // before the thaw: every copy done, every error seen
//
// The destructor waits for copies in flight (an error path of the dump).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "core/fd.h"
#include "core/result.h"
#include "image/writer.h"
#include "kmod/device.h"

namespace ckpt::dump {

struct Counters;

class PageLanes {
 public:
  // @n lanes (n <= writer.page_files()), lane k writing page file k, each
  // with its own open of @dev's device.  @counters gets pages_by_kernel
  // and pages_hashed_by_kernel as sections finish.
  static Result<std::unique_ptr<PageLanes>> start(const kmod::Device& dev,
                                                  const ckpt_info& info,
                                                  image::ImageWriter& writer,
                                                  Counters& counters, unsigned n);
  // Waits for the lanes' calls in flight (a section still open is left to
  // the writer, which refuses to commit the image with it) and joins.
  ~PageLanes();
  PageLanes(const PageLanes&) = delete;
  PageLanes& operator=(const PageLanes&) = delete;

  unsigned size() const noexcept { return static_cast<unsigned>(lanes_.size()); }

  // The page file of a free lane: one without a section in flight, after
  // finishing (committing) a section it completed; waits for one if all
  // are busy.  An error of the section finished here is returned (the
  // lane is free again all the same).  The caller submits a section of
  // that file to it, or places one there itself (shared memory, read by
  // the dump's thread): the file has no open slot until then.
  Result<uint32_t> acquire();
  // Hands the lane of page file slot.file() (acquired, and not submitted
  // to since) the copy of @ranges of @pid (@pidfd >= 0: the process by
  // pidfd; both are duplicated, the caller keeps its own) into @slot, a
  // by-fd section; with @hash the module hashes what it writes.
  void submit(image::PageSlot slot, pid_t pid, int pidfd, std::vector<ckpt_page_range> ranges,
              bool hash);
  // Waits until no lane has a section in flight, finishing every one of
  // them; the first error, after all were finished.
  Result<void> sync();
  // Wall time during which at least one lane was copying.
  uint64_t busy_us() const;

 private:
  enum class State { idle, queued, running, done };
  struct Lane {
    std::optional<kmod::PageCopier> copier;
    State state = State::idle;
    // The section in flight (queued .. done): set by submit(), read by the
    // lane's thread while it runs, finished by the dump's thread.
    image::PageSlot slot;
    Fd out;    // a dup of slot.fd()
    Fd pidfd;  // a dup of the caller's, or none
    pid_t pid = 0;
    std::vector<ckpt_page_range> ranges;
    bool hash = false;
    ckpt_pages_xxh64 h{};
    Result<void> result;
    std::thread th;
  };

  PageLanes(image::ImageWriter& writer, Counters& counters, uint32_t page_size)
      : writer_(writer), counters_(counters), page_size_(page_size) {}
  void run(Lane& lane);
  // Commits (or cancels) the done section of @lane; it is idle after.
  Result<void> finish(Lane& lane);

  image::ImageWriter& writer_;
  Counters& counters_;
  const uint32_t page_size_;
  std::vector<std::unique_ptr<Lane>> lanes_;
  unsigned next_ = 0;  // where acquire() looks first (round robin)

  // @mu_ protects every Lane's state, the stop flag and the busy clock.
  // Lane fields other than state are handed over with it: the dump's
  // thread writes them while the lane is idle, the lane's thread reads
  // them while queued/running and writes h and result before done, the
  // dump's thread reads them when done.
  mutable std::mutex mu_;
  std::condition_variable work_;  // a lane was queued, or stop
  std::condition_variable done_;  // a lane is done
  bool stop_ = false;
  unsigned running_ = 0;
  std::chrono::steady_clock::time_point busy_since_;
  uint64_t busy_us_ = 0;
};

}  // namespace ckpt::dump
