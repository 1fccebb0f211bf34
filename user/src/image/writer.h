// ImageWriter: writes a ckpt image (Documentation/image-format.md) in one of
// three forms; a stream is written strictly in order (a pipe works), the
// file forms are written at known offsets (pwrite), which lets page data be
// read straight into the image (reserve_pages):
//
//   Output::file(PATH)       PATH.tmp.<random> in PATH's directory; commit()
//                            fsyncs, renames to PATH (refused if PATH exists,
//                            unless ImageHeaderParams::replace), fsyncs the
//                            directory;
//   Output::stream(FD)       the same stream written sequentially to FD (not
//                            owned, not closed); an unfinished stream simply
//                            has no END trailer and readers refuse it;
//   Output::directory(DIR)   DIR.tmp.<random>/{meta.ckpt,pages.ckpt}; commit()
//                            fsyncs both and the directory, renames to DIR
//                            (refused if DIR exists), fsyncs the parent.
//
// The destructor of an uncommitted writer removes the temporary file or
// directory: nothing that looks complete is left after an error.
//
//   auto w = ImageWriter::create(Output::file("/img/job.ckpt"), {});
//   w->put(SectionType::info, info);
//   w->put(SectionType::tree, tree);
//   auto seq = w->put_pages(iov, n, total);   // PageRun{section = *seq, offset}
//   auto slot = w->reserve_pages(total);       // or: fill slot->data() ...
//   seq = w->commit_pages(std::move(*slot));   // ... and commit it
//   w->put(SectionType::process, proc);
//   ...
//   w->commit();
#pragma once

#include <sys/uio.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>

#include "core/mapping.h"
#include "core/result.h"
#include "image/format.h"

namespace google::protobuf {
class MessageLite;
}

namespace ckpt::image {

class ImageWriter;

// A PAGES section reserved by ImageWriter::reserve_pages(): data() must be
// filled completely, then the slot handed to commit_pages() (or
// cancel_pages()).  For a file or directory image data() is a MAP_SHARED
// mapping of the section's payload in the image file itself, its blocks
// allocated beforehand (fallocate): the caller's read is the only copy.
// For a stream it is a reused staging buffer.  Move-only; it holds only
// its mapping.  Exactly one slot may be open at a time: until it is
// committed or cancelled every other call of the writer fails (a slot
// dropped without either fails the image: no section is left with a hole).
class PageSlot {
 public:
  PageSlot() = default;
  PageSlot(PageSlot&&) noexcept = default;
  PageSlot& operator=(PageSlot&&) noexcept = default;
  PageSlot(const PageSlot&) = delete;
  PageSlot& operator=(const PageSlot&) = delete;

  std::span<std::byte> data() const noexcept {
    return {map_.valid() ? static_cast<std::byte*>(map_.data()) + skew_ : nullptr,
            static_cast<std::size_t>(total_)};
  }
  uint64_t size() const noexcept { return total_; }
  // Whether data() maps the image file (else a staging buffer).
  bool in_place() const noexcept { return in_place_; }

 private:
  friend class ImageWriter;
  Mapping map_;
  std::size_t skew_ = 0;   // payload offset inside map_ (mmap alignment)
  uint64_t total_ = 0;
  uint64_t id_ = 0;        // reservation number (0: none)
  bool in_place_ = false;
  uint32_t seq_ = 0;       // in place: the section's seq
  uint64_t header_off_ = 0;  // in place: file offset of its header
};

struct Output {
  enum class Kind { file, stream, directory };
  Kind kind = Kind::file;
  std::string path;  // file, directory
  int fd = -1;       // stream (borrowed)

  static Output file(std::string path) { return {Kind::file, std::move(path), -1}; }
  static Output stream(int fd) { return {Kind::stream, {}, fd}; }
  static Output directory(std::string path) { return {Kind::directory, std::move(path), -1}; }
};

struct ImageHeaderParams {
  uint32_t page_size = 0;        // 0: sysconf(_SC_PAGESIZE)
  uint64_t created_unix_ns = 0;  // 0: now (CLOCK_REALTIME)
  std::optional<Uuid> uuid;      // default: random (getrandom)
  bool replace = false;          // Output::file: an existing PATH is replaced
};

class ImageWriter {
 public:
  // Largest PAGES payload the writer accepts in one section (64 MiB): a
  // dump driver chunks its page data into sections of at most this size.
  static constexpr uint64_t kMaxPagesSection = 64ull << 20;
  // Largest message payload (256 MiB), the same bound the reader applies.
  static constexpr uint64_t kMaxMessage = 256ull << 20;
  // Most in-place PAGES sections (each a mapping) waiting for the writer
  // thread; beyond, commit_pages() blocks like a full queue.
  static constexpr unsigned kMaxQueuedInPlace = 256;
  // Idle staging buffers kept for reuse (stream images), each of
  // kMaxPagesSection bytes of address space, populated on first use.
  static constexpr unsigned kStagingPool = 2;

  // Creates the temporary file/directory (or starts the stream) and writes
  // the file header(s).
  static Result<ImageWriter> create(Output out, const ImageHeaderParams& params);

  ImageWriter(ImageWriter&&) noexcept;
  ImageWriter& operator=(ImageWriter&&) noexcept;
  ImageWriter(const ImageWriter&) = delete;
  ImageWriter& operator=(const ImageWriter&) = delete;
  ~ImageWriter();  // abort() unless committed

  // One message section (INFO, TREE, PROCESS, SHMEM, PIPE_DATA, STATS).
  // Returns the section's seq (in meta.ckpt for a directory image).
  Result<uint32_t> put(SectionType type, const google::protobuf::MessageLite& msg);

  // One PAGES section of exactly @total bytes gathered from @iov[0..n) (any
  // n; the writer splits into IOV_MAX batches).  The bytes are hashed from
  // the caller's memory and written with writev: no copy.  The memory must
  // stay unchanged during the call.  A PAD section is inserted before when
  // needed so that the payload starts page-aligned in its file.  Returns the
  // section's seq (in pages.ckpt for a directory image): PageRun.section.
  // @total must be <= kMaxPagesSection and equal the sum of iov_len.
  Result<uint32_t> put_pages(const iovec* iov, int n, uint64_t total);

  // One PAGES section of exactly @total bytes (<= kMaxPagesSection), filled
  // by the caller: reserve, write all of slot.data(), commit.  File and
  // directory images: the PAD (if any) and the section's seq and offset are
  // decided here, the payload's blocks are allocated with fallocate (a full
  // filesystem is an error here, never a SIGBUS on the mapping) and mapped
  // MAP_SHARED; commit only queues the hash of the mapped payload and the
  // 32-byte header (pwrite) for the writer thread.  A filesystem without
  // fallocate, or a stream, gets a staging buffer from a small pool of
  // reused buffers (written with write(2) at commit).  Returns from commit:
  // the section's seq (PageRun.section).  The image bytes are the same as
  // put_pages() of the same data would produce.
  Result<PageSlot> reserve_pages(uint64_t total);
  Result<uint32_t> commit_pages(PageSlot slot);
  // Gives a reservation up (e.g. the read failed): nothing of it is left in
  // the image, and the writer goes on as if it had never been made.
  Result<void> cancel_pages(PageSlot slot);

  // Any section, raw (tests and future types): @type may be unknown,
  // @flags may carry kSectionOptional.  Goes to meta.ckpt, or to
  // pages.ckpt when @type is PAGES (no alignment is done here).
  Result<uint32_t> put_raw(uint32_t type, uint32_t flags, std::span<const uint8_t> payload);

  // Background writing, for a dump that wants its tree frozen only while
  // it reads: from start_background() on, put() and put_pages_owned() only
  // queue the section (its seq, position and any PAD are decided at once,
  // so PageRun references are final) and a writer thread hashes and writes
  // the sections in order.  At most @max_queued payload bytes wait in the
  // queue; a put beyond that blocks until the thread catches up, so memory
  // stays bounded and a slow disk only slows the dump down.  Sections
  // committed in place (reserve_pages on a file image) do not count towards
  // @max_queued: their bytes are already in the image file's page cache,
  // where a write would have put them; only their number is bounded (their
  // mappings, kMaxQueuedInPlace).  An error of the
  // thread is returned by the next put, by drain() or by commit().
  Result<void> start_background(uint64_t max_queued);
  // One PAGES section whose bytes the writer takes over (freed once
  // written).  Synchronous when no background thread runs.
  Result<uint32_t> put_pages_owned(Mapping pages, uint64_t total);
  // Held, the thread writes only when the queue is full (to make room):
  // a dump holds it while the tree is frozen, so that the frozen time is
  // spent reading, not writing, and releases it at the thaw.
  void hold_background(bool hold);
  // Waits until every queued section is written and stops the thread.
  Result<void> drain();
  // Time the background thread spent hashing and writing (0 if none ran).
  uint64_t background_write_us() const noexcept;

  // Writes the END trailer(s), fsyncs, renames into place.  After a failed
  // commit the writer is aborted (temp removed).
  Result<void> commit();
  // Drops the image: removes the temp file/directory; a stream stops.
  // Idempotent; also what the destructor does before commit().
  void abort() noexcept;

  // Bytes written so far, over all files (headers, PAD, trailers included).
  uint64_t bytes_written() const noexcept;
  uint32_t page_size() const noexcept;
  const Uuid& uuid() const noexcept;
  bool committed() const noexcept;
  // The temporary file (Output::file) or directory (Output::directory) being
  // written, e.g. for a watchdog that removes it if this process dies;
  // empty for a stream and once committed or aborted.
  const std::string& temp_path() const noexcept;

  struct Impl;

 private:
  explicit ImageWriter(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace ckpt::image
