// Fuzz entry point for the text parsers of /proc and cgroup files.
//
// The first byte of the input picks the parser, the rest is the file:
//   m  /proc/PID/mountinfo        s  /proc/PID/stat
//   S  /proc/PID/status           k  flat-keyed (cgroup.events)
//   c  /proc/PID/cgroup           p  pid list (cgroup.procs)
//   d  a duration (--timeout)     e  a mountinfo escaped field
// A parser may accept or reject; it must not crash, hang or read out of
// bounds, and what it accepts must satisfy the invariants checked here.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "cgroup/mounts.h"
#include "core/time.h"
#include "proc/keyed.h"
#include "proc/mountinfo.h"
#include "proc/pid_cgroup.h"
#include "proc/pidlist.h"
#include "proc/stat.h"
#include "proc/status.h"

namespace {

void check(bool ok) {
  if (!ok)
    std::abort();
}

void fuzz_one(char kind, std::string_view text) {
  using namespace ckpt;
  switch (kind) {
    case 'm': {
      auto m = proc::parse_mountinfo(text);
      if (!m)
        return;
      for (const auto& e : *m) {
        check(!e.mount_point.empty() && e.mount_point[0] == '/');
        check(!e.root.empty() && e.root[0] == '/');
        (void)e.has_super_option("freezer");
      }
      auto found = cg::find_cgroup_mounts(*m);
      (void)found.preferred(cg::Version::v2);
      if (!m->empty())
        (void)cg::classify_dev(*m, m->front().dev(), "x");
      return;
    }
    case 's': {
      auto st = proc::parse_stat(text);
      if (!st)
        return;
      check(st->pid > 0 && st->comm.size() <= text.size() && st->field_count >= 24);
      (void)proc::state_name(st->state);
      return;
    }
    case 'S': {
      auto st = proc::parse_status(text);
      if (!st)
        return;
      check(st->pid > 0 && st->tgid > 0);
      check(!st->seccomp || *st->seccomp <= 2);
      return;
    }
    case 'k': {
      auto kv = proc::parse_flat_keyed(text);
      if (!kv)
        return;
      (void)kv->get_u64("frozen");
      (void)kv->get_u64("populated");
      return;
    }
    case 'c': {
      auto e = proc::parse_proc_cgroup(text);
      if (!e)
        return;
      for (const auto& m : *e)
        check(!m.path.empty() && m.path[0] == '/');
      (void)proc::find_v2(*e);
      (void)proc::find_controller(*e, "freezer");
      return;
    }
    case 'p': {
      auto pids = proc::parse_pid_list(text);
      if (!pids)
        return;
      for (pid_t p : *pids)
        check(p > 0);
      return;
    }
    case 'd': {
      auto d = parse_duration(text);
      if (d)
        check(d->count() >= 0);
      return;
    }
    case 'e': {
      auto s = proc::unescape_mount_field(text);
      if (s)
        check(s->size() <= text.size());
      return;
    }
    default:
      return;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0)
    return 0;
  std::string_view text(reinterpret_cast<const char*>(data) + 1, size - 1);
  fuzz_one(static_cast<char>(data[0]), text);
  return 0;
}
