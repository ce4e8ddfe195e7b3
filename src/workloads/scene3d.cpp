#include "workloads/scene3d.h"

namespace wl {

namespace r3d = gen8::r3d;

namespace {
constexpr uint32_t kBlock = 512;  // bytes per constant block: r3d::cb::bytes(kMaxLights) rounded up
static_assert(r3d::cb::bytes(r3d::cb::kMaxLights) <= kBlock);
constexpr uint32_t kElements[] = {
    r3d::vertex_element(0, r3d::Semantic::Position, r3d::VeFormat::Float3, 0),
    r3d::vertex_element(0, r3d::Semantic::Normal, r3d::VeFormat::Float3, 12),
    r3d::vertex_element(0, r3d::Semantic::Color, r3d::VeFormat::Unorm8x4, 24),
    r3d::vertex_element(0, r3d::Semantic::TexCoord, r3d::VeFormat::Float2, 28),
};
}  // namespace

drv::Result<void> Scene3d::init(Frame2d& frame, uint32_t max_vertices, uint32_t max_indices,
                                uint32_t max_draws) {
  frame_ = &frame;
  max_vertices_ = max_vertices;
  max_indices_ = max_indices;
  max_draws_ = max_draws;
  if (auto r = vb_.init(ctx(), uint64_t{max_vertices} * sizeof(Vertex3d)); !r) return r;
  if (auto r = ib_.init(ctx(), uint64_t{max_indices} * 2); !r) return r;
  if (auto r = cb_.init(ctx(), 2ull * max_draws * kBlock); !r) return r;
  auto va = frame.surface(depth_, uint64_t{Frame2d::kPitch} * Frame2d::kHeight);
  if (!va) return tl::unexpected(va.error());
  depth_va_ = *va;
  return {};
}

void Scene3d::fini() {
  if (!frame_) return;
  vb_.fini();
  ib_.fini();
  cb_.fini();
  frame_->release(depth_);
  frame_ = nullptr;
}

void Scene3d::vertex(const Vertex3d& v) {
  if (n_vertices_ >= max_vertices_) {
    overflow_ = true;
    return;
  }
  static_cast<Vertex3d*>(vb_.cpu())[n_vertices_++] = v;
}

void Scene3d::index(uint32_t i) {
  if (n_indices_ >= max_indices_ || i > 0xFFFF) {
    overflow_ = true;
    return;
  }
  static_cast<uint16_t*>(ib_.cpu())[n_indices_++] = static_cast<uint16_t>(i);
}

Mesh Scene3d::begin_mesh() const {
  Mesh m;
  m.first_index = n_indices_;
  m.base_vertex = static_cast<int32_t>(n_vertices_);
  return m;
}

void Scene3d::end_mesh(Mesh& m, float radius) {
  m.index_count = n_indices_ - m.first_index;
  m.radius = radius;
}

void Scene3d::lattice(uint32_t cols, uint32_t rows) {
  for (uint32_t j = 0; j < rows; ++j)
    for (uint32_t i = 0; i < cols; ++i) {
      const uint32_t a = j * (cols + 1) + i, b = a + cols + 1;
      for (uint32_t k : {a, b, a + 1, a + 1, b, b + 1}) index(k);
    }
}

Mesh Scene3d::sphere(float r, uint32_t slices, uint32_t stacks, uint32_t color) {
  Mesh m = begin_mesh();
  for (uint32_t j = 0; j <= stacks; ++j) {
    const float phi = fm::kPi * float(j) / float(stacks);
    for (uint32_t i = 0; i <= slices; ++i) {
      const float th = 2 * fm::kPi * float(i) / float(slices);
      const fm::Vec3 n{fm::sin(phi) * fm::cos(th), fm::cos(phi), fm::sin(phi) * fm::sin(th)};
      vertex({n.x * r, n.y * r, n.z * r, n.x, n.y, n.z, color, 2.0f * i / slices, float(j) / stacks});
    }
  }
  lattice(slices, stacks);
  end_mesh(m, r);
  return m;
}

Mesh Scene3d::torus(float r, float tube, uint32_t slices, uint32_t sides, uint32_t color) {
  Mesh m = begin_mesh();
  for (uint32_t j = 0; j <= sides; ++j) {
    const float ph = 2 * fm::kPi * float(j) / float(sides);
    for (uint32_t i = 0; i <= slices; ++i) {
      const float th = 2 * fm::kPi * float(i) / float(slices);
      const fm::Vec3 n{fm::cos(ph) * fm::cos(th), fm::sin(ph), fm::cos(ph) * fm::sin(th)};
      const float ring = r + tube * fm::cos(ph);
      vertex({ring * fm::cos(th), tube * n.y, ring * fm::sin(th), n.x, n.y, n.z, color,
              4.0f * i / slices, float(j) / sides});
    }
  }
  lattice(slices, sides);
  end_mesh(m, r + tube);
  return m;
}

Mesh Scene3d::grid(float size, uint32_t n, float uv, uint32_t color) {
  Mesh m = begin_mesh();
  for (uint32_t j = 0; j <= n; ++j)
    for (uint32_t i = 0; i <= n; ++i) {
      const float x = size * (float(i) / n - 0.5f), z = size * (float(j) / n - 0.5f);
      vertex({x, 0, z, 0, 1, 0, color, uv * i / n, uv * j / n});
    }
  lattice(n, n);
  end_mesh(m, size);
  return m;
}

Mesh Scene3d::box(float h, uint32_t color) {
  Mesh m = begin_mesh();
  // Per face: its normal and two axes spanning it.
  const fm::Vec3 faces[6][3] = {{{1, 0, 0}, {0, 0, -1}, {0, 1, 0}}, {{-1, 0, 0}, {0, 0, 1}, {0, 1, 0}},
                                {{0, 1, 0}, {1, 0, 0}, {0, 0, -1}}, {{0, -1, 0}, {1, 0, 0}, {0, 0, 1}},
                                {{0, 0, 1}, {1, 0, 0}, {0, 1, 0}},  {{0, 0, -1}, {-1, 0, 0}, {0, 1, 0}}};
  for (uint32_t f = 0; f < 6; ++f) {
    const fm::Vec3 n = faces[f][0], u = faces[f][1], v = faces[f][2];
    const uint32_t base = n_vertices_ - static_cast<uint32_t>(m.base_vertex);
    for (uint32_t k = 0; k < 4; ++k) {
      const float su = (k == 1 || k == 2) ? 1.0f : -1.0f, sv = k >= 2 ? 1.0f : -1.0f;
      const fm::Vec3 p = (n + u * su + v * sv) * h;
      vertex({p.x, p.y, p.z, n.x, n.y, n.z, color, su * 0.5f + 0.5f, 0.5f - sv * 0.5f});
    }
    for (uint32_t k : {0u, 1u, 2u, 0u, 2u, 3u}) index(base + k);
  }
  end_mesh(m, h * 1.7320508f);
  return m;
}

void Scene3d::begin(uint32_t i, gen8::CmdWriter& w, uint32_t clear_color) {
  parity_ = i & 1;
  used_ = 0;
  w.render_target(frame_->back_va(i), Frame2d::kPitch, Frame2d::kWidth, Frame2d::kHeight);
  w.depth_buffer(depth_va_, Frame2d::kPitch, Frame2d::kWidth, Frame2d::kHeight);
  w.clear(r3d::kClearColor | r3d::kClearDepth, clear_color, 1.0f);
  rebind_vertices(w);
  w.vertex_elements(kElements, 4);
  w.index_buffer(ib_.va(), n_indices_ * 2, r3d::kIndex16);
}

void Scene3d::rebind_vertices(gen8::CmdWriter& w) const {
  w.vertex_buffer(0, vb_.va(), sizeof(Vertex3d), n_vertices_ * uint32_t(sizeof(Vertex3d)));
}

bool Scene3d::constants(gen8::CmdWriter& w, const fm::Mat4& view_proj, const fm::Mat4& model,
                        const PointLight* lights, uint32_t n_lights, fm::Vec3 ambient,
                        const float diffuse[4]) {
  if (used_ >= max_draws_ || n_lights > r3d::cb::kMaxLights) return false;
  const uint64_t off = (uint64_t{parity_} * max_draws_ + used_++) * kBlock;
  float* f = reinterpret_cast<float*>(static_cast<uint8_t*>(cb_.cpu()) + off);
  const fm::Mat4 mvp = view_proj * model;
  for (int k = 0; k < 16; ++k) {
    f[r3d::cb::kMvp + k] = mvp.m[k];
    f[r3d::cb::kModel + k] = model.m[k];
  }
  f[r3d::cb::kAmbient] = ambient.x;
  f[r3d::cb::kAmbient + 1] = ambient.y;
  f[r3d::cb::kAmbient + 2] = ambient.z;
  for (int k = 0; k < 4; ++k) f[r3d::cb::kDiffuse + k] = diffuse[k];
  __builtin_memcpy(&f[r3d::cb::kLightCount], &n_lights, 4);
  for (uint32_t k = 0; k < n_lights; ++k) {
    float* l = &f[r3d::cb::kLights + k * r3d::cb::kLightFloats];
    const PointLight& p = lights[k];
    const float v[8] = {p.pos.x, p.pos.y, p.pos.z, p.pos.w, p.color.x, p.color.y, p.color.z, p.attenuation};
    for (int c = 0; c < 8; ++c) l[c] = v[c];
  }
  w.constants(cb_.va() + off, r3d::cb::bytes(n_lights));
  return true;
}

}  // namespace wl
