// dump(): the orchestration (see dump.h for the steps and the guarantees).
#include "dump/dump.h"

#include <poll.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <map>
#include <optional>

#include "cgroup/cgroup.h"
#include "cgroup/freeze_guard.h"
#include "core/file.h"
#include "core/log.h"
#include "dump/context.h"
#include "dump/watchdog.h"
#include "image/writer.h"
#include "kmod/device.h"
#include "kmod/session.h"
#include "proc/attrs.h"
#include "proc/fds.h"
#include "proc/mountinfo.h"
#include "proc/stat.h"
#include "run/target.h"
#include "version.h"

namespace ckpt::dump {
namespace {

using Us = std::chrono::microseconds;
uint64_t us_between(Clock::time_point a, Clock::time_point b) {
  return static_cast<uint64_t>(std::chrono::duration_cast<Us>(b - a).count());
}

// --cgroup: an absolute path, or a name under the v2 mount (tried first)
// or the v1 freezer mount.
Result<cg::Cgroup> open_cgroup(const std::string& name) {
  auto mounts = proc::read_mountinfo();
  if (!mounts)
    return std::move(mounts).error();
  if (!name.empty() && name.front() == '/')
    return cg::Cgroup::open(name, *mounts);
  std::optional<Error> first;
  for (bool v1 : {false, true}) {
    auto t = run::resolve_target(name, v1, *mounts);
    if (!t)
      continue;
    auto c = cg::Cgroup::open(t->path, *mounts);
    if (c)
      return c;
    if (!first)
      first = std::move(c).error();
  }
  if (first)
    return std::move(*first);
  return Error::msg("cgroup " + name + ": no cgroup v2 or v1 freezer mount holds it", ENOENT);
}

// Half of MemAvailable, at least one chunk: pages beyond it are written
// while the tree is still frozen (the queue blocks) rather than risk the
// OOM killer.
uint64_t default_buffer_limit() {
  uint64_t avail = 0;
  if (auto m = read_file("/proc/meminfo")) {
    auto p = m->find("MemAvailable:");
    if (p != std::string::npos)
      avail = std::strtoull(m->c_str() + p + 13, nullptr, 10) << 10;
  }
  return std::max<uint64_t>(avail / 2, image::ImageWriter::kMaxPagesSection);
}

// A process whose pidfd polls readable has exited.
Result<void> check_alive(int pidfd, pid_t pid) {
  struct pollfd p = {pidfd, POLLIN, 0};
  int n = ::poll(&p, 1, 0);
  if (n < 0)
    return Error::from_errno("poll pidfd");
  if (n > 0)
    return Error::msg(fmt::format("pid {} exited during the dump (killed while frozen?)", pid), ESRCH);
  return {};
}

struct ProcessTasks {
  ckpt_task leader{};
  std::vector<ckpt_task> threads;  // leader first
};

// The scan records grouped by thread group, in the scan's (DFS) order.
std::vector<ProcessTasks> group_processes(const std::vector<ckpt_task>& tasks) {
  std::vector<ProcessTasks> out;
  std::map<uint32_t, size_t> index;
  for (const auto& t : tasks) {
    auto it = index.find(t.tgid);
    if (it == index.end()) {
      index[t.tgid] = out.size();
      out.push_back({});
      it = index.find(t.tgid);
    }
    auto& p = out[it->second];
    if (t.pid == t.tgid)
      p.leader = t;
    p.threads.push_back(t);
  }
  for (auto& p : out)
    std::stable_partition(p.threads.begin(), p.threads.end(),
                          [](const ckpt_task& t) { return t.pid == t.tgid; });
  return out;
}

void fill_info(const DumpOptions& o, const cg::Cgroup& cg, const ckpt_info& k, bool was_frozen,
               image::ImageInfo* info) {
  struct utsname u;
  if (::uname(&u) == 0) {
    info->set_kernel_release(u.release);
    info->set_hostname(u.nodename);
    info->set_arch(u.machine);
  }
  struct timespec ts;
  ::clock_gettime(CLOCK_REALTIME, &ts);
  info->set_tool_version(kVersion);
  info->set_abi_version(k.abi_version);
  info->set_page_size(static_cast<uint32_t>(::sysconf(_SC_PAGESIZE)));
  info->set_created_unix_ns(static_cast<uint64_t>(ts.tv_sec) * 1000000000ull +
                            static_cast<uint64_t>(ts.tv_nsec));
  info->set_root_pid(static_cast<uint32_t>(o.root_pid));
  info->set_cgroup_path(cg.path());
  info->set_cgroup_version(cg.version() == cg::Version::v2 ? 2 : 1);
  info->set_end_action(o.end_action == cg::EndAction::thaw           ? "thaw"
                       : o.end_action == cg::EndAction::leave_frozen ? "leave-frozen"
                                                                     : "kill");
  info->set_was_frozen(was_frozen);
  info->set_xstate_size(k.xstate_size);
  info->set_command_line(o.command_line);
}

Result<image::ImageWriter> open_output(const DumpOptions& o, uint32_t page_files) {
  image::Output out = o.directory         ? image::Output::directory(o.output)
                      : o.output == "-"   ? image::Output::stream(STDOUT_FILENO)
                                          : image::Output::file(o.output);
  image::ImageHeaderParams params;
  params.page_files = page_files;
  return image::ImageWriter::create(std::move(out), params);
}

// The CPUs this process may run on (1 if that cannot be told).
unsigned allowed_cpus() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (::sched_getaffinity(0, sizeof(set), &set) != 0)
    return 1;
  return static_cast<unsigned>(std::max(CPU_COUNT(&set), 1));
}

// How many page files (and copying threads) the dump uses
// (DumpOptions::page_files); @by_module: the module writes the page data.
Result<uint32_t> page_files_for(const DumpOptions& o, bool by_module) {
  if (o.page_files == 0)
    return o.directory && by_module ? std::min(allowed_cpus(), DumpOptions::kAutoPageFiles) : 1u;
  if (o.page_files > image::kMaxPageFiles)
    return Error::msg(fmt::format("{} page files: at most {}", o.page_files, image::kMaxPageFiles),
                      EINVAL);
  if (o.page_files > 1 && !o.directory)
    return Error::msg(fmt::format("{} page files need a directory image (--dir)", o.page_files),
                      EINVAL);
  if (o.page_files > 1 && !by_module)
    return Error::msg(fmt::format("{} page files need the module to write the page data "
                                  "(CKPT_IOC_PAGES; not with --no-kernel-pages)",
                                  o.page_files),
                      EOPNOTSUPP);
  return o.page_files;
}

Result<void> dump_one(Context& ctx, const ProcessTasks& p, image::Process* proc,
                      const std::map<pid_t, PreCopy>& pre) {
  pid_t pid = static_cast<pid_t>(p.leader.pid);
  if (p.leader.flags & CKPT_TASK_ZOMBIE) {
    // Exited, not yet reaped: only its identity and exit code remain.
    proc->set_pid(p.leader.pid);
    proc->set_zombie(true);
    auto st = proc::read_stat(pid);
    if (!st)
      return std::move(st).error();
    proc->set_comm(st->comm);
    proc->set_exit_signal(st->exit_signal);
    return {};
  }
  auto pidfd = proc::pidfd_open(pid);
  if (!pidfd)
    return std::move(pidfd).error();
  std::vector<ckpt_task> live;
  for (const auto& t : p.threads)
    if (!(t.flags & CKPT_TASK_ZOMBIE))
      live.push_back(t);
  auto stat = proc::read_stat(pid);  // once: both parts below use it
  if (!stat)
    return std::move(stat).error();
  auto r = dump_process_state(ctx, pid, *stat, live, proc);
  if (!r)
    return r;
  // The pre-copy applies only to the very process it was taken from: its
  // pidfd must still be alive (a recycled pid has a different one).
  const PreCopy* pc = nullptr;
  if (auto it = pre.find(pid); it != pre.end() && check_alive(it->second.pidfd.get(), pid))
    pc = &it->second;
  r = dump_memory(ctx, pid, *stat, proc->mutable_memory(), pc);
  if (!r)
    return r;
  r = dump_files(ctx, pid, pidfd->get(), proc);
  if (!r)
    return r;
  return check_alive(pidfd->get(), pid);
}

// Whether the module hashes the page data it writes before the freeze
// (DumpOptions::PageHash); frozen, it never does.  When every CPU has a
// page file to copy into (one CPU and one file, two and two, ...), the
// writer's second pass cannot overlap anything, so the hash is cheapest
// during the copy; with a CPU to spare, the copy goes faster while that
// CPU hashes.
bool hash_in_module(DumpOptions::PageHash how, const kmod::PageCopier& pc, uint32_t page_files) {
  if (!pc.can_hash() || how == DumpOptions::PageHash::writer)
    return false;
  if (how == DumpOptions::PageHash::module)
    return true;
  return allowed_cpus() <= page_files;
}

}  // namespace

Result<DumpResult> dump(const DumpOptions& o, const ProgressFn& progress) {
  const auto t_start = Clock::now();
  DumpResult res;
  auto report = [&](const char* phase, uint32_t done, uint32_t total, uint64_t bytes) {
    if (progress)
      progress({done, total, bytes, phase});
  };

  auto cgr = open_cgroup(o.cgroup);
  if (!cgr)
    return std::move(cgr).error();
  const cg::Cgroup& cg = *cgr;
  // The root, pinned: a pidfd cannot be confused with a recycled pid.
  auto root = proc::pidfd_open(o.root_pid);
  if (!root)
    return std::move(root).error().context(fmt::format("root pid {}", o.root_pid));
  auto dev = kmod::Device::open();
  if (!dev)
    return std::move(dev).error();
  auto abi = dev->checked_info();
  if (!abi)
    return std::move(abi).error();
  auto before = cg.freezer_status();
  if (!before)
    return std::move(before).error();
  if (before->checkpointing)
    return Error::msg(cg.path() + " is already being checkpointed (CHECKPOINTING)", EBUSY);

  // The watchdog first: it must outlive every guard below.
  const bool v2 = cg.version() == cg::Version::v2;
  auto wd = Watchdog::start(cg.path() + (v2 ? "/cgroup.freeze" : "/freezer.state"),
                            v2 ? "0" : "THAWED");
  if (!wd)
    return std::move(wd).error();
  // Page data written by the module when it can (a file or directory
  // image, a module with CKPT_IOC_PAGES); else read by process_vm_readv.
  std::optional<kmod::PageCopier> copier;
  const bool stream = !o.directory && o.output == "-";
  if (o.kernel_pages && !stream) {
    auto pc = kmod::PageCopier::open(*dev, *abi);
    if (pc)
      copier.emplace(std::move(*pc));
    else
      log::debug("page data by process_vm_readv: {}", pc.error().message());
  }
  auto page_files = page_files_for(o, copier.has_value());
  if (!page_files)
    return std::move(page_files).error();
  // The output before the freeze: a bad path fails while nothing is frozen.
  auto writer = open_output(o, *page_files);
  if (!writer)
    return std::move(writer).error().context("image " + o.output);
  if (!writer->temp_path().empty()) {
    auto r = wd->remove_on_death(writer->temp_path());
    if (!r)
      return std::move(r).error();
  }
  if (!before->self) {
    auto r = wd->arm_thaw();
    if (!r)
      return std::move(r).error();
  }

  // Page data is queued and written by a background thread, so the tree is
  // frozen only while it is read; the queue is bounded (blocking beyond).
  uint64_t limit = o.buffer_limit ? o.buffer_limit : default_buffer_limit();
  if (auto r = writer->start_background(limit); !r)
    return std::move(r).error();
  log::debug("page queue limit {} MiB", limit >> 20);

  // INFO first (readers require it), before the pre-copy's PAGES.
  {
    image::ImageInfo info;
    fill_info(o, cg, *abi, before->self, &info);
    if (auto w = writer->put(image::SectionType::info, info); !w)
      return std::move(w).error();
  }

  Context ctx;
  ctx.writer = &*writer;
  ctx.pages = copier ? &*copier : nullptr;
  ctx.precopy_hashed = copier && hash_in_module(o.page_hash, *copier, *page_files);
  ctx.page_size = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
  ctx.chunk_bytes = image::ImageWriter::kMaxPagesSection;
  // Several page files: a thread each, copying sections of a quarter the
  // size, so that a 64 MiB process keeps them all busy too.  Declared
  // after ctx and the writer (it uses both), so it is joined before they
  // go, on every path.  On success every copy is done before the session
  // ends (sync() below); on an error path the session and the freeze end
  // first and copies still in flight finish here, into an image that is
  // then removed (each lane writes through its own dup of the file).
  std::unique_ptr<PageLanes> lanes;
  if (*page_files > 1) {
    auto l = PageLanes::start(*dev, *abi, *writer, ctx.counters, *page_files);
    if (!l)
      return std::move(l).error();
    lanes = std::move(*l);
    ctx.lanes = lanes.get();
    ctx.chunk_bytes = image::ImageWriter::kMaxPagesSection / 4;
    log::debug("{} page files, one copying thread each", *page_files);
  }
  if (auto r = init_zero_page(ctx); !r)
    return std::move(r).error();

  // Pre-copy: while the tree still runs, copy its private memory and clear
  // the soft-dirty bits; frozen, only pages written since are read again.
  // An optimisation only: a process it fails for is simply read in full.
  std::map<pid_t, PreCopy> pre;
  if (o.pre_copy) {
    const auto t_pre = Clock::now();
    auto pids = cg.subtree_procs();
    if (!pids)
      return std::move(pids).error();
    uint32_t n = 0;
    for (pid_t pid : *pids) {
      report("pre-copy", n++, static_cast<uint32_t>(pids->size()), writer->bytes_written());
      auto pc = precopy_memory(ctx, pid);
      if (!pc) {
        // Its copies still in flight end here, not in the next process's.
        if (lanes)
          (void)lanes->sync();
        log::info("pre-copy of pid {} skipped: {}", pid, pc.error().message());
        continue;
      }
      ctx.counters.pages_precopied += pc->pages;
      pre.emplace(pid, std::move(*pc));
    }
    ctx.counters.precopy_us = us_between(t_pre, Clock::now());
  }
  writer->hold_background(true);

  report("freezing", 0, 0, 0);
  const auto t_freeze = Clock::now();
  auto guard = cg::FreezeGuard::freeze(cg, o.freeze_timeout);
  if (!guard)
    return std::move(guard).error();
  const auto t_frozen = Clock::now();
  res.freezing_time_us = us_between(t_freeze, t_frozen);

  auto session = kmod::Session::begin(std::move(*dev), cg.dir_fd(), kmod::Root::pidfd(root->get()));
  if (!session)
    return std::move(session).error();
  const auto t_scan = Clock::now();
  auto tasks = session->scan();
  if (!tasks)
    return std::move(tasks).error().context("scan the tree");
  res.scan_time_us = us_between(t_scan, Clock::now());
  auto procs = group_processes(*tasks);
  res.processes = static_cast<uint32_t>(procs.size());
  res.threads = static_cast<uint32_t>(tasks->size());

  ctx.session = &*session;
  {
    auto self_ns = proc::read_proc_link(::getpid(), "ns/net");
    if (self_ns) {
      auto ino = proc::parse_ns_link(*self_ns, "net");
      if (ino)
        ctx.own_netns = *ino;
    }
  }

  image::Tree tree;
  for (const auto& t : *tasks) {
    auto* x = tree.add_tasks();
    x->set_pid(t.pid);
    x->set_tgid(t.tgid);
    x->set_ppid(t.ppid);
    x->set_pgid(t.pgid);
    x->set_sid(t.sid);
    x->set_vpid(t.vpid);
    x->set_vtgid(t.vtgid);
    x->set_flags(t.flags);
    x->set_depth(t.depth);
  }
  auto w = writer->put(image::SectionType::tree, tree);
  if (!w)
    return std::move(w).error();

  // The records are kept and serialised after the thaw: encoding a process
  // with a thousand mappings is work the tree need not wait for.  Their
  // page data is already placed (PAGES sections, by seq), so the PROCESS
  // sections simply come later in the file.
  std::vector<image::Process> dumped(procs.size());
  uint32_t done = 0;
  for (const auto& p : procs) {
    report("dumping", done, res.processes, writer->bytes_written());
    image::Process& proc = dumped[done];
    auto r = dump_one(ctx, p, &proc, pre);
    if (!r)
      return std::move(r).error().context(fmt::format("pid {} ({})", p.leader.pid, proc.comm()));
    ++done;
  }
  // Every copy done (and its error seen) before the tree may move again.
  if (lanes) {
    if (auto r = lanes->sync(); !r)
      return std::move(r).error().context("copy the page data");
    ctx.counters.memdump_us += lanes->busy_us();
  }
  // Everything is read: end the session.  The tree is let go before the
  // image is committed (fsync and rename do not need it frozen), except
  // for --kill: a workload is killed only once its image is safely written.
  auto e = session->end();
  if (!e)
    return std::move(e).error();
  const bool kill_after = o.end_action == cg::EndAction::kill;
  if (!kill_after) {
    auto fin = guard->finish(o.end_action);
    if (!fin)
      return std::move(fin).error().context(
          fmt::format("after the dump: {}", cg::end_action_name(o.end_action)));
  }
  res.frozen_time_us = us_between(t_frozen, Clock::now());
  writer->hold_background(false);
  for (const auto& proc : dumped) {
    auto s = writer->put(image::SectionType::process, proc);
    if (!s)
      return std::move(s).error();
  }
  for (const auto& pd : ctx.pipe_data) {
    auto s = writer->put(image::SectionType::pipe_data, pd);
    if (!s)
      return std::move(s).error();
  }
  report("writing", res.processes, res.processes, writer->bytes_written());
  if (auto r = writer->drain(); !r)
    return std::move(r).error().context("write the image");
  ctx.counters.memwrite_us = writer->background_write_us();

  const Counters& c = ctx.counters;
  res.memdump_time_us = c.memdump_us;
  res.memwrite_time_us = c.memwrite_us;
  res.pages_scanned = c.pages_scanned;
  res.pages_written = c.pages_written;
  res.shpages_scanned = c.shpages_scanned;
  res.shpages_written = c.shpages_written;
  res.pages_zero = c.pages_zero;
  res.pages_precopied = c.pages_precopied;
  res.pages_reused = c.pages_reused;
  res.pages_by_kernel = c.pages_by_kernel;
  res.pages_hashed_by_kernel = c.pages_hashed_by_kernel;
  res.precopy_time_us = c.precopy_us;
  res.total_time_us = us_between(t_start, Clock::now());
  image::DumpStats st;
  st.set_freezing_time_us(res.freezing_time_us);
  st.set_frozen_time_us(res.frozen_time_us);
  st.set_memdump_time_us(res.memdump_time_us);
  st.set_memwrite_time_us(res.memwrite_time_us);
  st.set_pages_scanned(res.pages_scanned);
  st.set_pages_written(res.pages_written);
  st.set_shpages_scanned(res.shpages_scanned);
  st.set_shpages_written(res.shpages_written);
  st.set_scan_time_us(res.scan_time_us);
  st.set_pages_zero(res.pages_zero);
  st.set_pages_precopied(res.pages_precopied);
  st.set_pages_reused(res.pages_reused);
  st.set_pages_by_kernel(res.pages_by_kernel);
  st.set_pages_hashed_by_kernel(res.pages_hashed_by_kernel);
  st.set_precopy_time_us(res.precopy_time_us);
  st.set_total_time_us(res.total_time_us);
  st.set_image_bytes(writer->bytes_written());
  st.set_tasks(res.threads);
  st.set_processes(res.processes);
  w = writer->put(image::SectionType::stats, st);
  if (!w)
    return std::move(w).error();
  auto cm = writer->commit();
  if (!cm)
    return std::move(cm).error().context("commit the image");
  res.image_bytes = writer->bytes_written();
  if (kill_after) {
    auto fin = guard->finish(o.end_action);
    if (!fin)
      return std::move(fin).error().context("the image is written; killing the tree failed");
  }
  auto fg = wd->forget_path();
  if (!fg)
    log::warn("{}", fg.error().message());
  wd->dismiss();
  report("done", res.processes, res.processes, res.image_bytes);
  return res;
}

}  // namespace ckpt::dump
