// Writes small valid images for the image fuzzer's seed corpus:
//   ckpt-make-image-seeds DIR
// DIR/valid-file and DIR/valid-stream hold the same image, prefixed with
// the mode byte fuzz_image.cc expects (0 file, 1 stream); DIR/minimal-* an
// image with only INFO and TREE.  The valid image has PAGES sections
// (XXH64, flag HASH_XXH64) and two unknown optional sections, one hashed
// with XXH3-64, one with XXH64.  Format 3.x: DIR/v3-* the valid image with
// a 3.0 file header (one page file); DIR/repair-run-file-1-file one whose
// shared memory run names page file 1 (refused; mode bit 1, so that a
// mutation of the field reaches the reader); DIR/dir-valid and
// DIR/repair-dir-valid a directory image with two page files in the
// fuzzer's directory mode (mode bit 2: meta.ckpt, pages.ckpt, pages.1.ckpt
// as length-prefixed parts), DIR/dir-meta-file its meta.ckpt alone,
// DIR/dir-missing-page-file and DIR/dir-swapped-page-files the same image
// without pages.1.ckpt and with its page files swapped (both refused);
// DIR/newer-major-4-file the valid image as 4.x.  The other seeds of
// corpus/image are derived from these: trunc-* (cut short), flip-* (one bit
// flipped in the file header, a section header, a message payload, a
// page), newer-major-file (a 3.x header with no page file count, made
// before 3.0 existed), unknown-flag-* (a section flag bit no reader knows,
// checksums fixed), repair-* (mode bit 1: the harness recomputes the
// checksums), legacy-1.0-* (images of the 1.0 writer: PAGES hashed with
// XXH3-64, no flag), and small inputs found by libFuzzer (crash-*/fuzz-*).
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <span>
#include <string>
#include <vector>

#include "core/file.h"
#include "image/reader.h"
#include "image/writer.h"

using namespace ckpt;
using namespace ckpt::image;

namespace {

int fail(const Error& e) {
  std::fprintf(stderr, "ckpt-make-image-seeds: %s\n", e.message().c_str());
  return 1;
}

// What write_image() writes.
struct Spec {
  bool full = true;        // PAGES, all message types, unknown sections
  uint32_t run_file = 0;   // the shared memory run's PageRun.file
  uint32_t page_files = 1; // > 1: a directory image, a page in each file
};

Result<void> write_image(const std::string& path, const Spec& spec) {
  ImageHeaderParams hp;
  hp.page_size = 4096;
  hp.created_unix_ns = 1;
  hp.replace = true;
  hp.page_files = spec.page_files;
  auto w = ImageWriter::create(
      spec.page_files > 1 ? Output::directory(path) : Output::file(path), hp);
  if (!w)
    return std::move(w).error();
  ImageInfo info;
  info.set_tool_version("seed");
  info.set_page_size(4096);
  info.set_root_pid(10);
  if (auto r = w->put(SectionType::info, info); !r)
    return std::move(r).error();
  Tree tree;
  auto* t = tree.add_tasks();
  t->set_pid(10);
  t->set_tgid(10);
  if (auto r = w->put(SectionType::tree, tree); !r)
    return std::move(r).error();
  if (spec.page_files > 1) {
    // One page in each page file, the process's runs naming them.
    Process p;
    p.set_pid(10);
    for (uint32_t k = 0; k < spec.page_files; ++k) {
      auto slot = w->reserve_pages(4096, k);
      if (!slot)
        return std::move(slot).error();
      std::memset(slot->data().data(), 'a' + static_cast<int>(k), 4096);
      auto seq = w->commit_pages(std::move(*slot));
      if (!seq)
        return std::move(seq).error();
      auto* run = p.mutable_memory()->add_pages();
      run->set_vaddr(0x400000 + 0x1000 * k);
      run->set_nr_pages(1);
      run->set_section(*seq);
      run->set_file(k);
    }
    if (auto r = w->put(SectionType::process, p); !r)
      return std::move(r).error();
  } else if (spec.full) {
    std::vector<char> pages(2 * 4096, 'x');
    iovec iov{pages.data(), pages.size()};
    auto seq = w->put_pages(&iov, 1, pages.size());
    if (!seq)
      return std::move(seq).error();
    Process p;
    p.set_pid(10);
    p.set_comm("seed");
    auto* run = p.mutable_memory()->add_pages();
    run->set_vaddr(0x400000);
    run->set_nr_pages(2);
    run->set_section(*seq);
    auto* v = p.mutable_memory()->add_vmas();
    v->set_start(0x400000);
    v->set_end(0x402000);
    if (auto r = w->put(SectionType::process, p); !r)
      return std::move(r).error();
    iov.iov_len = 4096;
    auto seq2 = w->put_pages(&iov, 1, 4096);
    if (!seq2)
      return std::move(seq2).error();
    SharedMemory sh;
    sh.set_id(5);
    sh.set_size(4096);
    auto* r2 = sh.add_pages();
    r2->set_nr_pages(1);
    r2->set_section(*seq2);
    r2->set_file(spec.run_file);
    if (auto r = w->put(SectionType::shmem, sh); !r)
      return std::move(r).error();
    PipeData pd;
    pd.set_inode(7);
    pd.set_data("hello");
    if (auto r = w->put(SectionType::pipe_data, pd); !r)
      return std::move(r).error();
    DumpStats st;
    st.set_processes(1);
    if (auto r = w->put(SectionType::stats, st); !r)
      return std::move(r).error();
    uint8_t opt[3] = {1, 2, 3};
    if (auto r = w->put_raw(77, kSectionOptional, opt); !r)
      return std::move(r).error();
    if (auto r = w->put_raw(78, kSectionOptional | kSectionHashXxh64, opt); !r)
      return std::move(r).error();
  }
  return w->commit();
}

// The bytes of the image @spec describes: one file, or (a directory) its
// meta.ckpt and page files in order.
Result<std::vector<std::string>> image_bytes(const std::string& dir, const Spec& spec) {
  std::string tmp = dir + "/.seed.tmp";
  std::vector<std::string> names{""};
  if (spec.page_files > 1) {
    names = {"/meta.ckpt"};
    for (uint32_t k = 0; k < spec.page_files; ++k)
      names.push_back("/" + page_file_name(k));
  }
  if (auto r = write_image(tmp, spec); !r)
    return r.error();  // the writer removed its temp
  std::vector<std::string> out;
  Result<void> err;
  for (const auto& n : names) {
    auto b = read_file(tmp + n, 1u << 20);
    if (b)
      out.push_back(std::move(*b));
    else if (err)
      err = std::move(b).error();
    if (!n.empty())
      ::unlink((tmp + n).c_str());
  }
  if (spec.page_files > 1)
    ::rmdir(tmp.c_str());
  else
    ::unlink(tmp.c_str());
  if (!err)
    return err.error();
  return out;
}

// @bytes with its file header rewritten as format @major (3.x: one page
// file, this the first).
Result<std::string> with_major(std::string bytes, uint16_t major) {
  auto h = decode_file_header(std::span<const uint8_t>(
      reinterpret_cast<const uint8_t*>(bytes.data()), kFileHeaderSize));
  if (!h)
    return std::move(h).error();
  h->major = major;
  encode_file_header(*h, std::span<uint8_t, kFileHeaderSize>(
                             reinterpret_cast<uint8_t*>(bytes.data()), kFileHeaderSize));
  return bytes;
}

// Directory mode of fuzz_image.cc: each part as a 4-byte length and bytes.
std::string pack(const std::vector<std::string>& parts) {
  std::string out;
  for (const auto& p : parts) {
    for (int i = 0; i < 4; ++i)
      out.push_back(static_cast<char>(p.size() >> (8 * i)));
    out += p;
  }
  return out;
}

Result<void> emit(const std::string& path, char mode, const std::string& bytes) {
  FILE* f = std::fopen(path.c_str(), "wb");
  if (!f)
    return Error::from_errno(path);
  std::fputc(mode, f);
  std::fwrite(bytes.data(), 1, bytes.size(), f);
  if (std::fclose(f) != 0)
    return Error::from_errno(path);
  return {};
}

Result<void> write_seeds(const std::string& dir) {
  for (bool full : {true, false}) {
    auto bytes = image_bytes(dir, Spec{full, 0, 1});
    if (!bytes)
      return std::move(bytes).error();
    const std::string& b = bytes->at(0);
    std::string base = dir + (full ? "/valid-" : "/minimal-");
    for (char mode : {'\0', '\1'})
      if (auto r = emit(base + (mode ? "stream" : "file"), mode, b); !r)
        return r;
    if (!full)
      continue;
    auto v3 = with_major(b, 3);
    auto v4 = with_major(b, 4);
    if (!v3 || !v4)
      return (v3 ? v4 : v3).error();
    for (char mode : {'\0', '\1'})
      if (auto r = emit(dir + "/v3-" + (mode ? "stream" : "file"), mode, *v3); !r)
        return r;
    if (auto r = emit(dir + "/newer-major-4-file", '\0', *v4); !r)
      return r;
  }
  auto run1 = image_bytes(dir, Spec{true, 1, 1});
  if (!run1)
    return std::move(run1).error();
  if (auto r = emit(dir + "/repair-run-file-1-file", '\2', run1->at(0)); !r)
    return r;
  auto parts = image_bytes(dir, Spec{true, 0, 2});
  if (!parts)
    return std::move(parts).error();
  for (char mode : {'\4', '\6'})
    if (auto r = emit(dir + (mode == '\4' ? "/dir-valid" : "/repair-dir-valid"), mode,
                      pack(*parts));
        !r)
      return r;
  // Refused: pages.1.ckpt missing; pages.ckpt and pages.1.ckpt swapped.
  const auto& pp = *parts;
  if (auto r = emit(dir + "/dir-missing-page-file", '\4', pack({pp.at(0), pp.at(1)})); !r)
    return r;
  if (auto r = emit(dir + "/dir-swapped-page-files", '\4', pack({pp.at(0), pp.at(2), pp.at(1)}));
      !r)
    return r;
  return emit(dir + "/dir-meta-file", '\0', pp.at(0));
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: ckpt-make-image-seeds DIR\n");
    return 2;
  }
  if (auto r = write_seeds(argv[1]); !r)
    return fail(r.error());
  return 0;
}
