// Strict text parsing helpers for kernel-generated files.
//
// Numbers must be the whole token: no sign where none is allowed, no
// leading '+', no spaces, no trailing garbage, and in range for the type.
#pragma once

#include <charconv>
#include <cstdint>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>
#include <vector>

#include "core/result.h"

namespace ckpt {

// Quotes a token for an error message, shortened and with control bytes
// escaped, so that garbage input gives a readable message.
std::string quote(std::string_view token, std::size_t max = 40);

// @text with control bytes and backslashes as \xNN, for one-line messages
// (comm and paths can hold newlines).
std::string printable(std::string_view text);

template <class T>
Result<T> parse_int(std::string_view s, int base = 10) {
  static_assert(std::is_integral_v<T> && !std::is_same_v<T, bool>);
  T value{};
  if (s.empty())
    return Error::msg("empty number");
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), value, base);
  if (ec == std::errc::result_out_of_range)
    return Error::msg("number out of range: " + quote(s), ERANGE);
  if (ec != std::errc() || ptr != s.data() + s.size())
    return Error::msg("not a number: " + quote(s));
  return value;
}

// Hexadecimal without a 0x prefix (the /proc/PID/status masks).
inline Result<uint64_t> parse_hex_u64(std::string_view s) { return parse_int<uint64_t>(s, 16); }

// Splits on runs of spaces and tabs; no empty tokens.
std::vector<std::string_view> split_ws(std::string_view s);
// Splits on @sep; empty fields are kept ("a,,b" -> 3 fields).
std::vector<std::string_view> split(std::string_view s, char sep);
// Lines without their '\n'; a final line without '\n' is kept, and a
// trailing '\n' does not make an empty last line.
std::vector<std::string_view> split_lines(std::string_view s);
std::string_view trim(std::string_view s);

}  // namespace ckpt
