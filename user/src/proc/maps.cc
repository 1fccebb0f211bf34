#include "proc/maps.h"

#include <fmt/format.h>
#include <sys/mman.h>

#include <algorithm>

#include "core/parse.h"
#include "proc/procfs.h"

namespace ckpt::proc {
namespace {

constexpr std::string_view kDeleted = " (deleted)";

// Next space-separated token of @s (advances @s past it).
std::string_view next_token(std::string_view& s) {
  std::size_t b = s.find_first_not_of(' ');
  if (b == std::string_view::npos) {
    s = {};
    return {};
  }
  s.remove_prefix(b);
  std::size_t e = s.find(' ');
  std::string_view tok = s.substr(0, e);
  s.remove_prefix(e == std::string_view::npos ? s.size() : e);
  return tok;
}

// The kernel escapes only '\n' in maps paths (seq_file_path(..., "\n")).
std::string unescape_path(std::string_view p) {
  std::string out;
  out.reserve(p.size());
  for (std::size_t i = 0; i < p.size(); ++i) {
    if (p.substr(i, 4) == "\\012") {
      out += '\n';
      i += 3;
    } else {
      out += p[i];
    }
  }
  return out;
}

template <class T>
Result<T> field(std::string_view tok, std::string_view name, int base) {
  auto v = parse_int<T>(tok, base);
  if (!v)
    return std::move(v).error().context(std::string(name));
  return v;
}

bool is_key_line(std::string_view line) {
  std::size_t sp = line.find_first_of(" \t");
  std::string_view first = line.substr(0, sp);
  return !first.empty() && first.back() == ':';
}

}  // namespace

bool MapEntry::has_vm_flag(std::string_view flag) const {
  return std::find(vm_flags.begin(), vm_flags.end(), flag) != vm_flags.end();
}

Result<MapEntry> parse_maps_line(std::string_view line) {
  if (!line.empty() && line.back() == '\n')
    line.remove_suffix(1);
  std::string_view rest = line;
  std::string_view range = next_token(rest);
  std::string_view perms = next_token(rest);
  std::string_view off = next_token(rest);
  std::string_view dev = next_token(rest);
  std::string_view ino = next_token(rest);
  if (ino.empty())
    return Error::msg("fewer than 5 fields in " + quote(line));
  MapEntry e;
  std::size_t dash = range.find('-');
  if (dash == std::string_view::npos)
    return Error::msg("bad address range " + quote(range));
  auto start = field<uint64_t>(range.substr(0, dash), "start", 16);
  if (!start)
    return std::move(start).error();
  auto end = field<uint64_t>(range.substr(dash + 1), "end", 16);
  if (!end)
    return std::move(end).error();
  if (*end <= *start)
    return Error::msg("empty or inverted range " + quote(range));
  e.start = *start;
  e.end = *end;
  if (perms.size() != 4 || (perms[0] != 'r' && perms[0] != '-') ||
      (perms[1] != 'w' && perms[1] != '-') || (perms[2] != 'x' && perms[2] != '-') ||
      (perms[3] != 's' && perms[3] != 'p'))
    return Error::msg("bad permissions " + quote(perms));
  e.prot = (perms[0] == 'r' ? PROT_READ : 0) | (perms[1] == 'w' ? PROT_WRITE : 0) |
           (perms[2] == 'x' ? PROT_EXEC : 0);
  e.shared = perms[3] == 's';
  auto pgoff = field<uint64_t>(off, "offset", 16);
  if (!pgoff)
    return std::move(pgoff).error();
  e.pgoff = *pgoff;
  std::size_t colon = dev.find(':');
  if (colon == std::string_view::npos)
    return Error::msg("bad device " + quote(dev));
  auto maj = field<uint32_t>(dev.substr(0, colon), "device major", 16);
  if (!maj)
    return std::move(maj).error();
  auto min = field<uint32_t>(dev.substr(colon + 1), "device minor", 16);
  if (!min)
    return std::move(min).error();
  e.dev_major = *maj;
  e.dev_minor = *min;
  auto inode = field<uint64_t>(ino, "inode", 10);
  if (!inode)
    return std::move(inode).error();
  e.inode = *inode;
  // The path: after the padding, to the end of the line.
  std::size_t b = rest.find_first_not_of(' ');
  if (b != std::string_view::npos) {
    std::string_view path = rest.substr(b);
    // (No leading space is left, so a match leaves a non-empty path.)
    if (e.inode != 0 && path.ends_with(kDeleted)) {
      path.remove_suffix(kDeleted.size());
      e.deleted = true;
    }
    e.path = unescape_path(path);
  }
  return e;
}

Result<std::vector<MapEntry>> parse_maps(std::string_view text) {
  std::vector<MapEntry> out;
  std::size_t n = 0;
  for (std::string_view line : split_lines(text)) {
    ++n;
    auto e = parse_maps_line(line);
    if (!e)
      return std::move(e).error().context(fmt::format("line {}", n));
    if (!out.empty() && e->start < out.back().end)
      return Error::msg(fmt::format("line {}: overlaps or precedes the previous mapping", n));
    out.push_back(std::move(*e));
  }
  return out;
}

Result<std::vector<MapEntry>> read_maps(pid_t pid) {
  auto path = proc_path(pid, "maps");
  auto text = read_proc(path);
  if (!text)
    return std::move(text).error();
  return parse_maps(*text).context("parse " + path);
}

Result<std::vector<MapEntry>> parse_smaps(std::string_view text) {
  std::vector<MapEntry> out;
  bool have_flags = true;  // of the previous entry
  std::size_t n = 0;
  auto finish = [&]() -> Result<void> {
    if (!out.empty() && !have_flags)
      return Error::msg(fmt::format("mapping {:x}-{:x} has no VmFlags", out.back().start,
                                    out.back().end));
    return {};
  };
  // Streaming: one pass over the lines, state is the current entry only.
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t nl = text.find('\n', pos);
    std::string_view line = text.substr(pos, nl == std::string_view::npos ? nl : nl - pos);
    pos = nl == std::string_view::npos ? text.size() : nl + 1;
    ++n;
    if (!is_key_line(line)) {
      auto done = finish();
      if (!done)
        return std::move(done).error().context(fmt::format("line {}", n));
      auto e = parse_maps_line(line);
      if (!e)
        return std::move(e).error().context(fmt::format("line {}", n));
      if (!out.empty() && e->start < out.back().end)
        return Error::msg(fmt::format("line {}: overlaps or precedes the previous mapping", n));
      out.push_back(std::move(*e));
      have_flags = false;
      continue;
    }
    if (out.empty())
      return Error::msg(fmt::format("line {}: {} before the first mapping", n, quote(line)));
    std::size_t colon = line.find(':');
    std::string_view key = line.substr(0, colon);
    std::string_view value = trim(line.substr(colon + 1));
    MapEntry& cur = out.back();
    auto kb = [&](std::optional<uint64_t>& dest) -> Result<void> {
      std::vector<std::string_view> t = split_ws(value);
      if (t.size() != 2 || t[1] != "kB")
        return Error::msg(fmt::format("line {}: {}: expected 'N kB', got {}", n, key,
                                      quote(value)));
      auto v = parse_int<uint64_t>(t[0]);
      if (!v)
        return std::move(v).error().context(fmt::format("line {}: {}", n, key));
      dest = *v;
      return {};
    };
    if (key == "VmFlags") {
      if (have_flags)
        return Error::msg(fmt::format("line {}: second VmFlags", n));
      for (std::string_view f : split_ws(value)) {
        if (f.size() != 2)
          return Error::msg(fmt::format("line {}: bad VmFlags mnemonic {}", n, quote(f)));
        cur.vm_flags.emplace_back(f);
      }
      have_flags = true;
    } else if (key == "Rss") {
      auto r = kb(cur.rss_kb);
      if (!r)
        return std::move(r).error();
    } else if (key == "Swap") {
      auto r = kb(cur.swap_kb);
      if (!r)
        return std::move(r).error();
    } else if (key == "THPeligible") {
      if (value != "0" && value != "1")
        return Error::msg(fmt::format("line {}: THPeligible: {}", n, quote(value)));
      cur.thp_eligible = value == "1";
    }
    // Other keys: skipped.
  }
  auto done = finish();
  if (!done)
    return std::move(done).error().context("at the end");
  return out;
}

Result<std::vector<MapEntry>> read_smaps(pid_t pid) {
  auto path = proc_path(pid, "smaps");
  auto text = read_proc(path);
  if (!text)
    return std::move(text).error();
  return parse_smaps(*text).context("parse " + path);
}

}  // namespace ckpt::proc
