// A directory image with several page files (format 3.0): pages.ckpt,
// pages.1.ckpt ... pages.{N-1}.ckpt, PageRun.file naming the one a run is
// in.  Written through reserve_pages / reserve_pages_by_fd with slots of
// different files open at once; read back file by file; a missing, swapped
// or foreign page file and a run naming a file or section that is not
// there are refused.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <iterator>
#include <map>

#include <fmt/format.h>

#include "image/format.h"
#include "image_test_util.h"

namespace ckpt::test {
namespace {

using namespace ckpt::image;

ImageHeaderParams params(uint32_t files) {
  ImageHeaderParams p;
  p.page_size = kPs;
  p.page_files = files;
  return p;
}

// "" when @error has @part in it, else both (for EXPECT_EQ(..., "")).
std::string contains(const std::string& error, const std::string& part) {
  return error.find(part) != std::string::npos ? "" : "\"" + error + "\" lacks \"" + part + "\"";
}

off_t file_size(const std::string& p) {
  struct stat st {};
  EXPECT_EQ(::stat(p.c_str(), &st), 0) << p;
  return st.st_size;
}

// The page bytes written, by (file, seq): distinct for every section, so a
// run read from the wrong file (same seq, same offset) does not match.
using Expected = std::map<PageKey, std::string>;

// Reserves a slot of @bytes.size() in page file @file (by fd or in place)
// and fills it; commit_section() commits it and records the run.
PageSlot open_section(ImageWriter& w, uint32_t file, bool by_fd, const std::string& bytes) {
  auto slot = by_fd ? w.reserve_pages_by_fd(bytes.size(), file)
                    : w.reserve_pages(bytes.size(), file);
  EXPECT_TRUE(slot.ok()) << slot.error().message();
  if (!slot)
    return {};
  EXPECT_EQ(slot->file(), file);
  EXPECT_EQ(slot->kind(), by_fd ? PageSlot::Kind::by_fd : PageSlot::Kind::in_place);
  if (by_fd) {
    // The fd is the page file's own.
    struct stat a {}, b {};
    EXPECT_EQ(::fstat(slot->fd(), &a), 0);
    EXPECT_EQ(::stat((w.temp_path() + "/" + page_file_name(file)).c_str(), &b), 0);
    EXPECT_EQ(a.st_ino, b.st_ino);
    auto wr = pwrite_all(slot->fd(), bytes, slot->file_offset());
    EXPECT_TRUE(wr.ok()) << wr.error().message();
  } else {
    EXPECT_EQ(slot->data().size(), bytes.size());
    std::memcpy(slot->data().data(), bytes.data(), bytes.size());
  }
  return std::move(*slot);
}

PageRun commit_section(ImageWriter& w, PageSlot slot, const std::string& bytes, Expected* exp) {
  uint32_t file = slot.file();
  auto seq = w.commit_pages(std::move(slot));
  EXPECT_TRUE(seq.ok()) << seq.error().message();
  PageRun r;
  r.set_vaddr(0x100000 + 0x100000 * exp->size());
  r.set_nr_pages(bytes.size() / kPs);
  r.set_section(seq ? *seq : 0);
  r.set_file(file);
  (*exp)[{file, r.section()}] = bytes;
  return r;
}

void put_info_tree(ImageWriter& w) { test::put_info_tree(w, "page-files-test"); }

// A PROCESS message holding @runs (moved out).
void put_process(ImageWriter& w, uint32_t pid, std::vector<PageRun>* runs) {
  Process p;
  p.set_pid(pid);
  for (auto& r : *runs)
    *p.mutable_memory()->add_pages() = r;
  runs->clear();
  auto seq = w.put(SectionType::process, p);
  ASSERT_TRUE(seq.ok()) << seq.error().message();
}

// Section @i of page file @file: 1..3 pages of a pattern of its own.
std::string section_bytes(uint32_t file, int i) {
  return pattern(static_cast<std::size_t>(1 + i % 3) * kPs, static_cast<int>(file) * 100 + i);
}

// Writes a directory image of @files page files: for each file K, a pair
// of slots open at once in K and K+1 (one in place, one by fd), a PROCESS
// put into meta.ckpt while both are open (the runs committed before); then
// one more section in pages.ckpt by put_pages (a seq file 1 does not have).
// @extra: a run for the last PROCESS, as given.
Expected write_image(const std::string& p, uint32_t files, bool bg, uint64_t* bytes = nullptr,
                     const PageRun* extra = nullptr) {
  Expected exp;
  auto w = ImageWriter::create(Output::directory(p), params(files));
  EXPECT_TRUE(w.ok()) << w.error().message();
  if (!w)
    return exp;
  EXPECT_EQ(w->page_files(), files);
  if (bg) {
    EXPECT_TRUE(w->start_background(1u << 20).ok());
  }
  put_info_tree(*w);
  std::vector<PageRun> runs;
  uint32_t pid = 200;
  for (int round = 0; round < 2; ++round) {
    for (uint32_t k = 0; k < files; ++k) {
      uint32_t other = (k + 1) % files;
      int i = static_cast<int>(exp.size());
      std::string a = section_bytes(k, i), b = section_bytes(other, i + 1);
      PageSlot sa = open_section(*w, k, round == 0, a);
      PageSlot sb;
      if (other != k)
        sb = open_section(*w, other, round != 0, b);
      put_process(*w, pid++, &runs);
      runs.push_back(commit_section(*w, std::move(sa), a, &exp));
      if (other != k)
        runs.push_back(commit_section(*w, std::move(sb), b, &exp));
    }
  }
  std::string tail = section_bytes(0, 99);
  iovec iov{tail.data(), tail.size()};
  auto seq = w->put_pages(&iov, 1, tail.size());
  EXPECT_TRUE(seq.ok()) << seq.error().message();
  exp[{0, seq ? *seq : 0}] = tail;
  runs.emplace_back().set_nr_pages(tail.size() / kPs);
  runs.back().set_section(seq ? *seq : 0);
  if (extra)
    runs.push_back(*extra);
  put_process(*w, pid, &runs);
  auto c = w->commit();
  EXPECT_TRUE(c.ok()) << c.error().message();
  if (bytes)
    *bytes = w->bytes_written();
  return exp;
}

// Reads the directory image @p back into @img: it verifies, its PAGES
// sections are exactly @exp's (file, seq), and every run's bytes come from
// its own file.
void expect_read_back(const std::string& p, const Expected& exp, Image* img) {
  auto r = ImageReader::open(p);
  ASSERT_TRUE(r.ok()) << r.error().message();
  auto loaded = r->load_metadata();
  ASSERT_TRUE(loaded.ok()) << loaded.error().message();
  *img = std::move(*loaded);
  auto v = r->verify_pages();
  EXPECT_TRUE(v.ok()) << v.error().message();
  std::vector<PageKey> keys, want;
  for (const auto& [key, info] : img->pages) {
    keys.push_back(key);
    EXPECT_EQ(info.file, key.first);
    EXPECT_TRUE(info.in_pages_file);
    EXPECT_EQ(info.payload_offset() % kPs, 0u);
  }
  for (const auto& [key, bytes] : exp)
    want.push_back(key);
  EXPECT_EQ(keys, want);
  std::size_t runs = 0;
  for (const auto& proc : img->processes)
    for (const auto& run : proc.memory().pages()) {
      ++runs;
      auto b = r->read_run(run);
      ASSERT_TRUE(b.ok()) << b.error().message();
      auto it = exp.find({run.file(), run.section()});
      ASSERT_NE(it, exp.end());
      EXPECT_TRUE(*b == it->second) << "file " << run.file() << " section " << run.section();
    }
  EXPECT_EQ(runs, exp.size());
}

class ImagePageFiles : public ImageTest {};

TEST_F(ImagePageFiles, RoundTrip) {
  for (uint32_t files : {1u, 2u, 4u}) {
    for (bool bg : {false, true}) {
      SCOPED_TRACE(testing::Message() << files << " page files, " << (bg ? "background" : "sync"));
      std::string p = path(fmt::format("img-{}-{}", files, bg));
      uint64_t written = 0;
      Expected exp = write_image(p, files, bg, &written);
      // Exactly meta.ckpt and the page files.
      std::vector<std::string> want{"meta.ckpt"};
      for (uint32_t k = 0; k < files; ++k)
        want.push_back(page_file_name(k));
      auto have = list_dir(p);
      ASSERT_TRUE(have.ok());
      std::sort(want.begin(), want.end());
      std::sort(have->begin(), have->end());
      EXPECT_EQ(*have, want);

      Image img;
      expect_read_back(p, exp, &img);
      EXPECT_EQ(img.header.major, files > 1 ? kMajor : kMajorOnePageFile);
      EXPECT_EQ(img.header.page_files, files);
      ASSERT_EQ(img.page_headers.size(), files);
      for (uint32_t k = 0; k < files; ++k) {
        EXPECT_EQ(img.page_headers[k].page_files, files) << k;
        EXPECT_EQ(img.page_headers[k].file_index, k);
        EXPECT_EQ(img.page_headers[k].major, img.header.major);
        EXPECT_EQ(img.page_headers[k].uuid, img.header.uuid);
      }
      EXPECT_EQ(img.total_bytes, written);
    }
  }
}

TEST_F(ImagePageFiles, WriterRefusesBadCounts) {
  for (uint32_t n : {0u, kMaxPageFiles + 1}) {
    auto w = ImageWriter::create(Output::directory(path("d")), params(n));
    ASSERT_FALSE(w.ok());
    EXPECT_EQ(w.error().message(), fmt::format("image writer: {} page files (1..64)", n));
  }
  int fd = ::open(path("s").c_str(), O_WRONLY | O_CREAT | O_EXCL, 0600);
  ASSERT_GE(fd, 0);
  for (const Output& out : {Output::file(path("f")), Output::stream(fd)}) {
    auto w = ImageWriter::create(out, params(2));
    ASSERT_FALSE(w.ok());
    EXPECT_EQ(w.error().message(), "image writer: more than one page file needs a directory image");
  }
  ::close(fd);
  EXPECT_EQ(file_size(path("s")), 0);  // nothing written to the stream
  EXPECT_EQ(names(), std::vector<std::string>{"s"});
}

TEST_F(ImagePageFiles, OneOpenSlotPerFile) {
  auto w = ImageWriter::create(Output::directory(path("d")), params(2));
  ASSERT_TRUE(w.ok());
  put_info_tree(*w);
  for (bool by_fd : {false, true}) {
    auto r = by_fd ? w->reserve_pages_by_fd(kPs, 2) : w->reserve_pages(kPs, 2);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().message(), "image writer: page file 2 of 2");
  }
  Expected exp;
  std::vector<PageRun> runs;
  std::string a = section_bytes(0, 0), b = section_bytes(1, 1);
  PageSlot sa = open_section(*w, 0, true, a);
  // File 0 has its open slot: nothing more goes there ...
  for (bool by_fd : {false, true}) {
    auto r = by_fd ? w->reserve_pages_by_fd(kPs, 0) : w->reserve_pages(kPs, 0);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(contains(r.error().message(), "neither committed nor cancelled"), "");
  }
  iovec iov{a.data(), a.size()};
  EXPECT_FALSE(w->put_pages(&iov, 1, a.size()).ok());
  // ... but file 1 and meta.ckpt go on.
  PageSlot sb = open_section(*w, 1, false, b);
  EXPECT_TRUE(w->put(SectionType::stats, DumpStats()).ok());
  runs.push_back(commit_section(*w, std::move(sb), b, &exp));
  runs.push_back(commit_section(*w, std::move(sa), a, &exp));
  put_process(*w, 300, &runs);
  ASSERT_TRUE(w->commit().ok());
  Image img;
  expect_read_back(path("d"), exp, &img);
}

TEST_F(ImagePageFiles, CancelTruncatesOnlyItsFile) {
  for (bool bg : {false, true}) {
    SCOPED_TRACE(bg ? "background" : "sync");
    std::string p = path(bg ? "bg" : "sync");
    auto w = ImageWriter::create(Output::directory(p), params(2));
    ASSERT_TRUE(w.ok());
    if (bg) {  // held: file 1's sections wait in the queue while one is cancelled
      ASSERT_TRUE(w->start_background(1u << 20).ok());
      w->hold_background(true);
    }
    put_info_tree(*w);
    Expected exp;
    std::vector<PageRun> runs;
    for (uint32_t k : {0u, 1u}) {
      std::string s = section_bytes(k, 0);
      runs.push_back(commit_section(*w, open_section(*w, k, true, s), s, &exp));
    }
    const std::string f0 = w->temp_path() + "/pages.ckpt", f1 = w->temp_path() + "/pages.1.ckpt";
    std::string a = section_bytes(0, 1);
    PageSlot sa = open_section(*w, 0, true, a);
    off_t size0 = file_size(f0);
    PageSlot junk = open_section(*w, 1, true, std::string(3 * kPs, '\xee'));
    uint64_t at = junk.file_offset();
    ASSERT_TRUE(w->cancel_pages(std::move(junk)).ok());
    EXPECT_EQ(static_cast<uint64_t>(file_size(f1)), at - kSectionHeaderSize);
    EXPECT_EQ(file_size(f0), size0);  // file 0's open slot untouched
    runs.push_back(commit_section(*w, std::move(sa), a, &exp));
    // The next section of file 1 takes the cancelled one's place.
    std::string b = section_bytes(1, 1);
    PageSlot sb = open_section(*w, 1, false, b);
    EXPECT_EQ(sb.file_offset(), at);
    runs.push_back(commit_section(*w, std::move(sb), b, &exp));
    put_process(*w, 400, &runs);
    w->hold_background(false);
    ASSERT_TRUE(w->commit().ok());
    Image img;
    expect_read_back(p, exp, &img);
    EXPECT_EQ(img.total_bytes, w->bytes_written());
  }
}

// What the reader refuses in a 2-file image written by write_image().
class ImagePageFilesRead : public ImagePageFiles {
 protected:
  void SetUp() override {
    ImagePageFiles::SetUp();
    exp_ = write_image(path("a"), 2, false);
    ASSERT_EQ(load_error(path("a")), "");
  }
  void expect_refused(const std::string& p, const std::string& part, bool verify = false) {
    std::string e = load_error(p, verify);
    EXPECT_EQ(contains(e, part), "");
  }
  // The same image, its last PROCESS with a run of one page in @file,
  // section @seq.
  void expect_run_refused(uint32_t file, uint32_t seq, const std::string& part) {
    PageRun run;
    run.set_nr_pages(1);
    run.set_section(seq);
    run.set_file(file);
    (void)write_image(path("b"), 2, false, nullptr, &run);
    expect_refused(path("b"), fmt::format("(1 pages, file {} section {}, offset 0): {}", file,
                                          seq, part));
  }
  Expected exp_;
};

TEST_F(ImagePageFilesRead, MissingPageFile) {
  ASSERT_EQ(::unlink(path("a/pages.1.ckpt").c_str()), 0);
  expect_refused(path("a"), "meta.ckpt counts 2 page files");
  expect_refused(path("a"), "pages.1.ckpt");
}

// A FIFO in place of any file of a directory image is refused at once:
// the reader must not wait in open() for a writer that never comes (the
// alarm ends the test if it does).
TEST_F(ImagePageFilesRead, FifoInsteadOfAFile) {
  for (const char* name : {"pages.1.ckpt", "pages.ckpt", "meta.ckpt"}) {
    const std::string f = path(std::string("a/") + name), bytes = slurp(f);
    ASSERT_EQ(::unlink(f.c_str()), 0) << name;
    ASSERT_EQ(::mkfifo(f.c_str(), 0600), 0) << name;
    ::alarm(20);
    expect_refused(path("a"), f + ": not a regular file (the files of a directory image must be)");
    ::alarm(0);
    ASSERT_EQ(::unlink(f.c_str()), 0);
    write_bytes(f, bytes);
  }
}

TEST_F(ImagePageFilesRead, PageFileUnderAnotherName) {
  write_bytes(path("a/pages.1.ckpt"), slurp(path("a/pages.ckpt")));
  expect_refused(path("a"),
                 "pages.1.ckpt says it is page file 0 of 2; meta.ckpt counts 2 and this name is "
                 "file 1");
}

TEST_F(ImagePageFilesRead, PageFileOfAnotherImage) {
  (void)write_image(path("b"), 2, false);
  ASSERT_EQ(::rename(path("b/pages.1.ckpt").c_str(), path("a/pages.1.ckpt").c_str()), 0);
  expect_refused(path("a"), "pages.1.ckpt belongs to another image");
}

TEST_F(ImagePageFilesRead, PageByteFlipNamesTheFile) {
  auto r = ImageReader::open(path("a"));
  ASSERT_TRUE(r.ok());
  auto img = r->load_metadata();
  ASSERT_TRUE(img.ok());
  uint64_t at = img->pages.at({1, 1}).payload_offset() + 5;
  std::string b = slurp(path("a/pages.1.ckpt"));
  b[at] = static_cast<char>(b[at] ^ 1);
  write_bytes(path("a/pages.1.ckpt"), b);
  EXPECT_EQ(load_error(path("a"), false), "");
  expect_refused(path("a"), "pages.1.ckpt", true);
}

TEST_F(ImagePageFilesRead, RunNamesAFileThatIsNotThere) {
  expect_run_refused(2, 1, "no page file 2 (the image has 2)");
}

TEST_F(ImagePageFilesRead, RunNamesASectionOfAnotherFile) {
  // The last seq of file 0 (put_pages) is a PAGES section of file 0 only.
  uint32_t seq = std::prev(exp_.lower_bound({1, 0}))->first.second;
  ASSERT_EQ(exp_.count({1, seq}), 0u);
  expect_run_refused(1, seq, "no PAGES section with that seq");
}

TEST_F(ImagePageFilesRead, OneFileOnItsOwn) {
  expect_refused(path("a/meta.ckpt"),
                 "this is the metadata file of a directory image; give the directory instead");
  expect_refused(path("a/pages.1.ckpt"),
                 "this is the pages file of a directory image; give the directory instead");
}

// With a slot of pages.1.ckpt open, commit() is refused naming the file;
// the writer dropped uncommitted leaves no temp directory.
TEST_F(ImagePageFiles, UncommittedWriterLeavesNothing) {
  {
    auto w = ImageWriter::create(Output::directory(path("d")), params(3));
    ASSERT_TRUE(w.ok());
    auto files = list_dir(w->temp_path());
    ASSERT_TRUE(files.ok());
    EXPECT_EQ(files->size(), 4u);
    put_info_tree(*w);
    std::string s = section_bytes(2, 0);
    Expected exp;
    (void)commit_section(*w, open_section(*w, 2, true, s), s, &exp);
    PageSlot open1 = open_section(*w, 1, false, s);
    auto c = w->commit();
    ASSERT_FALSE(c.ok());
    EXPECT_EQ(contains(c.error().message(), "pages.1.ckpt is neither committed nor cancelled"), "");
  }
  EXPECT_EQ(names(), std::vector<std::string>{});
}

}  // namespace
}  // namespace ckpt::test
