// Page data in the image: the per-section payload hash (PAGES: XXH64, flag
// HASH_XXH64; other sections and images before 2.0: XXH3-64), unknown
// section flags, and PAGES sections whose payload the caller writes through
// the image's fd (reserve_pages_by_fd, what CKPT_IOC_PAGES is for).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

#include <cerrno>
#include <cstring>
#include <thread>

#include <fmt/format.h>

#include "image/format.h"
#include "image_test_util.h"

namespace ckpt::test {
namespace {

using namespace ckpt::image;

ImageHeaderParams fixed_params() {
  ImageHeaderParams p;
  p.page_size = kPs;
  p.created_unix_ns = 1234567890;
  p.uuid = Uuid{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
  return p;
}

Mapping owned_copy(const std::string& bytes) {
  auto m = Mapping::anonymous(std::max<std::size_t>(bytes.size(), 1), PROT_READ | PROT_WRITE);
  EXPECT_TRUE(m.ok());
  std::memcpy(m->data(), bytes.data(), bytes.size());
  return std::move(*m);
}

// The caller's side of a by-fd slot: its bytes written at file_offset(),
// the second half first (the module's write need not be in order).
Result<uint32_t> put_by_fd(ImageWriter& w, const std::string& bytes) {
  auto slot = w.reserve_pages_by_fd(bytes.size());
  if (!slot)
    return std::move(slot).error();
  EXPECT_TRUE(slot->by_fd());
  EXPECT_EQ(slot->kind(), PageSlot::Kind::by_fd);
  EXPECT_FALSE(slot->in_place());
  EXPECT_TRUE(slot->data().empty());
  EXPECT_EQ(slot->size(), bytes.size());
  EXPECT_GE(slot->fd(), 0);
  EXPECT_EQ(slot->file_offset() % kPs, 0u);
  std::size_t half = bytes.size() / kPs / 2 * kPs;
  if (auto r = pwrite_all(slot->fd(), bytes.substr(half), slot->file_offset() + half); !r)
    return std::move(r).error();
  if (auto r = pwrite_all(slot->fd(), bytes.substr(0, half), slot->file_offset()); !r)
    return std::move(r).error();
  return w.commit_pages(std::move(*slot));
}

void put_info_tree(ImageWriter& w) { test::put_info_tree(w, "pages-test"); }

// A PROCESS message whose one run covers PAGES section @seq (@bytes long).
void put_process(ImageWriter& w, uint32_t pid, uint32_t seq, std::size_t bytes) {
  Process p;
  p.set_pid(pid);
  if (bytes) {
    auto* r = p.mutable_memory()->add_pages();
    r->set_vaddr(0x10000);
    r->set_nr_pages(bytes / kPs);
    r->set_section(seq);
  }
  ASSERT_TRUE(w.put(SectionType::process, p).ok());
}

// Reads @p back (file mode, and its bytes as a stream for a single file):
// every process's run equals @pages[i], every payload hash verifies, and
// every PAGES section is flagged HASH_XXH64.
void expect_reads_back(const std::string& p, const std::vector<std::string>& pages,
                       bool stream_too) {
  auto r = ImageReader::open(p);
  ASSERT_TRUE(r.ok()) << r.error().message();
  auto img = r->load_metadata();
  ASSERT_TRUE(img.ok()) << img.error().message();
  EXPECT_EQ(img->header.major, kMajorOnePageFile);
  auto v = r->verify_pages();
  EXPECT_TRUE(v.ok()) << v.error().message();
  ASSERT_EQ(img->processes.size(), pages.size());
  for (std::size_t i = 0; i < pages.size(); ++i) {
    const auto& runs = img->processes[i].memory().pages();
    if (pages[i].empty()) {
      EXPECT_EQ(runs.size(), 0);
      continue;
    }
    ASSERT_EQ(runs.size(), 1);
    auto b = r->read_run(runs[0]);
    ASSERT_TRUE(b.ok()) << b.error().message();
    EXPECT_TRUE(*b == pages[i]) << "process " << i;
  }
  EXPECT_EQ(img->pages.size(), pages.size());
  for (const auto& [key, s] : img->pages)
    EXPECT_EQ(s.header.flags, kSectionHashXxh64) << "PAGES " << key.second;
  if (stream_too) {
    std::string bytes = slurp(p);
    EXPECT_EQ(load_error_stream(bytes), "");
  }
}

class ImagePages : public ImageTest {};

const std::vector<std::size_t> kSizes = {1 * kPs, 3 * kPs, 0, 7 * kPs, 2 * kPs};

// By-fd sections in a file and a directory image, synchronous and with the
// writer thread: read back and verified, and byte for byte the image
// put_pages writes.
TEST_F(ImagePages, ByFdRoundTrip) {
  for (bool dir : {false, true}) {
    // The reference: the same sections through put_pages.
    std::string ref = path(dir ? "ref.d" : "ref.ckpt");
    {
      auto w = ImageWriter::create(dir ? Output::directory(ref) : Output::file(ref),
                                   fixed_params());
      ASSERT_TRUE(w.ok());
      put_info_tree(*w);
      for (std::size_t i = 0; i < kSizes.size(); ++i) {
        std::string bytes = pattern(kSizes[i], static_cast<int>(i));
        iovec iov{bytes.data(), bytes.size()};
        auto seq = w->put_pages(&iov, 1, bytes.size());
        ASSERT_TRUE(seq.ok());
        put_process(*w, static_cast<uint32_t>(100 + i), *seq, bytes.size());
      }
      ASSERT_TRUE(w->commit().ok());
    }
    for (uint64_t limit : {uint64_t{0}, uint64_t{1}, uint64_t{1} << 30}) {
      SCOPED_TRACE(testing::Message() << (dir ? "directory" : "file") << ", limit " << limit);
      std::string p = path(fmt::format("img-{}-{}", dir, limit));
      auto w = ImageWriter::create(dir ? Output::directory(p) : Output::file(p), fixed_params());
      ASSERT_TRUE(w.ok());
      EXPECT_TRUE(w->can_write_pages_by_fd());
      if (limit) {
        ASSERT_TRUE(w->start_background(limit).ok());
      }
      put_info_tree(*w);
      std::vector<std::string> pages;
      for (std::size_t i = 0; i < kSizes.size(); ++i) {
        pages.push_back(pattern(kSizes[i], static_cast<int>(i)));
        if (i == 1) {
          // The slot's fd is the file page data goes to: pages.ckpt of a
          // directory image.
          auto slot = w->reserve_pages_by_fd(kPs);
          ASSERT_TRUE(slot.ok());
          struct stat a {}, b {};
          ASSERT_EQ(::fstat(slot->fd(), &a), 0);
          std::string file = dir ? w->temp_path() + "/pages.ckpt" : w->temp_path();
          ASSERT_EQ(::stat(file.c_str(), &b), 0);
          EXPECT_EQ(a.st_ino, b.st_ino);
          ASSERT_TRUE(w->cancel_pages(std::move(*slot)).ok());
        }
        auto seq = put_by_fd(*w, pages.back());
        ASSERT_TRUE(seq.ok()) << seq.error().message();
        put_process(*w, static_cast<uint32_t>(100 + i), *seq, pages.back().size());
      }
      ASSERT_TRUE(w->commit().ok());
      expect_reads_back(p, pages, !dir);
      if (dir) {
        for (const char* f : {"/meta.ckpt", "/pages.ckpt"})
          EXPECT_TRUE(slurp(p + f) == slurp(ref + f)) << f;
      } else {
        EXPECT_TRUE(slurp(p) == slurp(ref));
      }
    }
  }
}

// The caller wrote less than the slot: commit_pages says so, naming the
// section, instead of a SIGBUS on the mapping; the image is dropped.
TEST_F(ImagePages, ByFdShortWriteIsAnError) {
  for (bool bg : {false, true}) {
    for (std::size_t wrote : {std::size_t{0}, std::size_t{kPs}, std::size_t{3 * kPs + 100}}) {
      SCOPED_TRACE(testing::Message() << (bg ? "background" : "synchronous") << ", wrote "
                                      << wrote);
      {
        auto w = ImageWriter::create(Output::file(path("short.ckpt")), fixed_params());
        ASSERT_TRUE(w.ok());
        if (bg) {
          ASSERT_TRUE(w->start_background(uint64_t{1} << 30).ok());
        }
        put_info_tree(*w);  // sections 0, 1; then PAD 2, PAGES 3
        std::string tmp = w->temp_path();
        auto slot = w->reserve_pages_by_fd(4 * kPs);
        ASSERT_TRUE(slot.ok());
        ASSERT_TRUE(pwrite_all(slot->fd(), pattern(wrote, 1), slot->file_offset()).ok());
        auto c = w->commit_pages(std::move(*slot));
        ASSERT_FALSE(c.ok());
        EXPECT_EQ(c.error().code(), EIO);
        EXPECT_NE(c.error().message().find("section 3 (PAGES) of " + tmp), std::string::npos)
            << c.error().message();
        // (Nothing written: where the file ends depends on the thread.)
        std::string want = fmt::format("bytes short of the {} bytes of page data", 4 * kPs);
        if (wrote)
          want = fmt::format("{} ", 4 * kPs - wrote) + want;
        EXPECT_NE(c.error().message().find(want), std::string::npos) << c.error().message();
        EXPECT_FALSE(w->commit().ok());
      }
      EXPECT_EQ(names(), std::vector<std::string>{});
    }
  }
}

// More than the slot: something wrote past the section, where the next one
// goes.
TEST_F(ImagePages, ByFdWritePastTheSlotIsAnError) {
  {
    auto w = ImageWriter::create(Output::file(path("long.ckpt")), fixed_params());
    ASSERT_TRUE(w.ok());
    put_info_tree(*w);
    std::string tmp = w->temp_path();
    auto slot = w->reserve_pages_by_fd(2 * kPs);
    ASSERT_TRUE(slot.ok());
    ASSERT_TRUE(pwrite_all(slot->fd(), pattern(3 * kPs, 1), slot->file_offset()).ok());
    auto c = w->commit_pages(std::move(*slot));
    ASSERT_FALSE(c.ok());
    EXPECT_NE(c.error().message().find(fmt::format(
                  "section 3 (PAGES) of {}: the file extends {} bytes past the end of the page "
                  "data",
                  tmp, kPs)),
              std::string::npos)
        << c.error().message();
  }
  EXPECT_EQ(names(), std::vector<std::string>{});
}

// The payload passes the check at commit, then the file shrinks before the
// thread hashes it (a caller that truncates the image behind the writer's
// back): the thread checks again before it maps, and the error reaches the
// caller -- never a SIGBUS in the thread.
TEST_F(ImagePages, ByFdPayloadGoneBeforeTheThreadHashesIt) {
  {
    auto w = ImageWriter::create(Output::file(path("gone.ckpt")), fixed_params());
    ASSERT_TRUE(w.ok());
    ASSERT_TRUE(w->start_background(uint64_t{1} << 30).ok());
    w->hold_background(true);  // nothing is written until drain()
    put_info_tree(*w);
    auto slot = w->reserve_pages_by_fd(4 * kPs);
    ASSERT_TRUE(slot.ok());
    int fd = slot->fd();
    uint64_t off = slot->file_offset();
    ASSERT_TRUE(pwrite_all(fd, pattern(4 * kPs, 2), off).ok());
    ASSERT_TRUE(w->commit_pages(std::move(*slot)).ok());
    ASSERT_EQ(::ftruncate(fd, static_cast<off_t>(off + kPs)), 0);
    w->hold_background(false);
    auto d = w->drain();
    ASSERT_FALSE(d.ok());
    EXPECT_NE(d.error().message().find("section 3 (PAGES)"), std::string::npos)
        << d.error().message();
    EXPECT_NE(d.error().message().find("they were not all written"), std::string::npos)
        << d.error().message();
    EXPECT_FALSE(w->commit().ok());
  }
  EXPECT_EQ(names(), std::vector<std::string>{});
}

// A cancelled by-fd slot leaves nothing: the file is cut back to where its
// header would have gone, the next section takes its place, and the image
// is the one written without it.
TEST_F(ImagePages, ByFdCancel) {
  for (bool dir : {false, true}) {
    std::string ref = path(dir ? "ref.d" : "ref.ckpt");
    {
      auto w = ImageWriter::create(dir ? Output::directory(ref) : Output::file(ref),
                                   fixed_params());
      ASSERT_TRUE(w.ok());
      put_info_tree(*w);
      for (int i = 0; i < 2; ++i) {
        std::string bytes = pattern(static_cast<std::size_t>(2 + i) * kPs, i);
        iovec iov{bytes.data(), bytes.size()};
        auto seq = w->put_pages(&iov, 1, bytes.size());
        ASSERT_TRUE(seq.ok());
        put_process(*w, static_cast<uint32_t>(100 + i), *seq, bytes.size());
      }
      ASSERT_TRUE(w->commit().ok());
    }
    for (bool bg : {false, true}) {
      SCOPED_TRACE(testing::Message() << (dir ? "directory" : "file") << ", "
                                      << (bg ? "background" : "synchronous"));
      std::string p = path(fmt::format("img-{}-{}", dir, bg));
      auto w = ImageWriter::create(dir ? Output::directory(p) : Output::file(p), fixed_params());
      ASSERT_TRUE(w.ok());
      if (bg) {
        ASSERT_TRUE(w->start_background(uint64_t{1} << 30).ok());
        w->hold_background(true);
      }
      put_info_tree(*w);
      std::vector<std::string> pages;
      for (int i = 0; i < 2; ++i) {
        pages.push_back(pattern(static_cast<std::size_t>(2 + i) * kPs, i));
        // A read that failed halfway: cancelled.
        auto junk = w->reserve_pages_by_fd(8 * kPs);
        ASSERT_TRUE(junk.ok());
        int fd = junk->fd();
        uint64_t at = junk->file_offset();
        ASSERT_TRUE(pwrite_all(fd, std::string(5 * kPs, '\xee'), at).ok());
        ASSERT_TRUE(w->cancel_pages(std::move(*junk)).ok());
        struct stat st {};
        ASSERT_EQ(::fstat(fd, &st), 0);
        EXPECT_EQ(static_cast<uint64_t>(st.st_size), at - kSectionHeaderSize);
        // The next one goes where it was.
        auto slot = w->reserve_pages_by_fd(pages.back().size());
        ASSERT_TRUE(slot.ok());
        EXPECT_EQ(slot->file_offset(), at);
        ASSERT_TRUE(pwrite_all(slot->fd(), pages.back(), slot->file_offset()).ok());
        auto seq = w->commit_pages(std::move(*slot));
        ASSERT_TRUE(seq.ok()) << seq.error().message();
        put_process(*w, static_cast<uint32_t>(100 + i), *seq, pages.back().size());
      }
      w->hold_background(false);
      ASSERT_TRUE(w->commit().ok());
      expect_reads_back(p, pages, !dir);
      if (dir) {
        for (const char* f : {"/meta.ckpt", "/pages.ckpt"})
          EXPECT_TRUE(slurp(p + f) == slurp(ref + f)) << f;
      } else {
        EXPECT_TRUE(slurp(p) == slurp(ref));
      }
    }
  }
}

// A stream has no file to write page data into: ENOTSUP, the writer
// untouched, and the caller falls back to reserve_pages.
TEST_F(ImagePages, ByFdRefusedOnAStream) {
  for (bool bg : {false, true}) {
    std::string p = path(bg ? "bg.stream" : "sync.stream");
    int fd = ::open(p.c_str(), O_WRONLY | O_CREAT | O_EXCL, 0600);
    ASSERT_GE(fd, 0);
    std::vector<std::string> pages = {pattern(2 * kPs, 1)};
    {
      auto w = ImageWriter::create(Output::stream(fd), fixed_params());
      ASSERT_TRUE(w.ok());
      if (bg) {
        ASSERT_TRUE(w->start_background(kPs).ok());
      }
      EXPECT_FALSE(w->can_write_pages_by_fd());
      put_info_tree(*w);
      auto slot = w->reserve_pages_by_fd(2 * kPs);
      ASSERT_FALSE(slot.ok());
      EXPECT_EQ(slot.error().code(), ENOTSUP);
      EXPECT_EQ(slot.error().code(), EOPNOTSUPP);
      EXPECT_NE(slot.error().message().find("stream"), std::string::npos)
          << slot.error().message();
      auto fallback = w->reserve_pages(2 * kPs);
      ASSERT_TRUE(fallback.ok()) << fallback.error().message();
      EXPECT_EQ(fallback->kind(), PageSlot::Kind::staging);
      EXPECT_EQ(fallback->fd(), -1);
      std::memcpy(fallback->data().data(), pages[0].data(), pages[0].size());
      auto seq = w->commit_pages(std::move(*fallback));
      ASSERT_TRUE(seq.ok());
      put_process(*w, 100, *seq, pages[0].size());
      ASSERT_TRUE(w->commit().ok());
    }
    ::close(fd);
    expect_reads_back(p, pages, true);
  }
  // The file forms can.
  auto f = ImageWriter::create(Output::file(path("f")), fixed_params());
  ASSERT_TRUE(f.ok());
  EXPECT_TRUE(f->can_write_pages_by_fd());
  auto d = ImageWriter::create(Output::directory(path("d")), fixed_params());
  ASSERT_TRUE(d.ok());
  EXPECT_TRUE(d->can_write_pages_by_fd());
  // Too big: refused, the writer goes on.
  auto big = f->reserve_pages_by_fd(ImageWriter::kMaxPagesSection + kPs);
  ASSERT_FALSE(big.ok());
  EXPECT_TRUE(f->put(SectionType::info, ImageInfo()).ok());
}

// More by-fd sections than kMaxQueuedInPlace while the thread is held: the
// producer blocks until the thread makes room, and nothing is lost.
TEST_F(ImagePages, ByFdManyQueuedWhileHeld) {
  auto w = ImageWriter::create(Output::file(path("many.ckpt")), fixed_params());
  ASSERT_TRUE(w.ok());
  ASSERT_TRUE(w->start_background(uint64_t{1} << 30).ok());
  w->hold_background(true);
  put_info_tree(*w);
  std::vector<std::string> pages;
  const int n = static_cast<int>(ImageWriter::kMaxQueuedInPlace) + 40;
  for (int i = 0; i < n; ++i) {
    pages.push_back(pattern(kPs, i));
    auto seq = put_by_fd(*w, pages.back());
    ASSERT_TRUE(seq.ok()) << seq.error().message();
    put_process(*w, static_cast<uint32_t>(100 + i), *seq, kPs);
  }
  w->hold_background(false);
  ASSERT_TRUE(w->commit().ok());
  expect_reads_back(path("many.ckpt"), pages, true);
}

// Every way the writer stores page data hashes it with XXH64 and says so
// (HASH_XXH64); every other section keeps XXH3-64 and no flag.
TEST_F(ImagePages, PagesHashedWithXxh64EverywhereElseXxh3) {
  enum Way { put_pages, owned, reserve, by_fd };
  for (int form = 0; form < 3; ++form) {  // file, directory, stream
    for (bool bg : {false, true}) {
      SCOPED_TRACE(testing::Message() << "form " << form << (bg ? ", background" : ""));
      std::string p = path(fmt::format("img-{}-{}", form, bg));
      int sfd = -1;
      if (form == 2) {
        sfd = ::open(p.c_str(), O_WRONLY | O_CREAT | O_EXCL, 0600);
        ASSERT_GE(sfd, 0);
      }
      std::vector<std::string> pages;
      {
        auto w = ImageWriter::create(form == 0   ? Output::file(p)
                                     : form == 1 ? Output::directory(p)
                                                 : Output::stream(sfd),
                                     fixed_params());
        ASSERT_TRUE(w.ok());
        if (bg) {
          ASSERT_TRUE(w->start_background(2 * kPs).ok());
        }
        put_info_tree(*w);
        for (Way way : {put_pages, owned, reserve, by_fd}) {
          std::string bytes = pattern(static_cast<std::size_t>(1 + way) * kPs, way);
          Result<uint32_t> seq = 0u;
          if (way == put_pages) {
            iovec iov{bytes.data(), bytes.size()};
            seq = w->put_pages(&iov, 1, bytes.size());
          } else if (way == owned) {
            seq = w->put_pages_owned(owned_copy(bytes), bytes.size());
          } else if (way == reserve || !w->can_write_pages_by_fd()) {
            auto slot = w->reserve_pages(bytes.size());
            ASSERT_TRUE(slot.ok());
            std::memcpy(slot->data().data(), bytes.data(), bytes.size());
            seq = w->commit_pages(std::move(*slot));
          } else {
            seq = put_by_fd(*w, bytes);
          }
          ASSERT_TRUE(seq.ok()) << seq.error().message();
          put_process(*w, static_cast<uint32_t>(100 + way), *seq, bytes.size());
          pages.push_back(bytes);
        }
        ASSERT_TRUE(w->put(SectionType::stats, DumpStats()).ok());
        ASSERT_TRUE(w->commit().ok());
      }
      if (sfd >= 0)
        ::close(sfd);
      expect_reads_back(p, pages, form != 1);
      // Each stored hash, recomputed here with xxhash itself.
      auto r = ImageReader::open(p);
      ASSERT_TRUE(r.ok());
      auto img = r->load_metadata();
      ASSERT_TRUE(img.ok());
      std::string meta = slurp(form == 1 ? p + "/meta.ckpt" : p);
      std::string pagesf = form == 1 ? slurp(p + "/pages.ckpt") : meta;
      int n_pages = 0;
      for (const auto& s : img->sections) {
        const std::string& file = s.in_pages_file ? pagesf : meta;
        const char* payload = file.data() + s.payload_offset();
        auto len = static_cast<std::size_t>(s.header.length);
        if (s.header.type == static_cast<uint32_t>(SectionType::pages)) {
          ++n_pages;
          EXPECT_EQ(s.header.flags, kSectionHashXxh64) << s.header.seq;
          EXPECT_EQ(s.header.payload_hash, XXH64(payload, len, 0)) << s.header.seq;
        } else {
          EXPECT_EQ(s.header.flags, 0u) << s.header.seq;
          EXPECT_EQ(s.header.payload_hash, XXH3_64bits(payload, len)) << s.header.seq;
        }
      }
      EXPECT_EQ(n_pages, 4);
    }
  }
}

// A flipped page byte under XXH64 is found (verify_pages for a file, while
// passing for a stream), naming the section and the hash.
TEST_F(ImagePages, Xxh64PageByteFlipDetected) {
  for (bool dir : {false, true}) {
    std::string p = path(dir ? "d" : "f");
    {
      auto w = ImageWriter::create(dir ? Output::directory(p) : Output::file(p), fixed_params());
      ASSERT_TRUE(w.ok());
      put_info_tree(*w);
      auto seq = put_by_fd(*w, pattern(3 * kPs, 7));
      ASSERT_TRUE(seq.ok());
      put_process(*w, 100, *seq, 3 * kPs);
      ASSERT_TRUE(w->commit().ok());
    }
    auto r = ImageReader::open(p);
    ASSERT_TRUE(r.ok());
    auto img = r->load_metadata();
    ASSERT_TRUE(img.ok());
    const SectionInfo& s = img->pages.begin()->second;
    std::string file = dir ? p + "/pages.ckpt" : p;
    std::string b = slurp(file);
    b[s.payload_offset() + kPs + 5] ^= 0x20;
    write_bytes(file, b);
    EXPECT_EQ(load_error(p, false), "");  // metadata does not read pages
    std::string want = fmt::format(
        "section {} (PAGES) at offset {}: payload checksum mismatch (XXH64: stored {:#018x}",
        s.header.seq, s.offset, s.header.payload_hash);
    std::string e = load_error(p);
    EXPECT_NE(e.find(want), std::string::npos) << e;
    if (dir) {
      EXPECT_NE(e.find("pages.ckpt"), std::string::npos) << e;
    } else {
      e = load_error_stream(b);
      EXPECT_NE(e.find(want), std::string::npos) << e;
    }
  }
}

// A by-fd slot whose caller knows the payload's hash (the module's
// CKPT_PAGES_XXH64): the writer stores that value and reads nothing back.
// The right hash gives the image put_pages writes; a wrong one is stored as
// given, and verification names it.
TEST_F(ImagePages, ByFdCallerHash) {
  const std::string bytes = pattern(5 * kPs, 11);
  const uint64_t right = XXH64(bytes.data(), bytes.size(), 0);
  const uint64_t wrong = 0x1234;
  for (bool dir : {false, true}) {
    for (uint64_t given : {right, wrong}) {
      std::string p = path(fmt::format("{}-{:x}", dir ? "d" : "f", given));
      {
        auto w = ImageWriter::create(dir ? Output::directory(p) : Output::file(p), fixed_params());
        ASSERT_TRUE(w.ok());
        ASSERT_TRUE(w->start_background(uint64_t{1} << 30).ok());
        put_info_tree(*w);
        auto slot = w->reserve_pages_by_fd(bytes.size());
        ASSERT_TRUE(slot.ok()) << slot.error().message();
        ASSERT_TRUE(pwrite_all(slot->fd(), bytes, slot->file_offset()).ok());
        slot->set_payload_hash(given);
        auto seq = w->commit_pages(std::move(*slot));
        ASSERT_TRUE(seq.ok()) << seq.error().message();
        put_process(*w, 100, *seq, bytes.size());
        ASSERT_TRUE(w->commit().ok());
      }
      if (given == right) {
        expect_reads_back(p, {bytes}, !dir);
        continue;
      }
      auto r = ImageReader::open(p);
      ASSERT_TRUE(r.ok());
      auto img = r->load_metadata();
      ASSERT_TRUE(img.ok());
      const SectionInfo& sec = img->pages.begin()->second;
      EXPECT_EQ(sec.header.payload_hash, wrong);
      std::string e = load_error(p);
      EXPECT_NE(e.find(fmt::format("payload checksum mismatch (XXH64: stored {:#018x}", wrong)),
                std::string::npos)
          << e;
    }
  }
}

// An image written before 2.0: format 1.0, PAGES hashed with XXH3-64 and
// no flag.  It still reads and verifies, and corruption is still found.
TEST_F(ImagePages, LegacyXxh3PagesStillVerify) {
  std::string page_data = pattern(3 * kPs, 9);
  {
    auto w = ImageWriter::create(Output::file(path("old")), fixed_params());
    ASSERT_TRUE(w.ok());
    put_info_tree(*w);
    // What 1.0's writer did, by hand: a PAD to align, then PAGES, flags 0.
    uint64_t pos = w->bytes_written();
    if (need_pad(pos, kPs)) {
      std::vector<uint8_t> zeros(pad_length(pos, kPs));
      ASSERT_TRUE(w->put_raw(static_cast<uint32_t>(SectionType::pad), 0, zeros).ok());
    }
    auto seq = w->put_raw(static_cast<uint32_t>(SectionType::pages), 0,
                          std::span<const uint8_t>(
                              reinterpret_cast<const uint8_t*>(page_data.data()), page_data.size()));
    ASSERT_TRUE(seq.ok());
    put_process(*w, 100, *seq, page_data.size());
    ASSERT_TRUE(w->commit().ok());
  }
  // Format 1.0 in the file header.
  std::string b = slurp(path("old"));
  auto h = decode_file_header(
      std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(b.data()), kFileHeaderSize));
  ASSERT_TRUE(h.ok());
  h->major = 1;
  h->minor = 0;
  encode_file_header(*h, std::span<uint8_t, kFileHeaderSize>(reinterpret_cast<uint8_t*>(b.data()),
                                                              kFileHeaderSize));
  write_bytes(path("old"), b);

  auto r = ImageReader::open(path("old"));
  ASSERT_TRUE(r.ok());
  auto img = r->load_metadata();
  ASSERT_TRUE(img.ok()) << img.error().message();
  EXPECT_EQ(img->header.major, 1);
  ASSERT_EQ(img->pages.size(), 1u);
  const SectionInfo& s = img->pages.begin()->second;
  EXPECT_EQ(s.header.flags, 0u);
  EXPECT_EQ(s.header.payload_hash, XXH3_64bits(page_data.data(), page_data.size()));
  EXPECT_EQ(s.payload_offset() % kPs, 0u);
  auto v = r->verify_pages();
  EXPECT_TRUE(v.ok()) << v.error().message();
  auto run = r->read_run(img->processes[0].memory().pages(0));
  ASSERT_TRUE(run.ok());
  EXPECT_TRUE(*run == page_data);
  EXPECT_EQ(load_error_stream(b), "");

  b[s.payload_offset() + 2 * kPs] ^= 1;
  write_bytes(path("old"), b);
  std::string want = fmt::format(
      "section {} (PAGES) at offset {}: payload checksum mismatch (XXH3-64: stored", s.header.seq,
      s.offset);
  std::string e = load_error(path("old"));
  EXPECT_NE(e.find(want), std::string::npos) << e;
  e = load_error_stream(b);
  EXPECT_NE(e.find(want), std::string::npos) << e;
}

// An unknown flag bit is refused, whatever the section (an unknown
// optional type too: a flag may change how its payload is hashed), naming
// the section and the bits; OPTIONAL and HASH_XXH64 on an unknown optional
// section are fine (skipped, its XXH64 still checked).
TEST_F(ImagePages, UnknownSectionFlags) {
  struct Case {
    uint32_t type, flags;
    const char* want;  // "" : reads
  };
  const std::string tree = Tree().SerializeAsString();
  const Case cases[] = {
      {static_cast<uint32_t>(SectionType::stats), 1u << 5,
       "section 2 (STATS) at offset {}: unknown section flags 0x20 (this ckpt-user knows "
       "OPTIONAL|HASH_XXH64); upgrade"},
      {static_cast<uint32_t>(SectionType::stats), kSectionHashXxh64 | (1u << 31),
       "section 2 (STATS) at offset {}: unknown section flags 0x80000000"},
      {42, kSectionOptional | (1u << 9),
       "section 2 (type 42) at offset {}: unknown section flags 0x200"},
      {42, kSectionOptional | kSectionHashXxh64, ""},
      {static_cast<uint32_t>(SectionType::stats), kSectionHashXxh64, ""},
  };
  int k = 0;
  for (const Case& c : cases) {
    SCOPED_TRACE(testing::Message() << "flags " << std::hex << c.flags);
    std::string p = path(fmt::format("f{}", k++));
    uint64_t off = 0;
    std::string payload = DumpStats().SerializeAsString() + (c.type == 42 ? "abc" : "");
    {
      auto w = ImageWriter::create(Output::file(p), fixed_params());
      ASSERT_TRUE(w.ok());
      put_info_tree(*w);
      off = w->bytes_written();
      ASSERT_TRUE(w->put_raw(c.type, c.flags,
                             std::span<const uint8_t>(
                                 reinterpret_cast<const uint8_t*>(payload.data()), payload.size()))
                      .ok());
      ASSERT_TRUE(w->commit().ok());
    }
    std::string want = fmt::format(fmt::runtime(c.want), off);
    std::string e = load_error(p);
    std::string es = load_error_stream(slurp(p));
    if (want.empty()) {
      EXPECT_EQ(e, "");
      EXPECT_EQ(es, "");
      if (c.type == 42) {
        // Skipped, but its payload is hashed by its flag: corruption shows.
        std::string b = slurp(p);
        b[off + kSectionHeaderSize + payload.size() - 1] ^= 1;
        write_bytes(p, b);
        e = load_error(p);
        EXPECT_NE(e.find("payload checksum mismatch (XXH64:"), std::string::npos) << e;
      }
    } else {
      EXPECT_NE(e.find(want), std::string::npos) << e;
      EXPECT_NE(es.find(want), std::string::npos) << es;
    }
  }
}

TEST(ImageHash, PayloadHashByFlag) {
  std::string b = pattern(3 * kPs + 17, 3);
  EXPECT_EQ(payload_hash(0, b.data(), b.size()), XXH3_64bits(b.data(), b.size()));
  EXPECT_EQ(payload_hash(kSectionOptional, b.data(), b.size()), XXH3_64bits(b.data(), b.size()));
  EXPECT_EQ(payload_hash(kSectionHashXxh64, b.data(), b.size()), XXH64(b.data(), b.size(), 0));
  EXPECT_EQ(xxh64(b.data(), b.size()), XXH64(b.data(), b.size(), 0));
  EXPECT_NE(XXH64(b.data(), b.size(), 0), XXH3_64bits(b.data(), b.size()));
  for (uint32_t flags : {0u, kSectionHashXxh64}) {
    PayloadHasher h(flags);
    for (std::size_t at = 0; at < b.size(); at += 1000)
      h.update(b.data() + at, std::min<std::size_t>(1000, b.size() - at));
    EXPECT_EQ(h.digest(), payload_hash(flags, b.data(), b.size())) << flags;
    PayloadHasher moved(std::move(h));
    EXPECT_EQ(moved.digest(), payload_hash(flags, b.data(), b.size())) << flags;
    PayloadHasher empty(flags);
    EXPECT_EQ(empty.digest(), payload_hash(flags, "", 0)) << flags;
  }
}

TEST(ImageHash, SectionFlagsName) {
  EXPECT_EQ(section_flags_name(0), "0");
  EXPECT_EQ(section_flags_name(kSectionOptional), "OPTIONAL");
  EXPECT_EQ(section_flags_name(kSectionHashXxh64), "HASH_XXH64");
  EXPECT_EQ(section_flags_name(kSectionKnownFlags), "OPTIONAL|HASH_XXH64");
  EXPECT_EQ(section_flags_name(kSectionHashXxh64 | 0x30), "HASH_XXH64|0x30");
}

}  // namespace
}  // namespace ckpt::test
