#include "proc/mountinfo.h"

#include <sys/sysmacros.h>

#include <fmt/format.h>

#include "core/file.h"
#include "core/parse.h"

namespace ckpt::proc {

bool MountInfo::has_super_option(std::string_view option) const {
  for (std::string_view o : split(super_options, ','))
    if (o == option)
      return true;
  return false;
}

dev_t MountInfo::dev() const { return makedev(major, minor); }

Result<std::string> unescape_mount_field(std::string_view field) {
  std::string out;
  out.reserve(field.size());
  for (std::size_t i = 0; i < field.size(); ++i) {
    char c = field[i];
    if (c != '\\') {
      out += c;
      continue;
    }
    if (i + 3 >= field.size())
      return Error::msg("truncated escape in " + quote(field));
    unsigned value = 0;
    for (std::size_t k = 1; k <= 3; ++k) {
      char d = field[i + k];
      if (d < '0' || d > '7')
        return Error::msg("bad escape in " + quote(field));
      value = value * 8 + static_cast<unsigned>(d - '0');
    }
    if (value > 0xff)
      return Error::msg("bad escape in " + quote(field));
    out += static_cast<char>(value);
    i += 3;
  }
  return out;
}

Result<MountInfo> parse_mountinfo_line(std::string_view line) {
  // Fields are separated by single spaces; split_ws also tolerates tabs,
  // which the kernel escapes inside fields anyway.
  std::vector<std::string_view> f = split_ws(line);
  if (f.size() < 10)
    return Error::msg(fmt::format("{} fields, expected at least 10", f.size()));

  MountInfo m;
  auto id = parse_int<uint32_t>(f[0]);
  if (!id)
    return std::move(id).error().context("mount id");
  m.mount_id = *id;
  auto parent = parse_int<uint32_t>(f[1]);
  if (!parent)
    return std::move(parent).error().context("parent id");
  m.parent_id = *parent;

  std::size_t colon = f[2].find(':');
  if (colon == std::string_view::npos)
    return Error::msg("device " + quote(f[2]) + " is not major:minor");
  auto major = parse_int<uint32_t>(f[2].substr(0, colon));
  auto minor = parse_int<uint32_t>(f[2].substr(colon + 1));
  if (!major || !minor)
    return Error::msg("device " + quote(f[2]) + " is not major:minor");
  m.major = *major;
  m.minor = *minor;

  auto root = unescape_mount_field(f[3]);
  if (!root)
    return std::move(root).error().context("root");
  m.root = std::move(*root);
  auto mp = unescape_mount_field(f[4]);
  if (!mp)
    return std::move(mp).error().context("mount point");
  m.mount_point = std::move(*mp);
  m.mount_options = std::string(f[5]);

  std::size_t i = 6;
  while (i < f.size() && f[i] != "-")
    m.optional_fields.emplace_back(f[i++]);
  if (i == f.size())
    return Error::msg("no '-' separator");
  ++i;
  if (f.size() - i != 3)
    return Error::msg(fmt::format("{} fields after '-', expected 3", f.size() - i));
  m.fstype = std::string(f[i]);
  auto source = unescape_mount_field(f[i + 1]);
  if (!source)
    return std::move(source).error().context("source");
  m.source = std::move(*source);
  m.super_options = std::string(f[i + 2]);
  if (m.root.empty() || m.root[0] != '/' || m.mount_point.empty() || m.mount_point[0] != '/')
    return Error::msg("root and mount point must be absolute paths");
  return m;
}

Result<std::vector<MountInfo>> parse_mountinfo(std::string_view text) {
  std::vector<MountInfo> mounts;
  std::size_t n = 0;
  for (std::string_view line : split_lines(text)) {
    ++n;
    auto m = parse_mountinfo_line(line);
    if (!m)
      return std::move(m).error().context(fmt::format("line {}", n));
    mounts.push_back(std::move(*m));
  }
  return mounts;
}

Result<std::vector<MountInfo>> read_mountinfo() {
  const std::string path = "/proc/self/mountinfo";
  auto text = read_file(path, 64u << 20);
  if (!text)
    return std::move(text).error();
  return parse_mountinfo(*text).context("parse " + path);
}

}  // namespace ckpt::proc
