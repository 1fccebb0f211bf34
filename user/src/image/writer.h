// ImageWriter: writes a ckpt image (Documentation/image-format.md) in one of
// three forms; a stream is written strictly in order (a pipe works), the
// file forms are written at known offsets (pwrite), which lets page data be
// read straight into the image (reserve_pages), or written into it by the
// caller through the image's fd (reserve_pages_by_fd):
//
//   Output::file(PATH)       PATH.tmp.<random> in PATH's directory; commit()
//                            fsyncs, renames to PATH (refused if PATH exists,
//                            unless ImageHeaderParams::replace), fsyncs the
//                            directory;
//   Output::stream(FD)       the same stream written sequentially to FD (not
//                            owned, not closed); an unfinished stream simply
//                            has no END trailer and readers refuse it;
//   Output::directory(DIR)   DIR.tmp.<random>/{meta.ckpt,pages.ckpt}, plus
//                            pages.1.ckpt ... with ImageHeaderParams::
//                            page_files > 1 (format 3.0); commit() fsyncs
//                            every file and the directory, renames to DIR
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
//   slot = w->reserve_pages_by_fd(total);      // or: write slot->fd() at
//   seq = w->commit_pages(std::move(*slot));   // slot->file_offset(), commit
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

// A PAGES section reserved by ImageWriter::reserve_pages() or
// reserve_pages_by_fd(), then handed to commit_pages() (or cancel_pages()).
// Three kinds:
//
//   in_place  reserve_pages() on a file or directory image: data() is a
//             MAP_SHARED mapping of the section's payload in the image file
//             itself, its blocks allocated beforehand (fallocate): the
//             caller's read is the only copy.  Fill all of data().
//   staging   reserve_pages() on a stream (or a filesystem without
//             fallocate): data() is a reused staging buffer.  Fill all of it.
//   by_fd     reserve_pages_by_fd(): nothing is mapped or allocated; data()
//             is empty.  The caller writes the payload itself, exactly the
//             bytes file_offset() .. file_offset() + size() of fd() (e.g.
//             the module's CKPT_IOC_PAGES, or pwrite), and nothing else of
//             that file.
//
// Move-only; it holds only its mapping (fd() is the writer's, borrowed).
// At most one slot may be open per page file, and it stays that file's last
// section: until it is committed or cancelled, every call that would place
// a section in that file fails, and so do the calls that stop or end the
// writer (a slot dropped without either fails the image: no section is
// left with a hole).  Slots of different page files may be open together,
// and a directory image's put() goes on meanwhile (meta.ckpt).  All calls
// are made from one thread; only the by-fd payload writes may run on
// others.
class PageSlot {
 public:
  enum class Kind { none, staging, in_place, by_fd };

  PageSlot() = default;
  PageSlot(PageSlot&&) noexcept = default;
  PageSlot& operator=(PageSlot&&) noexcept = default;
  PageSlot(const PageSlot&) = delete;
  PageSlot& operator=(const PageSlot&) = delete;

  // The payload to fill (staging, in place); empty for by_fd.
  std::span<std::byte> data() const noexcept {
    if (!map_.valid())
      return {};
    return {static_cast<std::byte*>(map_.data()) + skew_, static_cast<std::size_t>(total_)};
  }
  uint64_t size() const noexcept { return total_; }
  // The page file it is in (PageRun.file); 0 but in a directory image.
  uint32_t file() const noexcept { return file_; }
  // in_place, by_fd: the section's seq in that file, decided at the
  // reservation (what commit_pages() returns); 0 for a staging buffer,
  // whose seq is decided at commit.
  uint32_t seq() const noexcept { return kind_ == Kind::in_place || kind_ == Kind::by_fd ? seq_ : 0; }
  Kind kind() const noexcept { return kind_; }
  // Whether data() maps the image file (else a staging buffer, or by_fd).
  bool in_place() const noexcept { return kind_ == Kind::in_place; }
  bool by_fd() const noexcept { return kind_ == Kind::by_fd; }
  // by_fd: the image file to write the payload to (open O_RDWR, not
  // O_APPEND; owned by the writer, valid until the slot is committed or
  // cancelled); -1 for the other kinds.
  int fd() const noexcept { return kind_ == Kind::by_fd ? fd_ : -1; }
  // by_fd: the payload's hash, XXH64 (seed 0) of the bytes as the file
  // holds them, when the caller knows it (the module's CKPT_PAGES_XXH64
  // computes it while it writes).  The commit then only checks the file's
  // size and does not read the payload back to hash it.  The caller vouches
  // for the value: a wrong one makes a section that fails verification.
  // Ignored for the other kinds.
  void set_payload_hash(uint64_t xxh64) noexcept { hash_ = xxh64; }
  // in_place, by_fd: the payload's offset in that file, a multiple of the
  // image's page size; 0 for a staging buffer.
  uint64_t file_offset() const noexcept {
    return kind_ == Kind::in_place || kind_ == Kind::by_fd ? header_off_ + kSectionHeaderSize : 0;
  }

 private:
  friend class ImageWriter;
  Mapping map_;
  std::size_t skew_ = 0;   // payload offset inside map_ (mmap alignment)
  uint64_t total_ = 0;
  uint64_t id_ = 0;        // reservation number (0: none)
  uint32_t file_ = 0;      // page file
  Kind kind_ = Kind::none;
  int fd_ = -1;            // by_fd: the pages file
  uint32_t seq_ = 0;       // in place, by fd: the section's seq
  uint64_t header_off_ = 0;  // in place, by fd: file offset of its header
  std::optional<uint64_t> hash_;  // by fd: set_payload_hash()
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
  // Output::directory: page files pages.ckpt, pages.1.ckpt, ... (at most
  // kMaxPageFiles): several writers can fill them at once, where in one
  // file they would wait for each other (the inode lock).  More than one
  // makes a format 3.0 image; anything but 1 is refused for the other
  // forms.
  uint32_t page_files = 1;
};

class ImageWriter {
 public:
  // Every PAGES section the writer makes (put_pages, put_pages_owned,
  // reserve_pages, reserve_pages_by_fd) has its payload hashed with XXH64
  // (flag kSectionHashXxh64): the hash the kernel has (lib/xxhash.c), and
  // much the faster one without SSE (XXH3's SSE2 path is slow under TCG
  // emulation).  Other sections are small and keep XXH3-64.
  static constexpr uint32_t kPagesFlags = kSectionHashXxh64;
  // Largest PAGES payload the writer accepts in one section (64 MiB): a
  // dump driver chunks its page data into sections of at most this size.
  static constexpr uint64_t kMaxPagesSection = 64ull << 20;
  // Largest message payload (256 MiB), the same bound the reader applies.
  static constexpr uint64_t kMaxMessage = 256ull << 20;
  // Most in-place and by-fd PAGES sections waiting for the writer thread
  // (an in-place one holds a mapping); beyond, commit_pages() blocks like a
  // full queue.
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
  // @file: the page file (< page_files()).
  Result<PageSlot> reserve_pages(uint64_t total, uint32_t file = 0);
  Result<uint32_t> commit_pages(PageSlot slot);
  // Gives a reservation up (e.g. the read failed): nothing of it is left in
  // the image, and the writer goes on as if it had never been made.
  Result<void> cancel_pages(PageSlot slot);

  // One PAGES section of exactly @total bytes (<= kMaxPagesSection) whose
  // payload the caller writes into the image file itself, through
  // slot.fd() at slot.file_offset() (page-aligned), e.g. with the module's
  // CKPT_IOC_PAGES: the PAD (if any), seq and offset are decided here as by
  // reserve_pages(), but nothing is allocated (no fallocate: the write
  // extends the file) and nothing is mapped.  commit_pages() then checks
  // that the file holds the whole payload (fstat: a short write is an error
  // naming the section, never a SIGBUS) and queues, like an in-place
  // section, the hash of the payload (a read-only mapping of the file; not
  // needed when the slot got set_payload_hash()) and the header's pwrite
  // for the writer thread (done at once without one).
  // cancel_pages() truncates the file back, as for an in-place slot.
  //
  // Only a file or directory image has such a file: for a stream this
  // fails with code() ENOTSUP (== EOPNOTSUPP) and leaves the writer as it
  // was, so the caller can fall back to reserve_pages();
  // can_write_pages_by_fd() tells beforehand.
  Result<PageSlot> reserve_pages_by_fd(uint64_t total, uint32_t file = 0);
  // Whether reserve_pages_by_fd() is possible: a file or directory image
  // (page data goes to a seekable regular file of ours), not a stream.
  bool can_write_pages_by_fd() const noexcept;
  // ImageHeaderParams::page_files (1 for a file or a stream).
  uint32_t page_files() const noexcept;

  // Any section, raw (tests and future types): @type may be unknown,
  // @flags is written as given (kSectionOptional, kSectionHashXxh64, which
  // picks the payload hash, or anything else).  Goes to meta.ckpt, or to
  // pages.ckpt when @type is PAGES (no alignment is done here).
  Result<uint32_t> put_raw(uint32_t type, uint32_t flags, std::span<const uint8_t> payload);

  // Background writing, for a dump that wants its tree frozen only while
  // it reads: from start_background() on, put() and put_pages_owned() only
  // queue the section (its seq, position and any PAD are decided at once,
  // so PageRun references are final) and a writer thread hashes and writes
  // the sections in order.  At most @max_queued payload bytes wait in the
  // queue; a put beyond that blocks until the thread catches up, so memory
  // stays bounded and a slow disk only slows the dump down.  Sections
  // committed in place (reserve_pages on a file image) or by fd
  // (reserve_pages_by_fd) do not count towards @max_queued: their bytes are
  // already in the image file's page cache, where a write would have put
  // them; only their number is bounded (kMaxQueuedInPlace: an in-place one
  // holds its mapping until hashed, a by-fd one is mapped only while the
  // thread hashes it).  An error of the
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
  // commit the writer is aborted (temp removed), except when it is refused
  // up front (already committed or aborted, or a PAGES slot still open in
  // some page file: commit or cancel it, then commit again).
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
