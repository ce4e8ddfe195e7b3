#include "cli/png.h"

#include <gtest/gtest.h>
#include <png.h>
#include <unistd.h>

#include <filesystem>
#include <vector>

#include "cli/checksum.h"

namespace {

namespace fs = std::filesystem;

// Red, green / blue, white.
hw::Frame two_by_two() { return {2, 2, {0x00FF0000u, 0x0000FF00u, 0x000000FFu, 0x00FFFFFFu}}; }

TEST(Png, WritesAnRgbFileThatReadsBack) {
  fs::path path = fs::temp_directory_path() / ("gvirt_png_" + std::to_string(getpid()) + ".png");
  hw::Frame f = two_by_two();
  f.pixels[3] |= 0xAB000000u;  // the X byte is junk: the PNG drops it
  ASSERT_TRUE(cli::write_png(f, path.string()).has_value());

  png_image image{};
  image.version = PNG_IMAGE_VERSION;
  ASSERT_TRUE(png_image_begin_read_from_file(&image, path.c_str())) << image.message;
  EXPECT_EQ(image.width, 2u);
  EXPECT_EQ(image.height, 2u);
  EXPECT_EQ(image.format & PNG_FORMAT_FLAG_ALPHA, 0u);  // RGB, no alpha
  image.format = PNG_FORMAT_RGB;
  std::vector<uint8_t> rgb(PNG_IMAGE_SIZE(image));
  ASSERT_TRUE(png_image_finish_read(&image, nullptr, rgb.data(), 0, nullptr)) << image.message;
  EXPECT_EQ(rgb, (std::vector<uint8_t>{255, 0, 0, 0, 255, 0, 0, 0, 255, 255, 255, 255}));
  fs::remove(path);
}

TEST(Png, RefusesAnEmptyFrameAndAnUnwritablePath) {
  EXPECT_FALSE(cli::write_png(hw::Frame{}, "/tmp/never.png").has_value());
  auto r = cli::write_png(two_by_two(), "/nonexistent-dir/x.png");
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().find("/nonexistent-dir/x.png"), std::string::npos);
}

TEST(Png, FrameChecksumIsXxh3OfThePixelBytes) {
  // Computed separately: XXH3_64bits over the 16 little-endian pixel bytes.
  EXPECT_EQ(cli::frame_checksum(two_by_two()), "88717bcb20e5581e");
  hw::Frame other = two_by_two();
  other.pixels[0] ^= 1;
  EXPECT_NE(cli::frame_checksum(other), "88717bcb20e5581e");
}

}  // namespace
