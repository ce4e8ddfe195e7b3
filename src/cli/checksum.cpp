#include "cli/checksum.h"

#include <fmt/format.h>

#include "common/frame_hash.h"

namespace cli {

std::string frame_checksum(const hw::Frame& frame) {
  return fmt::format("{:016x}", common::frame_hash(frame.pixels.data(),
                                                   frame.pixels.size() * sizeof(uint32_t)));
}

}  // namespace cli
