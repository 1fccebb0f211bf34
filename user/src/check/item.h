// One line of `ckpt-user check`: a capability of this system, probed for real.
#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <string_view>

namespace ckpt::check {

enum class Status {
  ok,       // present and usable
  missing,  // needed and not there: a problem, check says NOT ready
  absent,   // not there, but optional (or another item covers it)
};

std::string_view status_name(Status s);

struct Item {
  std::string name;    // stable key for --json ("module", "cgroup-v2", ...)
  std::string title;   // for the table
  Status status = Status::missing;
  std::string detail;  // what was found
  std::string hint;    // what to do when not ok
  nlohmann::json data = nlohmann::json::object();  // machine-readable facts
};

}  // namespace ckpt::check
