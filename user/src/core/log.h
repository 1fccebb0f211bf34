// The one logging path: leveled messages to stderr, one write(2) per line.
//
// The level is the only process-wide setting (set once by main from -v);
// by default only warnings and errors are shown.  Fatal errors are not
// logged here: they travel up as an Error and main prints them once.
#pragma once

#include <fmt/format.h>

#include <string_view>
#include <utility>

namespace ckpt::log {

enum class Level { error = 0, warn = 1, info = 2, debug = 3 };

void set_level(Level level) noexcept;
Level level() noexcept;
inline bool enabled(Level l) noexcept { return static_cast<int>(l) <= static_cast<int>(level()); }

// Writes "ckpt-user: <level>: <text>\n" to stderr if @l is enabled.
void write(Level l, std::string_view text) noexcept;

template <class... A>
void error(fmt::format_string<A...> f, A&&... a) {
  if (enabled(Level::error))
    write(Level::error, fmt::format(f, std::forward<A>(a)...));
}
template <class... A>
void warn(fmt::format_string<A...> f, A&&... a) {
  if (enabled(Level::warn))
    write(Level::warn, fmt::format(f, std::forward<A>(a)...));
}
template <class... A>
void info(fmt::format_string<A...> f, A&&... a) {
  if (enabled(Level::info))
    write(Level::info, fmt::format(f, std::forward<A>(a)...));
}
template <class... A>
void debug(fmt::format_string<A...> f, A&&... a) {
  if (enabled(Level::debug))
    write(Level::debug, fmt::format(f, std::forward<A>(a)...));
}

}  // namespace ckpt::log
