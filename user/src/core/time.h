// Time helpers: a monotonic deadline for waits, sleeping, durations as text.
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "core/result.h"

namespace ckpt {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

// A point on the monotonic clock after which a wait gives up.
class Deadline {
 public:
  static Deadline after(Clock::duration d) { return Deadline(Clock::now() + d); }
  bool expired() const { return Clock::now() >= at_; }
  Clock::duration remaining() const;
  // For poll(2): milliseconds left, rounded up, at least 0.
  int poll_timeout_ms() const;

 private:
  explicit Deadline(Clock::time_point at) : at_(at) {}
  Clock::time_point at_;
};

// Sleeps for @d, resuming after signals.
void sleep_for(Clock::duration d) noexcept;

// "850 ms", "2.5 s", "10 s", "1.2 min": for messages.
std::string format_duration(Clock::duration d);

// "10s", "500ms", "2m", "1.5s" or a bare number of seconds ("10").
Result<milliseconds> parse_duration(std::string_view text);

}  // namespace ckpt
