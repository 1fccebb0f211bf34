// `ckpt-user check`: every probe, a verdict, and its two renderings.
#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "check/item.h"

namespace ckpt::check {

struct CheckOptions {
  std::string device_path;  // /dev/ckpt
};

struct Report {
  std::string kernel;  // uname -r
  std::vector<Item> items;
  int problems() const;
  bool ready() const { return problems() == 0; }
};

Report run_checks(const CheckOptions& options);

// Aligned table with hints under failed items, then the verdict line.
std::string render_text(const Report& report);
nlohmann::json render_json(const Report& report);
// "ckpt-user check: ready" / "ckpt-user check: NOT ready (2 problems)".
std::string verdict_line(const Report& report);

}  // namespace ckpt::check
