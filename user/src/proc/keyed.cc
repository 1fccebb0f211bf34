#include "proc/keyed.h"

#include <fmt/format.h>

#include "core/parse.h"

namespace ckpt::proc {

std::optional<std::string_view> FlatKeyed::get(std::string_view key) const {
  auto it = values_.find(key);
  if (it == values_.end())
    return std::nullopt;
  return std::string_view(it->second);
}

Result<uint64_t> FlatKeyed::get_u64(std::string_view key) const {
  auto v = get(key);
  if (!v)
    return Error::msg(fmt::format("no '{}' key", key), ENOENT);
  return parse_int<uint64_t>(*v).context(std::string(key));
}

Result<FlatKeyed> parse_flat_keyed(std::string_view text) {
  FlatKeyed out;
  std::size_t n = 0;
  for (std::string_view line : split_lines(text)) {
    ++n;
    auto tok = split_ws(line);
    if (tok.size() != 2)
      return Error::msg(fmt::format("line {}: expected 'key value', got {}", n, quote(line)));
    if (!out.values_.emplace(std::string(tok[0]), std::string(tok[1])).second)
      return Error::msg(fmt::format("line {}: duplicate key {}", n, quote(tok[0])));
  }
  return out;
}

}  // namespace ckpt::proc
