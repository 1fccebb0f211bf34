// Cgroup freezer operations; see cgroup.h for the protocol of each version.
#include <fcntl.h>
#include <poll.h>

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>

#include "cgroup/cgroup.h"
#include "cgroup/tasks.h"
#include "core/file.h"
#include "core/log.h"
#include "core/parse.h"
#include "proc/keyed.h"

namespace ckpt::cg {
namespace {

constexpr auto kV1FirstBackoff = std::chrono::milliseconds(1);
constexpr auto kV1MaxBackoff = std::chrono::milliseconds(100);

const char* freeze_file(Version v) { return v == Version::v2 ? "cgroup.freeze" : "freezer.state"; }

// A write to the freezer file, with the two failures worth explaining.
Result<void> write_freezer(const Cgroup& cg, std::string_view value) {
  const char* file = freeze_file(cg.version());
  auto r = write_file_at(cg.dir_fd(), file, value);
  if (r)
    return {};
  int code = r.error().code();
  if (code == ENOENT)
    return Error::msg(fmt::format("no {} (the root cgroup cannot be frozen{})", file,
                                  cg.version() == Version::v2
                                      ? "; kernels before 5.2 have no v2 freezer"
                                      : ""),
                      ENOENT);
  if (code == EBUSY)
    return Error::sys(EBUSY, fmt::format("write {} (a checkpoint session holds it)", file));
  return Error::sys(code, fmt::format("write {}", file));
}

Result<FreezerState> parse_v1_state(std::string_view text, bool* checkpointing) {
  std::string_view s = trim(text);
  *checkpointing = false;
  if (s == "THAWED")
    return FreezerState::thawed;
  if (s == "FREEZING")
    return FreezerState::freezing;
  if (s == "FROZEN")
    return FreezerState::frozen;
  if (s == "CHECKPOINTING") {  // ckpt.ko holds it frozen
    *checkpointing = true;
    return FreezerState::frozen;
  }
  return Error::msg("unknown freezer.state " + quote(s));
}

Result<bool> read_flag_file(const Cgroup& cg, const char* file) {
  auto text = read_file_at(cg.dir_fd(), file);
  if (!text)
    return std::move(text).error();
  auto v = parse_int<unsigned>(trim(*text));
  if (!v || *v > 1)
    return Error::msg(fmt::format("{}: expected 0 or 1, got {}", file, quote(*text)));
  return *v == 1;
}

Result<uint64_t> events_frozen(int events_fd) {
  auto text = pread_all(events_fd);
  if (!text)
    return std::move(text).error().context("read cgroup.events");
  auto kv = proc::parse_flat_keyed(*text);
  if (!kv)
    return std::move(kv).error().context("cgroup.events");
  auto frozen = kv->get_u64("frozen");
  if (!frozen)
    return std::move(frozen).error().context("cgroup.events");
  return *frozen;
}

Error timeout_error(const Cgroup& cg, Clock::duration timeout) {
  std::string why;
  auto tids = cg.subtree_threads();
  if (tids)
    why = describe_unfrozen(cg.version(), snapshot_tasks(*tids));
  else
    why = "cannot list its tasks: " + tids.error().message();
  return Error::msg(fmt::format("not frozen after {}: {}", format_duration(timeout), why),
                    ETIMEDOUT);
}

Result<void> wait_v2(const Cgroup& cg, Clock::duration timeout) {
  auto events = Fd::open_at(cg.dir_fd(), "cgroup.events", O_RDONLY);
  if (!events)
    return std::move(events).error();
  Deadline deadline = Deadline::after(timeout);
  for (;;) {
    // Read before poll: kernfs reports POLLPRI for changes after the last read.
    auto frozen = events_frozen(events->get());
    if (!frozen)
      return std::move(frozen).error();
    if (*frozen == 1)
      return {};
    auto wanted = read_flag_file(cg, "cgroup.freeze");
    if (!wanted)
      return std::move(wanted).error();
    if (!*wanted)
      return Error::msg("thawed by someone else while freezing", ECANCELED);
    if (deadline.expired())
      return timeout_error(cg, timeout);
    struct pollfd p = {events->get(), POLLPRI, 0};
    int n = ::poll(&p, 1, deadline.poll_timeout_ms());
    if (n < 0 && errno != EINTR)
      return Error::from_errno("poll cgroup.events");
  }
}

Result<void> wait_v1(const Cgroup& cg, Clock::duration timeout) {
  Deadline deadline = Deadline::after(timeout);
  Clock::duration backoff = kV1FirstBackoff;
  for (int round = 0;; ++round) {
    auto text = read_file_at(cg.dir_fd(), "freezer.state");
    if (!text)
      return std::move(text).error();
    bool checkpointing = false;
    auto state = parse_v1_state(*text, &checkpointing);
    if (!state)
      return std::move(state).error();
    if (*state == FreezerState::frozen)
      return {};
    if (*state == FreezerState::thawed)
      return Error::msg("thawed by someone else while freezing", ECANCELED);
    if (deadline.expired())
      return timeout_error(cg, timeout);
    if (round > 0) {
      // Re-assert: 6.1's v1 freezer can stall in FREEZING until FROZEN is
      // written again (CRIU does the same).
      log::debug("{} still FREEZING, writing FROZEN again", cg.path());
      auto r = write_freezer(cg, "FROZEN");
      if (!r)
        return std::move(r).error();
    }
    sleep_for(std::min(backoff, deadline.remaining()));
    backoff = std::min<Clock::duration>(backoff * 2, kV1MaxBackoff);
  }
}

Result<FreezerStatus> status_v2(const Cgroup& cg) {
  FreezerStatus st;
  auto self = read_flag_file(cg, "cgroup.freeze");
  if (!self)
    return std::move(self).error();
  auto events = Fd::open_at(cg.dir_fd(), "cgroup.events", O_RDONLY);
  if (!events)
    return std::move(events).error();
  auto frozen = events_frozen(events->get());
  if (!frozen)
    return std::move(frozen).error();
  st.self = *self;
  st.state = *frozen == 1 ? FreezerState::frozen
                          : (*self ? FreezerState::freezing : FreezerState::thawed);
  return st;
}

Result<FreezerStatus> status_v1(const Cgroup& cg) {
  FreezerStatus st;
  auto text = read_file_at(cg.dir_fd(), "freezer.state");
  if (!text)
    return std::move(text).error();
  auto state = parse_v1_state(*text, &st.checkpointing);
  if (!state)
    return std::move(state).error();
  st.state = *state;
  auto self = read_flag_file(cg, "freezer.self_freezing");
  if (!self)
    return std::move(self).error();
  st.self = *self;
  return st;
}

}  // namespace

std::string_view state_name(FreezerState s) {
  switch (s) {
    case FreezerState::thawed: return "thawed";
    case FreezerState::freezing: return "freezing";
    case FreezerState::frozen: return "frozen";
  }
  return "?";
}

Result<FreezerStatus> Cgroup::freezer_status() const {
  auto st = version_ == Version::v2 ? status_v2(*this) : status_v1(*this);
  return std::move(st).context("read the freezer state of " + path_);
}

Result<void> Cgroup::request_freeze() const {
  return write_freezer(*this, version_ == Version::v2 ? "1" : "FROZEN").context("freeze " + path_);
}

Result<void> Cgroup::request_thaw() const {
  return write_freezer(*this, version_ == Version::v2 ? "0" : "THAWED").context("thaw " + path_);
}

Result<void> Cgroup::wait_frozen(Clock::duration timeout) const {
  auto r = version_ == Version::v2 ? wait_v2(*this, timeout) : wait_v1(*this, timeout);
  return std::move(r).context("freeze " + path_);
}

Result<void> Cgroup::freeze(Clock::duration timeout) const {
  auto start = Clock::now();
  auto r = request_freeze();
  if (!r)
    return r;
  r = wait_frozen(timeout);
  if (!r)
    return r;
  log::debug("{} frozen in {}", path_, format_duration(Clock::now() - start));
  return {};
}

}  // namespace ckpt::cg
