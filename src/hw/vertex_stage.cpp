#include "hw/vertex_stage.h"

#include "hw/pixel.h"

namespace hw {

namespace cb = gen8::r3d::cb;
using gen8::r3d::Semantic;
using gen8::r3d::VeFormat;

namespace {

float f32(const GmView& v, uint64_t off) {
  return __builtin_bit_cast(float, v.dword(off));
}

fm::Vec3 vec3(const float* f) { return {f[0], f[1], f[2]}; }

}  // namespace

bool read_constants(const GmView& v, Constants* k) {
  if (v.size() < cb::bytes(0)) return false;
  float f[cb::kLights + cb::kMaxLights * cb::kLightFloats];
  const uint32_t lights = v.dword(4 * cb::kLightCount);
  if (lights > cb::kMaxLights || v.size() < cb::bytes(lights)) return false;
  for (uint32_t i = 0; i < cb::bytes(lights) / 4; ++i) f[i] = f32(v, 4ull * i);
  for (int i = 0; i < 16; ++i) {
    k->mvp.m[i] = f[cb::kMvp + i];
    k->model.m[i] = f[cb::kModel + i];
  }
  k->ambient = vec3(&f[cb::kAmbient]);
  for (int i = 0; i < 4; ++i) k->diffuse[i] = f[cb::kDiffuse + i];
  k->lights = lights;
  for (uint32_t i = 0; i < lights; ++i) {
    const float* l = &f[cb::kLights + i * cb::kLightFloats];
    k->light[i] = {{l[0], l[1], l[2], l[3]}, vec3(l + 4), l[7]};
  }
  return true;
}

ClipVertex shade_vertex(const VertexLayout& l, const Constants& k, uint64_t index) {
  fm::Vec4 p{0, 0, 0, 1};
  fm::Vec3 n{0, 0, 1};
  float c[4] = {k.diffuse[0], k.diffuse[1], k.diffuse[2], k.diffuse[3]};
  float uv[2] = {0, 0};
  for (uint32_t e = 0; e < l.count; ++e) {
    const uint32_t el = l.elements[e];
    const VertexStream& s = l.stream[gen8::r3d::ve_buffer(el)];
    const uint64_t at = (index - s.first) * s.pitch + gen8::r3d::ve_offset(el);
    const VeFormat fmt = gen8::r3d::ve_format(el);
    float v[4] = {0, 0, 0, 1};
    if (fmt == VeFormat::Unorm8x4) {
      unpack_bgra(s.view->dword(at), v);
    } else {
      for (uint32_t i = 0; i < static_cast<uint32_t>(fmt); ++i) v[i] = f32(*s.view, at + 4 * i);
    }
    switch (gen8::r3d::ve_semantic(el)) {
      case Semantic::Position: p = {v[0], v[1], v[2], v[3]}; break;
      case Semantic::Normal: n = {v[0], v[1], v[2]}; break;
      case Semantic::Color:
        for (int i = 0; i < 4; ++i) c[i] = v[i];
        break;
      case Semantic::TexCoord:
        uv[0] = v[0];
        uv[1] = v[1];
        break;
    }
  }
  ClipVertex out;
  out.pos = k.mvp * p;
  if (l.lighting) {
    const fm::Vec4 wp4 = k.model * p;
    const fm::Vec3 wp{wp4.x, wp4.y, wp4.z};
    const fm::Vec3 wn = fm::normalize(k.model.direction(n));
    fm::Vec3 sum = k.ambient;
    for (uint32_t i = 0; i < k.lights; ++i) {
      const Light& li = k.light[i];
      fm::Vec3 to{li.pos.x, li.pos.y, li.pos.z};
      float att = 1.0f;
      if (li.pos.w != 0.0f) {
        to = to - wp;
        att = 1.0f / (1.0f + li.attenuation * fm::dot(to, to));
      }
      const float ndl = fm::max(0.0f, fm::dot(wn, fm::normalize(to))) * att;
      sum = sum + li.color * ndl;
    }
    c[0] = c[0] * sum.x;
    c[1] = c[1] * sum.y;
    c[2] = c[2] * sum.z;
  }
  for (int i = 0; i < 4; ++i) out.attr[i] = fm::clamp(c[i], 0.0f, 1.0f);
  out.attr[4] = uv[0];
  out.attr[5] = uv[1];
  return out;
}

}  // namespace hw
