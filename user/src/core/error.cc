#include "core/error.h"

#include <cerrno>
#include <cstring>
#include <utility>

namespace ckpt {

Error::Error(int code, std::string what, bool show_errno)
    : code_(code != 0 ? code : EIO), show_errno_(show_errno) {
  chain_.push_back(std::move(what));
}

Error Error::sys(int code, std::string what) { return Error(code, std::move(what), true); }

Error Error::from_errno(std::string what) { return sys(errno, std::move(what)); }

Error Error::msg(std::string what, int code) { return Error(code, std::move(what), false); }

Error& Error::context(std::string outer) & {
  chain_.push_back(std::move(outer));
  return *this;
}

Error&& Error::context(std::string outer) && {
  chain_.push_back(std::move(outer));
  return std::move(*this);
}

std::string Error::message() const {
  std::string out;
  for (auto it = chain_.rbegin(); it != chain_.rend(); ++it) {
    if (it->empty())
      continue;
    if (!out.empty())
      out += ": ";
    out += *it;
  }
  if (show_errno_) {
    if (!out.empty())
      out += ": ";
    out += strerrordesc_np(code_) ? strerrordesc_np(code_) : "Unknown error";
  }
  return out;
}

}  // namespace ckpt
