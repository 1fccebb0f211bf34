// Fuzz entry point for the image reader (src/image/reader.h).
//
// The input is an image.  The first byte's low bit picks the mode: 0 reads
// the rest with random access (a file), 1 sequentially (a stream, with
// keep_pages).  Bit 1 set: the harness first "repairs" the image -- it
// recomputes the file header hash, every section's seq, payload hash (by
// the section's HASH_XXH64 flag, as a writer would) and header check, and
// the END trailer -- so that mutations reach the message parsers, the
// flag checks and the PageRun checks instead of stopping at a checksum.
// Bit 2 set: a directory image (format 3.x: several page files); the rest
// is parts, each a 4-byte little-endian length and that many bytes (the
// last one may be short): meta.ckpt, pages.ckpt, pages.1.ckpt ... (at most
// kDirParts), written to a scratch directory and opened as the directory
// (bit 0 is ignored, bit 1 repairs each part).  The reader may accept or
// reject; it must not crash, hang, read out of bounds or allocate without
// bound, and what it accepts must satisfy the invariants checked here.
#include <xxhash.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/fd.h"
#include "core/file.h"
#include "image/format.h"
#include "image/reader.h"

namespace {

void check(bool ok) {
  if (!ok)
    std::abort();
}

// The invariants of an accepted image, read from one buffer (@size bytes)
// or a directory (@size: the bytes of meta.ckpt and the page files it
// counts), and of its page runs.
void check_image(ckpt::image::ImageReader& r, const ckpt::image::Image& img, uint64_t size) {
  using namespace ckpt::image;
  check(img.total_bytes == size);
  check(!img.sections.empty() &&
        img.sections.back().header.type == static_cast<uint32_t>(SectionType::end));
  check(img.sections.front().header.type == static_cast<uint32_t>(SectionType::info));
  for (const auto& s : img.sections)
    check((s.header.flags & ~kSectionKnownFlags) == 0);
  check(img.header.major >= kOldestMajor && img.header.major <= kMajor);
  // One page file in one buffer; a directory's page files as meta.ckpt
  // counts them, each its index (the count and index are 3.x only).
  const uint32_t files = img.header.page_files;
  check(img.header.file_index == 0 && files >= 1 && files <= kMaxPageFiles);
  check(img.header.major >= 3 || files == 1);
  check(img.directory ? img.page_headers.size() == files : img.page_headers.empty() && files == 1);
  for (uint32_t k = 0; k < img.page_headers.size(); ++k)
    check(img.page_headers[k].file_index == k && img.page_headers[k].page_files == files &&
          img.page_headers[k].major == img.header.major);
  for (const auto& [key, s] : img.pages)
    check(key.first < files && s.file == key.first && s.header.seq == key.second &&
          s.in_pages_file == img.directory);
  (void)r.verify_pages();
  // Every run accepted names an existing file and section, and reads back;
  // the same run in a page file the image does not have does not.
  uint32_t ps = img.header.page_size;
  auto runs = [&](const auto& list) {
    for (const PageRun& run : list) {
      check(run.file() < files);
      auto b = r.read_run(run);
      check(b.ok() && b->size() == run.nr_pages() * ps);
      PageRun other = run;
      other.set_file(files);
      check(!r.read_run(other).ok());
    }
  };
  for (const auto& p : img.processes)
    runs(p.memory().pages());
  for (const auto& s : img.shared_memory)
    runs(s.pages());
}

ckpt::image::ReadOptions options(bool stream) {
  ckpt::image::ReadOptions opt;
  opt.max_message = 1u << 20;
  opt.keep_pages = stream;
  return opt;
}

// The image @r opened, if it did and its metadata loads; a refusal must
// say why.
std::optional<ckpt::image::Image> load(ckpt::Result<ckpt::image::ImageReader>& r) {
  if (!r)
    return std::nullopt;
  auto img = r->load_metadata();
  if (!img) {
    check(!img.error().message().empty());
    return std::nullopt;
  }
  return std::move(*img);
}

void fuzz_one(std::string_view bytes, ckpt::image::ImageReader::Mode mode) {
  using namespace ckpt::image;
  auto r = ImageReader::open_memory(bytes, mode, options(mode == ImageReader::Mode::stream));
  auto img = load(r);
  if (!img)
    return;
  check(!img->directory);
  check_image(*r, *img, bytes.size());
}

// Directory mode: at most this many parts (meta.ckpt and page files 0..6).
constexpr std::size_t kDirParts = 8;

std::string part_name(std::size_t i) {
  return i == 0 ? std::string("meta.ckpt")
                : ckpt::image::page_file_name(static_cast<uint32_t>(i - 1));
}

// The scratch directory of directory mode, made once, removed at exit.
const std::string& scratch_dir() {
  static const std::string dir = [] {
    const char* t = std::getenv("TMPDIR");
    std::string tmpl = std::string(t && *t ? t : "/tmp") + "/ckpt-fuzz-image.XXXXXX";
    check(::mkdtemp(tmpl.data()) != nullptr);
    return tmpl;
  }();
  static const bool cleanup = [] {
    std::atexit([] {
      for (std::size_t i = 0; i < kDirParts; ++i)
        ::unlink((scratch_dir() + "/" + part_name(i)).c_str());
      ::rmdir(scratch_dir().c_str());
    });
    return true;
  }();
  (void)cleanup;
  return dir;
}

void fuzz_directory(const std::vector<std::string>& parts) {
  using namespace ckpt::image;
  const std::string& dir = scratch_dir();
  for (std::size_t i = 0; i < kDirParts; ++i) {
    std::string p = dir + "/" + part_name(i);
    ::unlink(p.c_str());
    if (i < parts.size()) {
      auto fd = ckpt::Fd::open(p, O_WRONLY | O_CREAT | O_EXCL, 0600);
      check(fd.ok() && ckpt::write_all(fd->get(), parts[i]).ok());
    }
  }
  auto r = ImageReader::open(dir, options(false));
  auto img = load(r);
  if (!img)
    return;
  check(img->directory && parts.size() >= 1 + img->header.page_files);
  uint64_t size = 0;
  for (std::size_t i = 0; i <= img->header.page_files; ++i)
    size += parts[i].size();
  check_image(*r, *img, size);
}

uint64_t get(const std::string& b, std::size_t off, int n) {
  uint64_t v = 0;
  for (int i = n - 1; i >= 0; --i)
    v = (v << 8) | static_cast<uint8_t>(b[off + static_cast<std::size_t>(i)]);
  return v;
}
void put(std::string& b, std::size_t off, int n, uint64_t v) {
  for (int i = 0; i < n; ++i)
    b[off + static_cast<std::size_t>(i)] = static_cast<char>(v >> (8 * i));
}

void repair(std::string& b) {
  using namespace ckpt::image;
  if (b.size() < kFileHeaderSize || std::memcmp(b.data(), kMagic.data(), kMagic.size()) != 0)
    return;
  put(b, 56, 8, XXH3_64bits(b.data(), 56));
  std::string headers;
  std::size_t pos = kFileHeaderSize;
  for (uint32_t seq = 0; b.size() - pos >= kSectionHeaderSize; ++seq) {
    uint64_t type = get(b, pos, 4);
    auto flags = static_cast<uint32_t>(get(b, pos + 4, 4));
    uint64_t len = get(b, pos + 8, 8);
    std::size_t at = pos + kSectionHeaderSize;
    std::size_t avail = b.size() - at;
    std::size_t plen = len < avail ? static_cast<std::size_t>(len) : avail;
    if (type == static_cast<uint32_t>(SectionType::end) && plen >= kTrailerSize) {
      put(b, at, 4, seq);
      put(b, at + 4, 8, pos);
      put(b, at + 12, 8, XXH3_64bits(headers.data(), headers.size()));
      std::memcpy(&b[at + 20], &b[32], 16);
    }
    put(b, pos + 24, 4, seq);
    put(b, pos + 16, 8, payload_hash(flags, b.data() + at, plen));
    put(b, pos + 28, 4, static_cast<uint32_t>(XXH3_64bits(b.data() + pos, 28)));
    if (type != static_cast<uint32_t>(SectionType::end))
      headers.append(b, pos, kSectionHeaderSize);
    if (len > avail)
      break;
    pos = at + plen;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0)
    return 0;
  std::string_view bytes(reinterpret_cast<const char*>(data) + 1, size - 1);
  if (data[0] & 4) {
    std::vector<std::string> parts;
    while (bytes.size() >= 4 && parts.size() < kDirParts) {
      std::string len4(bytes.substr(0, 4));
      auto n = static_cast<std::size_t>(get(len4, 0, 4));
      bytes.remove_prefix(4);
      parts.emplace_back(bytes.substr(0, n));
      bytes.remove_prefix(std::min(n, bytes.size()));
      if (data[0] & 2)
        repair(parts.back());
    }
    fuzz_directory(parts);
    return 0;
  }
  std::string fixed;
  if (data[0] & 2) {
    fixed.assign(bytes);
    repair(fixed);
    bytes = fixed;
  }
  fuzz_one(bytes, (data[0] & 1) ? ckpt::image::ImageReader::Mode::stream
                                : ckpt::image::ImageReader::Mode::file);
  return 0;
}
