// Result<T>: a T or an Error (an expected-like type; std::expected is C++23
// and not in g++ 12).  [[nodiscard]]: a Result cannot be dropped silently.
// Accessing the wrong alternative asserts in debug builds and throws
// (std::bad_variant_access) otherwise, never reads garbage.
//
//   Result<Fd> r = Fd::open(path, O_RDONLY);
//   if (!r)
//     return std::move(r).error().context("open the cgroup");
//   Fd fd = std::move(*r);
#pragma once

#include <cassert>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <variant>

#include "core/error.h"

namespace ckpt {

template <class T>
class [[nodiscard]] Result {
  static_assert(!std::is_reference_v<T>, "Result<T&> is not supported");
  static_assert(!std::is_same_v<std::remove_cv_t<T>, Error>, "Result<Error> makes no sense");

 public:
  Result(T value) : v_(std::in_place_index<0>, std::move(value)) {}  // NOLINT: implicit
  Result(Error error) : v_(std::in_place_index<1>, std::move(error)) {}  // NOLINT: implicit

  bool ok() const noexcept { return v_.index() == 0; }
  explicit operator bool() const noexcept { return ok(); }

  T& value() & { assert(ok()); return std::get<0>(v_); }
  const T& value() const& { assert(ok()); return std::get<0>(v_); }
  T&& value() && { assert(ok()); return std::get<0>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  template <class U>
  T value_or(U&& fallback) const& {
    return ok() ? std::get<0>(v_) : static_cast<T>(std::forward<U>(fallback));
  }

  const Error& error() const& { assert(!ok()); return std::get<1>(v_); }
  Error&& error() && { assert(!ok()); return std::get<1>(std::move(v_)); }

  // Adds context to an error; a value passes through.
  Result&& context(std::string outer) && {
    if (!ok())
      std::get<1>(v_).context(std::move(outer));
    return std::move(*this);
  }

 private:
  std::variant<T, Error> v_;
};

template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Error error) : e_(std::move(error)) {}  // NOLINT: implicit

  bool ok() const noexcept { return !e_.has_value(); }
  explicit operator bool() const noexcept { return ok(); }

  // value() throws (std::bad_optional_access) rather than misbehave if
  // misused in a build without assertions.
  const Error& error() const& { assert(!ok()); return e_.value(); }
  Error&& error() && { assert(!ok()); return std::move(e_).value(); }

  Result&& context(std::string outer) && {
    if (e_)
      e_->context(std::move(outer));
    return std::move(*this);
  }

 private:
  std::optional<Error> e_;
};

}  // namespace ckpt
