// The frame checksum: XXH3-64 over the packed XRGB8888 pixels. The host
// computes it from the scanned-out frame, the workload from its own front
// buffer; both builds use the same header-only xxhash.
#pragma once

#include <cstddef>
#include <cstdint>

#define XXH_INLINE_ALL
#include <xxhash.h>

namespace common {

inline uint64_t frame_hash(const void* pixels, size_t bytes) { return XXH3_64bits(pixels, bytes); }

}  // namespace common
