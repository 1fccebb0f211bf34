// File helpers against real files: temp files, /proc, a missing path.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "core/fd.h"
#include "core/file.h"

namespace ckpt {
namespace {

class TempDir : public testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/ckpt-test-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override {
    for (const char* f : {"a", "big", "sub/x"})
      ::unlink((dir_ + "/" + f).c_str());
    ::rmdir((dir_ + "/sub").c_str());
    ::rmdir(dir_.c_str());
  }
  std::string dir_;
};

TEST_F(TempDir, WriteThenRead) {
  std::string path = dir_ + "/a";
  Fd(::open(path.c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0600));
  ASSERT_TRUE(write_file(path, "hello\n"));
  auto text = read_file(path);
  ASSERT_TRUE(text) << text.error().message();
  EXPECT_EQ(*text, "hello\n");
}

TEST_F(TempDir, ReadGrowsPastFirstBuffer) {
  std::string path = dir_ + "/big";
  Fd fd(::open(path.c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0600));
  std::string data(100000, 'z');
  ASSERT_TRUE(write_all(fd.get(), data));
  auto text = read_file(path);
  ASSERT_TRUE(text);
  EXPECT_EQ(text->size(), data.size());
}

TEST_F(TempDir, ReadRefusesTooLarge) {
  std::string path = dir_ + "/big";
  Fd fd(::open(path.c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0600));
  ASSERT_TRUE(write_all(fd.get(), std::string(10000, 'z')));
  auto text = read_file(path, 4096);
  ASSERT_FALSE(text);
  EXPECT_EQ(text.error().code(), EFBIG);
  EXPECT_NE(text.error().message().find(path), std::string::npos);
  EXPECT_TRUE(read_file(path, 10000));  // exactly the limit is fine
}

TEST_F(TempDir, WriteDoesNotCreate) {
  auto r = write_file(dir_ + "/nope", "x");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), ENOENT);
  EXPECT_EQ(r.error().message(), "write " + dir_ + "/nope: No such file or directory");
}

TEST_F(TempDir, ListDirAndSubdirs) {
  ASSERT_EQ(::mkdir((dir_ + "/sub").c_str(), 0700), 0);
  Fd(::open((dir_ + "/a").c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0600));
  auto all = list_dir(dir_);
  ASSERT_TRUE(all);
  std::sort(all->begin(), all->end());
  EXPECT_EQ(*all, (std::vector<std::string>{"a", "sub"}));
  auto subs = list_subdirs_at(AT_FDCWD, dir_);
  ASSERT_TRUE(subs);
  EXPECT_EQ(*subs, (std::vector<std::string>{"sub"}));
}

TEST(File, ReadsProcFilesOfSizeZero) {
  auto text = read_file("/proc/self/status");
  ASSERT_TRUE(text);
  EXPECT_NE(text->find("Name:"), std::string::npos);
}

TEST(File, MissingFileError) {
  auto text = read_file("/nonexistent");
  ASSERT_FALSE(text);
  EXPECT_EQ(text.error().message(), "read /nonexistent: No such file or directory");
  EXPECT_FALSE(path_exists("/nonexistent"));
  EXPECT_TRUE(path_exists("/proc/self"));
}

TEST(File, PreadRereadsFromStart) {
  auto fd = Fd::open("/proc/self/stat", O_RDONLY);
  ASSERT_TRUE(fd);
  auto a = pread_all(fd->get());
  auto b = pread_all(fd->get());
  ASSERT_TRUE(a && b);
  EXPECT_FALSE(b->empty());
  EXPECT_EQ(a->substr(0, 10), b->substr(0, 10));
}

}  // namespace
}  // namespace ckpt
