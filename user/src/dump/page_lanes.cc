#include "dump/page_lanes.h"

#include <fcntl.h>

#include <system_error>

#include <fmt/format.h>

#include "dump/context.h"

namespace ckpt::dump {
namespace {

// A close-on-exec duplicate of @fd, which the caller keeps.
Result<Fd> dup_fd(int fd, const char* what) {
  int d = ::fcntl(fd, F_DUPFD_CLOEXEC, 3);
  if (d < 0)
    return Error::from_errno(fmt::format("duplicate the {} fd", what));
  return Fd(d);
}

}  // namespace

Result<std::unique_ptr<PageLanes>> PageLanes::start(const kmod::Device& dev,
                                                    const ckpt_info& info,
                                                    image::ImageWriter& writer,
                                                    Counters& counters, unsigned n) {
  if (n < 1 || n > writer.page_files())
    return Error::msg(fmt::format("{} page writers for {} page files", n, writer.page_files()),
                      EINVAL);
  std::unique_ptr<PageLanes> lanes(new PageLanes(writer, counters, writer.page_size()));
  for (unsigned k = 0; k < n; ++k) {
    auto pc = kmod::PageCopier::open(dev, info);
    if (!pc)
      return std::move(pc).error().context(fmt::format("page writer {}", k));
    auto lane = std::make_unique<Lane>();
    lane->copier.emplace(std::move(*pc));
    lanes->lanes_.push_back(std::move(lane));
  }
  // The threads last: a failure above leaves none to join; one here leaves
  // those started, which the destructor stops and joins.
  for (auto& lane : lanes->lanes_) {
    Lane* l = lane.get();
    try {
      l->th = std::thread([p = lanes.get(), l] { p->run(*l); });
    } catch (const std::system_error& e) {
      return Error::sys(e.code().value(), "start a page writer thread");
    }
  }
  return lanes;
}

PageLanes::~PageLanes() {
  {
    std::lock_guard lk(mu_);
    stop_ = true;
  }
  work_.notify_all();
  for (auto& lane : lanes_)
    if (lane->th.joinable())
      lane->th.join();
}

void PageLanes::run(Lane& lane) {
  for (;;) {
    {
      std::unique_lock lk(mu_);
      work_.wait(lk, [&] { return stop_ || lane.state == State::queued; });
      if (lane.state != State::queued)
        return;  // stopped with nothing to do
      lane.state = State::running;
      if (running_++ == 0)
        busy_since_ = std::chrono::steady_clock::now();
    }
    // Unlocked: the job's fields are this thread's until it is done.
    lane.h = {};
    lane.result = lane.copier->write(lane.pid, lane.pidfd.get(), lane.out.get(), lane.ranges,
                                     lane.slot.file_offset(), lane.hash ? &lane.h : nullptr);
    {
      std::lock_guard lk(mu_);
      lane.state = State::done;
      if (--running_ == 0)
        busy_us_ += static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(
                                              std::chrono::steady_clock::now() - busy_since_)
                                              .count());
    }
    done_.notify_all();
  }
}

Result<void> PageLanes::finish(Lane& lane) {
  // Done: the lane's thread no longer touches the job until it is queued.
  Result<void> r = std::move(lane.result);
  lane.result = {};
  lane.out.reset();
  lane.pidfd.reset();
  lane.ranges.clear();
  const uint64_t total = lane.slot.size();
  if (r && lane.hash) {
    if (lane.h.len == total) {
      lane.slot.set_payload_hash(lane.h.digest);
      counters_.pages_hashed_by_kernel += total / page_size_;
    } else {
      r = Error::msg(fmt::format("pid {}: the module hashed {} of the {} bytes it wrote",
                                 lane.pid, lane.h.len, total),
                     EIO);
    }
  }
  if (!r) {
    // Its space in the page file is given back (it is that file's last
    // section); if even that fails, the writer is aborted.
    (void)writer_.cancel_pages(std::move(lane.slot));
    return r;
  }
  counters_.pages_by_kernel += total / page_size_;
  auto seq = writer_.commit_pages(std::move(lane.slot));
  if (!seq)
    return std::move(seq).error();
  return {};
}

Result<uint32_t> PageLanes::acquire() {
  std::unique_lock lk(mu_);
  for (;;) {
    // A free lane first (round robin), else one whose section is done.
    for (State want : {State::idle, State::done}) {
      for (unsigned i = 0; i < lanes_.size(); ++i) {
        unsigned k = (next_ + i) % static_cast<unsigned>(lanes_.size());
        Lane& lane = *lanes_[k];
        if (lane.state != want)
          continue;
        next_ = k + 1;
        if (want == State::done) {
          lk.unlock();
          auto r = finish(lane);
          lk.lock();
          lane.state = State::idle;
          if (!r)
            return std::move(r).error();
        }
        return k;
      }
    }
    done_.wait(lk);
  }
}

void PageLanes::submit(image::PageSlot slot, pid_t pid, int pidfd,
                       std::vector<ckpt_page_range> ranges, bool hash) {
  Lane& lane = *lanes_.at(slot.file());
  // The lane is idle (acquire()): its fields are ours until it is queued.
  // The fds are duplicated so that the copy cannot reach a file the caller
  // closed (and whose number was reused) meanwhile.
  lane.result = {};
  auto out = dup_fd(slot.fd(), "image file");
  auto pfd = pidfd >= 0 ? dup_fd(pidfd, "pidfd") : Result<Fd>(Fd());
  if (!out || !pfd)
    lane.result = !out ? std::move(out).error() : std::move(pfd).error();
  else {
    lane.out = std::move(*out);
    lane.pidfd = std::move(*pfd);
  }
  lane.slot = std::move(slot);
  lane.pid = pid;
  lane.ranges = std::move(ranges);
  lane.hash = hash;
  std::lock_guard lk(mu_);
  // A failed dup: nothing to copy, the lane is done with that error.
  lane.state = lane.result ? State::queued : State::done;
  if (lane.state == State::queued)
    work_.notify_all();
  else
    done_.notify_all();
}

Result<void> PageLanes::sync() {
  std::optional<Error> first;
  for (auto& lane : lanes_) {
    std::unique_lock lk(mu_);
    done_.wait(lk, [&] { return lane->state == State::idle || lane->state == State::done; });
    if (lane->state == State::idle)
      continue;
    lk.unlock();
    auto r = finish(*lane);
    lk.lock();
    lane->state = State::idle;
    if (!r && !first)
      first = std::move(r).error();
  }
  if (first)
    return std::move(*first);
  return {};
}

uint64_t PageLanes::busy_us() const {
  std::lock_guard lk(mu_);
  return busy_us_;
}

}  // namespace ckpt::dump
