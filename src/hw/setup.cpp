#include "hw/setup.h"

#include <algorithm>

#include "common/gen8/render3d.h"

namespace hw {

namespace {

constexpr float kGuardBand = 4.0f;  // x and y may reach 4 w: far outside any viewport
constexpr float kMinW = 1e-5f;
constexpr int kPlanes = 6;
constexpr int kMaxPoly = 3 + kPlanes;

float plane_distance(const ClipVertex& v, int plane) {
  const fm::Vec4& p = v.pos;
  switch (plane) {
    case 0: return p.z;             // near: z >= 0
    case 1: return p.w - p.z;       // far: z <= w
    case 2: return p.x + kGuardBand * p.w;
    case 3: return kGuardBand * p.w - p.x;
    case 4: return p.y + kGuardBand * p.w;
    case 5: return kGuardBand * p.w - p.y;
    default: return p.w - kMinW;
  }
}

ClipVertex lerp(const ClipVertex& a, const ClipVertex& b, float t) {
  ClipVertex r;
  r.pos = {a.pos.x + (b.pos.x - a.pos.x) * t, a.pos.y + (b.pos.y - a.pos.y) * t,
           a.pos.z + (b.pos.z - a.pos.z) * t, a.pos.w + (b.pos.w - a.pos.w) * t};
  for (int i = 0; i < ClipVertex::kAttrs; ++i) r.attr[i] = a.attr[i] + (b.attr[i] - a.attr[i]) * t;
  return r;
}

// Sutherland-Hodgman against every plane (and w > 0); returns the vertex count.
int clip(ClipVertex (&poly)[kMaxPoly + 1], int n) {
  ClipVertex tmp[kMaxPoly + 1];
  for (int plane = 0; plane <= kPlanes && n >= 3; ++plane) {
    int m = 0;
    for (int i = 0; i < n; ++i) {
      const ClipVertex& a = poly[i];
      const ClipVertex& b = poly[(i + 1) % n];
      const float da = plane_distance(a, plane), db = plane_distance(b, plane);
      if (da >= 0) tmp[m++] = a;
      if ((da >= 0) != (db >= 0)) tmp[m++] = lerp(a, b, da / (da - db));
    }
    std::copy(tmp, tmp + m, poly);
    n = m;
  }
  return n;
}

bool inside_all(const ClipVertex& v) {
  for (int plane = 0; plane <= kPlanes; ++plane)
    if (plane_distance(v, plane) < 0) return false;
  return true;
}

struct Screen {
  int32_t x, y;
  float z, iw;
  const float* attr;
};

Screen to_screen(const ClipVertex& v, const SetupParams& p) {
  const float iw = 1.0f / v.pos.w;
  const float xs = p.vp_x + (v.pos.x * iw + 1.0f) * (0.5f * p.vp_w);
  const float ys = p.vp_y + (1.0f - v.pos.y * iw) * (0.5f * p.vp_h);
  const float scale = static_cast<float>(1 << kSubpixelBits);
  return {fm::iround(xs * scale), fm::iround(ys * scale), p.min_z + v.pos.z * iw * (p.max_z - p.min_z), iw,
          v.attr};
}

// Pixel centres sit at +0.5: the first and last pixel columns whose centre
// lies in [lo, hi] (fixed point).
int32_t first_pixel(int32_t lo) { return (lo - (1 << (kSubpixelBits - 1)) + (1 << kSubpixelBits) - 1) >> kSubpixelBits; }
int32_t last_pixel(int32_t hi) { return (hi - (1 << (kSubpixelBits - 1))) >> kSubpixelBits; }

void emit(Screen s0, Screen s1, Screen s2, const float* flat, const SetupParams& p,
          std::vector<SetupTri>& out) {
  int64_t area = int64_t{s1.x - s0.x} * (s2.y - s0.y) - int64_t{s1.y - s0.y} * (s2.x - s0.x);
  if (area == 0) return;
  // Screen y grows downwards: a triangle counter-clockwise in normalized
  // device coordinates has a negative area here.
  const bool front = p.front_cw ? area > 0 : area < 0;
  const auto cull = static_cast<gen8::r3d::Cull>(p.cull);
  if ((cull == gen8::r3d::Cull::Back && !front) || (cull == gen8::r3d::Cull::Front && front)) return;
  if (area < 0) {
    std::swap(s1, s2);
    area = -area;
  }
  SetupTri t;
  const Screen* s[3] = {&s0, &s1, &s2};
  for (int i = 0; i < 3; ++i) {
    t.x[i] = s[i]->x;
    t.y[i] = s[i]->y;
    t.z[i] = s[i]->z;
    t.iw[i] = s[i]->iw;
    for (int k = 0; k < ClipVertex::kAttrs; ++k) t.a[i][k] = s[i]->attr[k] * s[i]->iw;
  }
  for (int k = 0; k < 4; ++k) t.flat[k] = flat[k];
  t.area = area;
  t.x0 = std::max(first_pixel(std::min({t.x[0], t.x[1], t.x[2]})), p.rect_x0);
  t.y0 = std::max(first_pixel(std::min({t.y[0], t.y[1], t.y[2]})), p.rect_y0);
  t.x1 = std::min(last_pixel(std::max({t.x[0], t.x[1], t.x[2]})), p.rect_x1 - 1);
  t.y1 = std::min(last_pixel(std::max({t.y[0], t.y[1], t.y[2]})), p.rect_y1 - 1);
  if (t.x0 > t.x1 || t.y0 > t.y1) return;
  out.push_back(t);
}

}  // namespace

void setup_triangle(const ClipVertex& v0, const ClipVertex& v1, const ClipVertex& v2,
                    const SetupParams& p, std::vector<SetupTri>& out) {
  const float* flat = v0.attr;
  if (inside_all(v0) && inside_all(v1) && inside_all(v2)) {
    emit(to_screen(v0, p), to_screen(v1, p), to_screen(v2, p), flat, p, out);
    return;
  }
  ClipVertex poly[kMaxPoly + 1] = {v0, v1, v2};
  const int n = clip(poly, 3);
  if (n < 3) return;
  Screen s[kMaxPoly + 1];
  for (int i = 0; i < n; ++i) s[i] = to_screen(poly[i], p);
  for (int i = 1; i + 1 < n; ++i) emit(s[0], s[i], s[i + 1], flat, p, out);
}

}  // namespace hw
