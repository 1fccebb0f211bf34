// ImageWriter's background mode (start_background / put_pages_owned /
// drain), its in-place page data (reserve_pages / commit_pages) and page
// data the caller writes through the image's fd (reserve_pages_by_fd): the
// image must be byte for byte the one the synchronous writer produces with
// put_pages_owned (same uuid and time), whatever the queue limit and the
// form, and a write error of the thread must reach the caller and leave no
// image.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cerrno>
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

// How write_image() hands page data over.
enum class Via {
  owned,         // put_pages_owned
  reserve,       // reserve_pages, fill, commit_pages
  reserve_undo,  // the same, with a reservation cancelled before each one
  by_fd,         // reserve_pages_by_fd, pwrite, commit_pages; a stream: reserve_pages
  by_fd_undo,    // the same, with a by-fd reservation cancelled before each one
};

// One PAGES section of @bytes, the way @via says; its seq.
Result<uint32_t> put_section(ImageWriter& w, const std::string& bytes, Via via) {
  if (via == Via::owned)
    return w.put_pages_owned(bytes.empty() ? Mapping() : owned_copy(bytes), bytes.size());
  if (via == Via::by_fd || via == Via::by_fd_undo) {
    // What a dump does: the module writes the pages into the file; a stream
    // has no file to write to (ENOTSUP), so it falls back to a staging
    // buffer.
    if (via == Via::by_fd_undo) {
      auto junk = w.reserve_pages_by_fd(bytes.size() + kPs);
      if (junk) {
        std::string j(bytes.size() + kPs, '\xee');
        EXPECT_EQ(::pwrite(junk->fd(), j.data(), j.size(), static_cast<off_t>(junk->file_offset())),
                  static_cast<ssize_t>(j.size()));
        if (auto r = w.cancel_pages(std::move(*junk)); !r)
          return std::move(r).error();
      } else if (junk.error().code() != ENOTSUP) {
        return std::move(junk).error();
      }
    }
    auto slot = w.reserve_pages_by_fd(bytes.size());
    if (slot) {
      EXPECT_TRUE(slot->by_fd());
      EXPECT_EQ(slot->file_offset() % kPs, 0u);
      if (!bytes.empty()) {
        EXPECT_EQ(::pwrite(slot->fd(), bytes.data(), bytes.size(),
                           static_cast<off_t>(slot->file_offset())),
                  static_cast<ssize_t>(bytes.size()));
      }
      return w.commit_pages(std::move(*slot));
    }
    if (slot.error().code() != ENOTSUP)
      return std::move(slot).error();
    EXPECT_FALSE(w.can_write_pages_by_fd());
    via = Via::reserve;
  }
  if (via == Via::reserve_undo) {
    // A read that fails halfway: cancelled, it leaves nothing behind.
    auto junk = w.reserve_pages(bytes.size() + kPs);
    if (!junk)
      return std::move(junk).error();
    std::memset(junk->data().data(), 0xee, junk->data().size());
    if (auto r = w.cancel_pages(std::move(*junk)); !r)
      return std::move(r).error();
  }
  auto slot = w.reserve_pages(bytes.size());
  if (!slot)
    return std::move(slot).error();
  EXPECT_EQ(slot->data().size(), bytes.size());
  if (!bytes.empty())
    std::memcpy(slot->data().data(), bytes.data(), bytes.size());
  return w.commit_pages(std::move(*slot));
}

// INFO, then @n PAGES sections of varied sizes (one empty), each followed
// by a PROCESS message referring to it, then STATS.
void write_image(ImageWriter& w, int n, Via via = Via::owned) {
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
    std::string bytes = pattern(static_cast<std::size_t>(i == 3 ? 0 : 1 + i % 7) * kPs, i);
    auto seq = put_section(w, bytes, via);
    ASSERT_TRUE(seq.ok()) << seq.error().message();
    image::Process p;
    p.set_pid(static_cast<uint32_t>(100 + i));
    p.set_comm(std::string(static_cast<std::size_t>(i % 5), 'x'));  // odd sizes: PADs vary
    if (!bytes.empty()) {  // no PageRun into the empty section
      auto* r = p.mutable_memory()->add_pages();
      r->set_vaddr(0x1000);
      r->set_nr_pages(bytes.size() / kPs);
      r->set_section(*seq);
    }
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

// In place (file forms) or through the staging pool (a stream), reserved
// sections give the same bytes as put_pages_owned, synchronous or not,
// with cancelled reservations in between or not.
TEST_F(ImageBackground, ReservedPagesSameBytes) {
  auto sync = ImageWriter::create(Output::file(path("sync.ckpt")), fixed_params());
  ASSERT_TRUE(sync.ok());
  write_image(*sync, 20);
  ASSERT_TRUE(sync->commit().ok());
  const std::string want = slurp(path("sync.ckpt"));
  ASSERT_FALSE(want.empty());
  int k = 0;
  for (Via via : {Via::reserve, Via::reserve_undo, Via::by_fd, Via::by_fd_undo}) {
    for (uint64_t limit : {uint64_t{0}, uint64_t{1}, uint64_t{3 * kPs}, uint64_t{1} << 30}) {
      for (bool hold : {false, true}) {
        if (limit == 0 && hold)
          continue;  // 0: synchronous
        SCOPED_TRACE(testing::Message() << "via " << static_cast<int>(via) << " limit " << limit
                                        << (hold ? " held" : ""));
        // A file image: in place.
        std::string name = "res-" + std::to_string(k++) + ".ckpt";
        auto w = ImageWriter::create(Output::file(path(name)), fixed_params());
        ASSERT_TRUE(w.ok());
        if (limit) {
          ASSERT_TRUE(w->start_background(limit).ok());
        }
        w->hold_background(hold);
        write_image(*w, 20, via);
        w->hold_background(false);
        ASSERT_TRUE(w->commit().ok());
        EXPECT_EQ(slurp(path(name)), want) << name;
        // A stream (into a regular file, written in order): staging buffers.
        std::string sname = "stream-" + std::to_string(k++) + ".ckpt";
        int fd = ::open(path(sname).c_str(), O_WRONLY | O_CREAT | O_EXCL, 0600);
        ASSERT_GE(fd, 0);
        {
          auto s = ImageWriter::create(Output::stream(fd), fixed_params());
          ASSERT_TRUE(s.ok());
          if (limit) {
            ASSERT_TRUE(s->start_background(limit).ok());
          }
          s->hold_background(hold);
          write_image(*s, 20, via);
          s->hold_background(false);
          ASSERT_TRUE(s->commit().ok());
        }
        ::close(fd);
        EXPECT_EQ(slurp(path(sname)), want) << sname;
      }
    }
  }
}

TEST_F(ImageBackground, ReservedPagesAreInPlaceInFilesOnly) {
  auto f = ImageWriter::create(Output::file(path("a.ckpt")), fixed_params());
  ASSERT_TRUE(f.ok());
  auto slot = f->reserve_pages(4 * kPs);
  ASSERT_TRUE(slot.ok()) << slot.error().message();
  // tmpfs and the usual disk filesystems have fallocate.
  EXPECT_TRUE(slot->in_place());
  ASSERT_TRUE(f->commit_pages(std::move(*slot)).ok());
  int p[2];
  ASSERT_EQ(::pipe(p), 0);
  {
    auto s = ImageWriter::create(Output::stream(p[1]), fixed_params());
    ASSERT_TRUE(s.ok());
    auto ss = s->reserve_pages(kPs);
    ASSERT_TRUE(ss.ok());
    EXPECT_FALSE(ss->in_place());
    ASSERT_TRUE(s->cancel_pages(std::move(*ss)).ok());
  }
  ::close(p[0]);
  ::close(p[1]);
}

TEST_F(ImageBackground, ReadsBackAndVerifies) {
  for (Via via : {Via::owned, Via::reserve, Via::by_fd}) {
    std::string dir = via == Via::owned     ? "dir"
                      : via == Via::reserve ? "dir-reserved"
                                            : "dir-by-fd";
    auto w = ImageWriter::create(Output::directory(path(dir)), fixed_params());
    ASSERT_TRUE(w.ok());
    ASSERT_TRUE(w->start_background(2 * kPs).ok());
    write_image(*w, 9, via);
    ASSERT_TRUE(w->drain().ok());  // then synchronous again
    ASSERT_TRUE(w->commit().ok());
    auto r = image::ImageReader::open(path(dir));
    ASSERT_TRUE(r.ok()) << r.error().message();
    auto img = r->load_metadata();
    ASSERT_TRUE(img.ok()) << img.error().message();
    EXPECT_EQ(img->processes.size(), 9u);
    EXPECT_TRUE(r->verify_pages().ok());
    for (int i = 0; i < 9; ++i) {
      if (i == 3)
        continue;  // the empty section
      auto bytes = r->read_run(img->processes[static_cast<std::size_t>(i)].memory().pages(0));
      ASSERT_TRUE(bytes.ok());
      EXPECT_EQ(*bytes, pattern(static_cast<std::size_t>(1 + i % 7) * kPs, i));
    }
  }
  // The directory forms are the same bytes, file for file.
  for (const char* f : {"/meta.ckpt", "/pages.ckpt"}) {
    EXPECT_EQ(slurp(path("dir") + f), slurp(path("dir-reserved") + f)) << f;
    EXPECT_EQ(slurp(path("dir") + f), slurp(path("dir-by-fd") + f)) << f;
  }
}

// A reservation neither committed nor cancelled: every later call fails
// (no image with a hole in it), and nothing is left.
TEST_F(ImageBackground, ForgottenSlotFailsTheImage) {
  {
    auto w = ImageWriter::create(Output::file(path("lost.ckpt")), fixed_params());
    ASSERT_TRUE(w.ok());
    ASSERT_TRUE(w->start_background(uint64_t{1} << 20).ok());
    {
      auto slot = w->reserve_pages(2 * kPs);
      ASSERT_TRUE(slot.ok());
    }  // dropped
    image::DumpStats st;
    auto p = w->put(image::SectionType::stats, st);
    ASSERT_FALSE(p.ok());
    EXPECT_NE(p.error().message().find("neither committed nor cancelled"), std::string::npos)
        << p.error().message();
    EXPECT_FALSE(w->reserve_pages(kPs).ok());
    EXPECT_FALSE(w->commit().ok());
    EXPECT_FALSE(w->commit_pages(image::PageSlot()).ok());
  }
  EXPECT_EQ(names(), std::vector<std::string>{});
}

// No room for the page data: reserve_pages fails with the errno (fallocate
// first: a shared mapping of blocks that cannot be allocated would raise
// SIGBUS on the first write), and the temp goes away.  RLIMIT_FSIZE stands
// in for a full filesystem (EFBIG instead of ENOSPC, same path).
TEST_F(ImageBackground, NoRoomForPagesIsAnErrorNotASignal) {
  struct sigaction ign {}, old {};
  ign.sa_handler = SIG_IGN;
  ASSERT_EQ(::sigaction(SIGXFSZ, &ign, &old), 0);
  rlimit lim{}, was{};
  ASSERT_EQ(::getrlimit(RLIMIT_FSIZE, &was), 0);
  lim.rlim_cur = 64 * 1024;
  lim.rlim_max = was.rlim_max;
  {
    auto w = ImageWriter::create(Output::file(path("big.ckpt")), fixed_params());
    ASSERT_TRUE(w.ok());
    ASSERT_TRUE(w->start_background(uint64_t{1} << 30).ok());
    ASSERT_EQ(::setrlimit(RLIMIT_FSIZE, &lim), 0);
    auto slot = w->reserve_pages(1 << 20);
    ASSERT_EQ(::setrlimit(RLIMIT_FSIZE, &was), 0);
    ASSERT_FALSE(slot.ok());
    EXPECT_EQ(slot.error().code(), EFBIG) << slot.error().message();
    EXPECT_NE(slot.error().message().find("reserve"), std::string::npos) << slot.error().message();
    EXPECT_FALSE(w->commit().ok());
  }
  ::setrlimit(RLIMIT_FSIZE, &was);
  ::sigaction(SIGXFSZ, &old, nullptr);
  EXPECT_EQ(names(), std::vector<std::string>{});
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
