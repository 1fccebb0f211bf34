#include "core/time.h"

#include <fmt/format.h>
#include <time.h>

#include <cerrno>
#include <climits>
#include <cmath>
#include <cstdlib>

#include "core/parse.h"

namespace ckpt {

Clock::duration Deadline::remaining() const {
  auto left = at_ - Clock::now();
  return left > Clock::duration::zero() ? left : Clock::duration::zero();
}

int Deadline::poll_timeout_ms() const {
  auto left = std::chrono::ceil<milliseconds>(remaining()).count();
  if (left > INT_MAX)
    return INT_MAX;
  return static_cast<int>(left);
}

void sleep_for(Clock::duration d) noexcept {
  if (d <= Clock::duration::zero())
    return;
  auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(d).count();
  struct timespec ts;
  ts.tv_sec = static_cast<time_t>(ns / 1000000000);
  ts.tv_nsec = static_cast<long>(ns % 1000000000);
  while (::nanosleep(&ts, &ts) < 0 && errno == EINTR) {
  }
}

std::string format_duration(Clock::duration d) {
  double ms = std::chrono::duration<double, std::milli>(d).count();
  if (ms < 1000.0)
    return fmt::format("{:.0f} ms", ms);
  double s = ms / 1000.0;
  if (s < 120.0)
    return s == std::floor(s) ? fmt::format("{:.0f} s", s) : fmt::format("{:.1f} s", s);
  return fmt::format("{:.1f} min", s / 60.0);
}

Result<milliseconds> parse_duration(std::string_view text) {
  std::string_view num = text;
  double scale = 1000.0;  // seconds by default
  if (text.ends_with("ms")) {
    num = text.substr(0, text.size() - 2);
    scale = 1.0;
  } else if (text.ends_with("s")) {
    num = text.substr(0, text.size() - 1);
  } else if (text.ends_with("m")) {
    num = text.substr(0, text.size() - 1);
    scale = 60000.0;
  }
  // Digits with at most one '.', nothing else (strtod would take "1e9", "inf").
  bool dot = false;
  bool digit = false;
  for (char c : num) {
    if (c == '.' && !dot)
      dot = true;
    else if (c >= '0' && c <= '9')
      digit = true;
    else
      return Error::msg("bad duration " + quote(text) + " (examples: 10s, 500ms, 2m)");
  }
  if (!digit)
    return Error::msg("bad duration " + quote(text) + " (examples: 10s, 500ms, 2m)");
  std::string copy(num);
  double value = std::strtod(copy.c_str(), nullptr) * scale;
  if (!(value <= 1e12))  // about 31 years; also rejects NaN
    return Error::msg("duration too long: " + quote(text), ERANGE);
  return milliseconds(static_cast<long long>(std::llround(value)));
}

}  // namespace ckpt
