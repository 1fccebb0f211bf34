// ImageReader: reads and verifies a ckpt image (Documentation/image-format.md)
// from a file, a directory image (DIR/meta.ckpt + DIR/pages.ckpt, and
// DIR/pages.K.ckpt when its header says there are more), a stream
// (stdin, a pipe) or a memory buffer (tests, the fuzzer).
//
// Every checksum is verified (a payload by the hash its section's flags
// name: XXH64 with HASH_XXH64, else XXH3-64; images of format 1.x and 2.x),
// a section flag this reader does not know is refused, every size is
// bounded (by the file size and by kMaxMessage for messages) before
// anything is allocated or parsed, and every error is one sentence naming
// the section seq, type and offset.
//
//   auto r = ImageReader::open("job.ckpt");
//   auto img = r->load_metadata();        // all messages + the PAGES index
//   r->verify_pages();                    // optional: hash every page byte
//   auto bytes = r->read_run(run, page);  // pread of one PageRun's pages
//
// A stream can be read once: load_metadata() verifies PAGES payloads while
// passing over them (so verify_pages() is then a no-op) and keeps them only
// with ReadOptions::keep_pages.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/fd.h"
#include "core/result.h"
#include "image/proto.h"
#include "image/format.h"

namespace ckpt::image {

struct ReadOptions {
  uint64_t max_message = 256ull << 20;  // bigger message payloads are refused
  bool keep_pages = false;              // stream: keep PAGES bytes for read_run()
};

// A PAGES section: (page file, seq).
using PageKey = std::pair<uint32_t, uint32_t>;

struct SectionInfo {
  SectionHeader header;
  uint64_t offset = 0;          // of the section header in its file
  bool in_pages_file = false;   // directory image: in a page file
  uint32_t file = 0;            // which one (page_file_name(file))
  bool skipped = false;         // unknown optional type, not decoded
  uint64_t payload_offset() const { return offset + kSectionHeaderSize; }
};

struct Image {
  FileHeader header;                   // of the single file / meta.ckpt
  // Directory image: the page files' headers, pages.ckpt first.
  std::vector<FileHeader> page_headers;
  ImageInfo info;
  Tree tree;
  std::vector<Process> processes;
  std::vector<SharedMemory> shared_memory;
  std::vector<PipeData> pipes;
  std::optional<DumpStats> stats;
  // Every section in file order, END included: the single file or
  // meta.ckpt, then (directory image) pages.ckpt, pages.1.ckpt, ...
  std::vector<SectionInfo> sections;
  // The PAGES sections PageRun (file, section) refers to.
  std::map<PageKey, SectionInfo> pages;
  uint64_t total_bytes = 0;            // over all files
  bool directory = false;
};

class ImageReader {
 public:
  enum class Mode { file, stream };

  // PATH: a regular file, a directory image, or "-" for stdin (stream).
  static Result<ImageReader> open(const std::string& path, const ReadOptions& opt = {});
  // A stream fd (pipe, socket, or a file read sequentially).
  static Result<ImageReader> open_stream(::ckpt::Fd fd, std::string name, const ReadOptions& opt = {});
  // An image in memory (borrowed; must outlive the reader), read either
  // with random access (file mode) or sequentially (stream mode).
  static Result<ImageReader> open_memory(std::string_view bytes, Mode mode,
                                         const ReadOptions& opt = {});

  ImageReader(ImageReader&&) noexcept;
  ImageReader& operator=(ImageReader&&) noexcept;
  ~ImageReader();

  // Reads every section, verifying header checks, payload hashes of message
  // sections (and of PAGES in stream mode), the END trailer, that nothing
  // follows it, and that every PageRun lies inside an existing PAGES
  // section.  Once per reader.
  Result<Image> load_metadata();
  // Hashes every PAGES payload (file/directory mode; a stream verified them
  // in load_metadata()).  Needs load_metadata() first.
  Result<void> verify_pages();
  // The bytes of @run (nr_pages * page_size) from its PAGES section.  File
  // mode: pread; stream mode: only with keep_pages.
  Result<std::string> read_run(const PageRun& run);

  std::string_view name() const noexcept;

  struct Impl;

 private:
  explicit ImageReader(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace ckpt::image
