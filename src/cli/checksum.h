// The frame checksum reported by selftest and by runs' --json output
// (frame_checksum): XXH3_64bits over the frame's pixel bytes, as 16-digit
// lowercase hex.
#pragma once

#include <string>

#include "hw/gpu.h"

namespace cli {

std::string frame_checksum(const hw::Frame& frame);

}  // namespace cli
