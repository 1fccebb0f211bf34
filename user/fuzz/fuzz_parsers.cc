// Fuzz entry point for the parsers of /proc and cgroup files and of
// sock_diag replies.
//
// The first byte of the input picks the parser, the rest is the file:
//   m  /proc/PID/mountinfo        s  /proc/PID/stat
//   S  /proc/PID/status           k  flat-keyed (cgroup.events)
//   c  /proc/PID/cgroup           p  pid list (cgroup.procs)
//   d  a duration (--timeout)     e  a mountinfo escaped field
//   M  /proc/PID/maps             l  one maps line
//   A  /proc/PID/smaps            f  /proc/PID/fdinfo/N
//   L  /proc/PID/limits           a  /proc/PID/auxv (binary)
//   n  a namespace link: "TYPE\0LINK" (type, NUL, readlink text)
//   P  /proc/PID/personality      o  /proc/PID/oom_score_adj
//   g  pagemap entries: 1 byte predicate (0 private-anon, 1 private-file,
//      2 in-memory; the high bits split the input in two calls), 4 bytes
//      start page (little endian), then 8-byte raw entries
//   u  unix_diag reply (netlink messages)
//   i  inet_diag reply: 1 byte protocol, then the netlink messages
// A parser may accept or reject; it must not crash, hang or read out of
// bounds, and what it accepts must satisfy the invariants checked here.
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <span>
#include <string_view>
#include <vector>

#include "cgroup/mounts.h"
#include "core/time.h"
#include "net/sock_diag.h"
#include "proc/attrs.h"
#include "proc/fdinfo.h"
#include "proc/keyed.h"
#include "proc/maps.h"
#include "proc/mountinfo.h"
#include "proc/pagemap.h"
#include "proc/pid_cgroup.h"
#include "proc/pidlist.h"
#include "proc/stat.h"
#include "proc/status.h"

namespace {

void check(bool ok) {
  if (!ok)
    std::abort();
}

void check_map_entry(const ckpt::proc::MapEntry& e, std::string_view text) {
  check(e.start < e.end);
  check((e.prot & ~7u) == 0);
  check(e.path.size() <= text.size());
  (void)e.is_special();
  (void)e.has_vm_flag("rd");
}

void check_maps(const std::vector<ckpt::proc::MapEntry>& maps, std::string_view text) {
  for (std::size_t i = 0; i < maps.size(); ++i) {
    check_map_entry(maps[i], text);
    if (i > 0)
      check(maps[i - 1].end <= maps[i].start);
  }
}

// Netlink parsers read headers in place: give them a buffer aligned as a
// recv() buffer is (the fuzzer's data starts at an odd offset), of exactly
// the input's size so that ASan sees a read past its end.
std::unique_ptr<uint8_t[]> aligned_copy(std::string_view text) {
  std::unique_ptr<uint8_t[]> buf(new uint8_t[text.size() + (text.empty() ? 1 : 0)]);
  if (!text.empty())
    std::memcpy(buf.get(), text.data(), text.size());
  return buf;
}

void fuzz_pagemap(std::string_view text) {
  using namespace ckpt::proc;
  if (text.size() < 5)
    return;
  auto sel = static_cast<uint8_t>(text[0]);
  uint32_t start_page = 0;
  std::memcpy(&start_page, text.data() + 1, sizeof start_page);
  text.remove_prefix(5);
  std::vector<uint64_t> entries(text.size() / 8);
  if (!entries.empty())
    std::memcpy(entries.data(), text.data(), entries.size() * 8);
  PagePredicate want;
  switch (sel % 3) {
    case 0: want = want_private_anon; break;
    case 1: want = want_private_file; break;
    default: want = page_in_memory; break;
  }
  constexpr std::size_t kPage = 4096;
  uint64_t start = static_cast<uint64_t>(start_page) * kPage;
  // Two calls (as scan() does per batch): a run must continue across them.
  std::size_t split = entries.empty() ? 0 : (sel >> 2) % (entries.size() + 1);
  ScanResult r;
  std::span<const uint64_t> all(entries);
  collect_runs(start, all.first(split), want, kPage, &r);
  collect_runs(start + split * kPage, all.subspan(split), want, kPage, &r);
  check(r.scanned == entries.size());
  uint64_t selected = 0, in_memory = 0;
  for (std::size_t i = 0; i < entries.size(); ++i) {
    selected += want(entries[i]) ? 1 : 0;
    in_memory += page_in_memory(entries[i]) ? 1 : 0;
    (void)decode_pagemap_entry(entries[i]);
  }
  check(r.selected == selected && r.in_memory == in_memory);
  uint64_t in_runs = 0;
  for (std::size_t i = 0; i < r.runs.size(); ++i) {
    const PageRange& run = r.runs[i];
    check(run.nr_pages > 0 && run.start >= start && run.start % kPage == 0);
    check(run.start + run.nr_pages * kPage <= start + entries.size() * kPage);
    // Every page of a run selected, the runs maximal and sorted.
    uint64_t first = (run.start - start) / kPage;
    for (uint64_t j = first; j < first + run.nr_pages; ++j)
      check(want(entries[j]));
    if (first > 0)
      check(!want(entries[first - 1]));
    if (i > 0)
      check(r.runs[i - 1].start + r.runs[i - 1].nr_pages * kPage < run.start);
    in_runs += run.nr_pages;
  }
  check(in_runs == r.selected);
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
    case 'M': {
      auto maps = proc::parse_maps(text);
      if (maps)
        check_maps(*maps, text);
      return;
    }
    case 'l': {
      auto e = proc::parse_maps_line(text);
      if (e)
        check_map_entry(*e, text);
      return;
    }
    case 'A': {
      auto maps = proc::parse_smaps(text);
      if (!maps)
        return;
      check_maps(*maps, text);
      for (const auto& e : *maps)
        for (const auto& f : e.vm_flags)
          check(f.size() == 2);
      return;
    }
    case 'f': {
      auto fi = proc::parse_fdinfo(text);
      if (!fi)
        return;
      (void)fi->cloexec();
      (void)proc::fdinfo_kind_name(fi->kind);
      check(fi->kind == proc::FdInfoKind::epoll || fi->epoll.empty());
      check(fi->kind == proc::FdInfoKind::inotify || fi->inotify.empty());
      check(fi->kind != proc::FdInfoKind::eventfd || fi->eventfd);
      check(fi->kind != proc::FdInfoKind::timerfd || fi->timerfd);
      check(fi->kind != proc::FdInfoKind::signalfd || fi->signalfd_sigmask);
      return;
    }
    case 'L': {
      auto lim = proc::parse_limits(text);
      if (!lim)
        return;
      for (std::size_t i = 0; i < lim->size(); ++i) {
        (void)proc::rlimit_name((*lim)[i].resource);
        if (i > 0)
          check((*lim)[i - 1].resource < (*lim)[i].resource);
      }
      return;
    }
    case 'a': {
      auto av = proc::decode_auxv(text);
      if (!av)
        return;
      check((av->size() + 1) * 2 * sizeof(unsigned long) <= text.size());
      for (const auto& e : *av) {
        check(e.key != 0);
        (void)proc::auxv_key_name(e.key);
      }
      return;
    }
    case 'n': {
      auto nul = text.find('\0');
      if (nul == std::string_view::npos)
        return;
      auto ino = proc::parse_ns_link(text.substr(nul + 1), text.substr(0, nul));
      (void)ino;
      return;
    }
    case 'P': {
      (void)proc::parse_personality(text);
      return;
    }
    case 'o': {
      auto v = proc::parse_oom_score_adj(text);
      if (v)
        check(*v >= -1000 && *v <= 1000);
      return;
    }
    case 'g':
      fuzz_pagemap(text);
      return;
    case 'u': {
      auto buf = aligned_copy(text);
      std::span<const uint8_t> bytes(buf.get(), text.size());
      net::UnixSockMap out;
      auto st = net::parse_unix_diag(bytes, out);
      if (!st)
        return;
      for (const auto& [ino, s] : out) {
        check(ino == s.inode);
        check(s.name.size() <= text.size());
        check(s.icons.size() <= text.size() / 4);
      }
      return;
    }
    case 'i': {
      if (text.empty())
        return;
      uint32_t proto = static_cast<uint8_t>(text[0]);
      text.remove_prefix(1);
      auto buf = aligned_copy(text);
      std::span<const uint8_t> bytes(buf.get(), text.size());
      net::InetSockMap out;
      auto st = net::parse_inet_diag(bytes, proto, out);
      if (!st)
        return;
      for (const auto& [ino, s] : out) {
        check(ino == s.inode && s.protocol == proto);
        check(s.src_port <= 0xffff && s.dst_port <= 0xffff);
      }
      return;
    }
    default:
      return;
  }
}

}  // namespace

// CKPT_FUZZ_ONLY=<selectors> (e.g. "MlA") restricts a fuzzing session to
// some parsers: other inputs are rejected (-1: not added to the corpus).
extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0)
    return 0;
  static const char* const only = std::getenv("CKPT_FUZZ_ONLY");
  if (only && (data[0] == 0 || !std::strchr(only, data[0])))
    return -1;
  std::string_view text(reinterpret_cast<const char*>(data) + 1, size - 1);
  fuzz_one(static_cast<char>(data[0]), text);
  return 0;
}
