#include "image/reader.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <limits>

#include <fmt/format.h>

#include "image/pb_diag.h"

namespace ckpt::image {

namespace {

constexpr std::size_t kChunk = 1u << 20;

// Where the bytes come from: random access (file, memory) or sequential
// (stream, memory read as a stream).
class Source {
 public:
  virtual ~Source() = default;
  virtual bool random_access() const = 0;
  virtual uint64_t size() const = 0;  // random access only
  // Sequential: up to @len bytes, fewer only at EOF.
  virtual Result<std::size_t> read(void* buf, std::size_t len) = 0;
  // Random access: exactly @len bytes at @off (the caller checked bounds).
  virtual Result<void> pread(void* buf, std::size_t len, uint64_t off) = 0;
  std::string name;
};

class FdSource final : public Source {
 public:
  FdSource(::ckpt::Fd fd, bool random, uint64_t size) : fd_(std::move(fd)), random_(random), size_(size) {}
  bool random_access() const override { return random_; }
  uint64_t size() const override { return size_; }
  Result<std::size_t> read(void* buf, std::size_t len) override {
    std::size_t done = 0;
    auto* p = static_cast<uint8_t*>(buf);
    while (done < len) {
      ssize_t n = ::read(fd_.get(), p + done, len - done);
      if (n < 0) {
        if (errno == EINTR)
          continue;
        return Error::from_errno("read " + name);
      }
      if (n == 0)
        break;
      done += static_cast<std::size_t>(n);
    }
    return done;
  }
  Result<void> pread(void* buf, std::size_t len, uint64_t off) override {
    std::size_t done = 0;
    auto* p = static_cast<uint8_t*>(buf);
    while (done < len) {
      ssize_t n = ::pread(fd_.get(), p + done, len - done, static_cast<off_t>(off + done));
      if (n < 0) {
        if (errno == EINTR)
          continue;
        return Error::from_errno(fmt::format("read {} at offset {}", name, off + done));
      }
      if (n == 0)
        return Error::msg(fmt::format("{} shrank while being read (EOF at offset {})", name,
                                      off + done));
      done += static_cast<std::size_t>(n);
    }
    return {};
  }

 private:
  ::ckpt::Fd fd_;
  bool random_;
  uint64_t size_;
};

class MemSource final : public Source {
 public:
  MemSource(std::string_view bytes, bool random) : b_(bytes), random_(random) {}
  bool random_access() const override { return random_; }
  uint64_t size() const override { return b_.size(); }
  Result<std::size_t> read(void* buf, std::size_t len) override {
    std::size_t n = std::min(len, b_.size() - pos_);
    if (n)
      std::memcpy(buf, b_.data() + pos_, n);
    pos_ += n;
    return n;
  }
  Result<void> pread(void* buf, std::size_t len, uint64_t off) override {
    if (off > b_.size() || len > b_.size() - off)
      return Error::msg("read past the end of the buffer");
    if (len)
      std::memcpy(buf, b_.data() + off, len);
    return {};
  }

 private:
  std::string_view b_;
  bool random_;
  std::size_t pos_ = 0;
};

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

enum class Role { single, meta, pages };

std::string where(const SectionInfo& s) {
  return fmt::format("section {} ({}) at offset {}", s.header.seq,
                     section_type_name(s.header.type), s.offset);
}

std::string truncated(uint32_t n) {
  return fmt::format("image truncated: no END trailer after {} sections; the dump did not finish",
                     n);
}

// One file of an image (the single file, meta.ckpt or a page file), read
// section by section.
class FileReader {
 public:
  FileReader(std::unique_ptr<Source> src, Role role, const ReadOptions& opt, uint32_t file = 0)
      : src_(std::move(src)), role_(role), opt_(opt), file_(file) {}

  Source& source() { return *src_; }

  Result<FileHeader> read_header() {
    uint8_t buf[kFileHeaderSize];
    std::size_t got = 0;
    if (src_->random_access()) {
      got = static_cast<std::size_t>(std::min<uint64_t>(src_->size(), sizeof buf));
      if (auto r = src_->pread(buf, got, 0); !r)
        return std::move(r).error();
    } else {
      auto r = src_->read(buf, sizeof buf);
      if (!r)
        return std::move(r).error();
      got = *r;
    }
    if (got == 0)
      return Error::msg("empty file, not a ckpt image");
    auto h = decode_file_header(std::span<const uint8_t>(buf, got));
    if (!h)
      return std::move(h).error();
    uint32_t want = role_ == Role::single ? 0 : role_ == Role::meta ? kFileMetaFile : kFilePagesFile;
    uint32_t kind = h->flags & (kFileMetaFile | kFilePagesFile);
    if (kind != want) {
      if (role_ == Role::single)
        return Error::msg(fmt::format(
            "this is the {} file of a directory image; give the directory instead",
            kind == kFilePagesFile ? "pages" : "metadata"));
      return Error::msg(fmt::format("file header flags {:#x}: not a {} file", h->flags,
                                    role_ == Role::meta ? "meta.ckpt" : "page"));
    }
    header_ = *h;
    pos_ = kFileHeaderSize;
    return h;
  }

  // Calls @on_section(info, payload) for every section but END; @payload is
  // the bytes for message sections, empty for PAGES / skipped ones.  Checks
  // the END trailer.  Returns the file's total size.
  template <class F>
  Result<uint64_t> scan(std::vector<SectionInfo>& out, F&& on_section) {
    HashState headers = new_state();
    for (uint32_t seq = 0;; ++seq) {
      SectionInfo info;
      info.offset = pos_;
      info.in_pages_file = role_ == Role::pages;
      info.file = file_;
      uint8_t raw[kSectionHeaderSize];
      std::size_t got;
      if (src_->random_access()) {
        uint64_t left = src_->size() - pos_;
        got = static_cast<std::size_t>(std::min<uint64_t>(left, sizeof raw));
        if (auto r = src_->pread(raw, got, pos_); !r)
          return std::move(r).error();
      } else {
        auto r = src_->read(raw, sizeof raw);
        if (!r)
          return std::move(r).error();
        got = *r;
      }
      if (got < sizeof raw)
        return Error::msg(truncated(seq) +
                          (got ? fmt::format(" (a partial section header at offset {})", pos_)
                               : std::string()));
      auto h = decode_section_header(std::span<const uint8_t>(raw, sizeof raw), pos_);
      if (!h)
        return std::move(h).error().context(fmt::format("section {}", seq));
      info.header = *h;
      if (h->seq != seq)
        return Error::msg(fmt::format("section header at offset {} has seq {}, expected {}",
                                      pos_, h->seq, seq));
      uint64_t payload_at = pos_ + kSectionHeaderSize;
      if (src_->random_access() && h->length > src_->size() - payload_at)
        return Error::msg(fmt::format("{}: {} payload bytes, only {} left in the file; {}",
                                      where(info), h->length, src_->size() - payload_at,
                                      truncated(seq)));
      uint32_t type = h->type;
      bool known = section_type_known(type);
      if (!known && !(h->flags & kSectionOptional))
        return Error::msg(fmt::format(
            "image needs section type {} which this ckpt-user does not know; upgrade", type));
      info.skipped = !known;
      // Every flag bit matters, whatever the type: one may change how the
      // payload is hashed (HASH_XXH64 did), so an unknown one is refused
      // rather than reported later as a checksum mismatch.
      if (uint32_t unknown = h->flags & ~kSectionKnownFlags)
        return Error::msg(fmt::format(
            "{}: unknown section flags {:#x} (this ckpt-user knows {}); upgrade", where(info),
            unknown, section_flags_name(kSectionKnownFlags)));

      if (type == static_cast<uint32_t>(SectionType::end)) {
        auto r = read_end(info, seq, headers.get());
        if (!r)
          return std::move(r).error();
        out.push_back(info);
        return pos_;
      }
      XXH3_64bits_update(headers.get(), raw, sizeof raw);

      bool message = known && type != static_cast<uint32_t>(SectionType::pages) &&
                     type != static_cast<uint32_t>(SectionType::pad);
      if (message && role_ == Role::pages)
        return Error::msg(fmt::format("{}: a pages file holds only PAGES sections", where(info)));
      if (type == static_cast<uint32_t>(SectionType::pages)) {
        if (role_ == Role::meta)
          return Error::msg(
              fmt::format("{}: PAGES sections belong in page files, not meta.ckpt", where(info)));
        if (payload_at % header_.page_size != 0)
          return Error::msg(fmt::format("{}: payload at offset {} is not page-aligned",
                                        where(info), payload_at));
      }
      std::string payload;
      if (message) {
        if (h->length > opt_.max_message)
          return Error::msg(fmt::format("{}: message of {} bytes exceeds the limit of {}",
                                        where(info), h->length, opt_.max_message));
        auto r = read_payload(info, &payload);
        if (!r)
          return std::move(r).error();
      } else if (src_->random_access() && type == static_cast<uint32_t>(SectionType::pages)) {
        // File mode: PAGES are verified by verify_pages(), read by pread.
      } else {
        std::string* keep = nullptr;
        std::string kept;
        if (type == static_cast<uint32_t>(SectionType::pages) && opt_.keep_pages)
          keep = &kept;
        auto r = hash_payload(info, keep);
        if (!r)
          return std::move(r).error();
        if (keep)
          kept_pages_[h->seq] = std::move(kept);
      }
      pos_ = payload_at + h->length;
      out.push_back(info);
      if (auto r = on_section(info, std::string_view(payload)); !r)
        return std::move(r).error();
    }
  }

  // Reads a payload and checks its hash.
  Result<void> read_payload(const SectionInfo& info, std::string* out) {
    if (src_->random_access()) {
      out->resize(static_cast<std::size_t>(info.header.length));
      if (auto r = src_->pread(out->data(), out->size(), info.payload_offset()); !r)
        return std::move(r).error();
    } else {
      // A stream grows the buffer with the bytes that really arrive: a
      // corrupt length cannot make it allocate before reading.
      out->clear();
      uint64_t want = info.header.length;
      while (out->size() < want) {
        std::size_t have = out->size();
        std::size_t n = static_cast<std::size_t>(std::min<uint64_t>(want - have, kChunk));
        out->resize(have + n);
        auto r = src_->read(out->data() + have, n);
        if (!r)
          return std::move(r).error();
        if (*r < n)
          return Error::msg(fmt::format("{}: payload ends after {} of {} bytes; {}", where(info),
                                        have + *r, want, truncated(info.header.seq)));
      }
    }
    return check_hash(info, payload_hash(info.header.flags, out->data(), out->size()));
  }

  // Hashes a payload in chunks (keeping it in @keep if given) and checks it.
  Result<void> hash_payload(const SectionInfo& info, std::string* keep) {
    PayloadHasher st(info.header.flags);
    std::vector<uint8_t> buf(
        static_cast<std::size_t>(std::min<uint64_t>(kChunk, std::max<uint64_t>(info.header.length, 1))));
    uint64_t left = info.header.length;
    uint64_t off = info.payload_offset();
    while (left > 0) {
      std::size_t n = static_cast<std::size_t>(std::min<uint64_t>(left, buf.size()));
      if (src_->random_access()) {
        if (auto r = src_->pread(buf.data(), n, off); !r)
          return std::move(r).error();
      } else {
        auto r = src_->read(buf.data(), n);
        if (!r)
          return std::move(r).error();
        if (*r < n)
          return Error::msg(fmt::format("{}: payload ends after {} of {} bytes; {}", where(info),
                                        info.header.length - left + *r, info.header.length,
                                        truncated(info.header.seq)));
      }
      st.update(buf.data(), n);
      if (keep)
        keep->append(reinterpret_cast<const char*>(buf.data()), n);
      left -= n;
      off += n;
    }
    return check_hash(info, st.digest());
  }

  // The payload hash of a section, computed with the algorithm its flags
  // name (XXH64 or XXH3-64), against the stored one.
  static Result<void> check_hash(const SectionInfo& info, uint64_t got) {
    if (got == info.header.payload_hash)
      return {};
    return Error::msg(fmt::format(
        "{}: payload checksum mismatch ({}: stored {:#018x}, computed {:#018x})", where(info),
        (info.header.flags & kSectionHashXxh64) ? "XXH64" : "XXH3-64", info.header.payload_hash,
        got));
  }

  const FileHeader& header() const { return header_; }
  std::map<uint32_t, std::string>& kept_pages() { return kept_pages_; }

 private:
  Result<void> read_end(SectionInfo& info, uint32_t seq, XXH3_state_t* headers) {
    if (info.header.length != kTrailerSize)
      return Error::msg(fmt::format("{}: END trailer is {} bytes, must be {}", where(info),
                                    info.header.length, kTrailerSize));
    std::string payload;
    if (auto r = read_payload(info, &payload); !r)
      return r;
    auto t = decode_trailer(std::span<const uint8_t>(
        reinterpret_cast<const uint8_t*>(payload.data()), payload.size()));
    if (!t)
      return std::move(t).error();
    if (t->section_count != seq)
      return Error::msg(fmt::format("{}: trailer counts {} sections, the file has {}", where(info),
                                    t->section_count, seq));
    if (t->total_bytes != info.offset)
      return Error::msg(fmt::format("{}: trailer says {} bytes before it, the file has {}",
                                    where(info), t->total_bytes, info.offset));
    uint64_t hh = XXH3_64bits_digest(headers);
    if (t->headers_xxh3 != hh)
      return Error::msg(fmt::format("{}: section headers checksum mismatch", where(info)));
    if (t->uuid != header_.uuid)
      return Error::msg(fmt::format("{}: trailer uuid {} differs from the file header's {}",
                                    where(info), uuid_string(t->uuid),
                                    uuid_string(header_.uuid)));
    pos_ = info.payload_offset() + kTrailerSize;
    if (src_->random_access()) {
      if (src_->size() != pos_)
        return Error::msg(fmt::format("{} bytes after the END trailer (at offset {})",
                                      src_->size() - pos_, pos_));
    } else {
      uint8_t extra;
      auto r = src_->read(&extra, 1);
      if (!r)
        return std::move(r).error();
      if (*r != 0)
        return Error::msg(fmt::format("data after the END trailer (at offset {})", pos_));
    }
    return {};
  }

  std::unique_ptr<Source> src_;
  Role role_;
  ReadOptions opt_;
  uint32_t file_;  // a page file's index
  FileHeader header_;
  uint64_t pos_ = 0;
  std::map<uint32_t, std::string> kept_pages_;
};

template <class M>
Result<void> parse(const SectionInfo& info, std::string_view payload, M& msg) {
  detail::ProtobufLogCapture log;
  if (!msg.ParseFromArray(payload.data(), static_cast<int>(payload.size()))) {
    std::string why = log.first();
    return Error::msg(fmt::format("{}: payload is not a valid {} message{}{}", where(info),
                                  section_type_name(info.header.type), why.empty() ? "" : ": ",
                                  why));
  }
  return {};
}

Result<void> check_runs(const google::protobuf::RepeatedPtrField<PageRun>& runs,
                        const std::map<PageKey, SectionInfo>& pages, uint32_t page_size,
                        uint32_t page_files, const std::string& owner) {
  for (const PageRun& r : runs) {
    auto bad = [&](const std::string& why) {
      return Error::msg(fmt::format("{}: page run at {:#x} ({} pages, {}section {}, offset {}): {}",
                                    owner, r.vaddr(), r.nr_pages(),
                                    r.file() ? fmt::format("file {} ", r.file()) : std::string(),
                                    r.section(), r.offset(), why));
    };
    if (r.file() >= page_files)
      return bad(fmt::format("no page file {} (the image has {})", r.file(), page_files));
    auto it = pages.find({r.file(), r.section()});
    if (it == pages.end())
      return bad("no PAGES section with that seq");
    if (r.nr_pages() == 0)
      return bad("no pages");
    if (r.offset() % page_size != 0)
      return bad("offset not page-aligned");
    uint64_t len = it->second.header.length;
    if (r.nr_pages() > len / page_size || r.offset() > len - r.nr_pages() * page_size)
      return bad(fmt::format("outside the section's {} bytes", len));
  }
  return {};
}

}  // namespace

struct ImageReader::Impl {
  std::string name;
  ReadOptions opt;
  std::unique_ptr<FileReader> main;   // single file or meta.ckpt
  // Directory image: pages.ckpt (opened with the image), then pages.1.ckpt
  // ... (opened by load_metadata(), which learns their number).
  std::vector<std::unique_ptr<FileReader>> pages;
  bool stream = false;
  bool loaded = false;
  bool directory = false;
  uint32_t page_size = 0;
  uint32_t page_files = 1;
  std::map<PageKey, SectionInfo> page_index;

  FileReader& pages_file(uint32_t file) { return pages.empty() ? *main : *pages[file]; }
  std::string file_name(uint32_t file) const {
    return directory ? name + ": " + page_file_name(file) : name;
  }
};

ImageReader::ImageReader(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
ImageReader::ImageReader(ImageReader&&) noexcept = default;
ImageReader& ImageReader::operator=(ImageReader&&) noexcept = default;
ImageReader::~ImageReader() = default;

std::string_view ImageReader::name() const noexcept { return impl_->name; }

namespace {

// @path for reading: a regular file (random access), or else a stream;
// @regular: only a regular file will do (a directory image's files), and
// the open does not wait on a FIFO's writer to find out.
Result<std::unique_ptr<Source>> open_file(const std::string& path, bool regular = false) {
  auto fd = ::ckpt::Fd::open(path, O_RDONLY | (regular ? O_NONBLOCK : 0));
  if (!fd)
    return std::move(fd).error();
  struct stat st;
  if (::fstat(fd->get(), &st) != 0)
    return Error::from_errno("stat " + path);
  bool random = S_ISREG(st.st_mode);
  if (regular && !random)
    return Error::msg(path + ": not a regular file (the files of a directory image must be)",
                      EINVAL);
  auto src = std::make_unique<FdSource>(std::move(*fd), random,
                                        random ? static_cast<uint64_t>(st.st_size) : 0);
  src->name = path;
  return std::unique_ptr<Source>(std::move(src));
}

}  // namespace

Result<ImageReader> ImageReader::open(const std::string& path, const ReadOptions& opt) {
  if (path == "-") {
    int fd = ::fcntl(STDIN_FILENO, F_DUPFD_CLOEXEC, 3);
    if (fd < 0)
      return Error::from_errno("dup stdin");
    return open_stream(::ckpt::Fd(fd), "stdin", opt);
  }
  auto impl = std::make_unique<Impl>();
  impl->name = path;
  impl->opt = opt;
  struct stat st;
  if (::stat(path.c_str(), &st) != 0)
    return Error::from_errno(path);
  if (S_ISDIR(st.st_mode)) {
    impl->directory = true;
    auto m = open_file(path + "/meta.ckpt", true);
    if (!m)
      return std::move(m).error().context("directory image");
    auto p = open_file(path + "/pages.ckpt", true);
    if (!p)
      return std::move(p).error().context("directory image");
    impl->main = std::make_unique<FileReader>(std::move(*m), Role::meta, opt);
    impl->pages.push_back(std::make_unique<FileReader>(std::move(*p), Role::pages, opt, 0));
  } else {
    auto s = open_file(path);
    if (!s)
      return std::move(s).error();
    impl->stream = !(*s)->random_access();
    impl->main = std::make_unique<FileReader>(std::move(*s), Role::single, opt);
  }
  return ImageReader(std::move(impl));
}

Result<ImageReader> ImageReader::open_stream(::ckpt::Fd fd, std::string name, const ReadOptions& opt) {
  auto impl = std::make_unique<Impl>();
  impl->name = std::move(name);
  impl->opt = opt;
  impl->stream = true;
  auto src = std::make_unique<FdSource>(std::move(fd), false, 0);
  src->name = impl->name;
  impl->main = std::make_unique<FileReader>(std::move(src), Role::single, opt);
  return ImageReader(std::move(impl));
}

Result<ImageReader> ImageReader::open_memory(std::string_view bytes, Mode mode,
                                             const ReadOptions& opt) {
  auto impl = std::make_unique<Impl>();
  impl->name = "<memory>";
  impl->opt = opt;
  impl->stream = mode == Mode::stream;
  auto src = std::make_unique<MemSource>(bytes, mode == Mode::file);
  src->name = impl->name;
  impl->main = std::make_unique<FileReader>(std::move(src), Role::single, opt);
  return ImageReader(std::move(impl));
}

Result<Image> ImageReader::load_metadata() {
  Impl& m = *impl_;
  if (m.loaded)
    return Error::msg("image reader: load_metadata() called twice");
  m.loaded = true;
  Image img;
  img.directory = m.directory;
  auto run = [&]() -> Result<void> {
    auto h = m.main->read_header();
    if (!h)
      return m.directory ? std::move(h).error().context("meta.ckpt") : std::move(h).error();
    img.header = *h;
    m.page_size = h->page_size;
    bool have_info = false, have_tree = false;
    auto on_meta = [&](const SectionInfo& s, std::string_view payload) -> Result<void> {
      auto type = static_cast<SectionType>(s.header.type);
      if (s.header.seq == 0 && type != SectionType::info)
        return Error::msg(fmt::format("{}: the first section must be INFO", where(s)));
      if (s.skipped)
        return {};
      switch (type) {
        case SectionType::info:
          if (have_info)
            return Error::msg(fmt::format("{}: a second INFO section", where(s)));
          have_info = true;
          return parse(s, payload, img.info);
        case SectionType::tree:
          if (have_tree)
            return Error::msg(fmt::format("{}: a second TREE section", where(s)));
          have_tree = true;
          return parse(s, payload, img.tree);
        case SectionType::process:
          return parse(s, payload, img.processes.emplace_back());
        case SectionType::shmem:
          return parse(s, payload, img.shared_memory.emplace_back());
        case SectionType::pipe_data:
          return parse(s, payload, img.pipes.emplace_back());
        case SectionType::stats:
          if (img.stats)
            return Error::msg(fmt::format("{}: a second STATS section", where(s)));
          return parse(s, payload, img.stats.emplace());
        case SectionType::pages:
          m.page_index[{0, s.header.seq}] = s;
          return {};
        case SectionType::pad:
        case SectionType::end:
          return {};
      }
      return {};
    };
    auto total = m.main->scan(img.sections, on_meta);
    if (!total)
      return m.directory ? std::move(total).error().context("meta.ckpt") : std::move(total).error();
    img.total_bytes = *total;
    if (!have_info)
      return Error::msg("image has no INFO section");
    if (!have_tree)
      return Error::msg("image has no TREE section");
    if (img.info.page_size() != 0 && img.info.page_size() != h->page_size)
      return Error::msg(fmt::format("INFO says page size {}, the file header {}",
                                    img.info.page_size(), h->page_size));
    m.page_files = h->page_files;
    if (!m.directory && m.page_files != 1)
      return Error::msg(fmt::format(
          "the file header says {} page files; only a directory image has more than one",
          m.page_files));
    // The page files the metadata counts: pages.ckpt was opened with the
    // image, the others are opened now (a missing one is an error here,
    // not a page run that cannot be found).
    for (uint32_t k = 1; k < m.page_files && m.directory; ++k) {
      auto p = open_file(m.name + "/" + page_file_name(k), true);
      if (!p)
        return std::move(p).error().context(fmt::format(
            "directory image: meta.ckpt counts {} page files", m.page_files));
      m.pages.push_back(std::make_unique<FileReader>(std::move(*p), Role::pages, m.opt, k));
    }
    for (uint32_t k = 0; k < m.pages.size(); ++k) {
      const std::string pf = page_file_name(k);
      auto ph = m.pages[k]->read_header();
      if (!ph)
        return std::move(ph).error().context(pf);
      if (ph->uuid != h->uuid)
        return Error::msg(fmt::format("{} belongs to another image (uuid {}, meta.ckpt has {})",
                                      pf, uuid_string(ph->uuid), uuid_string(h->uuid)));
      if (ph->page_size != h->page_size)
        return Error::msg(fmt::format("{} has page size {}, meta.ckpt {}", pf, ph->page_size,
                                      h->page_size));
      if (ph->major != h->major)
        return Error::msg(fmt::format("{} is format {}.x, meta.ckpt {}.x", pf, ph->major,
                                      h->major));
      if (ph->page_files != m.page_files || ph->file_index != k)
        return Error::msg(fmt::format(
            "{} says it is page file {} of {}; meta.ckpt counts {} and this name is file {}", pf,
            ph->file_index, ph->page_files, m.page_files, k));
      img.page_headers.push_back(*ph);
      auto on_pages = [&](const SectionInfo& s, std::string_view) -> Result<void> {
        if (!s.skipped && s.header.type == static_cast<uint32_t>(SectionType::pages))
          m.page_index[{k, s.header.seq}] = s;
        return {};
      };
      auto pt = m.pages[k]->scan(img.sections, on_pages);
      if (!pt)
        return std::move(pt).error().context(pf);
      img.total_bytes += *pt;
    }
    for (const Process& p : img.processes)
      if (auto r = check_runs(p.memory().pages(), m.page_index, m.page_size, m.page_files,
                              fmt::format("process {}", p.pid()));
          !r)
        return r;
    for (const SharedMemory& s : img.shared_memory)
      if (auto r = check_runs(s.pages(), m.page_index, m.page_size, m.page_files,
                              fmt::format("shared memory {}", s.id()));
          !r)
        return r;
    img.pages = m.page_index;
    return {};
  };
  if (auto r = run(); !r)
    return std::move(r).error().context(m.name);
  return img;
}

Result<void> ImageReader::verify_pages() {
  Impl& m = *impl_;
  if (!m.loaded)
    return Error::msg("image reader: verify_pages() before load_metadata()");
  if (m.stream)
    return {};  // verified while passing
  for (const auto& [key, info] : m.page_index)
    if (auto r = m.pages_file(key.first).hash_payload(info, nullptr); !r)
      return std::move(r).error().context(m.file_name(key.first));
  return {};
}

Result<std::string> ImageReader::read_run(const PageRun& run) {
  Impl& m = *impl_;
  auto it = m.page_index.find({run.file(), run.section()});
  if (!m.loaded || it == m.page_index.end())
    return Error::msg(run.file() ? fmt::format("no PAGES section {} in page file {}",
                                               run.section(), run.file())
                                 : fmt::format("no PAGES section {}", run.section()));
  uint64_t len = it->second.header.length;
  if (run.nr_pages() > len / m.page_size || run.offset() > len - run.nr_pages() * m.page_size)
    return Error::msg(fmt::format("page run outside PAGES section {}", run.section()));
  std::size_t n = static_cast<std::size_t>(run.nr_pages() * m.page_size);
  if (m.stream) {
    auto& kept = m.main->kept_pages();
    auto k = kept.find(run.section());
    if (k == kept.end())
      return Error::msg("page bytes of a stream are kept only with keep_pages");
    return k->second.substr(static_cast<std::size_t>(run.offset()), n);
  }
  std::string out(n, '\0');
  if (auto r = m.pages_file(run.file()).source().pread(out.data(), n,
                                                       it->second.payload_offset() + run.offset());
      !r)
    return std::move(r).error();
  return out;
}

}  // namespace ckpt::image
