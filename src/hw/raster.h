// The rasterizer and the pixel pipeline for one screen tile: edge functions
// in fixed point with the top-left fill rule, perspective-correct attributes,
// texture modulation, the depth test and write, and blending into the render
// target. A tile's pixels depend only on the triangles in it and their order,
// so tiles may run on any thread in any order.
#pragma once

#include <cstdint>

#include "common/gen8/render3d.h"
#include "hw/gm_view.h"
#include "hw/sampler.h"
#include "hw/setup.h"

namespace hw {

struct PixelPipe {
  const GmView* color = nullptr;
  uint32_t color_pitch = 0;
  const GmView* depth = nullptr;  // null: no depth test or write
  uint32_t depth_pitch = 0;
  bool depth_test = false, depth_write = false;
  gen8::r3d::DepthFunc depth_func = gen8::r3d::DepthFunc::Always;
  const Sampler* texture = nullptr;  // null: untextured
  gen8::r3d::Blend blend = gen8::r3d::Blend::Opaque;
  bool flat = false;
};

struct Tile {
  int32_t x0, y0, x1, y1;  // exclusive max
};

// Draws `tris[list[0..n)]` in that order, clipped to `tile`; returns the
// number of render-target pixels written.
uint64_t raster_tile(const PixelPipe& pp, const SetupTri* tris, const uint32_t* list, uint32_t n,
                     const Tile& tile);

}  // namespace hw
