#include "cli/checksum.h"

#include <fmt/format.h>
#include <xxhash.h>

namespace cli {

std::string frame_checksum(const hw::Frame& frame) {
  return fmt::format("{:016x}",
                     XXH3_64bits(frame.pixels.data(), frame.pixels.size() * sizeof(uint32_t)));
}

}  // namespace cli
