// Flat-keyed cgroup files ("key value" per line): cgroup.events,
// cgroup.stat, memory.events, ...
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "core/result.h"

namespace ckpt::proc {

class FlatKeyed {
 public:
  std::optional<std::string_view> get(std::string_view key) const;
  // The value of @key as an unsigned number; an error if absent or not one.
  Result<uint64_t> get_u64(std::string_view key) const;
  std::size_t size() const { return values_.size(); }

 private:
  friend Result<FlatKeyed> parse_flat_keyed(std::string_view text);
  std::map<std::string, std::string, std::less<>> values_;
};

// Every line must be exactly "key value"; keys are unique.
Result<FlatKeyed> parse_flat_keyed(std::string_view text);

}  // namespace ckpt::proc
