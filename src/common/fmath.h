// The project's one math library, for the GPU model's render engine and for
// the workloads, which are also built freestanding for the guest (no libm
// there). Every function is plain IEEE single precision arithmetic in a fixed
// order (the build uses -ffp-contract=off and no fast-math), so the host and
// the guest, g++ and clang, compute the same bits.
#pragma once

#include <cstdint>
#include <xmmintrin.h>

namespace fm {

inline constexpr float kPi = 3.14159265358979f;

// SQRTSS is correctly rounded: the same bits everywhere, and no libm call.
inline float sqrt(float x) { return _mm_cvtss_f32(_mm_sqrt_ss(_mm_set_ss(x))); }

constexpr float min(float a, float b) { return b < a ? b : a; }
constexpr float max(float a, float b) { return a < b ? b : a; }
constexpr float clamp(float x, float lo, float hi) { return x < lo ? lo : (x > hi ? hi : x); }
constexpr float abs(float x) { return x < 0 ? -x : x; }

// Largest integer <= x. Floats of magnitude 2^23 or more (and NaN) are
// already integral and come back unchanged.
constexpr float floor(float x) {
  if (!(abs(x) < 8388608.0f)) return x;
  float t = static_cast<float>(static_cast<int32_t>(x));
  return t > x ? t - 1.0f : t;
}
// floor(x) as an integer, saturated to +-2^30; NaN gives 0.
constexpr int32_t ifloor(float x) {
  if (!(x == x)) return 0;
  return static_cast<int32_t>(floor(clamp(x, -1073741824.0f, 1073741824.0f)));
}
// Round half up, saturated like ifloor.
constexpr int32_t iround(float x) { return ifloor(x + 0.5f); }

// sin and cos with a quarter-period reduction and minimax-style polynomials
// (error below 1e-6 on [-pi/4, pi/4]); |x| up to about 1e5.
namespace detail {
constexpr float sin_poly(float x) {
  float x2 = x * x;
  return x * (1.0f + x2 * (-1.6666667e-1f + x2 * (8.3333310e-3f + x2 * -1.9840874e-4f)));
}
constexpr float cos_poly(float x) {
  float x2 = x * x;
  return 1.0f + x2 * (-0.5f + x2 * (4.1666638e-2f + x2 * (-1.3888378e-3f + x2 * 2.4760495e-5f)));
}
}  // namespace detail

constexpr float sin(float x) {
  const int32_t q = iround(x * (2.0f / kPi));
  // Two-part pi/2 for the reduction.
  const float r = (x - static_cast<float>(q) * 1.5703125f) - static_cast<float>(q) * 4.8382679e-4f;
  switch (q & 3) {
    case 0: return detail::sin_poly(r);
    case 1: return detail::cos_poly(r);
    case 2: return -detail::sin_poly(r);
    default: return -detail::cos_poly(r);
  }
}
constexpr float cos(float x) { return sin(x + kPi / 2); }

struct Vec3 {
  float x = 0, y = 0, z = 0;
};
struct Vec4 {
  float x = 0, y = 0, z = 0, w = 0;
};

constexpr Vec3 operator+(Vec3 a, Vec3 b) { return {a.x + b.x, a.y + b.y, a.z + b.z}; }
constexpr Vec3 operator-(Vec3 a, Vec3 b) { return {a.x - b.x, a.y - b.y, a.z - b.z}; }
constexpr Vec3 operator*(Vec3 a, float s) { return {a.x * s, a.y * s, a.z * s}; }
constexpr float dot(Vec3 a, Vec3 b) { return a.x * b.x + a.y * b.y + a.z * b.z; }
constexpr Vec3 cross(Vec3 a, Vec3 b) {
  return {a.y * b.z - a.z * b.y, a.z * b.x - a.x * b.z, a.x * b.y - a.y * b.x};
}
// A zero vector stays zero.
inline Vec3 normalize(Vec3 v) {
  float l2 = dot(v, v);
  return l2 > 0 ? v * (1.0f / sqrt(l2)) : v;
}

// Column-major 4x4 (m[col * 4 + row]), as the constant buffer stores it.
struct Mat4 {
  float m[16] = {1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1};

  constexpr Vec4 operator*(Vec4 v) const {
    return {m[0] * v.x + m[4] * v.y + m[8] * v.z + m[12] * v.w,
            m[1] * v.x + m[5] * v.y + m[9] * v.z + m[13] * v.w,
            m[2] * v.x + m[6] * v.y + m[10] * v.z + m[14] * v.w,
            m[3] * v.x + m[7] * v.y + m[11] * v.z + m[15] * v.w};
  }
  constexpr Vec3 point(Vec3 p) const {
    Vec4 r = *this * Vec4{p.x, p.y, p.z, 1};
    return {r.x, r.y, r.z};
  }
  constexpr Vec3 direction(Vec3 d) const {
    Vec4 r = *this * Vec4{d.x, d.y, d.z, 0};
    return {r.x, r.y, r.z};
  }
  constexpr Mat4 operator*(const Mat4& b) const {
    Mat4 r;
    for (int c = 0; c < 4; ++c)
      for (int row = 0; row < 4; ++row) {
        float s = 0;
        for (int k = 0; k < 4; ++k) s = s + m[k * 4 + row] * b.m[c * 4 + k];
        r.m[c * 4 + row] = s;
      }
    return r;
  }

  static constexpr Mat4 translate(Vec3 t) {
    Mat4 r;
    r.m[12] = t.x;
    r.m[13] = t.y;
    r.m[14] = t.z;
    return r;
  }
  static constexpr Mat4 scale(float s) {
    Mat4 r;
    r.m[0] = r.m[5] = r.m[10] = s;
    return r;
  }
  // Rotation by `a` radians about the y (then x) axis.
  static constexpr Mat4 rotate_y(float a) {
    Mat4 r;
    float c = cos(a), s = sin(a);
    r.m[0] = c;
    r.m[2] = -s;
    r.m[8] = s;
    r.m[10] = c;
    return r;
  }
  static constexpr Mat4 rotate_x(float a) {
    Mat4 r;
    float c = cos(a), s = sin(a);
    r.m[5] = c;
    r.m[6] = s;
    r.m[9] = -s;
    r.m[10] = c;
    return r;
  }
  // Right-handed view looking down -z; clip z in [0, w] (near plane at z = 0),
  // `f` = 1 / tan(fovy / 2).
  static constexpr Mat4 perspective(float f, float aspect, float near, float far) {
    Mat4 r;
    r.m[0] = f / aspect;
    r.m[5] = f;
    r.m[10] = far / (near - far);
    r.m[11] = -1;
    r.m[14] = near * far / (near - far);
    r.m[15] = 0;
    return r;
  }
};

}  // namespace fm
