// ckpt-user's dump against the real module (the VM lane runs these; on a
// host without /dev/ckpt they skip).  The point here: pre-copy must never
// store a stale page.  A child rewrites a region forever while the dump
// pre-copies it and then freezes it; the image must hold one consistent
// snapshot of that region, and the pages of an idle region must be reused
// from the pre-copy rather than read again.  Every way of reading pages:
// written into the image by the module (CKPT_IOC_PAGES) and hashed by it
// (--page-hash=module) or by the writer (--page-hash=writer), and read
// with process_vm_readv (--no-kernel-pages); and into a directory image
// of two page files, one copying thread each (--page-files 2), where the
// two processes' sections land in different files.  The second process
// (the sharer, which unmaps the regions it inherits) has shared memory of
// its own, which the dump's own thread reads while a lane may still hold
// the first one's section.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <tuple>

#include "cgroup/cgroup.h"
#include "dump/dump.h"
#include "image/reader.h"
#include "test_util.h"

namespace ckpt::dump {
namespace {

using cg::Version;
using test::Sandbox;


// How the page data gets into the image.
enum class Pages { readv, module_hash, writer_hash, two_files };

// (hierarchy, pages)
class KmodLiveDump : public testing::TestWithParam<std::tuple<Version, Pages>> {};

// The first 8 bytes of each page of [addr, addr + n pages) in the image.
std::vector<uint64_t> page_words(image::ImageReader& r, const image::Process& p, uint64_t addr,
                                 long n, long ps) {
  std::vector<uint64_t> out(static_cast<size_t>(n), ~0ull);
  for (const auto& run : p.memory().pages()) {
    auto bytes = r.read_run(run);
    EXPECT_TRUE(bytes.ok());
    if (!bytes)
      continue;
    for (uint64_t k = 0; k < run.nr_pages(); ++k) {
      uint64_t va = run.vaddr() + k * static_cast<uint64_t>(ps);
      if (va < addr || va >= addr + static_cast<uint64_t>(n * ps))
        continue;
      uint64_t w;
      std::memcpy(&w, bytes->data() + k * static_cast<uint64_t>(ps), sizeof w);
      out[(va - addr) / static_cast<uint64_t>(ps)] = w;
    }
  }
  return out;
}

// Opens the image at @path, loads it, verifies every page, and finds the
// process @pid in it (*@p points into *@meta).
void load_verified(const std::string& path, pid_t pid, std::optional<image::ImageReader>* r,
                   image::Image* meta, const image::Process** p) {
  auto opened = image::ImageReader::open(path);
  ASSERT_TRUE(opened) << opened.error().message();
  r->emplace(std::move(*opened));
  auto loaded = (*r)->load_metadata();
  ASSERT_TRUE(loaded) << loaded.error().message();
  *meta = std::move(*loaded);
  ASSERT_TRUE((*r)->verify_pages());
  *p = nullptr;
  for (const auto& x : meta->processes)
    if (x.pid() == static_cast<uint32_t>(pid))
      *p = &x;
  ASSERT_NE(*p, nullptr) << "pid " << pid << " not in the image";
}

TEST_P(KmodLiveDump, PreCopyStoresOneConsistentSnapshot) {
  CKPT_REQUIRE_MODULE();
  const auto [version, how] = GetParam();
  const bool kernel_pages = how != Pages::readv;
  CKPT_REQUIRE_HIERARCHY(version, root);
  Sandbox sb;
  std::string cgpath = sb.make_cgroup(version);
  auto cg = cg::Cgroup::open(cgpath);
  ASSERT_TRUE(cg);
  const long n = 512, ps = ::sysconf(_SC_PAGESIZE);
  auto bp = test::spawn_busy_pages(sb, CKPT_TEST_HELPER, n);
  test::Child& child = *bp.child;
  const uint64_t idle = bp.idle, busy = bp.busy;
  ASSERT_NE(busy, 0u);
  ASSERT_TRUE(cg->add_process(child.pid));
  // A second process, forked now (inside the cgroup), with shared memory
  // of its own: dumped after the first, whose frozen-pass section may
  // still be in flight in a page file's lane.
  ASSERT_EQ(::write(child.stdin_w.get(), "s", 1), 1);
  const long sharer = std::atol(test::read_line(child.stdout_r.get()).c_str());
  ASSERT_GT(sharer, 0);

  char tmpl[] = "/tmp/ckpt-dump-live-XXXXXX";
  ASSERT_NE(::mkdtemp(tmpl), nullptr);
  const bool two = how == Pages::two_files;
  std::string img = std::string(tmpl) + (two ? "/busy.d" : "/busy.ckpt");
  DumpOptions o;
  o.cgroup = cgpath;
  o.root_pid = child.pid;
  o.output = img;
  o.directory = two;
  o.page_files = two ? 2 : 1;
  o.pre_copy = true;
  o.kernel_pages = kernel_pages;
  o.page_hash = how == Pages::module_hash || two ? DumpOptions::PageHash::module
                                                 : DumpOptions::PageHash::writer;
  auto res = dump(o);
  ASSERT_TRUE(res) << res.error().message();
  // The module under test has CKPT_IOC_PAGES: every page went through it,
  // or (disabled) none did.
  // Hashed by it too if asked, but only before the freeze: what the frozen
  // pass re-reads (the busy region) the writer hashes after the thaw.
  if (kernel_pages) {
    EXPECT_EQ(res->pages_by_kernel, res->pages_written + res->pages_precopied - res->pages_reused);
    EXPECT_EQ(res->pages_hashed_by_kernel,
              how == Pages::writer_hash ? 0u : res->pages_precopied);
  } else {
    EXPECT_EQ(res->pages_by_kernel, 0u);
    EXPECT_EQ(res->pages_hashed_by_kernel, 0u);
  }
  // The idle region at least (the busy one may be left to the frozen pass
  // already: pages written since the bits were cleared are not pre-copied).
  EXPECT_GE(res->pages_precopied, static_cast<uint64_t>(n));
  // The idle region was not written after the pre-copy: reused, not re-read.
  EXPECT_GE(res->pages_reused, static_cast<uint64_t>(n));

  std::optional<image::ImageReader> r;
  image::Image img_meta;
  const image::Process* p = nullptr;
  ASSERT_NO_FATAL_FAILURE(load_verified(img, child.pid, &r, &img_meta, &p));
  const image::Image* meta = &img_meta;
  // Two page files: format 3.0, and the tree's runs in both (the lanes
  // take sections in turn: the two processes' pre-copies go to different
  // files).
  std::set<uint32_t> files;
  for (const auto& x : meta->processes)
    for (const auto& run : x.memory().pages())
      files.insert(run.file());
  const std::set<uint32_t> want_files = two ? std::set<uint32_t>{0, 1} : std::set<uint32_t>{0};
  EXPECT_EQ(files, want_files);
  EXPECT_EQ(meta->header.major, two ? image::kMajor : image::kMajorOnePageFile);
  auto iw = page_words(*r, *p, idle, n, ps);
  for (long i = 0; i < n; ++i)
    ASSERT_EQ(iw[static_cast<size_t>(i)], 0x1d1e0000ull + static_cast<uint64_t>(i)) << "idle page " << i;
  auto bw = page_words(*r, *p, busy, n, ps);
  uint64_t hi = bw[0], lo = bw[0];
  for (long i = 0; i < n; ++i) {
    uint64_t w = bw[static_cast<size_t>(i)];
    ASSERT_NE(w, ~0ull) << "busy page " << i << " not in the image";
    if (i > 0) {
      ASSERT_LE(w, bw[static_cast<size_t>(i - 1)]) << "busy page " << i << ": generation rises";
    }
    hi = std::max(hi, w);
    lo = std::min(lo, w);
  }
  EXPECT_LE(hi - lo, 1u) << "generations " << lo << ".." << hi << ": a stale page";
  // The sharer's shared memory, once, with its bytes.
  ASSERT_EQ(meta->shared_memory.size(), 1u);
  uint64_t shared_pages = 0;
  for (const auto& run : meta->shared_memory[0].pages()) {
    auto bytes = r->read_run(run);
    ASSERT_TRUE(bytes) << bytes.error().message();
    for (uint64_t k = 0; k < run.nr_pages(); ++k, ++shared_pages) {
      uint64_t w;
      std::memcpy(&w, bytes->data() + k * static_cast<uint64_t>(ps), sizeof w);
      EXPECT_EQ(w, 0x5a47e000ull + (run.vaddr() / static_cast<uint64_t>(ps) + k))
          << "shared page " << run.vaddr() / static_cast<uint64_t>(ps) + k;
    }
  }
  EXPECT_EQ(shared_pages, 8u);
  // The workload runs on (thawed): its generation moves past the snapshot.
  auto st = cg->freezer_status();
  ASSERT_TRUE(st);
  EXPECT_FALSE(st->self);
  std::error_code ec;
  std::filesystem::remove_all(tmpl, ec);
}

// A region rewritten all the time, several sections long, beside an idle
// one (the two are one mapping: the kernel merges them), dumped into two
// page files.  The pre-copy reads the soft-dirty bits of each section
// just before copying it and leaves pages already written again to the
// frozen pass; how many it finds so is timing (after the bits are cleared
// every first write faults, which is slow under emulation; the bench
// measures it), but the image must be one consistent snapshot whatever
// was left out, and the idle region must be reused.
TEST(KmodLiveDumpHot, PreCopyOfABusyMappingSectionBySection) {
  CKPT_REQUIRE_MODULE();
  CKPT_REQUIRE_HIERARCHY(Version::v2, root);
  Sandbox sb;
  std::string cgpath = sb.make_cgroup(Version::v2);
  auto cg = cg::Cgroup::open(cgpath);
  ASSERT_TRUE(cg);
  const long n = 12000, ps = ::sysconf(_SC_PAGESIZE);  // 47 MiB each region
  auto bp = test::spawn_busy_pages(sb, CKPT_TEST_HELPER, n);
  test::Child& child = *bp.child;
  ASSERT_NE(bp.busy, 0u);
  ASSERT_TRUE(cg->add_process(child.pid));
  char tmpl[] = "/tmp/ckpt-dump-hot-XXXXXX";
  ASSERT_NE(::mkdtemp(tmpl), nullptr);
  DumpOptions o;
  o.cgroup = cgpath;
  o.root_pid = child.pid;
  o.output = std::string(tmpl) + "/hot.d";
  o.directory = true;
  o.page_files = 2;
  auto res = dump(o);
  ASSERT_TRUE(res) << res.error().message();
  EXPECT_GE(res->pages_reused, static_cast<uint64_t>(n)) << "the idle region not reused";
  std::optional<image::ImageReader> r;
  image::Image meta;
  const image::Process* p = nullptr;
  ASSERT_NO_FATAL_FAILURE(load_verified(o.output, child.pid, &r, &meta, &p));
  auto iw = page_words(*r, *p, bp.idle, n, ps);
  for (long i = 0; i < n; ++i)
    ASSERT_EQ(iw[static_cast<size_t>(i)], 0x1d1e0000ull + static_cast<uint64_t>(i)) << "idle page " << i;
  auto bw = page_words(*r, *p, bp.busy, n, ps);
  for (long i = 0; i < n; ++i) {
    ASSERT_NE(bw[static_cast<size_t>(i)], ~0ull) << "busy page " << i << " not in the image";
    if (i > 0) {
      ASSERT_LE(bw[static_cast<size_t>(i)], bw[static_cast<size_t>(i - 1)]) << "busy page " << i;
    }
  }
  EXPECT_LE(bw[0] - bw[static_cast<size_t>(n - 1)], 1u) << "a stale page";
  std::error_code ec;
  std::filesystem::remove_all(tmpl, ec);
}

INSTANTIATE_TEST_SUITE_P(Hierarchies, KmodLiveDump,
                         testing::Combine(testing::Values(Version::v2, Version::v1_freezer),
                                          testing::Values(Pages::readv, Pages::module_hash,
                                                          Pages::writer_hash, Pages::two_files)),
                         [](const testing::TestParamInfo<std::tuple<Version, Pages>>& i) {
                           const Pages p = std::get<1>(i.param);
                           return std::string(std::get<0>(i.param) == Version::v2 ? "v2" : "v1") +
                                  (p == Pages::readv         ? "_readv"
                                   : p == Pages::module_hash ? "_kernel_module_hash"
                                   : p == Pages::writer_hash ? "_kernel_writer_hash"
                                                             : "_two_page_files");
                         });

}  // namespace
}  // namespace ckpt::dump
