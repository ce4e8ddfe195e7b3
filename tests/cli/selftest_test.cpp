#include "cli/selftest.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

namespace {

namespace fs = std::filesystem;

TEST(Selftest, PassesAndWritesThePng) {
  fs::path png =
      fs::temp_directory_path() / ("gvirt_selftest_" + std::to_string(getpid()) + ".png");
  auto report = cli::run_selftest(png.string());
  ASSERT_TRUE(report.has_value()) << report.error();
  for (const auto& f : report->failures) ADD_FAILURE() << f;
  EXPECT_TRUE(report->passed());
  EXPECT_GE(report->checks, 10);
  // Golden: the pattern is deterministic, and every pixel was compared already.
  EXPECT_EQ(report->checksum, "b27b94e16ef2f60d");
  EXPECT_GT(report->commands, 50u);
  EXPECT_GT(report->pixels, 1024u * 768u);
  ASSERT_TRUE(fs::exists(png));
  EXPECT_GT(fs::file_size(png), 0u);
  fs::remove(png);
}

TEST(Selftest, UnwritablePngIsAnError) {
  auto report = cli::run_selftest("/nonexistent-dir/selftest.png");
  ASSERT_FALSE(report.has_value());
  EXPECT_NE(report.error().find("/nonexistent-dir/selftest.png"), std::string::npos);
}

}  // namespace
