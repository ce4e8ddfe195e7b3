#include "cli/png.h"

#include <png.h>

#include <cstdint>
#include <vector>

namespace cli {

tl::expected<void, std::string> write_png(const hw::Frame& frame, const std::string& path) {
  if (frame.width == 0 || frame.height == 0 ||
      frame.pixels.size() != size_t{frame.width} * frame.height)
    return tl::unexpected(std::string("the frame is empty or its size does not match its pixels"));
  // libpng's simplified API takes packed RGB, and reports errors in the image
  // struct instead of longjmp-ing through C++ frames.
  std::vector<uint8_t> rgb(frame.pixels.size() * 3);
  for (size_t i = 0; i < frame.pixels.size(); ++i) {
    uint32_t p = frame.pixels[i];
    rgb[3 * i] = static_cast<uint8_t>(p >> 16);
    rgb[3 * i + 1] = static_cast<uint8_t>(p >> 8);
    rgb[3 * i + 2] = static_cast<uint8_t>(p);
  }
  png_image image{};
  image.version = PNG_IMAGE_VERSION;
  image.width = frame.width;
  image.height = frame.height;
  image.format = PNG_FORMAT_RGB;
  // On failure libpng has already released the image's internals.
  if (!png_image_write_to_file(&image, path.c_str(), 0, rgb.data(), 0, nullptr))
    return tl::unexpected("cannot write " + path + ": " + image.message);
  return {};
}

}  // namespace cli
