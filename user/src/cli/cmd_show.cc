// ckpt-user show [--json|--text] [--pages] [--verify] IMAGE
//   IMAGE: an image file, a directory image, or "-" for stdin.
#include <xxhash.h>

#include <ctime>
#include <map>
#include <memory>
#include <string>

#include <fmt/format.h>
#include <google/protobuf/util/json_util.h>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/output.h"
#include "core/error.h"
#include "image/reader.h"

namespace ckpt::cli {

namespace {

using nlohmann::json;
using namespace ckpt::image;

json to_json(const google::protobuf::Message& m) {
  google::protobuf::util::JsonPrintOptions o;
  o.preserve_proto_field_names = true;
  std::string s;
  auto st = google::protobuf::util::MessageToJsonString(m, &s, o);
  if (!st.ok())
    return json{{"error", st.ToString()}};
  return json::parse(s);
}

std::string hex(std::string_view b) {
  std::string s;
  for (unsigned char c : b)
    s += fmt::format("{:02x}", c);
  return s;
}

std::string fd_kind(const image::Fd& f) {
  switch (f.kind_case()) {
    case image::Fd::kFile: return f.file().directory() ? "dir" : "file";
    case image::Fd::kPipe: return f.pipe().fifo() ? "fifo" : "pipe";
    case image::Fd::kUnixSocket: return "unix";
    case image::Fd::kInetSocket: return "inet";
    case image::Fd::kEventfd: return "eventfd";
    case image::Fd::kTimerfd: return "timerfd";
    case image::Fd::kSignalfd: return "signalfd";
    case image::Fd::kEpoll: return "epoll";
    case image::Fd::kTty: return "tty";
    case image::Fd::KIND_NOT_SET: break;
  }
  return "unknown";
}

uint64_t run_pages(const google::protobuf::RepeatedPtrField<PageRun>& runs) {
  uint64_t n = 0;
  for (const auto& r : runs)
    n += r.nr_pages();
  return n;
}

// Pages of @runs inside [start, end).
uint64_t pages_in(const google::protobuf::RepeatedPtrField<PageRun>& runs, uint64_t start,
                  uint64_t end, uint32_t ps) {
  uint64_t n = 0;
  for (const auto& r : runs) {
    uint64_t rs = r.vaddr(), re = r.vaddr() + r.nr_pages() * ps;
    uint64_t lo = std::max(rs, start), hi = std::min(re, end);
    if (hi > lo)
      n += (hi - lo) / ps;
  }
  return n;
}

Result<json> runs_json(ImageReader& reader, const google::protobuf::RepeatedPtrField<PageRun>& runs,
                       uint32_t ps, bool hashes) {
  json out = json::array();
  for (const auto& r : runs) {
    json j = {{"vaddr", r.vaddr()}, {"nr_pages", r.nr_pages()}, {"file", r.file()},
              {"section", r.section()}, {"offset", r.offset()}};
    if (hashes) {
      // One XXH3-64 per page, in order (the e2e tests compare them page by
      // page with CRIU's).  Read in chunks: a run can be a GiB long.
      constexpr uint64_t kChunk = 256;
      json list = json::array();
      for (uint64_t i = 0; i < r.nr_pages(); i += kChunk) {
        PageRun part = r;
        part.set_vaddr(r.vaddr() + i * ps);
        part.set_offset(r.offset() + i * ps);
        part.set_nr_pages(std::min(kChunk, r.nr_pages() - i));
        auto bytes = reader.read_run(part);
        if (!bytes)
          return std::move(bytes).error();
        for (uint64_t k = 0; k < part.nr_pages(); ++k)
          list.push_back(fmt::format("{:016x}", XXH3_64bits(bytes->data() + k * ps, ps)));
      }
      j["page_xxh3"] = std::move(list);
    }
    out.push_back(std::move(j));
  }
  return out;
}

Result<json> render_json(ImageReader& reader, const Image& img, bool hashes) {
  json j;
  j["format"] = {{"version", fmt::format("{}.{}", img.header.major, img.header.minor)},
                 {"uuid", uuid_string(img.header.uuid)},
                 {"page_size", img.header.page_size},
                 {"created_unix_ns", img.header.created_unix_ns},
                 {"directory", img.directory},
                 {"page_files", img.header.page_files},
                 {"total_bytes", img.total_bytes}};
  j["info"] = to_json(img.info);
  j["tree"] = to_json(img.tree);
  j["processes"] = json::array();
  for (const auto& p : img.processes)
    j["processes"].push_back(to_json(p));
  j["shared_memory"] = json::array();
  for (const auto& s : img.shared_memory)
    j["shared_memory"].push_back(to_json(s));
  j["pipes"] = json::array();
  for (const auto& p : img.pipes)
    j["pipes"].push_back({{"inode", p.inode()},
                          {"size", p.data().size()},
                          {"xxh3", fmt::format("{:016x}", XXH3_64bits(p.data().data(), p.data().size()))},
                          {"head_hex", hex(std::string_view(p.data()).substr(0, 32))}});
  j["stats"] = img.stats ? to_json(*img.stats) : json(nullptr);
  j["sections"] = json::array();
  for (const auto& s : img.sections)
    j["sections"].push_back({{"seq", s.header.seq},
                             {"type", section_type_name(s.header.type)},
                             {"flags", s.header.flags},
                             {"length", s.header.length},
                             {"offset", s.offset},
                             {"file", img.directory ? (s.in_pages_file ? page_file_name(s.file)
                                                                       : std::string("meta.ckpt"))
                                                    : std::string("image")}});
  uint32_t ps = img.header.page_size;
  json pstats = json::array();
  for (const auto& p : img.processes) {
    json vmas = json::array();
    for (const auto& v : p.memory().vmas())
      vmas.push_back({{"start", v.start()},
                      {"end", v.end()},
                      {"pages_present", v.pages_present()},
                      {"pages_dumped", v.pages_dumped()},
                      {"pages_in_runs", pages_in(p.memory().pages(), v.start(), v.end(), ps)}});
    auto runs = runs_json(reader, p.memory().pages(), ps, hashes);
    if (!runs)
      return std::move(runs).error().context(fmt::format("process {}", p.pid()));
    pstats.push_back({{"pid", p.pid()},
                      {"pages", run_pages(p.memory().pages())},
                      {"runs", std::move(*runs)},
                      {"vmas", std::move(vmas)}});
  }
  j["page_stats"] = std::move(pstats);
  json sstats = json::array();
  for (const auto& s : img.shared_memory) {
    auto runs = runs_json(reader, s.pages(), ps, hashes);
    if (!runs)
      return std::move(runs).error().context(fmt::format("shared memory {}", s.id()));
    sstats.push_back({{"id", s.id()}, {"pages", run_pages(s.pages())}, {"runs", std::move(*runs)}});
  }
  j["shared_memory_page_stats"] = std::move(sstats);
  return j;
}

std::string human_bytes(uint64_t b) {
  if (b >= (1ull << 30))
    return fmt::format("{:.1f} GiB", static_cast<double>(b) / (1ull << 30));
  if (b >= (1ull << 20))
    return fmt::format("{:.1f} MiB", static_cast<double>(b) / (1ull << 20));
  if (b >= (1ull << 10))
    return fmt::format("{:.1f} KiB", static_cast<double>(b) / (1ull << 10));
  return fmt::format("{} B", b);
}

std::string render_text(const std::string& name, const Image& img) {
  const ImageInfo& in = img.info;
  std::string o;
  o += fmt::format("image {}: format {}.{}, {}, {} sections, {}\n", name, img.header.major,
                   img.header.minor,
                   !img.directory                ? std::string("single stream")
                   : img.header.page_files == 1 ? std::string("directory")
                       : fmt::format("directory of {} page files", img.header.page_files),
                   img.sections.size(), human_bytes(img.total_bytes));
  time_t secs = static_cast<time_t>(img.header.created_unix_ns / 1000000000ull);
  char when[64] = "?";
  struct tm tmv;
  if (gmtime_r(&secs, &tmv))
    strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S UTC", &tmv);
  o += fmt::format("  uuid {}, created {}, page size {}\n", uuid_string(img.header.uuid), when,
                   img.header.page_size);
  o += fmt::format("  written by ckpt-user {} (ABI {}) on {} ({} {})\n", in.tool_version(),
                   in.abi_version(), in.hostname(), in.kernel_release(), in.arch());
  o += fmt::format("  cgroup {} (v{}), root pid {}, end action {}{}\n", in.cgroup_path(),
                   in.cgroup_version(), in.root_pid(), in.end_action(),
                   in.was_frozen() ? ", was frozen before" : "");
  std::map<uint32_t, const Process*> by_pid;
  for (const auto& p : img.processes)
    by_pid[p.pid()] = &p;
  std::map<uint32_t, int> threads;
  for (const auto& t : img.tree.tasks())
    ++threads[t.tgid()];
  o += "tree:\n";
  o += fmt::format("  {:<24} {:>7} {:>7} {:>7} {:>4}  {}\n", "PID", "PPID", "PGID", "SID", "THR",
                   "COMM");
  for (const auto& t : img.tree.tasks()) {
    if (t.pid() != t.tgid())
      continue;
    auto it = by_pid.find(t.pid());
    std::string comm = it != by_pid.end() ? it->second->comm() : "?";
    if (it != by_pid.end() && it->second->zombie())
      comm += " <zombie>";
    std::string pid = std::string(2 * std::min<uint32_t>(t.depth(), 8), ' ') + std::to_string(t.pid());
    o += fmt::format("  {:<24} {:>7} {:>7} {:>7} {:>4}  {}\n", pid, t.ppid(), t.pgid(), t.sid(),
                     threads[t.tgid()], comm);
  }
  o += "processes:\n";
  uint32_t ps = img.header.page_size;
  for (const auto& p : img.processes) {
    uint64_t pages = run_pages(p.memory().pages());
    std::map<std::string, int> fds;
    for (const auto& f : p.fds())
      ++fds[fd_kind(f)];
    std::string fdtxt;
    for (const auto& [k, n] : fds)
      fdtxt += fmt::format("{}{} {}", fdtxt.empty() ? "" : ", ", n, k);
    o += fmt::format("  {} {}: {} threads, {} VMAs, {} pages dumped ({}), {} fds{}\n", p.pid(),
                     p.comm(), p.threads_size(), p.memory().vmas_size(), pages,
                     human_bytes(pages * ps), p.fds_size(),
                     fdtxt.empty() ? "" : " (" + fdtxt + ")");
  }
  if (!img.shared_memory.empty()) {
    uint64_t pages = 0;
    for (const auto& s : img.shared_memory)
      pages += run_pages(s.pages());
    o += fmt::format("shared memory: {} objects, {} pages dumped\n", img.shared_memory.size(), pages);
  }
  if (!img.pipes.empty()) {
    uint64_t bytes = 0;
    for (const auto& p : img.pipes)
      bytes += p.data().size();
    o += fmt::format("pipes: {} with buffered data ({} bytes)\n", img.pipes.size(), bytes);
  }
  if (img.stats) {
    const DumpStats& s = *img.stats;
    o += fmt::format(
        "stats: {} processes, {} threads; freezing {} us, frozen {} us, total {} us;\n"
        "       pages scanned {}, written {}; shared pages scanned {}, written {}; image {}\n",
        s.processes(), s.tasks(), s.freezing_time_us(), s.frozen_time_us(), s.total_time_us(),
        s.pages_scanned(), s.pages_written(), s.shpages_scanned(), s.shpages_written(),
        human_bytes(s.image_bytes()));
  }
  return o;
}

}  // namespace

Command add_show_command(CLI::App& app, CommonArgs& common) {
  struct Options {
    std::string image;
    bool json = false;
    bool text = false;
    bool pages = false;
    bool verify = false;
  };
  auto opt = std::make_shared<Options>();
  CLI::App* sub = app.add_subcommand("show", "Print the contents of a checkpoint image");
  add_common_flags(*sub, common);
  sub->add_option("IMAGE", opt->image, "Image file, directory image, or - for stdin")->required();
  auto* j = sub->add_flag("--json", opt->json,
                          "JSON output (the default when stdout is not a terminal)");
  sub->add_flag("--text", opt->text, "Human summary (the default on a terminal)")->excludes(j);
  sub->add_flag("--pages", opt->pages, "With JSON: an XXH3-64 hash of each stored page (page_xxh3 in each run)");
  sub->add_flag("--verify", opt->verify,
                "Check every checksum, page data included, and print one verdict line");
  sub->footer("Exit status: 0 on success, 1 on a bad or unreadable image.");
  return {sub, [opt, &common] {
            if (common.has_dashes) {
              print_error(Error::msg("show: unexpected arguments after '--'"));
              return kExitUsage;
            }
            auto fail = [](Error e) {
              print_error(e.context("show"));
              return kExitFailure;
            };
            ReadOptions ro;
            ro.keep_pages = opt->pages && !opt->verify;
            auto reader = ImageReader::open(opt->image, ro);
            if (!reader)
              return fail(std::move(reader).error());
            auto img = reader->load_metadata();
            if (!img)
              return fail(std::move(img).error());
            if (opt->verify) {
              if (auto r = reader->verify_pages(); !r)
                return fail(std::move(r).error());
              print_out(fmt::format("image OK: {} sections, {} bytes\n", img->sections.size(),
                                    img->total_bytes));
              return kExitOk;
            }
            bool as_json = opt->json || (!opt->text && !stdout_is_terminal());
            if (!as_json) {
              print_out(render_text(opt->image, *img));
              return kExitOk;
            }
            auto jv = render_json(*reader, *img, opt->pages);
            if (!jv)
              return fail(std::move(jv).error().context(opt->image));
            print_out(jv->dump(2) + "\n");
            return kExitOk;
          }};
}

}  // namespace ckpt::cli
