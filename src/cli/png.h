// PNG output of scanned-out frames (selftest, screenshots).
#pragma once

#include <string>
#include <tl/expected.hpp>

#include "hw/gpu.h"

namespace cli {

// Writes an XRGB8888 frame as an 8-bit RGB PNG (the X byte is dropped), or
// says why it could not.
tl::expected<void, std::string> write_png(const hw::Frame& frame, const std::string& path);

}  // namespace cli
