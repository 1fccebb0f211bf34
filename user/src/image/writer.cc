#include "image/writer.h"

#include <fcntl.h>
#include <limits.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>
#include <cstdio>
#include <ctime>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <google/protobuf/message_lite.h>

#include "core/fd.h"
#include "image/pb_diag.h"

namespace ckpt::image {

namespace {

struct StateDeleter {
  void operator()(XXH3_state_t* s) const noexcept { XXH3_freeState(s); }
};
using HashState = std::unique_ptr<XXH3_state_t, StateDeleter>;

HashState new_state() {
  HashState s(XXH3_createState());
  if (!s)
    throw std::bad_alloc();
  XXH3_64bits_reset(s.get());
  return s;
}

Result<void> random_bytes(void* buf, std::size_t len) {
  auto* p = static_cast<uint8_t*>(buf);
  while (len > 0) {
    ssize_t n = ::getrandom(p, len, 0);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      return Error::from_errno("getrandom");
    }
    p += n;
    len -= static_cast<std::size_t>(n);
  }
  return {};
}

Result<std::string> random_suffix() {
  uint8_t b[6];
  if (auto r = random_bytes(b, sizeof b); !r)
    return std::move(r).error();
  std::string s;
  for (uint8_t c : b)
    s += fmt::format("{:02x}", c);
  return s;
}

// Writes all of @iov[0..n), in IOV_MAX batches, retrying short writes and
// EINTR: at the file offset @off (pwritev), or at the current position when
// @off is negative (writev: a stream).  @iov is modified (advanced).
Result<void> writev_all(int fd, iovec* iov, std::size_t n, int64_t off = -1) {
  while (n > 0) {
    if (iov->iov_len == 0) {
      ++iov;
      --n;
      continue;
    }
    int batch = static_cast<int>(std::min<std::size_t>(n, IOV_MAX));
    ssize_t w = off < 0 ? ::writev(fd, iov, batch) : ::pwritev(fd, iov, batch, off);
    if (w < 0) {
      int e = errno;
      if (e == EINTR)
        continue;
      return Error::sys(e, off < 0 ? "write" : fmt::format("write at offset {}", off));
    }
    if (off >= 0)
      off += w;
    auto left = static_cast<std::size_t>(w);
    while (n > 0 && left >= iov->iov_len) {
      left -= iov->iov_len;
      ++iov;
      --n;
    }
    if (left > 0) {
      iov->iov_base = static_cast<uint8_t*>(iov->iov_base) + left;
      iov->iov_len -= left;
    }
  }
  return {};
}

Result<void> fsync_path(const std::string& dir) {
  auto fd = Fd::open(dir, O_RDONLY | O_DIRECTORY);
  if (!fd)
    return std::move(fd).error();
  if (::fsync(fd->get()) != 0)
    return Error::from_errno("fsync " + dir);
  return {};
}

std::string parent_of(const std::string& path) {
  auto slash = path.rfind('/');
  if (slash == std::string::npos)
    return ".";
  if (slash == 0)
    return "/";
  return path.substr(0, slash);
}

std::string strip_slashes(std::string p) {
  while (p.size() > 1 && p.back() == '/')
    p.pop_back();
  return p;
}

bool exists(const std::string& path) {
  struct stat st;
  return ::lstat(path.c_str(), &st) == 0;
}

std::string section_name(const SectionHeader& h, const std::string& file) {
  return fmt::format("section {} ({}) of {}", h.seq, section_type_name(h.type), file);
}

// The payload of a by-fd section, @h.length bytes at @payload of @fd, must
// be in the file before it is mapped: a mapping past the end of the file
// raises SIGBUS where it is read.  @exact (at commit, when the section is
// the last one): the file must end right after it, too.
Result<void> check_file_payload(int fd, const std::string& name, const SectionHeader& h,
                                uint64_t payload, bool exact) {
  struct stat st;
  if (::fstat(fd, &st) != 0)
    return Error::from_errno("fstat " + name);
  const uint64_t size = static_cast<uint64_t>(st.st_size), end = payload + h.length;
  if (h.length > 0 && size < end)
    return Error::msg(fmt::format(
        "{}: the file ends at offset {}, {} bytes short of the {} bytes of page data at offset "
        "{}: they were not all written",
        section_name(h, name), size, end - size, h.length, payload), EIO);
  if (exact && size > end)
    return Error::msg(fmt::format(
        "{}: the file extends {} bytes past the end of the page data (offset {}): something "
        "wrote beyond it",
        section_name(h, name), size - end, end), EIO);
  return {};
}

// The payload hash (by @h.flags) of the @h.length bytes at @payload of @fd:
// a read-only shared mapping of the page cache, unmapped before returning
// (pread if the file cannot be mapped).
Result<uint64_t> hash_file_payload(int fd, const std::string& name, const SectionHeader& h,
                                   uint64_t payload) {
  if (h.length == 0)
    return payload_hash(h.flags, "", 0);
  if (auto r = check_file_payload(fd, name, h, payload, false); !r)
    return std::move(r).error();
  static const uint64_t sys_ps = static_cast<uint64_t>(::sysconf(_SC_PAGESIZE));
  const uint64_t map_off = payload / sys_ps * sys_ps;
  const auto skew = static_cast<std::size_t>(payload - map_off);
  auto map = Mapping::of_fd(fd, skew + h.length, PROT_READ, MAP_SHARED | MAP_POPULATE,
                            static_cast<long>(map_off));
  if (map)
    return payload_hash(h.flags, static_cast<const uint8_t*>(map->data()) + skew, h.length);
  PayloadHasher st(h.flags);
  std::vector<uint8_t> buf(static_cast<std::size_t>(std::min<uint64_t>(h.length, 1u << 20)));
  for (uint64_t done = 0; done < h.length;) {
    auto n = static_cast<std::size_t>(std::min<uint64_t>(h.length - done, buf.size()));
    ssize_t got = ::pread(fd, buf.data(), n, static_cast<off_t>(payload + done));
    if (got < 0 && errno == EINTR)
      continue;
    if (got < 0)
      return Error::from_errno(fmt::format("read {} at offset {}", name, payload + done))
          .context(section_name(h, name));
    if (got == 0)
      return Error::msg(fmt::format("{}: the file ends at offset {} in its page data",
                                    section_name(h, name), payload + done), EIO);
    st.update(buf.data(), static_cast<std::size_t>(got));
    done += static_cast<uint64_t>(got);
  }
  return st.digest();
}

}  // namespace

// One output file (or the stream).
struct Sink {
  Fd owned;       // file and directory forms
  int fd = -1;    // what is written to
  std::string name;
  bool seekable = false;  // a file of ours: written with pwrite at known offsets
  bool can_map = true;    // fallocate works here (else staging buffers)
  uint64_t pos = 0;
  uint32_t seq = 0;
  uint32_t file = 0;       // a pages file: its index (PageRun.file)
  uint64_t open_slot = 0;  // id of its reserved, uncommitted PAGES slot
  HashState headers = new_state();

  // Writes the header and the payload, at file offset @off (a stream
  // ignores it: it is written in order).  @account: advance pos and seq
  // here (the synchronous path); the background path advanced them when it
  // queued the section.  An in-place or by-fd PAGES section passes no
  // payload: its bytes are already in the file.
  Result<void> write_section(const SectionHeader& h, iovec* payload, std::size_t n, uint64_t off,
                             bool account = true) {
    uint8_t hdr[kSectionHeaderSize];
    encode_section_header(h, std::span<uint8_t, kSectionHeaderSize>(hdr));
    std::vector<iovec> iov;
    iov.reserve(n + 1);
    iov.push_back({hdr, sizeof hdr});
    iov.insert(iov.end(), payload, payload + n);
    if (auto r = writev_all(fd, iov.data(), iov.size(), seekable ? static_cast<int64_t>(off) : -1);
        !r)
      return std::move(r).error().context(
          fmt::format("write section {} ({}) to {}", h.seq, section_type_name(h.type), name));
    if (h.type != static_cast<uint32_t>(SectionType::end))
      XXH3_64bits_update(headers.get(), hdr, sizeof hdr);
    if (account) {
      pos += kSectionHeaderSize + h.length;
      ++seq;
    }
    return {};
  }
};

// Staging buffers for page data that cannot be read in place (a stream, a
// filesystem without fallocate): each kMaxPagesSection bytes of address
// space, populated by its first use and then reused, so that pages are
// faulted in and zeroed once per buffer rather than once per section.  At
// most kStagingPool idle buffers are kept; the writer thread gives a
// buffer back once its section is written.  Thread-safe.
class BufferPool {
 public:
  Result<Mapping> take() {
    {
      std::lock_guard lk(mu_);
      if (!idle_.empty()) {
        Mapping m = std::move(idle_.back());
        idle_.pop_back();
        return m;
      }
    }
    auto m = Mapping::anonymous(ImageWriter::kMaxPagesSection, PROT_READ | PROT_WRITE);
    if (!m)
      return std::move(m).error().context("page staging buffer");
    return m;
  }
  void give(Mapping m) noexcept {
    std::lock_guard lk(mu_);
    if (m.valid() && idle_.size() < ImageWriter::kStagingPool) {
      try {
        idle_.push_back(std::move(m));
      } catch (...) {
        // m is unmapped: the pool is only a cache
      }
    }
  }

 private:
  std::mutex mu_;
  std::vector<Mapping> idle_;
};

// A section waiting for the background thread: its header without the
// checksum, where it goes (@off, the header's file offset), and its payload:
// bytes, an owned mapping, a staging buffer of the pool (given back once
// written), in place a mapping of the payload in the image file itself, or
// by fd nothing: the payload is in the image file, after the header, and
// is mapped only to be hashed (in place and by fd, the header alone is
// written).
struct Job {
  enum class Kind { bytes, owned, pooled, in_place, by_fd };
  Kind kind = Kind::bytes;
  Sink* sink = nullptr;
  SectionHeader h;
  uint64_t off = 0;
  std::string bytes;
  Mapping map;
  std::size_t skew = 0;  // payload offset inside map
  std::optional<uint64_t> hash;  // by fd: the caller's (PageSlot::set_payload_hash)
  const void* data() const {
    return map.valid() ? static_cast<const uint8_t*>(map.data()) + skew
                       : static_cast<const void*>(bytes.data());
  }
  // Whether the payload is already in the image file (only the header is
  // written): these count against kMaxQueuedInPlace, not the byte limit.
  bool in_file() const { return kind == Kind::in_place || kind == Kind::by_fd; }
  // What the job weighs against the queue limit: in-file bytes are the
  // image's own page cache, not a buffer of ours.
  uint64_t cost() const { return in_file() ? 0 : h.length; }

  // Hashes the payload (by h.flags) and writes the section (the header
  // only, in place and by fd).
  Result<void> write() {
    if (kind == Kind::by_fd && hash) {
      h.payload_hash = *hash;
      return sink->write_section(h, nullptr, 0, off, false);
    }
    if (kind == Kind::by_fd) {
      auto hh = hash_file_payload(sink->fd, sink->name, h, off + kSectionHeaderSize);
      if (!hh)
        return std::move(hh).error();
      h.payload_hash = *hh;
      return sink->write_section(h, nullptr, 0, off, false);
    }
    h.payload_hash = payload_hash(h.flags, data(), h.length);
    if (kind == Kind::in_place)
      return sink->write_section(h, nullptr, 0, off, false);
    iovec iov{const_cast<void*>(data()), h.length};
    return sink->write_section(h, &iov, 1, off, false);
  }
};

// The background writer: one thread, one FIFO queue, the first error kept.
//
// Locking: @mu protects q, queued, in_place, stop and err.  The thread pops
// a job under @mu and hashes and writes it without the lock; only the
// thread writes sections through the sinks' fds and updates their header
// hashes while it runs.  The producer touches only the sinks' logical
// pos/seq, at queue time, and, for the open PAGES slot of a file -- always
// that file's last section, past everything queued -- the file beyond:
// fallocate and ftruncate (cancel), fstat at commit; the caller of a by-fd
// slot writes that slot's payload range through the fd itself (from any
// thread: dump/page_lanes.h).  drain()/abort() join
// the thread before the synchronous path uses the sinks again.
class Background {
 public:
  Background(uint64_t limit, BufferPool* pool)
      : limit_(limit), pool_(pool), th_([this] { run(); }) {}
  ~Background() { (void)stop(true); }
  Background(const Background&) = delete;
  Background& operator=(const Background&) = delete;

  Result<void> push(Job job) {
    std::unique_lock lk(mu_);
    uint64_t len = job.cost();
    bool mapped = job.in_file();
    auto fits = [&] {
      return (queued_ == 0 || queued_ + len <= limit_) &&
             (!mapped || in_place_ < ImageWriter::kMaxQueuedInPlace);
    };
    if (!fits()) {
      // Full: the thread writes even while held, to make room.
      ++blocked_;
      work_.notify_one();
      space_.wait(lk, [&] { return err_ || fits(); });
      --blocked_;
    }
    if (err_)
      return *err_;
    queued_ += len;
    in_place_ += mapped ? 1 : 0;
    q_.push_back(std::move(job));
    work_.notify_one();
    return {};
  }

  // Held: queued sections wait (unless the queue is full) until release().
  void hold(bool on) {
    std::lock_guard lk(mu_);
    held_ = on;
    work_.notify_one();
  }

  // Writes what is queued (or drops it, @discard), then joins.
  Result<void> stop(bool discard) {
    {
      std::lock_guard lk(mu_);
      if (discard) {
        q_.clear();
        queued_ = 0;
        in_place_ = 0;
      }
      stop_ = true;
      work_.notify_one();
    }
    if (th_.joinable())
      th_.join();
    std::lock_guard lk(mu_);
    if (err_)
      return *err_;
    return {};
  }

  uint64_t busy_us() const { return busy_us_; }

 private:
  void run() {
    for (;;) {
      Job job;
      {
        std::unique_lock lk(mu_);
        work_.wait(lk, [&] { return stop_ || (!q_.empty() && (!held_ || blocked_ > 0)); });
        if (q_.empty())
          return;
        job = std::move(q_.front());
        q_.pop_front();
      }
      auto t0 = std::chrono::steady_clock::now();
      auto r = job.write();
      uint64_t len = job.cost();
      bool mapped = job.in_file();
      if (job.kind == Job::Kind::pooled)
        pool_->give(std::move(job.map));
      job = Job();  // free (unmap) the payload before waking the producer
      busy_us_ += static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(
                                            std::chrono::steady_clock::now() - t0)
                                            .count());
      std::lock_guard lk(mu_);
      queued_ -= std::min(queued_, len);
      in_place_ -= mapped && in_place_ > 0 ? 1 : 0;
      if (!r && !err_) {
        err_ = std::move(r).error();
        q_.clear();
        queued_ = 0;
        in_place_ = 0;
      }
      space_.notify_all();
      if (err_)
        return;
    }
  }

  std::mutex mu_;
  std::condition_variable work_, space_;
  std::deque<Job> q_;
  uint64_t queued_ = 0;
  unsigned in_place_ = 0;  // queued in-place and by-fd sections (in_file())
  const uint64_t limit_;
  BufferPool* const pool_;
  bool stop_ = false;
  bool held_ = false;
  int blocked_ = 0;  // producers waiting for room
  std::optional<Error> err_;
  uint64_t busy_us_ = 0;  // written by the thread only; read after join
  std::thread th_;        // last: starts after the members it uses exist
};

struct ImageWriter::Impl {
  Output::Kind kind = Output::Kind::file;
  Sink meta;
  // Directory form only: pages.ckpt, pages.1.ckpt, ... (unique_ptr: the
  // background thread's jobs point at their sink).
  std::vector<std::unique_ptr<Sink>> pages;
  std::string final_path;    // file or directory
  std::string tmp_path;      // temp file or temp directory
  Uuid uuid{};
  uint32_t page_size = 0;
  uint64_t created = 0;
  bool replace = false;
  bool committed = false;
  bool dead = false;         // aborted: nothing more is written
  BufferPool pool;                 // before bg: the thread gives buffers back
  std::unique_ptr<Background> bg;  // background writing, if started
  uint64_t bg_us = 0;              // busy time of finished background threads
  uint64_t last_slot = 0;

  // Page file @file (a directory image), or the one file / stream.
  Sink& pages_sink(uint32_t file = 0) {
    return kind == Output::Kind::directory ? *pages[file] : meta;
  }
  uint32_t page_files() const {
    return kind == Output::Kind::directory ? static_cast<uint32_t>(pages.size()) : 1;
  }

  uint64_t bytes() const {
    uint64_t n = meta.pos;
    for (const auto& p : pages)
      n += p->pos;
    return n;
  }

  // A live writer: neither committed nor aborted.
  Result<void> check_live() const {
    if (committed)
      return Error::msg("image writer: already committed");
    if (dead)
      return Error::msg("image writer: aborted after an earlier error");
    return {};
  }
  static Error open_slot_error(const Sink& s) {
    return Error::msg(fmt::format(
        "image writer: reserved PAGES slot {} of {} is neither committed nor cancelled",
        s.open_slot, s.name));
  }
  // Live, and nothing is placed in @s after its open PAGES slot (if any):
  // a slot stays the last section of its file until committed.
  Result<void> check_sink(const Sink& s) const {
    if (auto r = check_live(); !r)
      return r;
    if (s.open_slot)
      return open_slot_error(s);
    return {};
  }
  // Live, with no PAGES slot open in any file (what stops or ends the
  // writer, or may write anywhere, needs that).
  Result<void> check_alive() const {
    if (auto r = check_sink(meta); !r)
      return r;
    for (const auto& p : pages)
      if (p->open_slot)
        return open_slot_error(*p);
    return {};
  }

  Result<void> write_file_header(Sink& s, uint32_t flags) {
    FileHeader h;
    h.major = page_files() > 1 ? kMajor : kMajorOnePageFile;
    h.flags = flags;
    h.page_size = page_size;
    h.created_unix_ns = created;
    h.uuid = uuid;
    h.page_files = page_files();
    h.file_index = s.file;
    uint8_t buf[kFileHeaderSize];
    encode_file_header(h, std::span<uint8_t, kFileHeaderSize>(buf));
    iovec iov{buf, sizeof buf};
    if (auto r = writev_all(s.fd, &iov, 1, s.seekable ? 0 : -1); !r)
      return std::move(r).error().context("write the file header of " + s.name);
    s.pos = kFileHeaderSize;
    return {};
  }

  Result<uint32_t> raw(Sink& s, uint32_t type, uint32_t flags, iovec* iov, std::size_t n,
                       uint64_t total) {
    PayloadHasher st(flags);
    for (std::size_t i = 0; i < n; ++i)
      st.update(iov[i].iov_base, iov[i].iov_len);
    SectionHeader h;
    h.type = type;
    h.flags = flags;
    h.length = total;
    h.payload_hash = st.digest();
    h.seq = s.seq;
    if (auto r = s.write_section(h, iov, n, s.pos); !r)
      return std::move(r).error();
    return h.seq;
  }

  Result<void> finish(Sink& s) {
    Trailer t;
    t.section_count = s.seq;
    t.total_bytes = s.pos;
    t.headers_xxh3 = XXH3_64bits_digest(s.headers.get());
    t.uuid = uuid;
    uint8_t buf[kTrailerSize];
    encode_trailer(t, std::span<uint8_t, kTrailerSize>(buf));
    iovec iov{buf, sizeof buf};
    if (auto r = raw(s, static_cast<uint32_t>(SectionType::end), 0, &iov, 1, sizeof buf); !r)
      return std::move(r).error();
    struct stat st;
    if (::fstat(s.fd, &st) != 0)
      return Error::from_errno("fstat " + s.name);
    // A pipe or a terminal cannot be fsynced; a regular file (also stdout
    // redirected to one) is.
    if (S_ISREG(st.st_mode) && ::fsync(s.fd) != 0)
      return Error::from_errno("fsync " + s.name);
    if (s.owned)
      if (auto r = s.owned.close(); !r)
        return std::move(r).error().context("close " + s.name);
    return {};
  }

  // Queues a section for the background thread: seq and pos are decided
  // now.
  Result<uint32_t> enqueue(Sink& s, uint32_t type, std::string bytes, Mapping map,
                           uint64_t total, Job::Kind how = Job::Kind::bytes) {
    Job j;
    j.kind = map.valid() && how == Job::Kind::bytes ? Job::Kind::owned : how;
    j.sink = &s;
    j.h.type = type;
    j.h.flags = type == static_cast<uint32_t>(SectionType::pages) ? kPagesFlags : 0;
    j.h.length = total;
    j.h.seq = s.seq;
    j.off = s.pos;
    j.bytes = std::move(bytes);
    j.map = std::move(map);
    s.pos += kSectionHeaderSize + total;
    ++s.seq;
    if (auto r = bg->push(std::move(j)); !r)
      return std::move(r).error();
    return s.seq - 1;
  }

  // The page file whose open slot @slot is, which has none after this
  // (@op, commit_pages or cancel_pages, names the call in the error for a
  // stale or foreign slot, or a dead writer).
  Result<Sink*> close_slot(const PageSlot& slot, const char* op) {
    Sink* s = committed || dead || slot.id_ == 0 || slot.file_ >= page_files()
                  ? nullptr
                  : &pages_sink(slot.file_);
    if (!s || s->open_slot != slot.id_)
      return Error::msg(fmt::format("image writer: {} of slot {} of page file {}, not an open one",
                                    op, slot.id_, slot.file_));
    s->open_slot = 0;
    return s;
  }

  // A PAD section first if the next PAGES payload would not be aligned.
  Result<void> pad_for_pages(Sink& s) {
    if (!need_pad(s.pos, page_size))
      return {};
    uint64_t len = pad_length(s.pos, page_size);
    if (bg) {
      auto r = enqueue(s, static_cast<uint32_t>(SectionType::pad), std::string(len, '\0'), {}, len);
      if (!r)
        return std::move(r).error();
      return {};
    }
    std::vector<uint8_t> zeros(len);
    iovec z{zeros.data(), zeros.size()};
    auto r = raw(s, static_cast<uint32_t>(SectionType::pad), 0, &z, 1, len);
    if (!r)
      return std::move(r).error();
    return {};
  }

  // Gives @slot (in place or by fd) the next PAGES section of @s: a PAD
  // first if needed, then its seq and header offset; @s advances past its
  // payload.
  // What every PAGES reservation checks first: a live writer, a size the
  // format allows.
  Result<void> check_reserve(uint32_t file, uint64_t total) const {
    if (file >= page_files())
      return Error::msg(fmt::format("image writer: page file {} of {}", file, page_files()));
    if (auto r = check_sink(const_cast<Impl*>(this)->pages_sink(file)); !r)
      return r;
    if (total > ImageWriter::kMaxPagesSection)
      return Error::msg(fmt::format("image writer: a PAGES section of {} bytes exceeds {}", total,
                                    ImageWriter::kMaxPagesSection));
    return {};
  }

  Result<void> place(Sink& s, PageSlot& slot) {
    if (auto r = pad_for_pages(s); !r)
      return r;
    slot.seq_ = s.seq;
    slot.header_off_ = s.pos;
    s.pos += kSectionHeaderSize + slot.total_;
    ++s.seq;
    return {};
  }

  Result<void> stop_background(bool discard) {
    if (!bg)
      return {};
    auto r = bg->stop(discard);
    bg_us += bg->busy_us();
    bg.reset();
    return r;
  }

  void abort() noexcept {
    if (committed || dead)
      return;
    (void)stop_background(true);
    dead = true;
    meta.owned.reset();
    for (auto& p : pages)
      p->owned.reset();
    switch (kind) {
      case Output::Kind::stream:
        break;  // the stream stops here, without END
      case Output::Kind::file:
        if (!tmp_path.empty())
          ::unlink(tmp_path.c_str());
        break;
      case Output::Kind::directory:
        if (!tmp_path.empty()) {
          ::unlink((tmp_path + "/meta.ckpt").c_str());
          for (uint32_t k = 0; k < pages.size(); ++k)
            ::unlink((tmp_path + "/" + page_file_name(k)).c_str());
          ::rmdir(tmp_path.c_str());
        }
        break;
    }
  }

  // Runs @f; any error aborts the writer (removes the temp) first.
  template <class T>
  Result<T> guard(Result<T> r) {
    if (!r)
      abort();
    return r;
  }
};

ImageWriter::ImageWriter(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
ImageWriter::ImageWriter(ImageWriter&&) noexcept = default;
ImageWriter& ImageWriter::operator=(ImageWriter&& other) noexcept {
  if (this != &other) {
    if (impl_)
      impl_->abort();
    impl_ = std::move(other.impl_);
  }
  return *this;
}
ImageWriter::~ImageWriter() {
  if (impl_)
    impl_->abort();
}

Result<ImageWriter> ImageWriter::create(Output out, const ImageHeaderParams& params) {
  if (params.page_files < 1 || params.page_files > kMaxPageFiles)
    return Error::msg(fmt::format("image writer: {} page files (1..{})", params.page_files,
                                  kMaxPageFiles), EINVAL);
  if (params.page_files > 1 && out.kind != Output::Kind::directory)
    return Error::msg("image writer: more than one page file needs a directory image", EINVAL);
  auto impl = std::make_unique<Impl>();
  impl->kind = out.kind;
  impl->replace = params.replace;
  long ps = params.page_size ? static_cast<long>(params.page_size) : ::sysconf(_SC_PAGESIZE);
  if (ps < kMinPageSize || ps > kMaxPageSize || (ps & (ps - 1)) != 0)
    return Error::msg(fmt::format("image writer: unsupported page size {}", ps));
  impl->page_size = static_cast<uint32_t>(ps);
  if (params.created_unix_ns) {
    impl->created = params.created_unix_ns;
  } else {
    timespec ts{};
    ::clock_gettime(CLOCK_REALTIME, &ts);
    impl->created = static_cast<uint64_t>(ts.tv_sec) * 1000000000ull +
                    static_cast<uint64_t>(ts.tv_nsec);
  }
  if (params.uuid) {
    impl->uuid = *params.uuid;
  } else {
    if (auto r = random_bytes(impl->uuid.data(), impl->uuid.size()); !r)
      return std::move(r).error().context("image uuid");
    impl->uuid[6] = static_cast<uint8_t>((impl->uuid[6] & 0x0f) | 0x40);  // RFC 4122 v4
    impl->uuid[8] = static_cast<uint8_t>((impl->uuid[8] & 0x3f) | 0x80);
  }

  switch (out.kind) {
    case Output::Kind::stream: {
      if (out.fd < 0)
        return Error::msg("image writer: no stream fd");
      impl->meta.fd = out.fd;
      impl->meta.name = fmt::format("the output stream (fd {})", out.fd);
      if (auto r = impl->write_file_header(impl->meta, 0); !r)
        return impl->guard(Result<void>(std::move(r).error())).error();
      break;
    }
    case Output::Kind::file: {
      if (out.path.empty())
        return Error::msg("image writer: empty output path");
      impl->final_path = out.path;
      if (!params.replace && exists(out.path))
        return Error::msg(fmt::format("{} already exists", out.path), EEXIST);
      auto sfx = random_suffix();
      if (!sfx)
        return std::move(sfx).error();
      impl->tmp_path = out.path + ".tmp." + *sfx;
      // Read-write: PAGES payloads are mapped (MAP_SHARED needs it).
      auto fd = Fd::open(impl->tmp_path, O_RDWR | O_CREAT | O_EXCL, 0600);
      if (!fd) {
        impl->tmp_path.clear();
        return std::move(fd).error().context("create the image");
      }
      impl->meta.owned = std::move(*fd);
      impl->meta.fd = impl->meta.owned.get();
      impl->meta.name = impl->tmp_path;
      impl->meta.seekable = true;
      if (auto r = impl->write_file_header(impl->meta, 0); !r) {
        impl->abort();
        return std::move(r).error();
      }
      break;
    }
    case Output::Kind::directory: {
      std::string dir = strip_slashes(out.path);
      if (dir.empty())
        return Error::msg("image writer: empty output directory");
      impl->final_path = dir;
      if (exists(dir))
        return Error::msg(fmt::format("{} already exists", dir), EEXIST);
      auto sfx = random_suffix();
      if (!sfx)
        return std::move(sfx).error();
      std::string tmp = dir + ".tmp." + *sfx;
      if (::mkdir(tmp.c_str(), 0700) != 0)
        return Error::from_errno("mkdir " + tmp).context("create the image");
      impl->tmp_path = tmp;
      // Every sink first: each file header records how many there are.
      for (uint32_t k = 0; k < params.page_files; ++k) {
        impl->pages.push_back(std::make_unique<Sink>());
        impl->pages.back()->file = k;
      }
      std::vector<std::tuple<Sink*, std::string, uint32_t>> files{
          {&impl->meta, "meta.ckpt", kFileMetaFile}};
      for (auto& sink : impl->pages)
        files.emplace_back(sink.get(), page_file_name(sink->file), kFilePagesFile);
      for (auto& [sink, file, flags] : files) {
        std::string p = tmp + "/" + file;
        auto fd = Fd::open(p, O_RDWR | O_CREAT | O_EXCL, 0600);
        if (!fd) {
          impl->abort();
          return std::move(fd).error().context("create the image");
        }
        sink->owned = std::move(*fd);
        sink->fd = sink->owned.get();
        sink->name = p;
        sink->seekable = true;
        if (auto r = impl->write_file_header(*sink, flags); !r) {
          impl->abort();
          return std::move(r).error();
        }
      }
      break;
    }
  }
  return ImageWriter(std::move(impl));
}

Result<uint32_t> ImageWriter::put(SectionType type, const google::protobuf::MessageLite& msg) {
  // Into meta.ckpt, or after any open slot of the one file.
  if (auto r = impl_->check_sink(impl_->meta); !r)
    return std::move(r).error();
  if (type == SectionType::pages || type == SectionType::pad || type == SectionType::end)
    return Error::msg(fmt::format("image writer: put() of a {} section",
                                  section_type_name(static_cast<uint32_t>(type))));
  std::size_t size = msg.ByteSizeLong();
  if (size > kMaxMessage)
    return impl_->guard(Result<uint32_t>(Error::msg(fmt::format(
        "image writer: {} message is {} bytes, more than the limit {}",
        section_type_name(static_cast<uint32_t>(type)), size, kMaxMessage))));
  // proto3 string fields must hold UTF-8: libprotobuf serialises invalid
  // UTF-8 with only a log line, and then every reader fails to parse the
  // message.  Parsing it back here turns that into an error now, naming the
  // field, instead of an unreadable image later.
  std::string buf;
  {
    detail::ProtobufLogCapture log;
    std::unique_ptr<google::protobuf::MessageLite> back(msg.New());
    if (!msg.SerializeToString(&buf) || !back->ParseFromString(buf)) {
      std::string why = log.first();
      return impl_->guard(Result<uint32_t>(Error::msg(fmt::format(
          "image writer: the {} message cannot be stored{}{}",
          section_type_name(static_cast<uint32_t>(type)), why.empty() ? "" : ": ", why))));
    }
  }
  if (impl_->bg) {
    uint64_t len = buf.size();
    return impl_->guard(
        impl_->enqueue(impl_->meta, static_cast<uint32_t>(type), std::move(buf), {}, len));
  }
  iovec iov{buf.data(), buf.size()};
  return impl_->guard(
      impl_->raw(impl_->meta, static_cast<uint32_t>(type), 0, &iov, 1, buf.size()));
}

Result<uint32_t> ImageWriter::put_pages(const iovec* iov, int n, uint64_t total) {
  if (auto r = impl_->check_sink(impl_->pages_sink()); !r)
    return std::move(r).error();
  if (n < 0 || (n > 0 && !iov))
    return Error::msg("image writer: put_pages: bad iovec array");
  uint64_t sum = 0;
  for (int i = 0; i < n; ++i) {
    if (iov[i].iov_len > total - std::min(sum, total) || (iov[i].iov_len && !iov[i].iov_base))
      return Error::msg(fmt::format("image writer: put_pages: iovecs exceed total {}", total));
    sum += iov[i].iov_len;
  }
  if (sum != total)
    return Error::msg(
        fmt::format("image writer: put_pages: iovecs hold {} bytes, total says {}", sum, total));
  if (total > kMaxPagesSection)
    return Error::msg(fmt::format("image writer: a PAGES section of {} bytes exceeds {}", total,
                                  kMaxPagesSection));
  Sink& s = impl_->pages_sink();
  if (impl_->bg) {
    // The caller keeps its memory: queue a copy.
    std::string bytes;
    bytes.reserve(total);
    for (int i = 0; i < n; ++i)
      bytes.append(static_cast<const char*>(iov[i].iov_base), iov[i].iov_len);
    if (auto r = impl_->pad_for_pages(s); !r)
      return impl_->guard(Result<uint32_t>(std::move(r).error()));
    return impl_->guard(
        impl_->enqueue(s, static_cast<uint32_t>(SectionType::pages), std::move(bytes), {}, total));
  }
  if (auto r = impl_->pad_for_pages(s); !r)
    return impl_->guard(Result<uint32_t>(std::move(r).error()));
  std::vector<iovec> copy(iov, iov + n);
  return impl_->guard(impl_->raw(s, static_cast<uint32_t>(SectionType::pages), kPagesFlags,
                                 copy.data(), copy.size(), total));
}

Result<uint32_t> ImageWriter::put_pages_owned(Mapping pages, uint64_t total) {
  if (auto r = impl_->check_sink(impl_->pages_sink()); !r)
    return std::move(r).error();
  if (total > kMaxPagesSection || total > pages.size() || (total && !pages.valid()))
    return Error::msg(fmt::format("image writer: put_pages_owned: {} bytes in a mapping of {}",
                                  total, pages.size()));
  if (!impl_->bg) {
    iovec iov{pages.data(), total};
    return put_pages(&iov, 1, total);
  }
  Sink& s = impl_->pages_sink();
  if (auto r = impl_->pad_for_pages(s); !r)
    return impl_->guard(Result<uint32_t>(std::move(r).error()));
  return impl_->guard(
      impl_->enqueue(s, static_cast<uint32_t>(SectionType::pages), {}, std::move(pages), total));
}

Result<PageSlot> ImageWriter::reserve_pages(uint64_t total, uint32_t file) {
  if (auto r = impl_->check_reserve(file, total); !r)
    return std::move(r).error();
  Impl& m = *impl_;
  Sink& s = m.pages_sink(file);
  PageSlot slot;
  slot.total_ = total;
  slot.file_ = file;
  if (s.seekable && s.can_map) {
    // Where the payload goes: after a PAD if one is needed, and the header.
    uint64_t at = s.pos;
    if (need_pad(at, m.page_size))
      at += kSectionHeaderSize + pad_length(at, m.page_size);
    const uint64_t payload = at + kSectionHeaderSize;
    bool mapped = true;
    if (total > 0) {
      // Blocks first: a full filesystem fails here with ENOSPC; a page of a
      // shared mapping that cannot be allocated would be a SIGBUS instead.
      int rc, e = 0;
      do {
        rc = ::fallocate(s.fd, 0, static_cast<off_t>(payload), static_cast<off_t>(total));
        e = rc != 0 ? errno : 0;
      } while (e == EINTR);
      if (e == EOPNOTSUPP || e == ENOSYS) {
        s.can_map = false;  // this filesystem: staging buffers and write(2)
        mapped = false;
      } else if (e != 0) {
        return m.guard(Result<PageSlot>(Error::sys(
            e, fmt::format("reserve {} bytes at offset {} of {} for page data", total, payload,
                           s.name))));
      }
    }
    if (mapped) {
      if (total > 0) {
        static const uint64_t sys_ps = static_cast<uint64_t>(::sysconf(_SC_PAGESIZE));
        uint64_t map_off = payload / sys_ps * sys_ps;
        slot.skew_ = static_cast<std::size_t>(payload - map_off);
        // Populated now, in one pass: the pages fallocate allocated.
        auto map = Mapping::of_fd(s.fd, slot.skew_ + total, PROT_READ | PROT_WRITE,
                                  MAP_SHARED | MAP_POPULATE, static_cast<long>(map_off));
        if (!map)
          return m.guard(Result<PageSlot>(std::move(map).error().context(fmt::format(
              "map {} bytes at offset {} of {} for page data", total, payload, s.name))));
        slot.map_ = std::move(*map);
      }
      if (auto r = m.place(s, slot); !r)
        return m.guard(Result<PageSlot>(std::move(r).error()));
      slot.kind_ = PageSlot::Kind::in_place;
      if (slot.file_offset() != payload)  // cannot happen
        return m.guard(Result<PageSlot>(Error::msg(fmt::format(
            "image writer: PAGES payload at {}, expected {}", slot.file_offset(), payload))));
    }
  }
  if (slot.kind_ != PageSlot::Kind::in_place) {
    auto buf = m.pool.take();
    if (!buf)
      return m.guard(Result<PageSlot>(std::move(buf).error()));
    slot.map_ = std::move(*buf);
    slot.kind_ = PageSlot::Kind::staging;
  }
  slot.id_ = ++m.last_slot;
  s.open_slot = slot.id_;
  return slot;
}

bool ImageWriter::can_write_pages_by_fd() const noexcept { return impl_->pages_sink().seekable; }

uint32_t ImageWriter::page_files() const noexcept { return impl_->page_files(); }

Result<PageSlot> ImageWriter::reserve_pages_by_fd(uint64_t total, uint32_t file) {
  if (auto r = impl_->check_live(); !r)
    return std::move(r).error();
  if (!can_write_pages_by_fd())
    return Error::msg(
        "image writer: page data cannot be written by fd into a stream (reserve_pages instead)",
        ENOTSUP);
  if (auto r = impl_->check_reserve(file, total); !r)
    return std::move(r).error();
  Impl& m = *impl_;
  Sink& s = m.pages_sink(file);
  PageSlot slot;
  slot.total_ = total;
  slot.file_ = file;
  slot.kind_ = PageSlot::Kind::by_fd;
  slot.fd_ = s.fd;
  if (auto r = m.place(s, slot); !r)
    return m.guard(Result<PageSlot>(std::move(r).error()));
  slot.id_ = ++m.last_slot;
  s.open_slot = slot.id_;
  return slot;
}

Result<uint32_t> ImageWriter::commit_pages(PageSlot slot) {
  Impl& m = *impl_;
  auto sp = m.close_slot(slot, "commit_pages");
  if (!sp)
    return std::move(sp).error();
  Sink& s = **sp;
  const uint64_t total = slot.total_;
  if (slot.kind_ == PageSlot::Kind::in_place || slot.kind_ == PageSlot::Kind::by_fd) {
    Job j;
    j.kind = slot.in_place() ? Job::Kind::in_place : Job::Kind::by_fd;
    j.sink = &s;
    j.h.type = static_cast<uint32_t>(SectionType::pages);
    j.h.flags = kPagesFlags;
    j.h.length = total;
    j.h.seq = slot.seq_;
    j.off = slot.header_off_;
    j.map = std::move(slot.map_);
    j.skew = slot.skew_;
    if (slot.by_fd())
      j.hash = slot.hash_;
    // By fd: the caller's write is done; all of it must be there (the
    // thread checks again before it maps the payload).
    if (slot.by_fd())
      if (auto r = check_file_payload(s.fd, s.name, j.h, slot.file_offset(), true); !r)
        return m.guard(Result<uint32_t>(std::move(r).error()));
    if (m.bg) {
      if (auto r = m.bg->push(std::move(j)); !r)
        return m.guard(Result<uint32_t>(std::move(r).error()));
    } else if (auto r = j.write(); !r) {
      return m.guard(Result<uint32_t>(std::move(r).error()));
    }
    return slot.seq_;
  }
  // A staging buffer: written like put_pages_owned, then back to the pool.
  if (auto r = m.pad_for_pages(s); !r)
    return m.guard(Result<uint32_t>(std::move(r).error()));
  if (m.bg)
    return m.guard(m.enqueue(s, static_cast<uint32_t>(SectionType::pages), {},
                             std::move(slot.map_), total, Job::Kind::pooled));
  iovec iov{slot.map_.data(), total};
  auto seq =
      m.guard(m.raw(s, static_cast<uint32_t>(SectionType::pages), kPagesFlags, &iov, 1, total));
  m.pool.give(std::move(slot.map_));
  return seq;
}

Result<void> ImageWriter::cancel_pages(PageSlot slot) {
  Impl& m = *impl_;
  auto sp = m.close_slot(slot, "cancel_pages");
  if (!sp)
    return std::move(sp).error();
  Sink& s = **sp;
  if (slot.kind_ == PageSlot::Kind::staging) {
    m.pool.give(std::move(slot.map_));
    return {};
  }
  // In place or by fd.  Nothing was placed after it (one open slot at a
  // time): give its place and its blocks (whatever the caller wrote) back.
  // A PAD before it stays: the next PAGES payload is aligned without
  // another.
  slot.map_.reset();
  if (s.pos != slot.header_off_ + kSectionHeaderSize + slot.total_ || s.seq != slot.seq_ + 1)
    return m.guard(Result<void>(Error::msg("image writer: cancel_pages: the slot is not the last section")));
  s.pos = slot.header_off_;
  --s.seq;
  if (::ftruncate(s.fd, static_cast<off_t>(s.pos)) != 0) {
    int e = errno;
    return m.guard(Result<void>(
        Error::sys(e, fmt::format("truncate {} to {} (cancelled page data)", s.name, s.pos))));
  }
  return {};
}

Result<void> ImageWriter::start_background(uint64_t max_queued) {
  if (auto r = impl_->check_alive(); !r)
    return r;
  if (impl_->bg)
    return Error::msg("image writer: background writing already started");
  impl_->bg = std::make_unique<Background>(max_queued, &impl_->pool);
  return {};
}

void ImageWriter::hold_background(bool hold) {
  if (impl_->bg)
    impl_->bg->hold(hold);
}

Result<void> ImageWriter::drain() {
  if (auto r = impl_->check_alive(); !r)
    return r;
  return impl_->guard(impl_->stop_background(false));
}

uint64_t ImageWriter::background_write_us() const noexcept { return impl_->bg_us; }

Result<uint32_t> ImageWriter::put_raw(uint32_t type, uint32_t flags,
                                      std::span<const uint8_t> payload) {
  if (auto r = impl_->check_alive(); !r)
    return std::move(r).error();
  if (auto r = impl_->stop_background(false); !r)
    return impl_->guard(Result<uint32_t>(std::move(r).error()));
  Sink& s = type == static_cast<uint32_t>(SectionType::pages) ? impl_->pages_sink() : impl_->meta;
  iovec iov{const_cast<uint8_t*>(payload.data()), payload.size()};
  return impl_->guard(impl_->raw(s, type, flags, &iov, 1, payload.size()));
}

Result<void> ImageWriter::commit() {
  if (auto r = impl_->check_alive(); !r)
    return r;
  Impl& m = *impl_;
  auto run = [&]() -> Result<void> {
    if (auto r = m.stop_background(false); !r)
      return r;
    if (auto r = m.finish(m.meta); !r)
      return r;
    for (auto& p : m.pages)
      if (auto r = m.finish(*p); !r)
        return r;
    switch (m.kind) {
      case Output::Kind::stream:
        return {};
      case Output::Kind::file: {
        int rc = m.replace ? ::rename(m.tmp_path.c_str(), m.final_path.c_str())
                           : ::renameat2(AT_FDCWD, m.tmp_path.c_str(), AT_FDCWD,
                                         m.final_path.c_str(), RENAME_NOREPLACE);
        if (rc != 0)
          return Error::from_errno(fmt::format("rename {} to {}", m.tmp_path, m.final_path));
        break;
      }
      case Output::Kind::directory: {
        if (auto r = fsync_path(m.tmp_path); !r)
          return r;
        if (::renameat2(AT_FDCWD, m.tmp_path.c_str(), AT_FDCWD, m.final_path.c_str(),
                        RENAME_NOREPLACE) != 0) {
          if (errno == EEXIST || errno == ENOTEMPTY)
            return Error::msg(fmt::format("{} already exists", m.final_path), EEXIST);
          return Error::from_errno(fmt::format("rename {} to {}", m.tmp_path, m.final_path));
        }
        break;
      }
    }
    // Renamed: from here on the image is in place; the temp name is gone.
    m.committed = true;
    if (auto r = fsync_path(parent_of(m.final_path)); !r)
      return r;
    return {};
  };
  Result<void> r = run();
  if (!r && !m.committed)
    m.abort();
  m.committed = m.committed || r.ok();
  if (!r)
    return std::move(r).error().context("commit the image");
  return r;
}

void ImageWriter::abort() noexcept {
  if (impl_)
    impl_->abort();
}

uint64_t ImageWriter::bytes_written() const noexcept { return impl_->bytes(); }
uint32_t ImageWriter::page_size() const noexcept { return impl_->page_size; }
const Uuid& ImageWriter::uuid() const noexcept { return impl_->uuid; }
bool ImageWriter::committed() const noexcept { return impl_->committed; }
const std::string& ImageWriter::temp_path() const noexcept {
  static const std::string none;
  return impl_->committed || impl_->dead ? none : impl_->tmp_path;
}

}  // namespace ckpt::image
