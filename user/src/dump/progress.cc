#include "dump/progress.h"

#include <unistd.h>

#include <fmt/format.h>

namespace ckpt::dump {

void ProgressLine::update(const Progress& p) {
  if (!enabled_)
    return;
  auto now = Clock::now();
  if (shown_ && now - last_ < std::chrono::milliseconds(100))
    return;
  last_ = now;
  std::string s = fmt::format("\r\033[Kdump: {} {}/{} processes, {:.1f} MiB written", p.phase,
                              p.processes_done, p.processes_total,
                              static_cast<double>(p.bytes_written) / (1 << 20));
  ssize_t n = ::write(STDERR_FILENO, s.data(), s.size());
  (void)n;  // a progress line is best effort
  shown_ = true;
}

void ProgressLine::finish() {
  if (!enabled_ || !shown_)
    return;
  static constexpr char kClear[] = "\r\033[K";
  ssize_t n = ::write(STDERR_FILENO, kClear, sizeof(kClear) - 1);
  (void)n;
  shown_ = false;
}

}  // namespace ckpt::dump
