// `arena`: mixed CPU and GPU, in the spirit of OpenArena. Each frame the CPU
// animates 600 objects and a cloth banner (its vertices rebuilt on the CPU),
// culls the objects against the view frustum, sorts the visible ones by
// material (opaque) and by depth (transparent, back to front), and emits a
// draw per object with the state changes between them: textures on and off,
// flat and Gouraud shading, culling, alpha blending. All of it is a function
// of the frame index.
#include "workloads/scene3d.h"
#include "workloads/registry.h"

namespace wl {

namespace {

namespace r3d = gen8::r3d;

constexpr uint32_t kObjects = 600, kMaterials = 4, kTexSize = 64, kCloth = 24;
constexpr float kWorld = 56, kFar = 45, kTanHalf = 0.5773503f;  // fov 60 degrees
constexpr uint32_t kMaxDraws = kObjects + 8;

enum Material : uint32_t { kTexturedFlat, kTexturedSmooth, kPlain, kGlass };

struct Object {
  fm::Vec3 pos;
  float scale, phase, spin;
  uint32_t mesh;
  Material material;
};

struct Visible {
  uint32_t object;
  float depth;  // distance along the view direction
  fm::Mat4 model;
};

class Arena final : public Registered<Arena> {
 public:
  const Info& info() const override { return info_; }
  int engine() const override { return 0; }

  drv::Result<void> init(drv::Device&, Frame2d& frame, Latency*) override {
    fr_ = &frame;
    if (auto r = scene_.init(frame, 16384, 16384, kMaxDraws); !r) return r;
    floor_ = scene_.grid(kWorld + 8, 32, 16, 0xFF707060u);
    cloth_ = scene_.grid(1, kCloth, 1, 0);  // indices only: its vertices are per frame
    meshes_[0] = scene_.box(0.5f, 0xFFC0A080u);
    meshes_[1] = scene_.sphere(0.5f, 10, 6, 0xFF80C0E0u);
    meshes_[2] = scene_.torus(0.4f, 0.15f, 12, 6, 0xFFE0C060u);
    if (scene_.full()) return tl::unexpected(drv::Error::BadArgument);
    for (uint32_t k = 0; k < kObjects; ++k) {
      const uint32_t h = hash32(k + 1);
      objects_[k] = {{(float(h & 0xFFF) / 4096.0f - 0.5f) * kWorld, 0.6f,
                      (float((h >> 12) & 0xFFF) / 4096.0f - 0.5f) * kWorld},
                     0.6f + float((h >> 24) & 7) * 0.1f, float(h & 63) * 0.1f, float((h >> 6) & 7) * 0.3f - 1.0f,
                     k % 3, static_cast<Material>((h >> 20) % kMaterials)};
    }
    if (auto r = tex_.init(scene_.ctx(), kTexSize, kTexSize); !r) return r;
    if (auto r = cloth_vb_.init(scene_.ctx(), 2ull * (kCloth + 1) * (kCloth + 1) * sizeof(Vertex3d)); !r) return r;
    static uint32_t texels[kTexSize * kTexSize];
    for (uint32_t y = 0; y < kTexSize; ++y)
      for (uint32_t x = 0; x < kTexSize; ++x) {
        const bool mortar = (y % 16) < 2 || ((x + (y / 16 % 2) * 16) % 32) < 2;
        texels[y * kTexSize + x] = mortar ? 0xFFB0B0A8u : 0xFF903020u + (hash32(y * 64 + x) & 0x0F0F0F);
      }
    return tex_.upload(texels);
  }

  drv::Result<void> frame(uint32_t i) override {
    drv::Batch& b = fr_->batch(i);
    if (auto r = b.begin(); !r) return r;
    gen8::CmdWriter& w = b.cmds();
    const float t = float(i) * (1.0f / 60.0f);

    // Camera: walking a circle, looking along it.
    const float yaw = t * 0.3f;
    const fm::Mat4 view = fm::Mat4::rotate_x(0.12f) * fm::Mat4::rotate_y(-yaw) *
                          fm::Mat4::translate({-14 * fm::sin(yaw), -2.2f, -14 * fm::cos(yaw)});
    const fm::Mat4 proj = fm::Mat4::perspective(1.0f / kTanHalf, 4.0f / 3.0f, 0.3f, kFar + 5);
    const fm::Mat4 view_proj = proj * view;
    cull(view, t);
    build_cloth(i, t);

    scene_.begin(i, w, 0xFF405878u);
    w.depth_stencil(true, true, r3d::DepthFunc::Less);
    PointLight lights[3] = {{{-0.4f, 1, 0.3f, 0}, {0.7f, 0.65f, 0.55f}, 0},
                            {{10 * fm::cos(t), 2, 10 * fm::sin(t), 1}, {1, 0.5f, 0.2f}, 0.05f},
                            {{-10 * fm::cos(t * 0.7f), 2, 8 * fm::sin(t * 0.7f), 1}, {0.3f, 0.5f, 1}, 0.05f}};
    const fm::Vec3 ambient{0.2f, 0.2f, 0.22f};
    const float white[4] = {1, 1, 1, 1}, glass[4] = {0.6f, 0.8f, 1, 0.45f};
    auto draw = [&](const fm::Mat4& model, const Mesh& m, const float* diffuse) {
      if (!scene_.constants(w, view_proj, model, lights, 3, ambient, diffuse)) return false;
      scene_.draw(w, m);
      return true;
    };

    // The floor, then the opaque objects material by material.
    tex_.bind(w, r3d::kTexBilinear);
    w.raster(r3d::Cull::Back, r3d::kLighting);
    bool ok = draw(fm::Mat4{}, floor_, white);
    for (uint32_t mat = kTexturedFlat; mat <= kPlain; ++mat) {
      if (mat == kPlain) w.texture_off();
      w.raster(r3d::Cull::Back, r3d::kLighting | (mat == kTexturedFlat ? r3d::kFlatShading : 0));
      for (uint32_t k = 0; k < n_visible_; ++k) {
        const Object& o = objects_[visible_[k].object];
        if (o.material == mat) ok = ok && draw(visible_[k].model, meshes_[o.mesh], white);
      }
    }
    // The cloth from its own per-frame vertices, both faces.
    const uint32_t cloth_verts = (kCloth + 1) * (kCloth + 1);
    w.raster(r3d::Cull::None, r3d::kLighting);
    w.vertex_buffer(0, cloth_vb_.va() + (i & 1) * cloth_verts * sizeof(Vertex3d), sizeof(Vertex3d),
                    cloth_verts * uint32_t(sizeof(Vertex3d)));
    Mesh cloth = cloth_;
    cloth.base_vertex = 0;
    ok = ok && draw(fm::Mat4::translate({0, 0, 0}), cloth, white);
    scene_.rebind_vertices(w);
    // Transparent objects last, back to front, blended, depth not written.
    w.blend(r3d::Blend::Alpha);
    w.depth_stencil(true, false, r3d::DepthFunc::Less);
    w.raster(r3d::Cull::None, r3d::kLighting);
    for (uint32_t k = n_visible_; k-- > 0;) {
      const Object& o = objects_[visible_[k].object];
      if (o.material == kGlass) ok = ok && draw(visible_[k].model, meshes_[o.mesh], glass);
    }
    w.blend(r3d::Blend::Opaque);
    if (!ok) return tl::unexpected(drv::Error::BadArgument);
    auto s = fr_->submit(i, b);
    if (!s) return tl::unexpected(s.error());
    return {};
  }

  void fini() override {
    if (!fr_) return;
    cloth_vb_.fini();
    tex_.fini();
    scene_.fini();
    fr_ = nullptr;
  }

 private:
  // Animation and visibility: each object bobs and spins; those whose
  // bounding sphere is outside the view frustum are dropped; the rest are
  // sorted by depth, nearest first (insertion sort: mostly ordered frame to
  // frame).
  void cull(const fm::Mat4& view, float t) {
    n_visible_ = 0;
    for (uint32_t k = 0; k < kObjects; ++k) {
      const Object& o = objects_[k];
      const fm::Vec3 p = o.pos + fm::Vec3{0, 0.25f * fm::sin(t * 2 + o.phase), 0};
      const fm::Vec3 c = view.point(p);
      const float r = meshes_[o.mesh].radius * o.scale, depth = -c.z;
      if (depth + r < 0.3f || depth - r > kFar) continue;
      const float sx = fm::sqrt(1 + kTanHalf * kTanHalf * 16.0f / 9.0f), sy = fm::sqrt(1 + kTanHalf * kTanHalf);
      if (fm::abs(c.x) > depth * kTanHalf * (4.0f / 3.0f) + r * sx) continue;
      if (fm::abs(c.y) > depth * kTanHalf + r * sy) continue;
      Visible v{k, depth, fm::Mat4::translate(p) * fm::Mat4::rotate_y(t * o.spin + o.phase) * fm::Mat4::scale(o.scale)};
      uint32_t at = n_visible_++;
      for (; at > 0 && visible_[at - 1].depth > depth; --at) visible_[at] = visible_[at - 1];
      visible_[at] = v;
    }
  }

  // The banner: a grid whose vertices wave, with normals from the wave's slope.
  void build_cloth(uint32_t i, float t) {
    const uint32_t n = kCloth + 1;
    auto* v = static_cast<Vertex3d*>(cloth_vb_.cpu()) + (i & 1) * n * n;
    for (uint32_t y = 0; y < n; ++y)
      for (uint32_t x = 0; x < n; ++x) {
        const float u = float(x) / kCloth, s = float(y) / kCloth;
        const float a = u * 9 - t * 4, amp = 0.35f * u;
        const float dz = amp * fm::sin(a), slope = amp * 9 * fm::cos(a) + 0.35f * fm::sin(a);
        const fm::Vec3 nrm = fm::normalize({-slope, 0, 6});
        v[y * n + x] = {-3 + 6 * u, 5.5f - 3 * s, -2 + dz, nrm.x, nrm.y, nrm.z,
                        (y / 4 + x / 4) % 2 ? 0xFFC02020u : 0xFFE0E0E0u, u, s};
      }
  }

  Info info_{"arena", "mixed CPU/GPU 3D: hundreds of culled, sorted draws with state changes"};
  Frame2d* fr_ = nullptr;
  Scene3d scene_;
  drv::Texture2d tex_;
  drv::GpuBuffer cloth_vb_;
  Mesh floor_, cloth_, meshes_[3];
  Object objects_[kObjects];
  Visible visible_[kObjects];
  uint32_t n_visible_ = 0;
};

Arena g_arena;

}  // namespace

Workload& arena_workload() { return g_arena; }

}  // namespace wl
