// What the parts of a dump share: the session, the image writer, the page
// buffer, the objects stored once for the whole tree (shared memory, pipe
// contents, the socket tables) and the statistics.  One per dump(), passed
// explicitly.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "core/fd.h"
#include "core/mapping.h"
#include "core/result.h"
#include "image/proto.h"
#include "image/writer.h"
#include "kmod/device.h"
#include "kmod/session.h"
#include "dump/page_lanes.h"
#include "net/sock_diag.h"
#include "proc/stat.h"

namespace ckpt::dump {

struct Counters {
  uint64_t memdump_us = 0;  // with page lanes: their PageLanes::busy_us()
  uint64_t memwrite_us = 0;  // filled from the writer's background time
  uint64_t pages_scanned = 0;
  uint64_t pages_written = 0;
  uint64_t shpages_scanned = 0;
  uint64_t shpages_written = 0;
  uint64_t pages_zero = 0;        // mapped to the shared zero page: not stored
  uint64_t pages_reused = 0;      // pre-copied and clean at the freeze
  uint64_t pages_by_kernel = 0;   // written by the module (CKPT_IOC_PAGES)
  uint64_t pages_hashed_by_kernel = 0;  // of those, hashed by it too
  uint64_t pages_precopied = 0;   // copied before the freeze
  uint64_t precopy_us = 0;
};

// Pages copied before the freeze (pre-copy): where they are in the image.
struct PreRun {
  uint64_t vaddr = 0;
  uint64_t nr_pages = 0;
  uint32_t file = 0;  // page file
  uint32_t section = 0;
  uint64_t offset = 0;
  uint64_t page_size = 4096;
};
struct PreCopy {
  Fd pidfd;                  // the process copied: a later pid reuse is seen
  std::vector<PreRun> runs;  // sorted by vaddr
  uint64_t pages = 0;
};

struct Context {
  const kmod::Session* session = nullptr;
  // CKPT_IOC_PAGES, when the module has it: process memory is written into
  // the image by the kernel (null: read by process_vm_readv).
  const kmod::PageCopier* pages = nullptr;
  // With @pages: the module also hashes what it writes before the freeze
  // (CKPT_PAGES_XXH64); frozen, it only copies, and the writer's thread
  // hashes those sections after the thaw.
  bool precopy_hashed = false;
  // With @pages and a directory image of several page files: one thread
  // per page file makes the module's calls (null: this thread does).
  PageLanes* lanes = nullptr;
  image::ImageWriter* writer = nullptr;
  std::size_t page_size = 4096;
  // Page data is read in chunks of at most this many bytes, one PAGES
  // section each (<= ImageWriter::kMaxPagesSection).
  uint64_t chunk_bytes = 0;
  // The shared zero page's pfn (0: unknown, PFNs hidden without CAP_SYS_ADMIN).
  uint64_t zero_pfn = 0;
  Counters counters;
  // Shared memory objects already stored, by (dev, inode).
  std::set<std::pair<uint64_t, uint64_t>> shmem_done;
  // Pipes whose buffered bytes are already captured, by pipefs inode.
  std::set<uint64_t> pipes_done;
  std::vector<image::PipeData> pipe_data;
  // The caller's network namespace and its socket tables, read on first use.
  uint64_t own_netns = 0;
  std::optional<net::UnixSockMap> unix_socks;
  std::optional<net::InetSockMap> inet_socks;
};

// memory.cc: the VMAs and private pages of a live process; shared memory
// objects are stored once (SHMEM sections) and referenced by Vma.shmem_id.
// @pre: what precopy_memory() copied of this process before the freeze;
// pages still clean (soft-dirty bit clear, VMA without VM_SOFTDIRTY) are
// referenced there instead of read again.
// @stat: the process's /proc/PID/stat, read once by the caller.
Result<void> dump_memory(Context& ctx, pid_t pid, const proc::ProcStat& stat, image::Memory* mem,
                         const PreCopy* pre);
// Before the freeze, while the tree runs: clears the soft-dirty bits of
// @pid (clear_refs 4), then copies its private pages into the image.
Result<PreCopy> precopy_memory(Context& ctx, pid_t pid);
Result<void> init_zero_page(Context& ctx);
// files.cc: every open fd; an unsupported one is an error naming it.
Result<void> dump_files(Context& ctx, pid_t pid, int pidfd, image::Process* proc);
// process.cc: identity, credentials, attributes, signals and threads.
Result<void> dump_process_state(Context& ctx, pid_t pid, const proc::ProcStat& stat,
                                const std::vector<ckpt_task>& threads, image::Process* proc);

}  // namespace ckpt::dump
