// ckpt-user show on small images: JSON, text, --pages, --verify, stdin,
// and one clear line for a bad image.
#include <gtest/gtest.h>
#include <xxhash.h>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdlib>

#include "image_test_util.h"
#include "test_util.h"

namespace ckpt::test {
namespace {

using nlohmann::json;

// $CKPT_USER_BIN overrides the ckpt-user built with the tests.
std::string user_bin() {
  const char* e = std::getenv("CKPT_USER_BIN");
  return e && *e ? e : CKPT_USER_BIN;
}

class ShowTest : public ImageTest {
 protected:
  void SetUp() override {
    ImageTest::SetUp();
    auto w = write_sample_file(path("img"), &sample_);
    ASSERT_TRUE(w.ok()) << w.error().message();
  }
  Output show(std::vector<std::string> args) {
    args.insert(args.begin(), {user_bin(), "show"});
    return run_capture(args);
  }
  Sample sample_;
};

TEST_F(ShowTest, Json) {
  auto o = show({"--json", "--pages", path("img")});
  ASSERT_EQ(o.status, 0) << o.err;
  json j = json::parse(o.out);
  EXPECT_EQ(j["format"]["version"], "2.0");
  EXPECT_EQ(j["format"]["page_size"], kPs);
  EXPECT_EQ(j["info"]["tool_version"], "test");
  EXPECT_EQ(j["info"]["root_pid"], 100);
  EXPECT_EQ(j["tree"]["tasks"].size(), 3u);
  ASSERT_EQ(j["processes"].size(), 2u);
  EXPECT_EQ(j["processes"][0]["comm"], "parent");
  EXPECT_EQ(j["processes"][1]["fds"].size(), 2u);
  EXPECT_EQ(j["shared_memory"].size(), 1u);
  ASSERT_EQ(j["pipes"].size(), 1u);
  EXPECT_EQ(j["pipes"][0]["size"], 9);
  EXPECT_EQ(j["pipes"][0]["head_hex"], "706970650064617461");
  EXPECT_EQ(j["stats"]["pages_written"], "9");  // proto3 JSON: uint64 as a string
  EXPECT_EQ(j["sections"].front()["type"], "INFO");
  EXPECT_EQ(j["sections"].back()["type"], "END");
  ASSERT_EQ(j["page_stats"].size(), 2u);
  EXPECT_EQ(j["page_stats"][0]["pid"], 100);
  EXPECT_EQ(j["page_stats"][0]["pages"], 3);
  EXPECT_EQ(j["page_stats"][1]["pages"], 5);
  EXPECT_EQ(j["page_stats"][1]["vmas"][0]["pages_in_runs"], 5);
  // --pages: one XXH3-64 per page of each run, in order.
  const std::string& d = sample_.page_data[1];
  auto page_hash = [&](std::size_t i) {
    return fmt::format("{:016x}", XXH3_64bits(d.data() + i * kPs, kPs));
  };
  ASSERT_EQ(j["page_stats"][1]["runs"][0]["page_xxh3"].size(), 2u);
  EXPECT_EQ(j["page_stats"][1]["runs"][0]["page_xxh3"][0], page_hash(0));
  EXPECT_EQ(j["page_stats"][1]["runs"][0]["page_xxh3"][1], page_hash(1));
  ASSERT_EQ(j["page_stats"][1]["runs"][1]["page_xxh3"].size(), 3u);
  for (std::size_t i = 0; i < 3; ++i)
    EXPECT_EQ(j["page_stats"][1]["runs"][1]["page_xxh3"][i], page_hash(2 + i));
  EXPECT_NE(page_hash(0), page_hash(1));
  EXPECT_EQ(j["page_stats"][1]["runs"][0].count("xxh3"), 0u);
  // Shared memory runs carry per-page hashes too.
  ASSERT_EQ(j["shared_memory_page_stats"].size(), 1u);
  for (const auto& r : j["shared_memory_page_stats"][0]["runs"])
    EXPECT_EQ(r["page_xxh3"].size(), r["nr_pages"].get<std::size_t>());
  const std::string& sh = sample_.page_data.back();
  EXPECT_EQ(j["shared_memory_page_stats"][0]["runs"][0]["page_xxh3"][0],
            fmt::format("{:016x}", XXH3_64bits(sh.data(), kPs)));
  // Page bytes themselves are never printed.
  EXPECT_EQ(o.out.find(d.substr(0, 16)), std::string::npos);
  // Not a terminal: JSON is the default.
  auto o2 = show({path("img")});
  ASSERT_EQ(o2.status, 0);
  EXPECT_EQ(json::parse(o2.out)["info"], j["info"]);
}

TEST_F(ShowTest, StdinStream) {
  auto o = run_capture({"/bin/sh", "-c",
                        user_bin() + " show --json --pages - < " + path("img")});
  ASSERT_EQ(o.status, 0) << o.err;
  auto o2 = show({"--json", "--pages", path("img")});
  json a = json::parse(o.out), b = json::parse(o2.out);
  EXPECT_EQ(a["page_stats"], b["page_stats"]);
  EXPECT_EQ(a["processes"], b["processes"]);
}

TEST_F(ShowTest, Text) {
  auto o = show({"--text", path("img")});
  ASSERT_EQ(o.status, 0) << o.err;
  EXPECT_NE(o.out.find("tree:"), std::string::npos) << o.out;
  EXPECT_NE(o.out.find("\n  100 "), std::string::npos) << o.out;
  EXPECT_NE(o.out.find("\n    101 "), std::string::npos) << o.out;  // indented child
  EXPECT_NE(o.out.find("100 parent: 1 threads, 1 VMAs, 3 pages dumped"), std::string::npos)
      << o.out;
  EXPECT_NE(o.out.find("(1 file, 1 pipe)"), std::string::npos) << o.out;
}

// A directory image says how many page files it has, in the summary and
// in JSON (format 3.0 with more than one).
TEST_F(ShowTest, PageFiles) {
  for (uint32_t files : {1u, 3u}) {
    const std::string dir = path(fmt::format("dir{}", files));
    image::ImageHeaderParams hp;
    hp.page_size = kPs;
    hp.page_files = files;
    auto w = image::ImageWriter::create(image::Output::directory(dir), hp);
    ASSERT_TRUE(w.ok()) << w.error().message();
    write_sample(*w);
    ASSERT_TRUE(w->commit().ok());
    auto t = show({"--text", dir});
    ASSERT_EQ(t.status, 0) << t.err;
    EXPECT_NE(t.out.find(files == 1 ? fmt::format("format 2.0, directory, ")
                                    : fmt::format("format 3.0, directory of {} page files, ",
                                                  files)),
              std::string::npos)
        << t.out;
    auto j = show({"--json", dir});
    ASSERT_EQ(j.status, 0) << j.err;
    auto doc = json::parse(j.out);
    EXPECT_EQ(doc["format"]["page_files"], files);
    EXPECT_EQ(doc["format"]["version"], files == 1 ? "2.0" : "3.0");
  }
}

TEST_F(ShowTest, VerifyAndBadImage) {
  auto o = show({"--verify", path("img")});
  ASSERT_EQ(o.status, 0) << o.err;
  struct stat st;
  ASSERT_EQ(::stat(path("img").c_str(), &st), 0);
  EXPECT_EQ(o.out, fmt::format("image OK: 14 sections, {} bytes\n", st.st_size));
  std::string b = slurp(path("img"));
  b[b.size() - 100] ^= 1;  // in the END section's neighbourhood: a payload
  write_bytes(path("bad"), b);
  auto e = show({"--verify", path("bad")});
  EXPECT_EQ(e.status, 1);
  EXPECT_EQ(e.out, "");
  EXPECT_EQ(e.err.rfind("ckpt-user: show: " + path("bad") + ": ", 0), 0u) << e.err;
  EXPECT_EQ(std::count(e.err.begin(), e.err.end(), '\n'), 1) << e.err;
  auto t = show({path("nonexistent")});
  EXPECT_EQ(t.status, 1);
}

}  // namespace
}  // namespace ckpt::test
