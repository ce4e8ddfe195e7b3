// The fixed-function vertex stage: fetches a vertex's elements from its
// vertex buffers, transforms it by the constant buffer's matrices and lights
// it per vertex (ambient plus directional and point lights, Lambert diffuse).
#pragma once

#include <cstdint>

#include "common/fmath.h"
#include "common/gen8/render3d.h"
#include "hw/gm_view.h"

namespace hw {

// A vertex in clip space with its attributes.
struct ClipVertex {
  static constexpr int kAttrs = 6;  // r, g, b, a, u, v
  fm::Vec4 pos;
  float attr[kAttrs];
};

struct Light {
  fm::Vec4 pos;  // w = 0: directional, towards xyz; 1: a point light at xyz
  fm::Vec3 color;
  float attenuation;
};

// The constant buffer, parsed once per draw.
struct Constants {
  fm::Mat4 mvp, model;
  fm::Vec3 ambient;
  float diffuse[4];
  uint32_t lights = 0;
  Light light[gen8::r3d::cb::kMaxLights];
};
// Reads the constant buffer; false when it is too small for its light count
// or names too many lights.
bool read_constants(const GmView& v, Constants* out);

// One vertex buffer as the draw sees it: the view begins at vertex `first`.
struct VertexStream {
  const GmView* view = nullptr;
  uint32_t pitch = 0;
  uint64_t first = 0;
};

struct VertexLayout {
  uint32_t elements[gen8::r3d::kMaxVertexElements];
  uint32_t count = 0;
  VertexStream stream[gen8::r3d::kNumVertexBuffers];
  bool lighting = false;
};

// Vertex `index`, already checked to lie inside every stream it reads.
ClipVertex shade_vertex(const VertexLayout& l, const Constants& k, uint64_t index);

}  // namespace hw
