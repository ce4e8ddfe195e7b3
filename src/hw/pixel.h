// The B8G8R8A8_UNORM pixel format (0xAARRGGBB in a little-endian dword) as
// floats in [0, 1], in r, g, b, a order.
#pragma once

#include <cstdint>

#include "common/fmath.h"

namespace hw {

inline void unpack_bgra(uint32_t p, float out[4]) {
  out[0] = static_cast<float>((p >> 16) & 0xFF) * (1.0f / 255.0f);
  out[1] = static_cast<float>((p >> 8) & 0xFF) * (1.0f / 255.0f);
  out[2] = static_cast<float>(p & 0xFF) * (1.0f / 255.0f);
  out[3] = static_cast<float>(p >> 24) * (1.0f / 255.0f);
}

inline uint32_t unorm8(float v) {
  return static_cast<uint32_t>(fm::iround(fm::clamp(v, 0.0f, 1.0f) * 255.0f));
}

inline uint32_t pack_bgra(const float c[4]) {
  return unorm8(c[3]) << 24 | unorm8(c[0]) << 16 | unorm8(c[1]) << 8 | unorm8(c[2]);
}

}  // namespace hw
