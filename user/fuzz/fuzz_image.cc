// Fuzz entry point for the image reader (src/image/reader.h).
//
// The input is an image.  The first byte's low bit picks the mode: 0 reads
// the rest with random access (a file), 1 sequentially (a stream, with
// keep_pages).  Bit 1 set: the harness first "repairs" the image -- it
// recomputes the file header hash, every section's seq, payload hash (by
// the section's HASH_XXH64 flag, as a writer would) and header check, and
// the END trailer -- so that mutations reach the message parsers, the
// flag checks and the PageRun checks instead of stopping at a checksum.  The reader may accept or reject; it must not crash, hang,
// read out of bounds or allocate without bound, and what it accepts must
// satisfy the invariants checked here.
#include <xxhash.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>

#include "image/format.h"
#include "image/reader.h"

namespace {

void check(bool ok) {
  if (!ok)
    std::abort();
}

void fuzz_one(std::string_view bytes, ckpt::image::ImageReader::Mode mode) {
  using namespace ckpt::image;
  ReadOptions opt;
  opt.max_message = 1u << 20;
  opt.keep_pages = mode == ImageReader::Mode::stream;
  auto r = ImageReader::open_memory(bytes, mode, opt);
  if (!r)
    return;
  auto img = r->load_metadata();
  if (!img) {
    check(!img.error().message().empty());
    return;
  }
  check(img->total_bytes == bytes.size());
  check(!img->sections.empty() &&
        img->sections.back().header.type == static_cast<uint32_t>(SectionType::end));
  check(img->sections.front().header.type == static_cast<uint32_t>(SectionType::info));
  for (const auto& s : img->sections)
    check((s.header.flags & ~kSectionKnownFlags) == 0);
  check(img->header.major >= kOldestMajor && img->header.major <= kMajor);
  (void)r->verify_pages();
  uint32_t ps = img->header.page_size;
  for (const auto& p : img->processes)
    for (const auto& run : p.memory().pages()) {
      auto b = r->read_run(run);
      check(b.ok() && b->size() == run.nr_pages() * ps);
    }
  for (const auto& s : img->shared_memory)
    for (const auto& run : s.pages()) {
      auto b = r->read_run(run);
      check(b.ok() && b->size() == run.nr_pages() * ps);
    }
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
