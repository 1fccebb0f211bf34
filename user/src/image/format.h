// The ckpt image container (Documentation/image-format.md): a 64-byte file
// header, then checksummed sections (32-byte header + payload), the last of
// which is the END trailer.  Everything is little-endian and packed by hand
// (encode/decode below), never by casting structs over bytes.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "core/result.h"

// xxhash.h's state types, opaque here (PayloadHasher).
struct XXH3_state_s;
struct XXH64_state_s;

namespace ckpt::image {

inline constexpr std::array<uint8_t, 8> kMagic = {'C', 'K', 'P', 'T', 'I', 'M', 'G', '\0'};
// Written: 2.0, or 3.0 by a directory image with more than one page file
// (3.0 added them: a 2.x reader would look for every PageRun in
// pages.ckpt).  Read: 1.x to 3.x (2.0 added kSectionHashXxh64, which a 1.x
// reader would take for a checksum mismatch).
inline constexpr uint16_t kMajor = 3;            // the newest read
inline constexpr uint16_t kMajorOnePageFile = 2;  // written with one page file
inline constexpr uint16_t kMinor = 0;
inline constexpr uint16_t kOldestMajor = 1;
// Page files a directory image may have (pages.ckpt, pages.1.ckpt, ...).
inline constexpr uint32_t kMaxPageFiles = 64;
// "pages.ckpt" for file 0, "pages.K.ckpt" for file K.
std::string page_file_name(uint32_t file);
inline constexpr uint32_t kFileHeaderSize = 64;
inline constexpr uint32_t kSectionHeaderSize = 32;
inline constexpr uint32_t kTrailerSize = 36;  // END payload

// File header flags.
inline constexpr uint32_t kFilePagesFile = 1u << 0;  // DIR/pages.ckpt
inline constexpr uint32_t kFileMetaFile = 1u << 1;   // DIR/meta.ckpt

// Section flags.  A reader refuses a section with any other bit set.
inline constexpr uint32_t kSectionOptional = 1u << 0;   // unknown type: skip it
inline constexpr uint32_t kSectionHashXxh64 = 1u << 1;  // payload_hash is XXH64, else XXH3-64
inline constexpr uint32_t kSectionKnownFlags = kSectionOptional | kSectionHashXxh64;
// "OPTIONAL|HASH_XXH64", unknown bits as hex ("OPTIONAL|0x10"); "0" for none.
std::string section_flags_name(uint32_t flags);

// Page sizes a reader accepts (powers of two).
inline constexpr uint32_t kMinPageSize = 4096;
inline constexpr uint32_t kMaxPageSize = 2u << 20;

enum class SectionType : uint32_t {
  info = 1,       // ImageInfo
  tree = 2,       // Tree
  process = 3,    // Process
  shmem = 4,      // SharedMemory
  pipe_data = 5,  // PipeData
  pages = 6,      // raw page bytes, payload page-aligned in the file
  stats = 7,      // DumpStats
  pad = 8,        // zeros, for alignment
  end = 0xFFFF,   // trailer
};

// "INFO", "PAGES", ... or "type 42" for an unknown one.
std::string section_type_name(uint32_t type);
bool section_type_known(uint32_t type) noexcept;

using Uuid = std::array<uint8_t, 16>;
std::string uuid_string(const Uuid& u);  // 8-4-4-4-12 hex

struct FileHeader {
  uint16_t major = kMajorOnePageFile;
  uint16_t minor = kMinor;
  uint32_t header_size = kFileHeaderSize;
  uint32_t flags = 0;
  uint32_t page_size = 0;
  uint64_t created_unix_ns = 0;
  Uuid uuid{};
  // 3.x only (bytes 48..55, reserved zeros before): how many page files the
  // directory image has, and which one this file is (0 for meta.ckpt and
  // pages.ckpt).  Decoded as 1 and 0 for an older major.
  uint32_t page_files = 1;
  uint32_t file_index = 0;
};

struct SectionHeader {
  uint32_t type = 0;
  uint32_t flags = 0;
  uint64_t length = 0;        // payload bytes
  uint64_t payload_hash = 0;  // of the payload, seed 0: XXH64 if flags has
                              // kSectionHashXxh64, else XXH3-64
  uint32_t seq = 0;           // 0, 1, 2, ... in file order
};

struct Trailer {
  uint32_t section_count = 0;   // sections before END (= END's seq)
  uint64_t total_bytes = 0;     // file offset of END's section header
  uint64_t headers_xxh3 = 0;    // XXH3-64 of all previous 32-byte section headers
  Uuid uuid{};
};

// Encoders fill exactly the given size and compute the checksum fields.
void encode_file_header(const FileHeader& h, std::span<uint8_t, kFileHeaderSize> out);
void encode_section_header(const SectionHeader& h, std::span<uint8_t, kSectionHeaderSize> out);
void encode_trailer(const Trailer& t, std::span<uint8_t, kTrailerSize> out);

// Decoders check magic, major version, sizes and checksums; errors are
// sentences ("not a ckpt image (bad magic)", "image format 2.x is newer than
// this ckpt-user (reads 1.x)", "... header checksum mismatch ...").
Result<FileHeader> decode_file_header(std::span<const uint8_t> in);
// @offset is only used in error messages.
Result<SectionHeader> decode_section_header(std::span<const uint8_t> in, uint64_t offset);
Result<Trailer> decode_trailer(std::span<const uint8_t> in);

uint64_t xxh3(const void* data, std::size_t len) noexcept;
uint64_t xxh64(const void* data, std::size_t len) noexcept;  // seed 0
// The payload hash of a section with @flags (XXH64 or XXH3-64, seed 0).
uint64_t payload_hash(uint32_t flags, const void* data, std::size_t len) noexcept;

// The same, fed in pieces.  Move-only.
class PayloadHasher {
 public:
  explicit PayloadHasher(uint32_t flags);  // throws std::bad_alloc
  PayloadHasher(PayloadHasher&& o) noexcept;
  PayloadHasher& operator=(PayloadHasher&&) = delete;
  PayloadHasher(const PayloadHasher&) = delete;
  PayloadHasher& operator=(const PayloadHasher&) = delete;
  ~PayloadHasher();
  void update(const void* data, std::size_t len) noexcept;
  uint64_t digest() const noexcept;

 private:
  XXH3_state_s* x3_ = nullptr;
  XXH64_state_s* x64_ = nullptr;
};

// Alignment of PAGES payloads: need_pad() is true when a PAGES section header
// written at file offset @pos would not put its payload on a @page_size
// boundary; a PAD section with pad_length(pos) zero bytes, written at @pos,
// fixes that (pad_length may be 0: the PAD header alone can be enough).
bool need_pad(uint64_t pos, uint32_t page_size) noexcept;
uint64_t pad_length(uint64_t pos, uint32_t page_size) noexcept;

}  // namespace ckpt::image
