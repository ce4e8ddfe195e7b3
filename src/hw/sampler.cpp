#include "hw/sampler.h"

#include "hw/pixel.h"

namespace hw {

namespace {

// Wrap maps any integer onto [0, n); clamp onto the edge texels.
int32_t address(int32_t i, uint32_t n, bool clamp) {
  const auto m = static_cast<int32_t>(n);
  if (clamp) return i < 0 ? 0 : (i >= m ? m - 1 : i);
  if (i >= 0 && i < m) return i;  // the common case, without a division
  const int32_t r = i % m;
  return r < 0 ? r + m : r;
}

}  // namespace

// The texel at already wrapped or clamped coordinates.
uint32_t Sampler::texel(int32_t x, int32_t y) const {
  return view->dword(uint64_t(y) * pitch + uint64_t(x) * 4);
}

void Sampler::sample(float u, float v, float out[4]) const {
  // Coordinates far outside [0, 1] lose nothing to a wrap done in float first.
  if (clamp) {
    u = fm::clamp(u, 0.0f, 1.0f);
    v = fm::clamp(v, 0.0f, 1.0f);
  } else {
    u = u - fm::floor(u);
    v = v - fm::floor(v);
  }
  const float x = u * static_cast<float>(width), y = v * static_cast<float>(height);
  if (!bilinear) {
    unpack_bgra(texel(address(fm::ifloor(x), width, clamp), address(fm::ifloor(y), height, clamp)), out);
    return;
  }
  const float fx = x - 0.5f, fy = y - 0.5f;
  const int32_t x0 = fm::ifloor(fx), y0 = fm::ifloor(fy);
  const float ax = fx - static_cast<float>(x0), ay = fy - static_cast<float>(y0);
  const int32_t xa = address(x0, width, clamp), ya = address(y0, height, clamp);
  const int32_t xb = address(x0 + 1, width, clamp), yb = address(y0 + 1, height, clamp);
  float t00[4], t10[4], t01[4], t11[4];
  unpack_bgra(texel(xa, ya), t00);
  unpack_bgra(texel(xb, ya), t10);
  unpack_bgra(texel(xa, yb), t01);
  unpack_bgra(texel(xb, yb), t11);
  for (int i = 0; i < 4; ++i) {
    const float top = t00[i] + (t10[i] - t00[i]) * ax;
    const float bottom = t01[i] + (t11[i] - t01[i]) * ax;
    out[i] = top + (bottom - top) * ay;
  }
}

}  // namespace hw
