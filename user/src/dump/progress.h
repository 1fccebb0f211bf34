// A one-line progress indicator on a terminal ("\r" updates at most 10 times
// a second), nothing at all otherwise.
#pragma once

#include "core/time.h"
#include "dump/dump.h"

namespace ckpt::dump {

class ProgressLine {
 public:
  explicit ProgressLine(bool enabled) : enabled_(enabled) {}
  ~ProgressLine() { finish(); }
  ProgressLine(const ProgressLine&) = delete;
  ProgressLine& operator=(const ProgressLine&) = delete;
  void update(const Progress& p);
  // Clears the line (before the final message or an error).
  void finish();

 private:
  bool enabled_;
  bool shown_ = false;
  Clock::time_point last_{};
};

}  // namespace ckpt::dump
