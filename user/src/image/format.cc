#include "image/format.h"

#include <xxhash.h>

#include <cstring>
#include <new>
#include <utility>

#include <fmt/format.h>

namespace ckpt::image {

namespace {

void put16(uint8_t* p, uint16_t v) {
  p[0] = static_cast<uint8_t>(v);
  p[1] = static_cast<uint8_t>(v >> 8);
}
void put32(uint8_t* p, uint32_t v) {
  for (int i = 0; i < 4; ++i)
    p[i] = static_cast<uint8_t>(v >> (8 * i));
}
void put64(uint8_t* p, uint64_t v) {
  for (int i = 0; i < 8; ++i)
    p[i] = static_cast<uint8_t>(v >> (8 * i));
}
uint16_t get16(const uint8_t* p) { return static_cast<uint16_t>(p[0] | (p[1] << 8)); }
uint32_t get32(const uint8_t* p) {
  uint32_t v = 0;
  for (int i = 3; i >= 0; --i)
    v = (v << 8) | p[i];
  return v;
}
uint64_t get64(const uint8_t* p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i)
    v = (v << 8) | p[i];
  return v;
}

// File header layout.
constexpr std::size_t kOffMagic = 0, kOffMajor = 8, kOffMinor = 10, kOffHeaderSize = 12,
                      kOffFlags = 16, kOffPageSize = 20, kOffCreated = 24, kOffUuid = 32,
                      kOffPageFiles = 48, kOffFileIndex = 52, kOffHeaderHash = 56;
// Section header layout.
constexpr std::size_t kOffType = 0, kOffSecFlags = 4, kOffLength = 8, kOffPayloadHash = 16,
                      kOffSeq = 24, kOffCheck = 28;

uint32_t header_check(const uint8_t* p) {
  return static_cast<uint32_t>(XXH3_64bits(p, kOffCheck));
}

}  // namespace

uint64_t xxh3(const void* data, std::size_t len) noexcept { return XXH3_64bits(data, len); }
uint64_t xxh64(const void* data, std::size_t len) noexcept { return XXH64(data, len, 0); }

uint64_t payload_hash(uint32_t flags, const void* data, std::size_t len) noexcept {
  return (flags & kSectionHashXxh64) ? XXH64(data, len, 0) : XXH3_64bits(data, len);
}

PayloadHasher::PayloadHasher(uint32_t flags) {
  if (flags & kSectionHashXxh64) {
    x64_ = XXH64_createState();
    if (!x64_)
      throw std::bad_alloc();
    XXH64_reset(x64_, 0);
  } else {
    x3_ = XXH3_createState();
    if (!x3_)
      throw std::bad_alloc();
    XXH3_64bits_reset(x3_);
  }
}

PayloadHasher::PayloadHasher(PayloadHasher&& o) noexcept
    : x3_(std::exchange(o.x3_, nullptr)), x64_(std::exchange(o.x64_, nullptr)) {}

PayloadHasher::~PayloadHasher() {
  if (x3_)
    XXH3_freeState(x3_);
  if (x64_)
    XXH64_freeState(x64_);
}

void PayloadHasher::update(const void* data, std::size_t len) noexcept {
  if (x64_)
    XXH64_update(x64_, data, len);
  else if (x3_)
    XXH3_64bits_update(x3_, data, len);
}

uint64_t PayloadHasher::digest() const noexcept {
  if (x64_)
    return XXH64_digest(x64_);
  return x3_ ? XXH3_64bits_digest(x3_) : 0;
}

std::string section_flags_name(uint32_t flags) {
  std::string s;
  auto add = [&](std::string_view part) {
    if (!s.empty())
      s += '|';
    s += part;
  };
  if (flags & kSectionOptional)
    add("OPTIONAL");
  if (flags & kSectionHashXxh64)
    add("HASH_XXH64");
  if (uint32_t rest = flags & ~kSectionKnownFlags)
    add(fmt::format("{:#x}", rest));
  return s.empty() ? "0" : s;
}

bool section_type_known(uint32_t type) noexcept {
  return (type >= 1 && type <= 8) || type == 0xFFFF;
}

std::string section_type_name(uint32_t type) {
  switch (static_cast<SectionType>(type)) {
    case SectionType::info: return "INFO";
    case SectionType::tree: return "TREE";
    case SectionType::process: return "PROCESS";
    case SectionType::shmem: return "SHMEM";
    case SectionType::pipe_data: return "PIPE_DATA";
    case SectionType::pages: return "PAGES";
    case SectionType::stats: return "STATS";
    case SectionType::pad: return "PAD";
    case SectionType::end: return "END";
  }
  return fmt::format("type {}", type);
}

std::string page_file_name(uint32_t file) {
  return file == 0 ? std::string("pages.ckpt") : fmt::format("pages.{}.ckpt", file);
}

std::string uuid_string(const Uuid& u) {
  std::string s;
  for (std::size_t i = 0; i < u.size(); ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10)
      s += '-';
    s += fmt::format("{:02x}", u[i]);
  }
  return s;
}

void encode_file_header(const FileHeader& h, std::span<uint8_t, kFileHeaderSize> out) {
  uint8_t* p = out.data();
  std::memset(p, 0, kFileHeaderSize);
  std::memcpy(p + kOffMagic, kMagic.data(), kMagic.size());
  put16(p + kOffMajor, h.major);
  put16(p + kOffMinor, h.minor);
  put32(p + kOffHeaderSize, h.header_size);
  put32(p + kOffFlags, h.flags);
  put32(p + kOffPageSize, h.page_size);
  put64(p + kOffCreated, h.created_unix_ns);
  std::memcpy(p + kOffUuid, h.uuid.data(), h.uuid.size());
  if (h.major >= 3) {
    put32(p + kOffPageFiles, h.page_files);
    put32(p + kOffFileIndex, h.file_index);
  }
  put64(p + kOffHeaderHash, XXH3_64bits(p, kOffHeaderHash));
}

Result<FileHeader> decode_file_header(std::span<const uint8_t> in) {
  if (in.size() < kMagic.size() || std::memcmp(in.data(), kMagic.data(), kMagic.size()) != 0)
    return Error::msg("not a ckpt image (bad magic)");
  if (in.size() < kFileHeaderSize)
    return Error::msg(fmt::format("image truncated: file header is {} bytes, needs {}",
                                  in.size(), kFileHeaderSize));
  const uint8_t* p = in.data();
  FileHeader h;
  h.major = get16(p + kOffMajor);
  h.minor = get16(p + kOffMinor);
  // The version is checked before anything else: a newer major may change
  // the rest of the layout.  1.x to 3.x share it (2.0 only added a section
  // flag, 3.0 the page file fields in bytes reserved before).
  if (h.major < kOldestMajor || h.major > kMajor)
    return Error::msg(
        h.major > kMajor
            ? fmt::format("image format {}.x is newer than this ckpt-user (reads {}.x to {}.x)",
                          h.major, kOldestMajor, kMajor)
            : fmt::format("image format {}.x is not supported (this ckpt-user reads {}.x to {}.x)",
                          h.major, kOldestMajor, kMajor));
  h.header_size = get32(p + kOffHeaderSize);
  if (h.header_size != kFileHeaderSize)
    return Error::msg(fmt::format("bad file header: header_size {} (format {}.x has {})",
                                  h.header_size, h.major, kFileHeaderSize));
  uint64_t stored = get64(p + kOffHeaderHash);
  uint64_t computed = XXH3_64bits(p, kOffHeaderHash);
  if (stored != computed)
    return Error::msg(fmt::format(
        "bad file header: checksum mismatch (stored {:#018x}, computed {:#018x})", stored,
        computed));
  h.flags = get32(p + kOffFlags);
  h.page_size = get32(p + kOffPageSize);
  h.created_unix_ns = get64(p + kOffCreated);
  std::memcpy(h.uuid.data(), p + kOffUuid, h.uuid.size());
  if (h.page_size < kMinPageSize || h.page_size > kMaxPageSize ||
      (h.page_size & (h.page_size - 1)) != 0)
    return Error::msg(fmt::format("bad file header: page size {} (a power of two in {}..{})",
                                  h.page_size, kMinPageSize, kMaxPageSize));
  if ((h.flags & kFilePagesFile) && (h.flags & kFileMetaFile))
    return Error::msg("bad file header: both PAGES_FILE and META_FILE flags set");
  if (h.major >= 3) {
    h.page_files = get32(p + kOffPageFiles);
    h.file_index = get32(p + kOffFileIndex);
    if (h.page_files < 1 || h.page_files > kMaxPageFiles)
      return Error::msg(fmt::format("bad file header: {} page files (1..{})", h.page_files,
                                    kMaxPageFiles));
    if (h.file_index >= h.page_files)
      return Error::msg(fmt::format("bad file header: page file {} of {}", h.file_index,
                                    h.page_files));
    if (h.file_index != 0 && !(h.flags & kFilePagesFile))
      return Error::msg(fmt::format(
          "bad file header: page file index {} in a file that is not a pages file", h.file_index));
  }
  return h;
}

void encode_section_header(const SectionHeader& h, std::span<uint8_t, kSectionHeaderSize> out) {
  uint8_t* p = out.data();
  put32(p + kOffType, h.type);
  put32(p + kOffSecFlags, h.flags);
  put64(p + kOffLength, h.length);
  put64(p + kOffPayloadHash, h.payload_hash);
  put32(p + kOffSeq, h.seq);
  put32(p + kOffCheck, header_check(p));
}

Result<SectionHeader> decode_section_header(std::span<const uint8_t> in, uint64_t offset) {
  if (in.size() < kSectionHeaderSize)
    return Error::msg(fmt::format("section header at offset {}: {} bytes, needs {}", offset,
                                  in.size(), kSectionHeaderSize));
  const uint8_t* p = in.data();
  uint32_t stored = get32(p + kOffCheck);
  uint32_t computed = header_check(p);
  if (stored != computed)
    return Error::msg(fmt::format(
        "section header at offset {}: header checksum mismatch (stored {:#010x}, computed "
        "{:#010x})",
        offset, stored, computed));
  SectionHeader h;
  h.type = get32(p + kOffType);
  h.flags = get32(p + kOffSecFlags);
  h.length = get64(p + kOffLength);
  h.payload_hash = get64(p + kOffPayloadHash);
  h.seq = get32(p + kOffSeq);
  return h;
}

void encode_trailer(const Trailer& t, std::span<uint8_t, kTrailerSize> out) {
  uint8_t* p = out.data();
  put32(p, t.section_count);
  put64(p + 4, t.total_bytes);
  put64(p + 12, t.headers_xxh3);
  std::memcpy(p + 20, t.uuid.data(), t.uuid.size());
}

Result<Trailer> decode_trailer(std::span<const uint8_t> in) {
  if (in.size() != kTrailerSize)
    return Error::msg(fmt::format("END trailer is {} bytes, must be {}", in.size(), kTrailerSize));
  const uint8_t* p = in.data();
  Trailer t;
  t.section_count = get32(p);
  t.total_bytes = get64(p + 4);
  t.headers_xxh3 = get64(p + 12);
  std::memcpy(t.uuid.data(), p + 20, t.uuid.size());
  return t;
}

bool need_pad(uint64_t pos, uint32_t page_size) noexcept {
  return (pos + kSectionHeaderSize) % page_size != 0;
}

uint64_t pad_length(uint64_t pos, uint32_t page_size) noexcept {
  uint64_t after = pos + 2 * kSectionHeaderSize;  // PAD header + PAGES header
  return (page_size - after % page_size) % page_size;
}

}  // namespace ckpt::image
