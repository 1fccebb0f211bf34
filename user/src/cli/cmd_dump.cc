// ckpt-user dump --cgroup PATH --pid PID (-o FILE|- | -D DIR)
//                [--leave-frozen|--kill] [--freeze-timeout DUR] [--stats]
#include <fmt/format.h>
#include <signal.h>
#include <unistd.h>

#include <charconv>
#include <map>
#include <memory>

#include "cli/commands.h"
#include "cli/output.h"
#include "core/time.h"
#include "dump/dump.h"
#include "dump/progress.h"
#include "image/format.h"

namespace ckpt::cli {
namespace {

// --page-hash's names (CLI11's CheckedTransformer would also take the
// enum's numbers, and print them in --help).
const std::map<std::string, dump::DumpOptions::PageHash> kPageHash = {
    {"auto", dump::DumpOptions::PageHash::auto_},
    {"module", dump::DumpOptions::PageHash::module},
    {"writer", dump::DumpOptions::PageHash::writer},
};

struct DumpArgs {
  std::string cgroup;
  pid_t pid = 0;
  std::string output;
  std::string dir;
  bool leave_frozen = false;
  bool kill = false;
  std::string freeze_timeout;
  bool stats = false;
  bool no_progress = false;
  bool no_pre_copy = false;
  bool no_kernel_pages = false;
  std::string page_hash = "auto";
  std::string page_files = "auto";
};

// --page-files: "auto" (0) or 1..kMaxPageFiles; more than one needs -D.
Result<uint32_t> parse_page_files(const std::string& v, bool directory) {
  if (v == "auto")
    return 0u;
  uint32_t n = 0;
  auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
  if (ec != std::errc() || end != v.data() + v.size() || n < 1 || n > image::kMaxPageFiles)
    return Error::msg(fmt::format("--page-files: {} is not 'auto' or a number from 1 to {}", v,
                                  image::kMaxPageFiles));
  if (n > 1 && !directory)
    return Error::msg(fmt::format("--page-files {}: several page files need a directory image (-D)", n));
  return n;
}

std::string us(uint64_t v) {
  return format_duration(std::chrono::microseconds(v));
}

void print_stats(const dump::DumpResult& r) {
  // CRIU's names (crit show stats-dump), so that users can compare.
  print_err(fmt::format(
      "dump statistics:\n"
      "  freezing_time   {:>12}\n"
      "  frozen_time     {:>12}\n"
      "  memdump_time    {:>12}\n"
      "  memwrite_time   {:>12}\n"
      "  pages_scanned   {:>12}\n"
      "  pages_written   {:>12}\n"
      "  shpages_scanned {:>12}\n"
      "  shpages_written {:>12}\n"
      "  scan_time       {:>12}\n"
      "  precopy_time    {:>12}\n"
      "  pages_precopied {:>12}\n"
      "  pages_reused    {:>12}\n"
      "  pages_zero      {:>12}\n"
      "  pages_by_kernel {:>12}\n"
      "  pages_hashed_by_kernel {:>5}\n"
      "  total_time      {:>12}\n"
      "  processes       {:>12}\n"
      "  threads         {:>12}\n"
      "  image_bytes     {:>12}\n",
      us(r.freezing_time_us), us(r.frozen_time_us), us(r.memdump_time_us),
      us(r.memwrite_time_us), r.pages_scanned, r.pages_written, r.shpages_scanned,
      r.shpages_written, us(r.scan_time_us), us(r.precopy_time_us), r.pages_precopied,
      r.pages_reused, r.pages_zero, r.pages_by_kernel,
      r.pages_hashed_by_kernel, us(r.total_time_us), r.processes, r.threads,
      r.image_bytes));
}

}  // namespace

Command add_dump_command(CLI::App& app, CommonArgs& common) {
  auto a = std::make_shared<DumpArgs>();
  CLI::App* sub = app.add_subcommand("dump", "Checkpoint a process tree frozen in a cgroup");
  add_common_flags(*sub, common);
  sub->add_option("--cgroup", a->cgroup,
                  "The tree's cgroup: v2, or a v1 freezer cgroup (absolute path, or relative "
                  "to the cgroup mount)")
      ->required();
  sub->add_option("--pid", a->pid, "The root process of the tree (in the cgroup)")->required();
  auto* out = sub->add_option("-o,--output", a->output,
                              "Write a single-file image to FILE ('-': stdout, a stream)");
  auto* dir = sub->add_option("-D,--dir", a->dir, "Write a directory image to DIR (must not exist)");
  out->excludes(dir);
  auto* lf = sub->add_flag("--leave-frozen", a->leave_frozen,
                           "Leave the tree frozen after the dump (default: thaw it)");
  auto* kl = sub->add_flag("--kill", a->kill, "Kill the tree after a successful dump");
  lf->excludes(kl);
  sub->add_option("--freeze-timeout", a->freeze_timeout,
                  "Give up if the tree is not frozen after this long (default 10s)");
  sub->add_flag("--stats", a->stats, "Print the dump statistics on stderr");
  sub->add_flag("--no-progress", a->no_progress, "No progress line, even on a terminal");
  sub->add_flag("--no-pre-copy", a->no_pre_copy,
                "Do not copy memory before freezing (pre-copy clears the tree's soft-dirty "
                "bits, which another soft-dirty user would notice)");
  sub->add_flag("--no-kernel-pages", a->no_kernel_pages,
                "Read memory with process_vm_readv instead of having the module write it into "
                "the image (CKPT_IOC_PAGES); for comparison and diagnosis");
  sub->add_option("--page-hash", a->page_hash,
                  "Who hashes the page data the module writes before the freeze: 'module' "
                  "(as it writes it), 'writer' (a second pass, in parallel on another CPU) or "
                  "'auto' (module when every CPU ckpt-user may use has a page file to copy into: "
                  "one CPU, or as many page files as CPUs; the default).  Pages "
                  "copied while frozen are hashed by the writer after the thaw")
      ->check(CLI::IsMember(kPageHash));
  sub->add_option("--page-files", a->page_files,
                  "Page files of a directory image (-D), each filled by its own thread: 'auto' "
                  "(one per CPU ckpt-user may use, at most 4, when the module writes the page "
                  "data; the default) or 1 to 64.  More than one makes a format 3.0 image")
      ->type_name("N|auto");
  sub->footer(
      "A cgroup that was frozen before the dump stays frozen.  On any error the tree is left\n"
      "as it was and no complete-looking image is written.  Exit status: 0 on success,\n"
      "1 on failure, 2 on a usage error.");
  return {sub, [a, &common] {
            if (!common.after_dashes.empty() || common.has_dashes) {
              print_error(Error::msg("dump: unexpected arguments after '--'"));
              return kExitUsage;
            }
            dump::DumpOptions o;
            o.cgroup = a->cgroup;
            o.root_pid = a->pid;
            if (a->pid <= 0) {
              print_error(Error::msg(fmt::format("dump: --pid {}: not a process id", a->pid)));
              return kExitUsage;
            }
            if (a->output.empty() && a->dir.empty()) {
              print_error(Error::msg("dump: say where the image goes: -o FILE, -o - or -D DIR"));
              return kExitUsage;
            }
            o.directory = !a->dir.empty();
            o.output = o.directory ? a->dir : a->output;
            if (o.output == "-" && ::isatty(STDOUT_FILENO)) {
              print_error(Error::msg("dump: refusing to write an image to a terminal (-o - with stdout a tty)"));
              return kExitUsage;
            }
            if (a->leave_frozen)
              o.end_action = cg::EndAction::leave_frozen;
            else if (a->kill)
              o.end_action = cg::EndAction::kill;
            if (!a->freeze_timeout.empty()) {
              auto t = parse_duration(a->freeze_timeout);
              if (!t) {
                print_error(std::move(t).error().context("dump: --freeze-timeout"));
                return kExitUsage;
              }
              o.freeze_timeout = *t;
            }
            o.pre_copy = !a->no_pre_copy;
            o.kernel_pages = !a->no_kernel_pages;
            o.page_hash = kPageHash.at(a->page_hash);
            auto files = parse_page_files(a->page_files, o.directory);
            if (!files) {
              print_error(std::move(files).error().context("dump"));
              return kExitUsage;
            }
            o.page_files = *files;
            o.command_line = "ckpt-user dump --cgroup " + a->cgroup + " --pid " +
                             std::to_string(a->pid);
            // -o - into a pipe whose reader goes away: EPIPE from write(2),
            // an error with cleanup, rather than death by SIGPIPE.
            ::signal(SIGPIPE, SIG_IGN);
            dump::ProgressLine line(!a->no_progress && ::isatty(STDERR_FILENO));
            auto r = dump::dump(o, [&](const dump::Progress& p) { line.update(p); });
            line.finish();
            if (!r) {
              print_error(std::move(r).error().context("dump"));
              return kExitFailure;
            }
            if (a->stats)
              print_stats(*r);
            return kExitOk;
          }};
}

}  // namespace ckpt::cli
