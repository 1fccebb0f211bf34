// Helpers of the image tests: a temp directory, a sample image with every
// section type, file bytes in and out.
#pragma once

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <string>
#include <vector>

#include "core/file.h"
#include "image/reader.h"
#include "image/writer.h"

namespace ckpt::test {

inline constexpr uint32_t kPs = 4096;

// Why the image at @p does not load (and, with @verify, verify its page
// data); "" when it does.
inline std::string load_error(const std::string& p, bool verify = true) {
  auto r = image::ImageReader::open(p);
  if (!r)
    return r.error().message();
  auto img = r->load_metadata();
  if (!img)
    return img.error().message();
  if (verify)
    if (auto v = r->verify_pages(); !v)
      return v.error().message();
  return "";
}

// The same for a stream image held in @bytes.
inline std::string load_error_stream(const std::string& bytes) {
  auto r = image::ImageReader::open_memory(bytes, image::ImageReader::Mode::stream);
  if (!r)
    return r.error().message();
  auto img = r->load_metadata();
  return img ? "" : img.error().message();
}

class ImageTest : public testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/ckpt-image-test.XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override {
    std::string cmd = "rm -rf '" + dir_ + "'";
    (void)std::system(cmd.c_str());
  }
  std::string path(const std::string& name) const { return dir_ + "/" + name; }
  std::vector<std::string> names() const {
    auto n = list_dir(dir_);
    return n ? *n : std::vector<std::string>{"<list_dir failed>"};
  }
  std::string dir_;
};

// What a sample image holds, to compare after reading it back.
struct Sample {
  image::ImageInfo info;
  image::Tree tree;
  std::vector<image::Process> processes;
  image::SharedMemory shmem;
  image::PipeData pipe;
  image::DumpStats stats;
  // Page contents by (process index or -1 for shmem, run index).
  std::vector<std::string> page_data;  // one per PAGES section written
};

inline std::string pattern(std::size_t n, int seed) {
  std::string s(n, '\0');
  uint32_t x = 0x9e3779b9u * static_cast<uint32_t>(seed + 1);
  for (auto& c : s) {
    x = x * 1103515245u + 12345u;
    c = static_cast<char>(x >> 24);
  }
  return s;
}

// Writes INFO, TREE, two processes with pages (the second's pages in two
// iovecs), a SHMEM with pages, PIPE_DATA, STATS.  Fails the test on error.
inline Sample write_sample(image::ImageWriter& w) {
  using namespace image;
  Sample s;
  s.info.set_tool_version("test");
  s.info.set_page_size(kPs);
  s.info.set_root_pid(100);
  s.info.set_hostname("host");
  s.info.set_end_action("thaw");
  EXPECT_TRUE(w.put(SectionType::info, s.info).ok());
  for (uint32_t pid : {100u, 101u, 102u}) {
    auto* t = s.tree.add_tasks();
    t->set_pid(pid);
    t->set_tgid(pid == 102 ? 101 : pid);
    t->set_ppid(pid == 100 ? 1 : 100);
    t->set_pgid(100);
    t->set_sid(100);
    t->set_depth(pid == 100 ? 0 : 1);
  }
  EXPECT_TRUE(w.put(SectionType::tree, s.tree).ok());
  int seed = 0;
  for (uint32_t pid : {100u, 101u}) {
    Process p;
    p.set_pid(pid);
    p.set_comm(pid == 100 ? "parent" : "child");
    p.add_threads()->set_tid(pid);
    auto* fd = p.add_fds();
    fd->set_fd(0);
    fd->mutable_pipe()->set_inode(77);
    p.add_fds()->mutable_file()->set_path("/etc/hosts");
    uint64_t nr = pid == 100 ? 3 : 5;
    std::string bytes = pattern(nr * kPs, seed++);
    iovec iov[2];
    int n = 1;
    iov[0] = {bytes.data(), bytes.size()};
    if (pid == 101) {  // two iovecs
      iov[0].iov_len = 2 * kPs;
      iov[1] = {bytes.data() + 2 * kPs, bytes.size() - 2 * kPs};
      n = 2;
    }
    auto seq = w.put_pages(iov, n, bytes.size());
    EXPECT_TRUE(seq.ok()) << (seq ? "" : seq.error().message());
    auto* v = p.mutable_memory()->add_vmas();
    v->set_start(0x10000);
    v->set_end(0x10000 + nr * kPs);
    v->set_pages_dumped(nr);
    // Two runs into the same section: pages 0..1 and 2..nr-1.
    auto* r1 = p.mutable_memory()->add_pages();
    r1->set_vaddr(0x10000);
    r1->set_nr_pages(2);
    r1->set_section(seq ? *seq : 0);
    r1->set_offset(0);
    auto* r2 = p.mutable_memory()->add_pages();
    r2->set_vaddr(0x10000 + 2 * kPs);
    r2->set_nr_pages(nr - 2);
    r2->set_section(seq ? *seq : 0);
    r2->set_offset(2 * kPs);
    s.page_data.push_back(bytes);
    EXPECT_TRUE(w.put(SectionType::process, p).ok());
    s.processes.push_back(p);
  }
  std::string sh = pattern(kPs, 42);
  iovec iov{sh.data(), sh.size()};
  auto seq = w.put_pages(&iov, 1, sh.size());
  EXPECT_TRUE(seq.ok());
  s.shmem.set_id(9);
  s.shmem.set_size(kPs);
  auto* r = s.shmem.add_pages();
  r->set_nr_pages(1);
  r->set_section(seq ? *seq : 0);
  s.page_data.push_back(sh);
  EXPECT_TRUE(w.put(SectionType::shmem, s.shmem).ok());
  s.pipe.set_inode(77);
  s.pipe.set_data(std::string("pipe\0data", 9));
  EXPECT_TRUE(w.put(SectionType::pipe_data, s.pipe).ok());
  s.stats.set_processes(2);
  s.stats.set_tasks(3);
  s.stats.set_pages_written(9);
  EXPECT_TRUE(w.put(SectionType::stats, s.stats).ok());
  return s;
}

inline Result<void> write_sample_file(const std::string& p, Sample* out = nullptr) {
  image::ImageHeaderParams hp;
  hp.page_size = kPs;
  auto w = image::ImageWriter::create(image::Output::file(p), hp);
  if (!w)
    return std::move(w).error();
  Sample s = write_sample(*w);
  if (out)
    *out = s;
  return w->commit();
}

// The INFO and TREE sections every image starts with (INFO naming @tool).
inline void put_info_tree(image::ImageWriter& w, const std::string& tool) {
  image::ImageInfo info;
  info.set_tool_version(tool);
  info.set_page_size(kPs);
  ASSERT_TRUE(w.put(image::SectionType::info, info).ok());
  image::Tree tree;
  tree.add_tasks()->set_pid(100);
  ASSERT_TRUE(w.put(image::SectionType::tree, tree).ok());
}

// All of @bytes at offset @off of @fd (a by-fd slot's payload).
inline Result<void> pwrite_all(int fd, const std::string& bytes, uint64_t off) {
  std::size_t done = 0;
  while (done < bytes.size()) {
    ssize_t n = ::pwrite(fd, bytes.data() + done, bytes.size() - done,
                         static_cast<off_t>(off + done));
    if (n < 0)
      return Error::from_errno("pwrite");
    done += static_cast<std::size_t>(n);
  }
  return {};
}

inline void write_bytes(const std::string& p, const std::string& bytes) {
  FILE* f = std::fopen(p.c_str(), "wb");
  ASSERT_NE(f, nullptr);
  ASSERT_EQ(std::fwrite(bytes.data(), 1, bytes.size(), f), bytes.size());
  std::fclose(f);
}

inline std::string slurp(const std::string& p) {
  auto b = read_file(p, 64u << 20);
  EXPECT_TRUE(b.ok()) << p;
  return b ? *b : std::string();
}

}  // namespace ckpt::test
