// Error: what failed, as an errno value and a chain of context strings.
//
// An Error is built where a failure is detected (the innermost message) and
// gains context on its way up ("freeze /sys/fs/cgroup/job" around "write
// cgroup.freeze").  The top level prints it once:
//
//   ckpt-user: freeze /sys/fs/cgroup/job: write cgroup.freeze: Permission denied
#pragma once

#include <cerrno>
#include <string>
#include <vector>

namespace ckpt {

class Error {
 public:
  // A failed system call (or anything with an errno): the message ends with
  // strerror(code).
  static Error sys(int code, std::string what);
  // sys(errno, what), reading errno at the call.
  static Error from_errno(std::string what);
  // A failure that is not a system error (bad input, a refused request).
  // code() is still an errno value for callers that branch on it (EINVAL by
  // default), but the message carries no strerror text.
  static Error msg(std::string what, int code = EINVAL);

  // errno value (never 0).
  int code() const noexcept { return code_; }
  // Adds an outer context.
  Error& context(std::string outer) &;
  Error&& context(std::string outer) &&;
  // "outer: ...: inner[: strerror]".
  std::string message() const;
  // The innermost text only, without context or strerror.
  const std::string& what() const noexcept { return chain_.front(); }

 private:
  Error(int code, std::string what, bool show_errno);
  int code_;
  bool show_errno_;
  std::vector<std::string> chain_;  // innermost first
};

}  // namespace ckpt
