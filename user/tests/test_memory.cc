// pagemap decoding and scanning, and reading another process's memory.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <vector>

#include "core/fd.h"
#include "proc/mem.h"
#include "proc/pagemap.h"

namespace ckpt::proc {
namespace {

const std::size_t kPage = static_cast<std::size_t>(sysconf(_SC_PAGESIZE));

TEST(Pagemap, DecodesBits) {
  PageEntry e = decode_pagemap_entry(kPmPresent | kPmExclusive | kPmSoftDirty | 0x1234);
  EXPECT_TRUE(e.present);
  EXPECT_FALSE(e.swapped);
  EXPECT_FALSE(e.file_or_shared);
  EXPECT_TRUE(e.exclusive);
  EXPECT_TRUE(e.soft_dirty);
  EXPECT_EQ(e.pfn, 0x1234u);
  e = decode_pagemap_entry(kPmSwapped | kPmFileShared);
  EXPECT_FALSE(e.present);
  EXPECT_TRUE(e.swapped);
  EXPECT_TRUE(e.file_or_shared);
  EXPECT_EQ(e.pfn, 0u);
  e = decode_pagemap_entry(0);
  EXPECT_FALSE(e.present || e.swapped || e.file_or_shared || e.exclusive || e.soft_dirty);
}

TEST(Pagemap, Predicates) {
  EXPECT_TRUE(want_private_anon(kPmPresent));
  EXPECT_TRUE(want_private_anon(kPmSwapped));
  EXPECT_FALSE(want_private_anon(kPmSoftDirty));
  EXPECT_TRUE(want_private_file(kPmPresent));                   // COWed
  EXPECT_FALSE(want_private_file(kPmPresent | kPmFileShared));  // clean page cache
  EXPECT_TRUE(want_private_file(kPmSwapped));
  EXPECT_FALSE(want_private_file(0));
}

TEST(Pagemap, CollectRunsOnSyntheticEntries) {
  std::vector<uint64_t> e = {kPmPresent, kPmPresent, 0, kPmSwapped, kPmPresent | kPmFileShared,
                             0, 0, kPmPresent};
  ScanResult r;
  collect_runs(0x10000, e, want_private_file, 4096, &r);
  ASSERT_EQ(r.runs.size(), 3u);
  EXPECT_EQ(r.runs[0].start, 0x10000u);
  EXPECT_EQ(r.runs[0].nr_pages, 2u);
  EXPECT_EQ(r.runs[1].start, 0x10000u + 3 * 4096);
  EXPECT_EQ(r.runs[1].nr_pages, 1u);
  EXPECT_EQ(r.runs[2].start, 0x10000u + 7 * 4096);
  EXPECT_EQ(r.scanned, 8u);
  EXPECT_EQ(r.in_memory, 5u);
  EXPECT_EQ(r.selected, 4u);
  // A second batch continuing the last run extends it.
  std::vector<uint64_t> more = {kPmPresent, 0};
  collect_runs(0x10000 + 8 * 4096, more, want_private_anon, 4096, &r);
  ASSERT_EQ(r.runs.size(), 3u);
  EXPECT_EQ(r.runs[2].nr_pages, 2u);
}

TEST(Pagemap, OwnAnonymousRegion) {
  const std::size_t n = 16;
  void* p = mmap(nullptr, n * kPage, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  ASSERT_NE(p, MAP_FAILED);
  ASSERT_EQ(madvise(p, n * kPage, MADV_NOHUGEPAGE), 0);
  auto* b = static_cast<char*>(p);
  for (std::size_t i : {0u, 3u, 4u, 15u})
    b[i * kPage] = 1;
  auto pm = PagemapReader::open(getpid());
  ASSERT_TRUE(pm) << pm.error().message();
  uint64_t start = reinterpret_cast<uint64_t>(p);
  auto r = pm->scan(start, start + n * kPage, want_private_anon);
  ASSERT_TRUE(r) << r.error().message();
  ASSERT_EQ(r->runs.size(), 3u);
  EXPECT_EQ(r->runs[0].start, start);
  EXPECT_EQ(r->runs[0].nr_pages, 1u);
  EXPECT_EQ(r->runs[1].start, start + 3 * kPage);
  EXPECT_EQ(r->runs[1].nr_pages, 2u);
  EXPECT_EQ(r->runs[2].start, start + 15 * kPage);
  EXPECT_EQ(r->scanned, n);
  EXPECT_EQ(r->in_memory, 4u);
  auto raw = pm->entries(start, start + kPage);
  ASSERT_TRUE(raw) << raw.error().message();
  ASSERT_EQ(raw->size(), 1u);
  EXPECT_TRUE(decode_pagemap_entry((*raw)[0]).present);
  EXPECT_FALSE(decode_pagemap_entry((*raw)[0]).file_or_shared);
  EXPECT_FALSE(pm->scan(start + 1, start + kPage, want_private_anon));  // not aligned
  munmap(p, n * kPage);
}

TEST(Pagemap, OwnPrivateFileMappingWithOneWrittenPage) {
  char tmpl[] = "/tmp/ckpt-pagemap-XXXXXX";
  Fd fd(mkstemp(tmpl));
  ASSERT_TRUE(fd.valid());
  unlink(tmpl);
  std::vector<char> data(4 * kPage, 'x');
  ASSERT_EQ(write(fd.get(), data.data(), data.size()), static_cast<ssize_t>(data.size()));
  void* p = mmap(nullptr, 4 * kPage, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd.get(), 0);
  ASSERT_NE(p, MAP_FAILED);
  auto* b = static_cast<volatile char*>(p);
  int sum = 0;
  for (std::size_t i = 0; i < 4; ++i)
    sum += b[i * kPage];  // map the page-cache pages
  EXPECT_EQ(sum, 4 * 'x');
  b[2 * kPage] = 'y';  // COW one page
  auto pm = PagemapReader::open(getpid());
  ASSERT_TRUE(pm) << pm.error().message();
  uint64_t start = reinterpret_cast<uint64_t>(p);
  auto r = pm->scan(start, start + 4 * kPage, want_private_file);
  ASSERT_TRUE(r) << r.error().message();
  ASSERT_EQ(r->runs.size(), 1u);
  EXPECT_EQ(r->runs[0].start, start + 2 * kPage);
  EXPECT_EQ(r->runs[0].nr_pages, 1u);
  EXPECT_EQ(r->in_memory, 4u);
  munmap(p, 4 * kPage);
}

// A child whose region holds page i filled with byte (i % 251) + 1; page
// @hole is unmapped.  It waits until its pipe closes.
struct PatternChild {
  pid_t pid = -1;
  Fd release;
  char* base = nullptr;
  std::size_t pages = 0;
  ~PatternChild() {
    release.reset();
    if (pid > 0) {
      int st = 0;
      waitpid(pid, &st, 0);
    }
    if (base)
      munmap(base, pages * kPage);
  }
};

void start_child(PatternChild& c, std::size_t pages, std::size_t hole) {
  c.pages = pages;
  void* p = mmap(nullptr, pages * kPage, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1,
                 0);
  ASSERT_NE(p, MAP_FAILED);
  c.base = static_cast<char*>(p);
  auto ready = Pipe::create();
  auto go = Pipe::create();
  ASSERT_TRUE(ready && go);
  c.pid = fork();
  ASSERT_GE(c.pid, 0);
  if (c.pid == 0) {
    for (std::size_t i = 0; i < pages; ++i)
      memset(c.base + i * kPage, static_cast<int>(i % 251 + 1), kPage);
    munmap(c.base + hole * kPage, kPage);
    char x = 1;
    if (write(ready->write.get(), &x, 1) != 1)
      _exit(1);
    go->write.reset();
    (void)!read(go->read.get(), &x, 1);
    _exit(0);
  }
  ready->write.reset();
  go->read.reset();
  c.release = std::move(go->write);
  char x = 0;
  ASSERT_EQ(read(ready->read.get(), &x, 1), 1);
}

class MemRead : public ::testing::TestWithParam<MemReader::Method> {};

TEST_P(MemRead, ManyRangesInFewCalls) {
  const std::size_t pages = 4096, hole = pages - 1;
  PatternChild c;
  ASSERT_NO_FATAL_FAILURE(start_child(c, pages, hole));
  // Every other page: 2047 ranges, more than IOV_MAX (1024).
  std::vector<MemRange> ranges;
  for (std::size_t i = 0; i < hole; i += 2)
    ranges.push_back(MemRange{reinterpret_cast<uint64_t>(c.base) + i * kPage, kPage});
  std::vector<std::byte> buf(ranges.size() * kPage);
  auto r = MemReader::open(c.pid, GetParam());
  ASSERT_TRUE(r) << r.error().message();
  auto ok = r->read(ranges, buf);
  ASSERT_TRUE(ok) << ok.error().message();
  for (std::size_t k = 0; k < ranges.size(); ++k) {
    std::size_t i = k * 2;
    auto want = static_cast<std::byte>(i % 251 + 1);
    ASSERT_EQ(buf[k * kPage], want) << "page " << i;
    ASSERT_EQ(buf[k * kPage + kPage - 1], want) << "page " << i;
  }
  if (GetParam() == MemReader::Method::vm_readv) {
    EXPECT_GE(r->syscalls(), 2u);
    EXPECT_LE(r->syscalls(), 3u);
  }
  // One big contiguous range too.
  std::vector<std::byte> big(hole * kPage);
  MemRange all{reinterpret_cast<uint64_t>(c.base), big.size()};
  ok = r->read(std::span<const MemRange>(&all, 1), big);
  ASSERT_TRUE(ok) << ok.error().message();
  EXPECT_EQ(big[1000 * kPage + 5], static_cast<std::byte>(1000 % 251 + 1));
}

TEST_P(MemRead, UnreadablePageIsAnErrorNamingIt) {
  const std::size_t pages = 8, hole = 5;
  PatternChild c;
  ASSERT_NO_FATAL_FAILURE(start_child(c, pages, hole));
  auto r = MemReader::open(c.pid, GetParam());
  ASSERT_TRUE(r) << r.error().message();
  uint64_t base = reinterpret_cast<uint64_t>(c.base);
  // Pages 3..6: 3 and 4 are readable, 5 is not (a partial read, then the error).
  std::vector<MemRange> ranges = {{base + 3 * kPage, 4 * kPage}};
  std::vector<std::byte> buf(4 * kPage, std::byte{0xee});
  auto ok = r->read(ranges, buf);
  ASSERT_FALSE(ok);
  char addr[32];
  snprintf(addr, sizeof addr, "%#llx", static_cast<unsigned long long>(base + hole * kPage));
  EXPECT_NE(ok.error().message().find(addr), std::string::npos) << ok.error().message();
  EXPECT_EQ(buf[0], std::byte{4});  // page 3 was read
  // Sizes must match.
  std::vector<std::byte> small(kPage);
  EXPECT_FALSE(r->read(ranges, small));
}

INSTANTIATE_TEST_SUITE_P(Methods, MemRead,
                         ::testing::Values(MemReader::Method::vm_readv,
                                           MemReader::Method::proc_mem),
                         [](const ::testing::TestParamInfo<MemReader::Method>& p) {
                           return p.param == MemReader::Method::vm_readv ? "vm_readv"
                                                                         : "proc_mem";
                         });

}  // namespace
}  // namespace ckpt::proc
