#include "proc/fdinfo.h"

#include <fcntl.h>
#include <fmt/format.h>

#include <utility>

#include "core/parse.h"
#include "proc/procfs.h"

namespace ckpt::proc {
namespace {

using KV = std::vector<std::pair<std::string_view, std::string_view>>;

// "a:1 b: 2 c:3" -> {a,1},{b,2},{c,3} (a key ending in ':' takes the next
// token as its value: the kernel pads some numbers with spaces).
Result<KV> kv_tokens(std::string_view s) {
  KV out;
  std::vector<std::string_view> t = split_ws(s);
  for (std::size_t i = 0; i < t.size(); ++i) {
    std::size_t colon = t[i].find(':');
    if (colon == std::string_view::npos || colon == 0)
      return Error::msg("expected key:value, got " + quote(t[i]));
    std::string_view key = t[i].substr(0, colon);
    std::string_view value = t[i].substr(colon + 1);
    if (value.empty()) {
      if (i + 1 == t.size())
        return Error::msg("no value after " + quote(t[i]));
      value = t[++i];
    }
    out.emplace_back(key, value);
  }
  return out;
}

template <class T>
Result<T> kv_number(const KV& kv, std::string_view key, int base) {
  for (const auto& [k, v] : kv)
    if (k == key) {
      auto n = parse_int<T>(v, base);
      if (!n)
        return std::move(n).error().context(std::string(key));
      return n;
    }
  return Error::msg(fmt::format("no {}:", key));
}

template <class T>
Result<T> number(std::string_view key, std::string_view v, int base) {
  auto n = parse_int<T>(trim(v), base);
  if (!n)
    return std::move(n).error().context(std::string(key));
  return n;
}

// "(sec, nsec)".
Result<std::pair<uint64_t, uint64_t>> timespec_pair(std::string_view key, std::string_view v) {
  v = trim(v);
  if (v.size() < 2 || v.front() != '(' || v.back() != ')')
    return Error::msg(fmt::format("{}: expected (sec, nsec), got {}", key, quote(v)));
  v = v.substr(1, v.size() - 2);
  std::size_t comma = v.find(',');
  if (comma == std::string_view::npos)
    return Error::msg(fmt::format("{}: expected (sec, nsec)", key));
  auto sec = number<uint64_t>(key, v.substr(0, comma), 10);
  if (!sec)
    return std::move(sec).error();
  auto nsec = number<uint64_t>(key, v.substr(comma + 1), 10);
  if (!nsec)
    return std::move(nsec).error();
  if (*nsec >= 1000000000)
    return Error::msg(fmt::format("{}: nanoseconds {} out of range", key, *nsec));
  return std::pair{*sec, *nsec};
}

}  // namespace

bool FdInfo::cloexec() const { return (flags & O_CLOEXEC) != 0; }

std::string_view fdinfo_kind_name(FdInfoKind kind) {
  switch (kind) {
    case FdInfoKind::plain: return "plain";
    case FdInfoKind::eventfd: return "eventfd";
    case FdInfoKind::timerfd: return "timerfd";
    case FdInfoKind::signalfd: return "signalfd";
    case FdInfoKind::epoll: return "epoll";
    case FdInfoKind::inotify: return "inotify";
    case FdInfoKind::fanotify: return "fanotify";
    case FdInfoKind::tty: return "tty";
  }
  return "unknown";
}

Result<FdInfo> parse_fdinfo(std::string_view text) {
  FdInfo info;
  bool have_pos = false, have_flags = false;
  // timerfd lines seen, as bits: clockid 1, ticks 2, settime 4, value 8, interval 16.
  unsigned timer_bits = 0;
  std::size_t n = 0;
  auto set_kind = [&](FdInfoKind k) -> Result<void> {
    if (info.kind != FdInfoKind::plain && info.kind != k)
      return Error::msg(fmt::format("{} line in a {} fdinfo", fdinfo_kind_name(k),
                                    fdinfo_kind_name(info.kind)));
    info.kind = k;
    return {};
  };
  for (std::string_view line : split_lines(text)) {
    ++n;
    auto fail = [&](Error e) { return std::move(e).context(fmt::format("line {}", n)); };
#define CKPT_FDINFO_TRY(expr, dest)     \
  do {                                  \
    auto r_ = (expr);                   \
    if (!r_)                            \
      return fail(std::move(r_).error()); \
    dest = *r_;                         \
  } while (0)
    if (line.empty())
      continue;
    // Multi-key lines first.
    if (line.starts_with("tfd:")) {
      auto k = set_kind(FdInfoKind::epoll);
      if (!k)
        return fail(std::move(k).error());
      auto kv = kv_tokens(line);
      if (!kv)
        return fail(std::move(kv).error());
      EpollTargetInfo t;
      CKPT_FDINFO_TRY(kv_number<int32_t>(*kv, "tfd", 10), t.tfd);
      CKPT_FDINFO_TRY(kv_number<uint32_t>(*kv, "events", 16), t.events);
      CKPT_FDINFO_TRY(kv_number<uint64_t>(*kv, "data", 16), t.data);
      CKPT_FDINFO_TRY(kv_number<int64_t>(*kv, "pos", 10), t.pos);
      CKPT_FDINFO_TRY(kv_number<uint64_t>(*kv, "ino", 16), t.ino);
      CKPT_FDINFO_TRY(kv_number<uint32_t>(*kv, "sdev", 16), t.sdev);
      info.epoll.push_back(t);
      continue;
    }
    if (line.starts_with("inotify ")) {
      auto k = set_kind(FdInfoKind::inotify);
      if (!k)
        return fail(std::move(k).error());
      auto kv = kv_tokens(line.substr(8));
      if (!kv)
        return fail(std::move(kv).error());
      InotifyWatchInfo w;
      CKPT_FDINFO_TRY(kv_number<uint32_t>(*kv, "wd", 16), w.wd);
      CKPT_FDINFO_TRY(kv_number<uint64_t>(*kv, "ino", 16), w.ino);
      CKPT_FDINFO_TRY(kv_number<uint32_t>(*kv, "sdev", 16), w.sdev);
      CKPT_FDINFO_TRY(kv_number<uint32_t>(*kv, "mask", 16), w.mask);
      info.inotify.push_back(w);
      continue;
    }
    if (line.starts_with("fanotify ")) {
      auto k = set_kind(FdInfoKind::fanotify);
      if (!k)
        return fail(std::move(k).error());
      auto kv = kv_tokens(line.substr(9));
      if (!kv)
        return fail(std::move(kv).error());
      if (!kv->empty() && kv->front().first == "flags") {
        uint32_t f = 0;
        CKPT_FDINFO_TRY(kv_number<uint32_t>(*kv, "flags", 16), f);
        info.fanotify_flags = f;
      }
      continue;
    }
    std::size_t colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0)
      return fail(Error::msg("no 'key:' in " + quote(line)));
    std::string_view key = line.substr(0, colon);
    std::string_view value = line.substr(colon + 1);
    if (key == "pos") {
      CKPT_FDINFO_TRY(number<int64_t>(key, value, 10), info.pos);
      have_pos = true;
    } else if (key == "flags") {
      CKPT_FDINFO_TRY(number<uint32_t>(key, value, 8), info.flags);
      have_flags = true;
    } else if (key == "mnt_id") {
      int32_t v = 0;
      CKPT_FDINFO_TRY(number<int32_t>(key, value, 10), v);
      info.mnt_id = v;
    } else if (key == "ino") {
      uint64_t v = 0;
      CKPT_FDINFO_TRY(number<uint64_t>(key, value, 10), v);
      info.ino = v;
    } else if (key == "lock") {
      ++info.locks;
    } else if (key == "eventfd-count") {
      auto k = set_kind(FdInfoKind::eventfd);
      if (!k)
        return fail(std::move(k).error());
      if (!info.eventfd)
        info.eventfd.emplace();
      CKPT_FDINFO_TRY(number<uint64_t>(key, value, 16), info.eventfd->count);
    } else if (key == "eventfd-id" || key == "eventfd-semaphore") {
      if (!info.eventfd)
        return fail(Error::msg(fmt::format("{} before eventfd-count", key)));
      int32_t v = 0;
      CKPT_FDINFO_TRY(number<int32_t>(key, value, 10), v);
      if (key == "eventfd-id") {
        info.eventfd->id = v;
      } else {
        if (v != 0 && v != 1)
          return fail(Error::msg(fmt::format("eventfd-semaphore: {} is not 0 or 1", v)));
        info.eventfd->semaphore = v == 1;
      }
    } else if (key == "clockid" || key == "ticks" || key == "settime flags" ||
               key == "it_value" || key == "it_interval") {
      auto k = set_kind(FdInfoKind::timerfd);
      if (!k)
        return fail(std::move(k).error());
      if (!info.timerfd)
        info.timerfd.emplace();
      TimerfdInfo& t = *info.timerfd;
      if (key == "clockid") {
        CKPT_FDINFO_TRY(number<int32_t>(key, value, 10), t.clockid);
        timer_bits |= 1;
      } else if (key == "ticks") {
        CKPT_FDINFO_TRY(number<uint64_t>(key, value, 10), t.ticks);
        timer_bits |= 2;
      } else if (key == "settime flags") {
        CKPT_FDINFO_TRY(number<uint32_t>(key, value, 8), t.settime_flags);
        timer_bits |= 4;
      } else {
        std::pair<uint64_t, uint64_t> ts;
        CKPT_FDINFO_TRY(timespec_pair(key, value), ts);
        if (key == "it_value") {
          t.value_sec = ts.first;
          t.value_nsec = ts.second;
          timer_bits |= 8;
        } else {
          t.interval_sec = ts.first;
          t.interval_nsec = ts.second;
          timer_bits |= 16;
        }
      }
    } else if (key == "sigmask") {
      auto k = set_kind(FdInfoKind::signalfd);
      if (!k)
        return fail(std::move(k).error());
      uint64_t v = 0;
      CKPT_FDINFO_TRY(number<uint64_t>(key, value, 16), v);
      info.signalfd_sigmask = v;
    } else if (key == "tty-index") {
      auto k = set_kind(FdInfoKind::tty);
      if (!k)
        return fail(std::move(k).error());
      int32_t v = 0;
      CKPT_FDINFO_TRY(number<int32_t>(key, value, 10), v);
      info.tty_index = v;
    }
    // Anything else: a line of a newer kernel, ignored.
#undef CKPT_FDINFO_TRY
  }
  if (!have_pos || !have_flags)
    return Error::msg(!have_pos ? "no pos: line" : "no flags: line");
  if (info.timerfd && timer_bits != 31)
    return Error::msg("incomplete timerfd lines (clockid, ticks, settime flags, it_value, "
                      "it_interval)");
  return info;
}

Result<FdInfo> read_fdinfo(pid_t pid, int fd) {
  auto path = proc_path(pid, fmt::format("fdinfo/{}", fd));
  auto text = read_proc(path);
  if (!text)
    return std::move(text).error();
  return parse_fdinfo(*text).context("parse " + path);
}

}  // namespace ckpt::proc
