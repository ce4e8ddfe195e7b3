#include "hw/raster.h"

#include <algorithm>
#include <cstring>

#include "hw/pixel.h"

namespace hw {

using gen8::r3d::Blend;
using gen8::r3d::DepthFunc;

namespace {

bool depth_pass(DepthFunc f, float z, float stored) {
  switch (f) {
    case DepthFunc::Always: return true;
    case DepthFunc::Less: return z < stored;
    case DepthFunc::LessEqual: return z <= stored;
    case DepthFunc::Greater: return z > stored;
    case DepthFunc::GreaterEqual: return z >= stored;
    case DepthFunc::Equal: return z == stored;
    case DepthFunc::NotEqual: return z != stored;
    case DepthFunc::Never: return false;
  }
  return false;
}

// An edge a -> b of a triangle with positive area: E(p) >= 0 inside. Pixels
// exactly on an edge belong to it only if it is a top or a left edge.
struct Edge {
  int64_t dx, dy, bias;
  int64_t at(int64_t px, int64_t py, int32_t ax, int32_t ay) const {
    return dx * (py - ay) - dy * (px - ax) + bias;
  }
};

Edge make_edge(int32_t ax, int32_t ay, int32_t bx, int32_t by) {
  const int64_t dx = bx - ax, dy = by - ay;
  const bool top_left = dy < 0 || (dy == 0 && dx > 0);
  return {dx, dy, top_left ? 0 : -1};
}

uint32_t blend_pixel(Blend b, const float src[4], uint32_t dst_px) {
  if (b == Blend::Opaque) return pack_bgra(src);
  float dst[4], out[4];
  unpack_bgra(dst_px, dst);
  const float a = src[3];
  for (int i = 0; i < 3; ++i)
    out[i] = b == Blend::Alpha ? src[i] * a + dst[i] * (1.0f - a) : dst[i] + src[i] * a;
  out[3] = b == Blend::Alpha ? a + dst[3] * (1.0f - a) : dst[3] + a;
  return pack_bgra(out);
}

uint64_t raster_one(const PixelPipe& pp, const SetupTri& t, const Tile& tile) {
  const int32_t x0 = std::max(t.x0, tile.x0), x1 = std::min(t.x1, tile.x1 - 1);
  const int32_t y0 = std::max(t.y0, tile.y0), y1 = std::min(t.y1, tile.y1 - 1);
  if (x0 > x1 || y0 > y1) return 0;
  const Edge e[3] = {make_edge(t.x[1], t.y[1], t.x[2], t.y[2]), make_edge(t.x[2], t.y[2], t.x[0], t.y[0]),
                     make_edge(t.x[0], t.y[0], t.x[1], t.y[1])};
  const int32_t ox[3] = {t.x[1], t.x[2], t.x[0]}, oy[3] = {t.y[1], t.y[2], t.y[0]};
  const float inv_area = 1.0f / static_cast<float>(t.area);
  constexpr int32_t kOne = 1 << kSubpixelBits, kHalf = kOne / 2;
  uint64_t written = 0;
  for (int32_t y = y0; y <= y1; ++y) {
    const int64_t py = int64_t{y} * kOne + kHalf, px0 = int64_t{x0} * kOne + kHalf;
    int64_t w[3];
    for (int i = 0; i < 3; ++i) w[i] = e[i].at(px0, py, ox[i], oy[i]);
    for (int32_t x = x0; x <= x1; ++x, w[0] -= e[0].dy * kOne, w[1] -= e[1].dy * kOne, w[2] -= e[2].dy * kOne) {
      if ((w[0] | w[1] | w[2]) < 0) continue;
      // Barycentrics from the exact edge values (the bias removed).
      float l[3];
      for (int i = 0; i < 3; ++i) l[i] = static_cast<float>(w[i] - e[i].bias) * inv_area;
      const float z = l[0] * t.z[0] + l[1] * t.z[1] + l[2] * t.z[2];
      uint8_t* zp = nullptr;
      if (pp.depth) {
        zp = pp.depth->at(uint64_t(y) * pp.depth_pitch + uint64_t(x) * 4);
        float stored;
        std::memcpy(&stored, zp, 4);
        if (pp.depth_test && !depth_pass(pp.depth_func, z, stored)) continue;
      }
      const float iw = l[0] * t.iw[0] + l[1] * t.iw[1] + l[2] * t.iw[2];
      const float pw = 1.0f / iw;
      float attr[ClipVertex::kAttrs];
      for (int k = 0; k < ClipVertex::kAttrs; ++k)
        attr[k] = (l[0] * t.a[0][k] + l[1] * t.a[1][k] + l[2] * t.a[2][k]) * pw;
      float c[4];
      for (int k = 0; k < 4; ++k) c[k] = pp.flat ? t.flat[k] : attr[k];
      if (pp.texture) {
        float tex[4];
        pp.texture->sample(attr[4], attr[5], tex);
        for (int k = 0; k < 4; ++k) c[k] = c[k] * tex[k];
      }
      uint8_t* cp = pp.color->at(uint64_t(y) * pp.color_pitch + uint64_t(x) * 4);
      uint32_t dst = 0;
      if (pp.blend != Blend::Opaque) std::memcpy(&dst, cp, 4);
      const uint32_t out = blend_pixel(pp.blend, c, dst);
      std::memcpy(cp, &out, 4);
      if (zp && pp.depth_write) std::memcpy(zp, &z, 4);
      ++written;
    }
  }
  return written;
}

}  // namespace

uint64_t raster_tile(const PixelPipe& pp, const SetupTri* tris, const uint32_t* list, uint32_t n,
                     const Tile& tile) {
  uint64_t written = 0;
  for (uint32_t i = 0; i < n; ++i) written += raster_one(pp, tris[list[i]], tile);
  return written;
}

}  // namespace hw
