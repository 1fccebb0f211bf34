// Runs LLVMFuzzerTestOneInput over files and directories of inputs, for
// compilers without libFuzzer: the seed corpus becomes a regression test.
//   ckpt-fuzz-replay user/fuzz/corpus [more files or dirs...]
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "core/file.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace {

int replay(const std::string& path, int* count) {
  auto names = ckpt::list_dir(path);
  if (names) {
    int rc = 0;
    for (const auto& n : *names)
      rc |= replay(path + "/" + n, count);
    return rc;
  }
  auto data = ckpt::read_file(path, 16u << 20);
  if (!data) {
    std::fprintf(stderr, "ckpt-fuzz-replay: %s\n", data.error().message().c_str());
    return 1;
  }
  LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(data->data()), data->size());
  ++*count;
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: ckpt-fuzz-replay FILE|DIR...\n");
    return 2;
  }
  int rc = 0;
  int count = 0;
  for (int i = 1; i < argc; ++i)
    rc |= replay(argv[i], &count);
  std::printf("ckpt-fuzz-replay: %d inputs, no crash\n", count);
  return rc != 0 || count == 0;
}
