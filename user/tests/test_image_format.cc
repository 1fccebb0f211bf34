// The image container: encoding, the three output forms, page data,
// corruption detection, atomicity.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <algorithm>
#include <stdexcept>
#include <thread>

#include <fmt/format.h>

#include "core/fd.h"
#include "image/format.h"
#include "image_test_util.h"

namespace ckpt::test {
namespace {

using namespace ckpt::image;

void expect_same(const google::protobuf::MessageLite& a, const google::protobuf::MessageLite& b) {
  EXPECT_EQ(a.SerializeAsString(), b.SerializeAsString());
}

void check_sample(ImageReader& r, const Image& img, const Sample& s) {
  expect_same(img.info, s.info);
  expect_same(img.tree, s.tree);
  ASSERT_EQ(img.processes.size(), s.processes.size());
  for (std::size_t i = 0; i < s.processes.size(); ++i)
    expect_same(img.processes[i], s.processes[i]);
  ASSERT_EQ(img.shared_memory.size(), 1u);
  expect_same(img.shared_memory[0], s.shmem);
  ASSERT_EQ(img.pipes.size(), 1u);
  expect_same(img.pipes[0], s.pipe);
  ASSERT_TRUE(img.stats.has_value());
  expect_same(*img.stats, s.stats);
  EXPECT_EQ(img.pages.size(), 3u);
  for (const auto& [key, info] : img.pages) {
    EXPECT_EQ(info.payload_offset() % kPs, 0u) << "PAGES " << key.second << " not page-aligned";
    EXPECT_EQ(info.header.seq, key.second);
    EXPECT_EQ(key.first, 0u);
  }
  // Every run's bytes come back.
  for (std::size_t i = 0; i < s.processes.size(); ++i) {
    std::string all;
    for (const auto& run : img.processes[i].memory().pages()) {
      auto b = r.read_run(run);
      ASSERT_TRUE(b.ok()) << b.error().message();
      all += *b;
    }
    EXPECT_EQ(all, s.page_data[i]);
  }
  auto b = r.read_run(img.shared_memory[0].pages(0));
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(*b, s.page_data[2]);
  EXPECT_EQ(img.sections.back().header.type, static_cast<uint32_t>(SectionType::end));
  EXPECT_EQ(img.sections.front().header.type, static_cast<uint32_t>(SectionType::info));
}

TEST(ImageFormat, FileHeaderRoundTripAndVersions) {
  FileHeader h;
  h.page_size = 4096;
  h.flags = kFilePagesFile;
  h.created_unix_ns = 123456789;
  h.uuid[0] = 0xab;
  uint8_t buf[kFileHeaderSize];
  encode_file_header(h, std::span<uint8_t, kFileHeaderSize>(buf));
  EXPECT_EQ(std::memcmp(buf, "CKPTIMG\0", 8), 0);
  EXPECT_EQ(buf[8], 2);  // major, little-endian
  EXPECT_EQ(buf[12], 64);
  auto d = decode_file_header(buf);
  ASSERT_TRUE(d.ok()) << d.error().message();
  EXPECT_EQ(d->created_unix_ns, 123456789u);
  EXPECT_EQ(d->uuid, h.uuid);
  EXPECT_EQ(d->flags, kFilePagesFile);

  h.minor = 7;  // a higher minor is accepted
  encode_file_header(h, std::span<uint8_t, kFileHeaderSize>(buf));
  EXPECT_TRUE(decode_file_header(buf).ok());
  h.major = 1;  // so is the previous major (1.x: no HASH_XXH64 yet)
  encode_file_header(h, std::span<uint8_t, kFileHeaderSize>(buf));
  auto old = decode_file_header(buf);
  ASSERT_TRUE(old.ok()) << old.error().message();
  EXPECT_EQ(old->major, 1);
  h.major = 0;
  encode_file_header(h, std::span<uint8_t, kFileHeaderSize>(buf));
  EXPECT_EQ(decode_file_header(buf).error().message(),
            "image format 0.x is not supported (this ckpt-user reads 1.x to 3.x)");
  // 2.x: bytes 48..55 are reserved (written 0): a 2.x file is one page file.
  h.major = 2;
  h.page_files = 5;
  h.file_index = 3;
  encode_file_header(h, std::span<uint8_t, kFileHeaderSize>(buf));
  for (std::size_t i = 48; i < 56; ++i)
    EXPECT_EQ(buf[i], 0) << "byte " << i;
  auto two = decode_file_header(buf);
  ASSERT_TRUE(two.ok()) << two.error().message();
  EXPECT_EQ(two->page_files, 1u);
  EXPECT_EQ(two->file_index, 0u);
  // 3.x: the page file count and this file's index.
  h.major = 3;
  encode_file_header(h, std::span<uint8_t, kFileHeaderSize>(buf));
  EXPECT_EQ(buf[48], 5);
  EXPECT_EQ(buf[52], 3);
  auto three = decode_file_header(buf);
  ASSERT_TRUE(three.ok()) << three.error().message();
  EXPECT_EQ(three->page_files, 5u);
  EXPECT_EQ(three->file_index, 3u);
  auto refused = [&](uint32_t files, uint32_t index, uint32_t flags) {
    FileHeader x = h;
    x.page_files = files;
    x.file_index = index;
    x.flags = flags;
    encode_file_header(x, std::span<uint8_t, kFileHeaderSize>(buf));
    auto r = decode_file_header(buf);
    return r.ok() ? std::string() : r.error().message();
  };
  EXPECT_EQ(refused(0, 0, kFileMetaFile), "bad file header: 0 page files (1..64)");
  EXPECT_EQ(refused(kMaxPageFiles + 1, 0, kFileMetaFile), "bad file header: 65 page files (1..64)");
  EXPECT_EQ(refused(2, 2, kFilePagesFile), "bad file header: page file 2 of 2");
  EXPECT_EQ(refused(2, 1, kFileMetaFile),
            "bad file header: page file index 1 in a file that is not a pages file");
  EXPECT_EQ(refused(kMaxPageFiles, kMaxPageFiles - 1, kFilePagesFile), "");
  h.major = 4;
  encode_file_header(h, std::span<uint8_t, kFileHeaderSize>(buf));
  auto e = decode_file_header(buf);
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.error().message(), "image format 4.x is newer than this ckpt-user (reads 1.x to 3.x)");
  buf[0] = 'X';
  EXPECT_EQ(decode_file_header(buf).error().message(), "not a ckpt image (bad magic)");
}

TEST(ImageFormat, SectionHeaderRoundTripAndCheck) {
  SectionHeader h{6, 1, 0x123456789ull, 0xfeedfacecafebeefull, 5};
  uint8_t buf[kSectionHeaderSize];
  encode_section_header(h, std::span<uint8_t, kSectionHeaderSize>(buf));
  auto d = decode_section_header(buf, 0);
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->length, h.length);
  EXPECT_EQ(d->payload_hash, h.payload_hash);
  EXPECT_EQ(d->seq, 5u);
  for (std::size_t i = 0; i < sizeof buf; ++i) {
    uint8_t c[kSectionHeaderSize];
    std::memcpy(c, buf, sizeof c);
    c[i] ^= 0x10;
    EXPECT_FALSE(decode_section_header(c, 0).ok()) << "byte " << i;
  }
}

TEST(ImageFormat, PadLength) {
  for (uint64_t pos = 64; pos < 3 * kPs; pos += 8) {
    if (!need_pad(pos, kPs)) {
      EXPECT_EQ((pos + 32) % kPs, 0u);
      continue;
    }
    EXPECT_EQ((pos + 64 + pad_length(pos, kPs)) % kPs, 0u) << pos;
    EXPECT_LT(pad_length(pos, kPs), kPs);
  }
}

TEST_F(ImageTest, FileRoundTrip) {
  Sample s;
  auto w = write_sample_file(path("img"), &s);
  ASSERT_TRUE(w.ok()) << w.error().message();
  EXPECT_EQ(names(), std::vector<std::string>{"img"});
  struct stat st;
  ASSERT_EQ(::stat(path("img").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  auto r = ImageReader::open(path("img"));
  ASSERT_TRUE(r.ok());
  auto img = r->load_metadata();
  ASSERT_TRUE(img.ok()) << img.error().message();
  EXPECT_EQ(img->total_bytes, static_cast<uint64_t>(st.st_size));
  EXPECT_FALSE(img->directory);
  check_sample(*r, *img, s);
  EXPECT_TRUE(r->verify_pages().ok());
  // The same bytes read as a stream from memory.
  std::string bytes = slurp(path("img"));
  ReadOptions ro;
  ro.keep_pages = true;
  auto m = ImageReader::open_memory(bytes, ImageReader::Mode::stream, ro);
  ASSERT_TRUE(m.ok());
  auto img2 = m->load_metadata();
  ASSERT_TRUE(img2.ok()) << img2.error().message();
  check_sample(*m, *img2, s);
}

TEST_F(ImageTest, StreamThroughPipe) {
  auto p = Pipe::create();
  ASSERT_TRUE(p.ok());
  Sample s;
  uint64_t written = 0;
  std::thread writer([&] {
    ImageHeaderParams hp;
    hp.page_size = kPs;
    auto w = ImageWriter::create(Output::stream(p->write.get()), hp);
    ASSERT_TRUE(w.ok());
    s = write_sample(*w);
    ASSERT_TRUE(w->commit().ok());
    written = w->bytes_written();
    p->write.reset();
  });
  ReadOptions ro;
  ro.keep_pages = true;
  auto r = ImageReader::open_stream(std::move(p->read), "pipe", ro);
  ASSERT_TRUE(r.ok());
  auto img = r->load_metadata();
  writer.join();
  ASSERT_TRUE(img.ok()) << img.error().message();
  EXPECT_EQ(img->total_bytes, written);
  check_sample(*r, *img, s);
  EXPECT_TRUE(r->verify_pages().ok());
}

TEST_F(ImageTest, StreamAbortedHasNoEnd) {
  auto p = Pipe::create();
  ASSERT_TRUE(p.ok());
  std::thread writer([&] {
    ImageHeaderParams hp;
    hp.page_size = kPs;
    auto w = ImageWriter::create(Output::stream(p->write.get()), hp);
    ASSERT_TRUE(w.ok());
    (void)write_sample(*w);
    // destroyed without commit
  });
  writer.join();
  p->write.reset();
  auto r = ImageReader::open_stream(std::move(p->read), "pipe");
  ASSERT_TRUE(r.ok());
  auto img = r->load_metadata();
  ASSERT_FALSE(img.ok());
  // As many sections as the committed sample has before END.
  ASSERT_TRUE(write_sample_file(path("ref")).ok());
  auto ref = ImageReader::open(path("ref"));
  ASSERT_TRUE(ref.ok());
  auto ref_img = ref->load_metadata();
  ASSERT_TRUE(ref_img.ok());
  EXPECT_EQ(img.error().message(),
            fmt::format("pipe: image truncated: no END trailer after {} sections; the dump did "
                        "not finish",
                        ref_img->sections.size() - 1));
}

TEST_F(ImageTest, DirectoryRoundTrip) {
  ImageHeaderParams hp;
  hp.page_size = kPs;
  auto w = ImageWriter::create(Output::directory(path("dimg")), hp);
  ASSERT_TRUE(w.ok()) << w.error().message();
  Sample s = write_sample(*w);
  ASSERT_TRUE(w->commit().ok());
  EXPECT_EQ(names(), std::vector<std::string>{"dimg"});
  auto files = list_dir(path("dimg"));
  ASSERT_TRUE(files.ok());
  std::sort(files->begin(), files->end());
  EXPECT_EQ(*files, (std::vector<std::string>{"meta.ckpt", "pages.ckpt"}));
  auto r = ImageReader::open(path("dimg"));
  ASSERT_TRUE(r.ok());
  auto img = r->load_metadata();
  ASSERT_TRUE(img.ok()) << img.error().message();
  EXPECT_TRUE(img->directory);
  ASSERT_EQ(img->page_headers.size(), 1u);
  EXPECT_EQ(img->page_headers[0].uuid, img->header.uuid);
  // One page file: format 2.0, which older readers read.
  EXPECT_EQ(img->header.major, kMajorOnePageFile);
  EXPECT_EQ(img->page_headers[0].major, kMajorOnePageFile);
  for (const auto& [key, info] : img->pages)
    EXPECT_TRUE(info.in_pages_file);
  // meta.ckpt has no PAGES; pages.ckpt starts PAD(0), PAGES(1).
  EXPECT_EQ(img->pages.begin()->first, (PageKey{0, 1}));
  check_sample(*r, *img, s);
  EXPECT_TRUE(r->verify_pages().ok());
  EXPECT_EQ(img->total_bytes, w->bytes_written());
  // Each half on its own is refused with a pointer to the directory.
  EXPECT_NE(load_error(path("dimg/pages.ckpt")).find("pages file of a directory image"),
            std::string::npos);
  EXPECT_NE(load_error(path("dimg/meta.ckpt")).find("metadata file of a directory image"),
            std::string::npos);
}

TEST_F(ImageTest, DirectoryPagesFromAnotherImage) {
  ImageHeaderParams hp;
  hp.page_size = kPs;
  for (const char* n : {"a", "b"}) {
    auto w = ImageWriter::create(Output::directory(path(n)), hp);
    ASSERT_TRUE(w.ok());
    (void)write_sample(*w);
    ASSERT_TRUE(w->commit().ok());
  }
  ASSERT_EQ(::rename(path("b/pages.ckpt").c_str(), path("a/pages.ckpt").c_str()), 0);
  EXPECT_NE(load_error(path("a")).find("pages.ckpt belongs to another image"), std::string::npos)
      << load_error(path("a"));
}

TEST_F(ImageTest, DirectoryTargetExists) {
  ASSERT_EQ(::mkdir(path("d").c_str(), 0700), 0);
  auto w = ImageWriter::create(Output::directory(path("d")), {});
  ASSERT_FALSE(w.ok());
  EXPECT_EQ(w.error().message(), path("d") + " already exists");
  // Appears between create() and commit(): commit refuses, removes its temp.
  auto w2 = ImageWriter::create(Output::directory(path("e")), {});
  ASSERT_TRUE(w2.ok());
  (void)write_sample(*w2);
  ASSERT_EQ(::mkdir(path("e").c_str(), 0700), 0);
  auto c = w2->commit();
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.error().message().find(path("e") + " already exists"), std::string::npos)
      << c.error().message();
  auto n = names();
  std::sort(n.begin(), n.end());
  EXPECT_EQ(n, (std::vector<std::string>{"d", "e"}));
  EXPECT_TRUE(list_dir(path("e"))->empty());
}

TEST_F(ImageTest, UncommittedWriterLeavesNothing) {
  {
    auto w = ImageWriter::create(Output::file(path("f")), {});
    ASSERT_TRUE(w.ok());
    EXPECT_FALSE(w->temp_path().empty());
    EXPECT_EQ(names().size(), 1u);  // the temp file
    (void)write_sample(*w);
  }
  {
    auto w = ImageWriter::create(Output::directory(path("d")), {});
    ASSERT_TRUE(w.ok());
    (void)write_sample(*w);
  }
  EXPECT_TRUE(names().empty()) << names()[0];
}

TEST_F(ImageTest, FileTargetExists) {
  write_bytes(path("f"), "old");
  auto w = ImageWriter::create(Output::file(path("f")), {});
  ASSERT_FALSE(w.ok());
  EXPECT_EQ(w.error().message(), path("f") + " already exists");
  ImageHeaderParams hp;
  hp.replace = true;
  hp.page_size = kPs;
  auto w2 = ImageWriter::create(Output::file(path("f")), hp);
  ASSERT_TRUE(w2.ok());
  (void)write_sample(*w2);
  ASSERT_TRUE(w2->commit().ok());
  EXPECT_EQ(load_error(path("f")), "");
  EXPECT_EQ(names(), std::vector<std::string>{"f"});
}

TEST_F(ImageTest, WriterRefusesBadInput) {
  ImageHeaderParams hp;
  hp.page_size = kPs;
  auto w = ImageWriter::create(Output::file(path("f")), hp);
  ASSERT_TRUE(w.ok());
  std::string b(100, 'x');
  iovec iov{b.data(), b.size()};
  EXPECT_FALSE(w->put_pages(&iov, 1, 99).ok());   // total != sum
  EXPECT_FALSE(w->put_pages(&iov, 1, 101).ok());
  EXPECT_FALSE(w->put(SectionType::pages, Tree()).ok());
  EXPECT_TRUE(w->put(SectionType::info, ImageInfo()).ok());  // still usable
}

// Corruption of each part of an image is detected, naming the part.
class ImageCorrupt : public ImageTest {
 protected:
  void SetUp() override {
    ImageTest::SetUp();
    ASSERT_TRUE(write_sample_file(path("good")).ok());
    good_ = slurp(path("good"));
    auto r = ImageReader::open(path("good"));
    ASSERT_TRUE(r.ok());
    auto img = r->load_metadata();
    ASSERT_TRUE(img.ok());
    img_ = *img;
  }
  std::string with_flip(uint64_t off) {
    std::string b = good_;
    b[off] = static_cast<char>(b[off] ^ 0x04);
    write_bytes(path("bad"), b);
    return load_error(path("bad"));
  }
  const SectionInfo& first(SectionType t) {
    for (const auto& s : img_.sections)
      if (s.header.type == static_cast<uint32_t>(t))
        return s;
    throw std::runtime_error("no such section");
  }
  std::string good_;
  Image img_;
};

TEST_F(ImageCorrupt, FileHeaderBit) {
  EXPECT_NE(with_flip(20).find("bad file header: checksum mismatch"), std::string::npos);
}

TEST_F(ImageCorrupt, WrongMagic) {
  EXPECT_NE(with_flip(0).find("not a ckpt image (bad magic)"), std::string::npos);
}

TEST_F(ImageCorrupt, NewerMajor) {
  std::string b = good_;
  b[8] = 4;
  write_bytes(path("bad"), b);
  EXPECT_NE(load_error(path("bad")).find(
                "image format 4.x is newer than this ckpt-user (reads 1.x to 3.x)"),
            std::string::npos);
}

TEST_F(ImageCorrupt, SectionHeaderBit) {
  const auto& s = first(SectionType::tree);
  std::string e = with_flip(s.offset + 9);
  EXPECT_NE(e.find(fmt::format("section header at offset {}: header checksum mismatch", s.offset)),
            std::string::npos)
      << e;
}

TEST_F(ImageCorrupt, MessagePayloadBit) {
  const auto& s = first(SectionType::process);
  std::string e = with_flip(s.payload_offset() + 3);
  EXPECT_NE(e.find(fmt::format("section {} (PROCESS) at offset {}: payload checksum mismatch",
                               s.header.seq, s.offset)),
            std::string::npos)
      << e;
}

TEST_F(ImageCorrupt, PageByte) {
  const auto& s = first(SectionType::pages);
  std::string b = good_;
  b[s.payload_offset() + 4097] ^= 1;
  write_bytes(path("bad"), b);
  // Metadata loads (pages are not read); verify_pages finds it.
  EXPECT_EQ(load_error(path("bad"), false), "");
  std::string e = load_error(path("bad"));
  EXPECT_NE(e.find(fmt::format("section {} (PAGES) at offset {}: payload checksum mismatch",
                               s.header.seq, s.offset)),
            std::string::npos)
      << e;
  // A stream checks pages while passing.
  EXPECT_NE(load_error_stream(b).find("(PAGES)"), std::string::npos);
}

TEST_F(ImageCorrupt, Truncated) {
  std::vector<uint64_t> cuts = {0, 10, 63, 64, 80};
  for (const auto& s : img_.sections) {
    cuts.push_back(s.offset);
    cuts.push_back(s.offset + 16);
    cuts.push_back(s.payload_offset() + s.header.length / 2);
  }
  cuts.push_back(good_.size() - 1);
  for (uint64_t c : cuts) {
    std::string b = good_.substr(0, c);
    write_bytes(path("bad"), b);
    std::string e = load_error(path("bad"));
    EXPECT_NE(e, "") << "cut at " << c;
    if (c > 0) {
      EXPECT_NE(e.find("truncated"), std::string::npos) << "cut at " << c << ": " << e;
    }
    std::string es = load_error_stream(b);
    EXPECT_NE(es, "") << "cut at " << c;
    if (c > 0) {
      EXPECT_NE(es.find("truncated"), std::string::npos) << "cut at " << c << ": " << es;
    }
  }
  // At a section boundary: the message the brief asks for.
  const auto& end = img_.sections.back();
  write_bytes(path("bad"), good_.substr(0, end.offset));
  EXPECT_NE(load_error(path("bad")).find(fmt::format(
                "image truncated: no END trailer after {} sections; the dump did not finish",
                end.header.seq)),
            std::string::npos);
}

TEST_F(ImageCorrupt, DataAfterEnd) {
  write_bytes(path("bad"), good_ + "x");
  EXPECT_NE(load_error(path("bad")).find("after the END trailer"), std::string::npos);
  EXPECT_NE(load_error_stream(good_ + "x").find("after the END trailer"), std::string::npos);
}

TEST_F(ImageTest, UnknownSections) {
  ImageHeaderParams hp;
  hp.page_size = kPs;
  for (bool optional : {true, false}) {
    std::string p = path(optional ? "opt" : "req");
    auto w = ImageWriter::create(Output::file(p), hp);
    ASSERT_TRUE(w.ok());
    ASSERT_TRUE(w->put(SectionType::info, ImageInfo()).ok());
    uint8_t payload[5] = {1, 2, 3, 4, 5};
    ASSERT_TRUE(w->put_raw(42, optional ? kSectionOptional : 0, payload).ok());
    ASSERT_TRUE(w->put(SectionType::tree, Tree()).ok());
    ASSERT_TRUE(w->commit().ok());
    std::string e = load_error(p);
    if (optional) {
      EXPECT_EQ(e, "");
      auto r = ImageReader::open(p);
      auto img = r->load_metadata();
      ASSERT_TRUE(img.ok());
      EXPECT_TRUE(img->sections[1].skipped);
      EXPECT_EQ(load_error_stream(slurp(p)), "");
    } else {
      EXPECT_NE(
          e.find("image needs section type 42 which this ckpt-user does not know; upgrade"),
          std::string::npos)
          << e;
    }
  }
}

TEST_F(ImageTest, PageRunOutsideSectionRefused) {
  ImageHeaderParams hp;
  hp.page_size = kPs;
  auto w = ImageWriter::create(Output::file(path("f")), hp);
  ASSERT_TRUE(w.ok());
  ASSERT_TRUE(w->put(SectionType::info, ImageInfo()).ok());
  ASSERT_TRUE(w->put(SectionType::tree, Tree()).ok());
  std::string b(kPs, 'a');
  iovec iov{b.data(), b.size()};
  auto seq = w->put_pages(&iov, 1, b.size());
  ASSERT_TRUE(seq.ok());
  Process p;
  p.set_pid(5);
  auto* r = p.mutable_memory()->add_pages();
  r->set_nr_pages(2);  // the section has one page
  r->set_section(*seq);
  ASSERT_TRUE(w->put(SectionType::process, p).ok());
  ASSERT_TRUE(w->commit().ok());
  std::string e = load_error(path("f"));
  EXPECT_NE(e.find("process 5: page run"), std::string::npos) << e;
  EXPECT_NE(e.find("outside the section"), std::string::npos) << e;
}

TEST_F(ImageTest, MessageNotParsable) {
  ImageHeaderParams hp;
  hp.page_size = kPs;
  auto w = ImageWriter::create(Output::file(path("f")), hp);
  ASSERT_TRUE(w.ok());
  ASSERT_TRUE(w->put(SectionType::info, ImageInfo()).ok());
  uint8_t junk[4] = {0xff, 0xff, 0xff, 0xff};
  ASSERT_TRUE(w->put_raw(static_cast<uint32_t>(SectionType::tree), 0, junk).ok());
  ASSERT_TRUE(w->commit().ok());
  std::string e = load_error(path("f"));
  EXPECT_NE(e.find("section 1 (TREE) at offset 96: payload is not a valid TREE message"),
            std::string::npos)
      << e;
}

// proto3 strings must be UTF-8: the writer refuses (naming the field) what
// no reader could parse, and the reader names the field too.
TEST_F(ImageTest, InvalidUtf8String) {
  ImageHeaderParams hp;
  hp.page_size = kPs;
  auto w = ImageWriter::create(Output::file(path("f")), hp);
  ASSERT_TRUE(w.ok());
  ASSERT_TRUE(w->put(SectionType::info, ImageInfo()).ok());
  Process p;
  p.set_comm("bad\xff");
  auto r = w->put(SectionType::process, p);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message().find("ckpt.image.Process.comm"), std::string::npos)
      << r.error().message();
  EXPECT_NE(r.error().message().find("UTF-8"), std::string::npos) << r.error().message();
  // The writer is aborted: nothing left.
  EXPECT_TRUE(names().empty());

  auto w2 = ImageWriter::create(Output::file(path("g")), hp);
  ASSERT_TRUE(w2.ok());
  ASSERT_TRUE(w2->put(SectionType::info, ImageInfo()).ok());
  ASSERT_TRUE(w2->put(SectionType::tree, Tree()).ok());
  std::string raw = p.SerializePartialAsString();  // serialises, invalid UTF-8 and all
  ASSERT_TRUE(w2->put_raw(static_cast<uint32_t>(SectionType::process), 0,
                          std::span<const uint8_t>(
                              reinterpret_cast<const uint8_t*>(raw.data()), raw.size()))
                  .ok());
  ASSERT_TRUE(w2->commit().ok());
  std::string e = load_error(path("g"));
  EXPECT_NE(e.find("payload is not a valid PROCESS message"), std::string::npos) << e;
  EXPECT_NE(e.find("ckpt.image.Process.comm"), std::string::npos) << e;
}

}  // namespace
}  // namespace ckpt::test
