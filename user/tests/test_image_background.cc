// ImageWriter's background mode (start_background / put_pages_owned /
// drain): the image must be byte for byte the one the synchronous writer
// produces (same uuid and time), whatever the queue limit, and a write
// error of the thread must reach the caller and leave no image.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstring>

#include "image_test_util.h"

namespace ckpt::test {
namespace {

using image::ImageHeaderParams;
using image::ImageWriter;
using image::Output;

ImageHeaderParams fixed_params() {
  ImageHeaderParams p;
  p.page_size = kPs;
  p.created_unix_ns = 1234567890;
  p.uuid = image::Uuid{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
  return p;
}

Mapping owned_copy(const std::string& bytes) {
  auto m = Mapping::anonymous(bytes.size(), PROT_READ | PROT_WRITE);
  EXPECT_TRUE(m.ok());
  std::memcpy(m->data(), bytes.data(), bytes.size());
  return std::move(*m);
}

// INFO, then @n PAGES sections of varied sizes (owned), each followed by a
// PROCESS message referring to it, then STATS.
void write_image(ImageWriter& w, int n) {
  image::ImageInfo info;
  info.set_tool_version("bg-test");
  ASSERT_TRUE(w.put(image::SectionType::info, info).ok());
  image::Tree tree;
  for (int i = 0; i < n; ++i) {
    auto* t = tree.add_tasks();
    t->set_pid(static_cast<uint32_t>(100 + i));
    t->set_tgid(static_cast<uint32_t>(100 + i));
    t->set_ppid(i == 0 ? 1 : 100);
    t->set_depth(i == 0 ? 0 : 1);
  }
  ASSERT_TRUE(w.put(image::SectionType::tree, tree).ok());
  for (int i = 0; i < n; ++i) {
    std::string bytes = pattern(static_cast<std::size_t>(1 + i % 7) * kPs, i);
    auto seq = w.put_pages_owned(owned_copy(bytes), bytes.size());
    ASSERT_TRUE(seq.ok()) << seq.error().message();
    image::Process p;
    p.set_pid(static_cast<uint32_t>(100 + i));
    p.set_comm(std::string(static_cast<std::size_t>(i % 5), 'x'));  // odd sizes: PADs vary
    auto* r = p.mutable_memory()->add_pages();
    r->set_vaddr(0x1000);
    r->set_nr_pages(bytes.size() / kPs);
    r->set_section(*seq);
    ASSERT_TRUE(w.put(image::SectionType::process, p).ok());
  }
  image::DumpStats st;
  st.set_processes(static_cast<uint32_t>(n));
  ASSERT_TRUE(w.put(image::SectionType::stats, st).ok());
}

std::string slurp(const std::string& p) {
  auto r = read_file(p, 1u << 30);
  return r ? *r : std::string();
}

class ImageBackground : public ImageTest {};

TEST_F(ImageBackground, SameBytesAsSynchronous) {
  auto sync = ImageWriter::create(Output::file(path("sync.ckpt")), fixed_params());
  ASSERT_TRUE(sync.ok());
  write_image(*sync, 20);
  ASSERT_TRUE(sync->commit().ok());
  // Held (as a dump holds it while the tree is frozen), the thread writes
  // only to make room: a small limit forces it to, a large one never.
  for (bool hold : {false, true}) {
    for (uint64_t limit : {uint64_t{1}, uint64_t{3 * kPs}, uint64_t{1} << 30}) {
      std::string name = "bg-" + std::to_string(limit) + (hold ? "-held" : "") + ".ckpt";
      auto bg = ImageWriter::create(Output::file(path(name)), fixed_params());
      ASSERT_TRUE(bg.ok());
      ASSERT_TRUE(bg->start_background(limit).ok());
      bg->hold_background(hold);
      write_image(*bg, 20);
      bg->hold_background(false);
      ASSERT_TRUE(bg->commit().ok());
      EXPECT_EQ(slurp(path(name)), slurp(path("sync.ckpt"))) << name;
    }
  }
}

TEST_F(ImageBackground, ReadsBackAndVerifies) {
  auto w = ImageWriter::create(Output::directory(path("dir")), fixed_params());
  ASSERT_TRUE(w.ok());
  ASSERT_TRUE(w->start_background(2 * kPs).ok());
  write_image(*w, 9);
  ASSERT_TRUE(w->drain().ok());  // then synchronous again
  ASSERT_TRUE(w->commit().ok());
  auto r = image::ImageReader::open(path("dir"));
  ASSERT_TRUE(r.ok()) << r.error().message();
  auto img = r->load_metadata();
  ASSERT_TRUE(img.ok()) << img.error().message();
  EXPECT_EQ(img->processes.size(), 9u);
  EXPECT_TRUE(r->verify_pages().ok());
  for (int i = 0; i < 9; ++i) {
    auto bytes = r->read_run(img->processes[static_cast<std::size_t>(i)].memory().pages(0));
    ASSERT_TRUE(bytes.ok());
    EXPECT_EQ(*bytes, pattern(static_cast<std::size_t>(1 + i % 7) * kPs, i));
  }
}

TEST_F(ImageBackground, WriteErrorReachesTheCallerAndNothingIsLeft) {
  // A stream into a pipe nobody reads any more: the thread's write fails
  // with EPIPE; a later put or commit reports it.
  ::signal(SIGPIPE, SIG_IGN);
  int p[2];
  ASSERT_EQ(::pipe(p), 0);
  ::close(p[0]);
  auto w = ImageWriter::create(Output::stream(p[1]), fixed_params());
  // The header write itself may already fail.
  if (w.ok()) {
    ASSERT_TRUE(w->start_background(kPs).ok());
    bool failed = false;
    for (int i = 0; i < 50 && !failed; ++i) {
      std::string bytes = pattern(kPs, i);
      failed = !w->put_pages_owned(owned_copy(bytes), bytes.size()).ok();
    }
    if (!failed)
      failed = !w->commit().ok();
    EXPECT_TRUE(failed);
    EXPECT_FALSE(w->commit().ok());
  }
  ::close(p[1]);
}

TEST_F(ImageBackground, AbortWithQueuedWorkRemovesTheTemp) {
  {
    auto w = ImageWriter::create(Output::file(path("gone.ckpt")), fixed_params());
    ASSERT_TRUE(w.ok());
    ASSERT_TRUE(w->start_background(uint64_t{1} << 30).ok());
    write_image(*w, 30);
    // destroyed without commit
  }
  EXPECT_EQ(names(), std::vector<std::string>{});
}

}  // namespace
}  // namespace ckpt::test
