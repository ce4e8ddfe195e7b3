// Primitive setup: clips a triangle in homogeneous space (near and far
// planes, a guard band in x and y, and w > 0), maps it through the viewport,
// snaps it to 8 sub-pixel bits, culls it by its winding, and writes the
// per-triangle data the rasterizer needs.
#pragma once

#include <cstdint>
#include <vector>

#include "hw/vertex_stage.h"

namespace hw {

inline constexpr int kSubpixelBits = 8;

// A triangle ready for rasterization: positive area, vertices in fixed point.
struct SetupTri {
  int32_t x[3], y[3];
  float z[3];    // window depth, interpolated linearly on screen
  float iw[3];   // 1 / w
  float a[3][ClipVertex::kAttrs];  // attributes divided by w
  float flat[4];                   // the provoking vertex's colour, for flat shading
  int64_t area;
  // Pixel bounding box, inclusive, inside the draw rectangle.
  int32_t x0, y0, x1, y1;
};

struct SetupParams {
  float vp_x, vp_y, vp_w, vp_h, min_z, max_z;
  int32_t rect_x0, rect_y0, rect_x1, rect_y1;  // the draw rectangle, exclusive max
  uint32_t cull;     // gen8::r3d::Cull
  bool front_cw;
};

// Appends the visible pieces of triangle (v0, v1, v2) to `out`; v0 is the
// provoking vertex.
void setup_triangle(const ClipVertex& v0, const ClipVertex& v1, const ClipVertex& v2,
                    const SetupParams& p, std::vector<SetupTri>& out);

}  // namespace hw
