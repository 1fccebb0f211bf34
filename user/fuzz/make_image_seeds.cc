// Writes small valid images for the image fuzzer's seed corpus:
//   ckpt-make-image-seeds DIR
// DIR/valid-file and DIR/valid-stream hold the same image, prefixed with
// the mode byte fuzz_image.cc expects (0 file, 1 stream); DIR/minimal-* an
// image with only INFO and TREE.  The valid image has PAGES sections
// (XXH64, flag HASH_XXH64) and two unknown optional sections, one hashed
// with XXH3-64, one with XXH64.  The other seeds of corpus/image are
// derived from these: trunc-* (cut short), flip-* (one bit flipped in the
// file header, a section header, a message payload, a page),
// newer-major-* (3.x), unknown-flag-* (a section flag bit no reader knows,
// checksums fixed), repair-* (mode bit 1: the harness recomputes the
// checksums), legacy-1.0-* (images of the 1.0 writer: PAGES hashed with
// XXH3-64, no flag), and small inputs found by libFuzzer (crash-*/fuzz-*).
#include <unistd.h>

#include <cstdio>
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

Result<void> write_image(const std::string& path, bool full) {
  ImageHeaderParams hp;
  hp.page_size = 4096;
  hp.created_unix_ns = 1;
  hp.replace = true;
  auto w = ImageWriter::create(Output::file(path), hp);
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
  if (full) {
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

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: ckpt-make-image-seeds DIR\n");
    return 2;
  }
  std::string dir = argv[1];
  for (bool full : {true, false}) {
    std::string tmp = dir + "/.seed.tmp";
    if (auto r = write_image(tmp, full); !r)
      return fail(r.error());
    auto bytes = read_file(tmp, 1u << 20);
    ::unlink(tmp.c_str());
    if (!bytes)
      return fail(bytes.error());
    std::string base = dir + (full ? "/valid-" : "/minimal-");
    for (char mode : {'\0', '\1'}) {
      std::string name = base + (mode ? "stream" : "file");
      FILE* f = std::fopen(name.c_str(), "wb");
      if (!f)
        return fail(Error::from_errno(name));
      std::fputc(mode, f);
      std::fwrite(bytes->data(), 1, bytes->size(), f);
      std::fclose(f);
    }
  }
  return 0;
}
