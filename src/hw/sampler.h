// Texture sampling: nearest or bilinear, wrap (repeat) or clamp to edge, on a
// B8G8R8A8 texture in GM.
#pragma once

#include <cstdint>

#include "hw/gm_view.h"

namespace hw {

struct Sampler {
  const GmView* view = nullptr;
  uint32_t width = 0, height = 0, pitch = 0;
  bool bilinear = false, clamp = false;

  // rgba in [0, 1] at texture coordinates (u, v); (0, 0) is the top-left corner.
  void sample(float u, float v, float out[4]) const;

 private:
  uint32_t texel(int32_t x, int32_t y) const;
};

}  // namespace hw
