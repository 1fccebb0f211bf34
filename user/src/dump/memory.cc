// Memory: every VMA (smaps: ranges, protections, flags, backing file) and
// the pages a restore needs:
//   private anonymous (heap, stack, anon)  present or swapped pages;
//   private file mappings                  pages COWed away from the file;
//   shared anonymous / memfd / SysV shm    the whole object once, holes
//                                          skipped (SEEK_DATA), SHMEM section;
//   shared file mappings                   nothing: the bytes are the file's;
//   [vdso] [vvar] [vsyscall]               nothing: the kernel provides them.
// Pages are read in large batches (process_vm_readv, up to IOV_MAX runs per
// call; /proc/PID/mem for mappings without PROT_READ) as PAGES sections of
// up to 64 MiB, straight into the section's place in the image file when it
// is one (ImageWriter::reserve_pages: a shared mapping of the file), else
// into a reused staging buffer that the writer's thread writes out.
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/uio.h>
#include <unistd.h>

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cerrno>

#include "core/fd.h"
#include "core/log.h"
#include "dump/context.h"
#include "dump/vmas.h"
#include "core/file.h"
#include "core/time.h"
#include "proc/attrs.h"
#include "proc/fds.h"
#include "proc/maps.h"
#include "proc/mem.h"
#include "proc/pagemap.h"
#include "proc/procfs.h"
#include "proc/stat.h"

namespace ckpt::dump {
namespace {

using Us = std::chrono::microseconds;
uint64_t since_us(Clock::time_point t0) {
  return static_cast<uint64_t>(std::chrono::duration_cast<Us>(Clock::now() - t0).count());
}

// Shared memory backed by the kernel's internal shmem mount: shared
// anonymous mappings ("/dev/zero (deleted)"), SysV segments ("/SYSV...")
// and memfds ("/memfd:NAME (deleted)").
bool is_shmem_object(const proc::MapEntry& m) {
  if (!m.is_file())
    return false;
  if (m.path == "/dev/zero" && m.deleted)
    return true;
  if (m.path.rfind("/SYSV", 0) == 0)
    return true;
  if (m.path.rfind("/memfd:", 0) == 0)
    return true;
  return false;
}

image::Vma::Kind classify(const proc::MapEntry& m) {
  if (m.path == "[vdso]")
    return image::Vma::VDSO;
  if (m.path == "[vvar]" || m.path == "[vvar_vclock]")
    return image::Vma::VVAR;
  if (m.path == "[vsyscall]")
    return image::Vma::VSYSCALL;
  if (m.path == "[heap]")
    return image::Vma::HEAP;
  if (m.path == "[stack]")
    return image::Vma::STACK;
  if (is_shmem_object(m))
    return image::Vma::ANON_SHARED;
  if (m.is_file())
    return m.shared ? image::Vma::FILE_SHARED : image::Vma::FILE_PRIVATE;
  return m.shared ? image::Vma::ANON_SHARED : image::Vma::ANON_PRIVATE;
}

// Page runs of one source, read in chunks that fit the staging buffer and
// written as one PAGES section per chunk.
class PageWriter {
 public:
  // Before the freeze (the pre-copy) or while frozen: only the pre-copy's
  // page data may be hashed by the module (Context::precopy_hashed), so
  // that no hash runs inside the frozen window.
  enum class Pass { precopy, frozen };

  PageWriter(Context& ctx, Pass pass, proc::MemReader* reader, int fd,
             google::protobuf::RepeatedPtrField<image::PageRun>* out)
      : ctx_(ctx), hash_(pass == Pass::precopy && ctx.precopy_hashed), reader_(reader), fd_(fd),
        out_(out) {}

  Result<void> add(uint64_t vaddr, uint64_t nr_pages, uint64_t src_off) {
    uint64_t ps = ctx_.page_size;
    uint64_t cap = ctx_.chunk_bytes / ps;
    while (nr_pages > 0) {
      uint64_t room = cap - used_pages_;
      if (room == 0) {
        auto r = flush();
        if (!r)
          return r;
        continue;
      }
      uint64_t n = std::min(room, nr_pages);
      pending_.push_back({vaddr, n, src_off});
      used_pages_ += n;
      vaddr += n * ps;
      src_off += n * ps;
      nr_pages -= n;
    }
    return {};
  }

  Result<void> flush() {
    if (pending_.empty())
      return {};
    uint64_t ps = ctx_.page_size;
    uint64_t total = used_pages_ * ps;
    // The section's payload goes into the image itself: written there by
    // the module (CKPT_IOC_PAGES: one copy, by the kernel) when it can,
    // else read into a shared mapping of the image file (or a staging
    // buffer).  Either way that is the only copy; the writer's thread
    // hashes it and writes the header, also after the tree is thawed, so
    // that the tree stays frozen only while it is read.
    const bool by_kernel = reader_ && ctx_.pages && ctx_.writer->can_write_pages_by_fd();
    if (by_kernel && ctx_.lanes)
      return hand_to_lane(total);
    // Here, with lanes (shared memory, read by this thread): a free lane's
    // page file, whose previous section (if any) is committed by
    // acquire(): a file with a lane's section still open takes no other.
    uint32_t file = 0;
    if (ctx_.lanes) {
      auto f = ctx_.lanes->acquire();
      if (!f)
        return std::move(f).error();
      file = *f;
    }
    auto slot = by_kernel ? ctx_.writer->reserve_pages_by_fd(total, file)
                          : ctx_.writer->reserve_pages(total, file);
    if (!slot)
      return std::move(slot).error();
    auto t0 = Clock::now();
    auto r = by_kernel ? write_by_kernel(*slot, total) : read_into(slot->data());
    ctx_.counters.memdump_us += since_us(t0);
    if (r && by_kernel)
      ctx_.counters.pages_by_kernel += used_pages_;
    if (!r) {
      // Its space in the image is given back; if even that fails, the
      // writer is aborted and every later call fails too.
      if (auto c = ctx_.writer->cancel_pages(std::move(*slot)); !c)
        log::warn("{}", c.error().message());
      return r;
    }
    auto seq = ctx_.writer->commit_pages(std::move(*slot));
    if (!seq)
      return std::move(seq).error();
    record(file, *seq);
    return {};
  }

  uint64_t written() const { return written_; }
  // The process read, also by pidfd (the module is then given that rather
  // than the pid, which a running process may lose to a newer one).
  void set_pidfd(int pidfd) { pidfd_ = pidfd; }

 private:
  // The pending runs as PageRuns of section @seq of page file @file, back
  // to back; nothing is pending after.
  void record(uint32_t file, uint32_t seq) {
    uint64_t off = 0;
    for (const auto& p : pending_) {
      auto* run = out_->Add();
      run->set_vaddr(p.vaddr);
      run->set_nr_pages(p.nr_pages);
      run->set_file(file);
      run->set_section(seq);
      run->set_offset(off);
      off += p.nr_pages * ctx_.page_size;
    }
    written_ += used_pages_;
    pending_.clear();
    used_pages_ = 0;
  }

  // The pending runs as the module's CKPT_IOC_PAGES ranges.
  std::vector<ckpt_page_range> kernel_ranges() const {
    std::vector<ckpt_page_range> ranges;
    ranges.reserve(pending_.size());
    for (const auto& p : pending_)
      ranges.push_back({p.vaddr, p.nr_pages * ctx_.page_size});
    return ranges;
  }

  // The pending runs, by the module, into a section of the page file of a
  // free lane (dump/page_lanes.h), which copies them while this thread
  // goes on; the section's place is final now, so are its PageRuns.  An
  // error of the copy comes back from a later acquire() or sync().
  Result<void> hand_to_lane(uint64_t total) {
    auto file = ctx_.lanes->acquire();
    if (!file)
      return std::move(file).error();
    auto slot = ctx_.writer->reserve_pages_by_fd(total, *file);
    if (!slot)
      return std::move(slot).error();
    std::vector<ckpt_page_range> ranges = kernel_ranges();
    const uint32_t seq = slot->seq();
    ctx_.lanes->submit(std::move(*slot), reader_->pid(), pidfd_, std::move(ranges),
                       hash_);
    record(*file, seq);
    return {};
  }

  // The pending runs, back to back into the slot's place in the image
  // file, by the module; hashed by it too as it writes them when hash_
  // (the writer then has no second pass over the page cache to make).
  Result<void> write_by_kernel(image::PageSlot& slot, uint64_t total) {
    std::vector<ckpt_page_range> ranges = kernel_ranges();
    const kmod::PageCopier& pc = *ctx_.pages;
    ckpt_pages_xxh64 h{};
    auto* hp = hash_ ? &h : nullptr;
    if (auto r = pc.write(reader_->pid(), pidfd_, slot.fd(), ranges, slot.file_offset(), hp); !r || !hp)
      return r;
    if (h.len != total)
      return Error::msg(fmt::format("pid {}: the module hashed {} of the {} bytes it wrote",
                                    reader_->pid(), h.len, total),
                        EIO);
    slot.set_payload_hash(h.digest);
    ctx_.counters.pages_hashed_by_kernel += total / ctx_.page_size;
    return {};
  }

  // The pending runs, back to back into @out (exactly their size).
  Result<void> read_into(std::span<std::byte> out) {
    uint64_t ps = ctx_.page_size;
    std::byte* base = out.data();
    if (reader_) {
      std::vector<proc::MemRange> ranges;
      ranges.reserve(pending_.size());
      for (const auto& p : pending_)
        ranges.push_back({p.vaddr, static_cast<std::size_t>(p.nr_pages * ps)});
      return reader_->read(ranges, out);
    } else {
      uint64_t off = 0;
      for (const auto& p : pending_) {
        uint64_t len = p.nr_pages * ps;
        uint64_t done = 0;
        while (done < len) {
          ssize_t n = ::pread(fd_, base + off + done, len - done, static_cast<off_t>(p.src_off + done));
          if (n < 0 && errno == EINTR)
            continue;
          if (n < 0)
            return Error::from_errno(fmt::format("read shared memory at offset {:#x}", p.src_off + done));
          if (n == 0)
            return Error::msg(fmt::format("shared memory ends early at offset {:#x}", p.src_off + done), EIO);
          done += static_cast<uint64_t>(n);
        }
        off += len;
      }
    }
    return {};
  }

  struct Pending {
    uint64_t vaddr, nr_pages, src_off;
  };
  Context& ctx_;
  const bool hash_;  // the module hashes what it writes
  proc::MemReader* reader_;
  int fd_;
  int pidfd_ = -1;
  google::protobuf::RepeatedPtrField<image::PageRun>* out_;
  std::vector<Pending> pending_;
  uint64_t used_pages_ = 0;
  uint64_t written_ = 0;
};

// The whole shared memory object behind @m, once: opened through
// /proc/PID/map_files (CAP_SYS_ADMIN), data found with SEEK_DATA/SEEK_HOLE
// so that holes are neither read nor stored.
Result<uint64_t> dump_shmem(Context& ctx, pid_t pid, const proc::MapEntry& m, uint64_t dev) {
  std::string path = proc::proc_path(pid, fmt::format("map_files/{:x}-{:x}", m.start, m.end));
  auto fd = Fd::open(path, O_RDONLY);
  if (!fd)
    return std::move(fd).error().context(fmt::format("shared mapping {} ", m.path));
  struct stat st;
  if (::fstat(fd->get(), &st) != 0)
    return Error::from_errno("fstat " + path);
  if (static_cast<uint64_t>(st.st_ino) != m.inode)
    return Error::msg(fmt::format("{}: inode {} does not match maps ({})", path, st.st_ino, m.inode), EIO);
  image::SharedMemory shm;
  shm.set_id(m.inode);
  shm.set_dev(dev);
  shm.set_size(static_cast<uint64_t>(st.st_size));
  shm.set_path(m.path + (m.deleted ? " (deleted)" : ""));
  uint64_t ps = ctx.page_size;
  uint64_t size = (static_cast<uint64_t>(st.st_size) + ps - 1) / ps * ps;
  ctx.counters.shpages_scanned += size / ps;
  PageWriter pw(ctx, PageWriter::Pass::frozen, nullptr, fd->get(), shm.mutable_pages());
  off_t pos = 0;
  while (static_cast<uint64_t>(pos) < size) {
    off_t data = ::lseek(fd->get(), pos, SEEK_DATA);
    if (data < 0 && errno == ENXIO)
      break;
    if (data < 0)
      return Error::from_errno("SEEK_DATA in " + path);
    off_t hole = ::lseek(fd->get(), data, SEEK_HOLE);
    if (hole < 0)
      return Error::from_errno("SEEK_HOLE in " + path);
    uint64_t a = static_cast<uint64_t>(data) / ps * ps;
    uint64_t b = std::min<uint64_t>((static_cast<uint64_t>(hole) + ps - 1) / ps * ps, size);
    if (b > a) {
      auto r = pw.add(a, (b - a) / ps, a);
      if (!r)
        return std::move(r).error();
    }
    pos = static_cast<off_t>(b);
  }
  auto r = pw.flush();
  if (!r)
    return std::move(r).error();
  ctx.counters.shpages_written += pw.written();
  auto seq = ctx.writer->put(image::SectionType::shmem, shm);
  if (!seq)
    return std::move(seq).error();
  return pw.written();
}

// Whether the VMA's pages are dumped as private memory, and with which
// pagemap predicate.
bool private_kind(image::Vma::Kind k) {
  return k == image::Vma::ANON_PRIVATE || k == image::Vma::HEAP || k == image::Vma::STACK ||
         k == image::Vma::FILE_PRIVATE;
}

// The pfn of the shared zero page, from a page of our own that was only
// read: present, mapped to it.  0 when PFNs are hidden (no CAP_SYS_ADMIN).
uint64_t find_zero_pfn(std::size_t ps) {
  auto m = Mapping::anonymous(ps, PROT_READ);
  if (!m)
    return 0;
  volatile const char* p = static_cast<const char*>(m->data());
  (void)*p;
  auto pm = proc::PagemapReader::open(::getpid());
  if (!pm)
    return 0;
  auto e = pm->entries(reinterpret_cast<uint64_t>(m->data()), reinterpret_cast<uint64_t>(m->data()) + ps);
  if (!e || e->empty() || !((*e)[0] & proc::kPmPresent))
    return 0;
  return (*e)[0] & proc::kPmPfnMask;
}

// Where a page copied before the freeze lives in the image, if it was.
const PreRun* find_pre(const PreCopy& pre, uint64_t vaddr) {
  auto it = std::upper_bound(pre.runs.begin(), pre.runs.end(), vaddr,
                             [](uint64_t v, const PreRun& r) { return v < r.vaddr; });
  if (it == pre.runs.begin())
    return nullptr;
  --it;
  return vaddr < it->vaddr + it->nr_pages * it->page_size ? &*it : nullptr;
}

// Appends a PageRun, extending the previous one when contiguous in memory
// and in the same section.
void add_run(google::protobuf::RepeatedPtrField<image::PageRun>* runs, uint64_t vaddr,
             uint32_t file, uint32_t section, uint64_t offset, uint64_t ps) {
  if (!runs->empty()) {
    auto& last = (*runs)[runs->size() - 1];
    if (last.file() == file && last.section() == section &&
        last.vaddr() + last.nr_pages() * ps == vaddr &&
        last.offset() + last.nr_pages() * ps == offset) {
      last.set_nr_pages(last.nr_pages() + 1);
      return;
    }
  }
  auto* r = runs->Add();
  r->set_vaddr(vaddr);
  r->set_nr_pages(1);
  r->set_file(file);
  r->set_section(section);
  r->set_offset(offset);
}

// Pagemap entries of neighbouring VMAs from one pread: while the tree is
// frozen, a process with many small mappings (1,000 two-page VMAs) costs a
// few reads instead of one per VMA.  A read covers at least kAhead pages
// from the VMA asked for (entries of gaps are zeros, cheap for the kernel),
// never past @limit (the end of the last VMA that will ask); a large VMA is
// read exactly.
class PagemapWindow {
 public:
  static constexpr uint64_t kAhead = 2048;  // pages: 16 KiB of entries

  PagemapWindow(proc::PagemapReader& reader, uint64_t page_size, uint64_t limit)
      : reader_(reader), ps_(page_size), limit_(limit) {}

  // The entries of [start, end), valid until the next call.
  Result<std::span<const uint64_t>> get(uint64_t start, uint64_t end) {
    if (!(start >= start_ && end <= end_)) {
      uint64_t e = std::max(end, std::min(limit_, start + kAhead * ps_));
      auto v = reader_.entries(start, e);
      if (!v)
        return std::move(v).error();
      buf_ = std::move(*v);
      start_ = start;
      end_ = e;
      ++reads_;
    }
    return std::span<const uint64_t>(buf_.data() + (start - start_) / ps_, (end - start) / ps_);
  }
  uint64_t reads() const { return reads_; }

 private:
  proc::PagemapReader& reader_;
  const uint64_t ps_, limit_;
  std::vector<uint64_t> buf_;
  uint64_t start_ = 0, end_ = 0;
  uint64_t reads_ = 0;
};

}  // namespace

Result<void> init_zero_page(Context& ctx) {
  ctx.zero_pfn = find_zero_pfn(ctx.page_size);
  return {};
}

Result<PreCopy> precopy_memory(Context& ctx, pid_t pid) {
  PreCopy pre;
  auto pidfd = proc::pidfd_open(pid);
  if (!pidfd)
    return std::move(pidfd).error();
  pre.pidfd = std::move(*pidfd);
  // Clear the soft-dirty bits first: every write from now on marks its
  // page again, and the frozen pass copies those pages anew.
  if (auto r = write_file(proc::proc_path(pid, "clear_refs"), "4"); !r)
    return std::move(r).error().context("clear soft-dirty bits");
  auto maps = proc::read_maps(pid);
  if (!maps)
    return std::move(maps).error();
  auto pagemap = proc::PagemapReader::open(pid);
  if (!pagemap)
    return std::move(pagemap).error();
  auto vm = proc::MemReader::open(pid, proc::MemReader::Method::vm_readv);
  if (!vm)
    return std::move(vm).error();
  google::protobuf::RepeatedPtrField<image::PageRun> runs;
  PageWriter pw(ctx, PageWriter::Pass::precopy, &*vm, -1, &runs);
  pw.set_pidfd(pre.pidfd.get());
  const uint64_t zero = ctx.zero_pfn;
  auto copied = [](const proc::MapEntry& m) {
    return private_kind(classify(m)) && (m.prot & PROT_READ) && !m.deleted;
  };
  // Neighbouring VMAs' pagemap entries in one read, as in the frozen pass:
  // 1,000 small mappings cost a few reads, not 1,000.
  uint64_t pm_limit = 0;
  for (const auto& m : *maps)
    if (copied(m))
      pm_limit = std::max(pm_limit, m.end);
  PagemapWindow pm(*pagemap, ctx.page_size, pm_limit);
  // A large mapping is looked at a section's worth at a time, each read
  // just before its pages are copied, so that the soft-dirty bits below
  // are as fresh as they can be.
  const uint64_t window = std::max<uint64_t>(ctx.chunk_bytes / ctx.page_size, 1) * ctx.page_size;
  uint64_t written_again = 0;
  for (const auto& m : *maps) {
    if (!copied(m))
      continue;
    const bool file = classify(m) == image::Vma::FILE_PRIVATE;
    auto want = [&](uint64_t raw) {
      if (zero && (raw & proc::kPmPresent) && (raw & proc::kPmPfnMask) == zero)
        return false;
      if (!(file ? proc::want_private_file(raw) : proc::want_private_anon(raw)))
        return false;
      // Written since the soft-dirty bits were cleared: the frozen pass
      // copies the page again whatever happens now, so a copy now would
      // only be work thrown away (memory the process rewrites all the time
      // would be copied twice).  Left out here, it is simply read frozen.
      if (raw & proc::kPmSoftDirty) {
        ++written_again;
        return false;
      }
      return true;
    };
    for (uint64_t a = m.start; a < m.end; a += window) {
      const uint64_t b = std::min(m.end, a + window);
      auto entries = pm.get(a, b);
      if (!entries)
        return std::move(entries).error();
      proc::ScanResult scan;
      proc::collect_runs(a, *entries, want, ctx.page_size, &scan);
      for (const auto& r : scan.runs)
        if (auto r2 = pw.add(r.start, r.nr_pages, 0); !r2)
          return std::move(r2).error();
    }
  }
  if (auto r = pw.flush(); !r)
    return std::move(r).error();
  if (written_again)
    log::debug("pre-copy of pid {}: {} pages already written again, left to the frozen pass",
               pid, written_again);
  // Every copy of this process done before its runs are trusted: a failed
  // one fails this pre-copy only.
  if (ctx.lanes)
    if (auto r = ctx.lanes->sync(); !r)
      return std::move(r).error();
  pre.pages = pw.written();
  for (const auto& r : runs)
    pre.runs.push_back({r.vaddr(), r.nr_pages(), r.file(), r.section(), r.offset(), ctx.page_size});
  std::sort(pre.runs.begin(), pre.runs.end(),
            [](const PreRun& a, const PreRun& b) { return a.vaddr < b.vaddr; });
  return pre;
}

Result<void> dump_memory(Context& ctx, pid_t pid, const proc::ProcStat& stat, image::Memory* mem,
                         const PreCopy* pre) {
  mem->set_start_code(stat.start_code);
  mem->set_end_code(stat.end_code);
  mem->set_start_data(stat.start_data);
  mem->set_end_data(stat.end_data);
  mem->set_start_brk(stat.start_brk);
  mem->set_start_stack(stat.start_stack);
  mem->set_arg_start(stat.arg_start);
  mem->set_arg_end(stat.arg_end);
  mem->set_env_start(stat.env_start);
  mem->set_env_end(stat.env_end);
  auto auxv = proc::read_auxv(pid);
  if (!auxv)
    return std::move(auxv).error();
  mem->set_auxv(*auxv);

  uint64_t brk = 0;  // 0: the module cannot say (no CKPT_IOC_VMAS)
  auto maps = read_vmas(ctx.session, pid, &brk);
  if (!maps)
    return std::move(maps).error();
  mem->set_brk(brk);
  auto pagemap = proc::PagemapReader::open(pid);
  if (!pagemap)
    return std::move(pagemap).error();
  auto vm = proc::MemReader::open(pid, proc::MemReader::Method::vm_readv);
  if (!vm)
    return std::move(vm).error();

  uint64_t pm_limit = 0;  // end of the last VMA whose pagemap is read
  for (const auto& m : *maps)
    if (private_kind(classify(m)))
      pm_limit = std::max(pm_limit, m.end);
  PagemapWindow pm(*pagemap, ctx.page_size, pm_limit);

  PageWriter readable(ctx, PageWriter::Pass::frozen, &*vm, -1, mem->mutable_pages());
  std::vector<std::pair<uint64_t, uint64_t>> unreadable;  // (vaddr, nr_pages)
  const uint64_t ps = ctx.page_size;
  const uint64_t zero = ctx.zero_pfn;
  uint64_t reused = 0;
  google::protobuf::RepeatedPtrField<image::PageRun> reuse_runs;

  for (const auto& m : *maps) {
    auto* v = mem->add_vmas();
    v->set_start(m.start);
    v->set_end(m.end);
    v->set_prot(m.prot);
    v->set_shared(m.shared);
    v->set_pgoff(m.pgoff);
    v->set_path(m.path);
    for (const auto& f : m.vm_flags)
      v->add_vm_flags(f);
    auto kind = classify(m);
    v->set_kind(kind);
    uint64_t dev = makedev(m.dev_major, m.dev_minor);
    if (m.is_file()) {
      auto* f = v->mutable_file();
      f->set_dev(dev);
      f->set_inode(m.inode);
    }
    std::string where = fmt::format("mapping {:x}-{:x} {}", m.start, m.end, m.path);
    if (kind == image::Vma::VDSO || kind == image::Vma::VVAR || kind == image::Vma::VSYSCALL)
      continue;
    if (m.has_vm_flag("io") || m.has_vm_flag("pf"))
      return Error::msg(fmt::format("pid {}: {}: device memory (VM_IO/VM_PFNMAP) is not supported", pid, where),
                        EOPNOTSUPP);
    if (m.deleted && kind != image::Vma::ANON_SHARED)
      return Error::msg(fmt::format("pid {}: {}: the mapped file was deleted; not supported", pid, where),
                        EOPNOTSUPP);
    if (kind == image::Vma::ANON_SHARED) {
      if (!m.is_file())
        return Error::msg(fmt::format("pid {}: {}: shared mapping without a backing object", pid, where), EIO);
      v->set_shmem_id(m.inode);
      if (ctx.shmem_done.insert({dev, m.inode}).second) {
        auto r = dump_shmem(ctx, pid, m, dev);
        if (!r)
          return std::move(r).error().context(fmt::format("pid {}", pid));
      }
      continue;
    }
    if (kind == image::Vma::FILE_SHARED)
      continue;  // the file holds the bytes
    const bool file = kind == image::Vma::FILE_PRIVATE;
    // A VMA created or moved since the soft-dirty bits were cleared carries
    // VM_SOFTDIRTY ("sd"): none of its pre-copied bytes may be trusted.
    // Nor where a write may not leave the bit set: KSM ("mg") installs a
    // merged page without it, and hugetlb ("ht") has no per-page bit (its
    // pagemap shows only VM_SOFTDIRTY).
    const PreCopy* p = pre && !m.has_vm_flag("sd") && !m.has_vm_flag("mg") && !m.has_vm_flag("ht")
                           ? pre
                           : nullptr;
    auto entries = pm.get(m.start, m.end);
    if (!entries)
      return std::move(entries).error().context(where);
    ctx.counters.pages_scanned += entries->size();
    const bool can_read = (m.prot & PROT_READ) != 0;
    uint64_t present = 0, dumped = 0;
    uint64_t run_start = 0, run_len = 0;  // pages to read now
    auto flush_run = [&]() -> Result<void> {
      if (run_len == 0)
        return {};
      Result<void> r;
      if (can_read)
        r = readable.add(run_start, run_len, 0);
      else
        unreadable.push_back({run_start, run_len});
      run_len = 0;
      return r;
    };
    for (std::size_t i = 0; i < entries->size(); ++i) {
      uint64_t raw = (*entries)[i];
      uint64_t va = m.start + i * ps;
      if (proc::page_in_memory(raw))
        ++present;
      // The shared zero page: nothing to store, a restore reads zeros too.
      bool zero_page = zero && (raw & proc::kPmPresent) && (raw & proc::kPmPfnMask) == zero;
      bool want = !zero_page && (file ? proc::want_private_file(raw) : proc::want_private_anon(raw));
      if (zero_page)
        ++ctx.counters.pages_zero;
      if (!want) {
        if (auto r = flush_run(); !r)
          return std::move(r).error().context(fmt::format("pid {}: {}", pid, where));
        continue;
      }
      ++dumped;
      const PreRun* hit = p && !(raw & proc::kPmSoftDirty) ? find_pre(*p, va) : nullptr;
      if (hit) {
        if (auto r = flush_run(); !r)
          return std::move(r).error().context(fmt::format("pid {}: {}", pid, where));
        add_run(&reuse_runs, va, hit->file, hit->section, hit->offset + (va - hit->vaddr), ps);
        ++reused;
        continue;
      }
      if (run_len == 0)
        run_start = va;
      ++run_len;
    }
    if (auto r = flush_run(); !r)
      return std::move(r).error().context(fmt::format("pid {}: {}", pid, where));
    v->set_pages_present(present);
    v->set_pages_dumped(dumped);
  }
  auto r = readable.flush();
  if (!r)
    return std::move(r).error().context(fmt::format("pid {}: memory", pid));
  uint64_t written = readable.written();
  if (!unreadable.empty()) {
    // PROT_NONE (or write-only) mappings with pages: /proc/PID/mem reads
    // them (FOLL_FORCE), process_vm_readv cannot.
    auto m2 = proc::MemReader::open(pid, proc::MemReader::Method::proc_mem);
    if (!m2)
      return std::move(m2).error();
    image::Memory extra;
    PageWriter pw(ctx, PageWriter::Pass::frozen, &*m2, -1, extra.mutable_pages());
    for (const auto& [a, n] : unreadable) {
      auto r2 = pw.add(a, n, 0);
      if (!r2)
        return std::move(r2).error();
    }
    auto r3 = pw.flush();
    if (!r3)
      return std::move(r3).error().context(fmt::format("pid {}: memory without PROT_READ", pid));
    written += pw.written();
    for (const auto& run : extra.pages())
      *mem->add_pages() = run;
  }
  for (const auto& run : reuse_runs)
    *mem->add_pages() = run;
  std::sort(mem->mutable_pages()->begin(), mem->mutable_pages()->end(),
            [](const image::PageRun& a, const image::PageRun& b) { return a.vaddr() < b.vaddr(); });
  // In the image: read now, plus pre-copied pages still clean.
  ctx.counters.pages_written += written + reused;
  ctx.counters.pages_reused += reused;
  return {};
}

}  // namespace ckpt::dump
