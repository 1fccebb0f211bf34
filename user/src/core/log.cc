#include "core/log.h"

#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <string>

namespace ckpt::log {
namespace {

std::atomic<Level> g_level{Level::warn};

const char* prefix(Level l) {
  switch (l) {
    case Level::error: return "ckpt-user: error: ";
    case Level::warn: return "ckpt-user: warning: ";
    case Level::info: return "ckpt-user: ";
    case Level::debug: return "ckpt-user: debug: ";
  }
  return "ckpt-user: ";
}

}  // namespace

void set_level(Level level) noexcept { g_level.store(level, std::memory_order_relaxed); }

Level level() noexcept { return g_level.load(std::memory_order_relaxed); }

void write(Level l, std::string_view text) noexcept {
  if (!enabled(l))
    return;
  int saved = errno;
  try {
    std::string line = prefix(l);
    line.append(text);
    line += '\n';
    // One write so that lines from several processes do not interleave.
    const char* p = line.data();
    size_t left = line.size();
    while (left > 0) {
      ssize_t n = ::write(STDERR_FILENO, p, left);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        break;
      p += n;
      left -= static_cast<size_t>(n);
    }
  } catch (...) {
    // Out of memory while logging: drop the line.
  }
  errno = saved;
}

}  // namespace ckpt::log
