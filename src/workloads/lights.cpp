// `lights`: GPU-bound, in the spirit of LightsMark. Twenty lit, textured
// meshes (spheres and tori, about 17,000 triangles with the floor) under a
// directional light and five moving coloured point lights, depth-tested at
// 1024x768, the camera orbiting. Everything moves with the frame index only.
#include "workloads/scene3d.h"
#include "workloads/registry.h"

namespace wl {

namespace {

namespace r3d = gen8::r3d;

constexpr uint32_t kCols = 5, kRows = 4, kTexSize = 256, kPointLights = 5;

// A procedural texture: a checker of two tones with hashed speckles.
void make_texture(uint32_t* t) {
  for (uint32_t y = 0; y < kTexSize; ++y)
    for (uint32_t x = 0; x < kTexSize; ++x) {
      const uint32_t check = ((x >> 5) ^ (y >> 5)) & 1, speck = hash32(y * kTexSize + x) & 0x1F;
      const uint32_t v = (check ? 0xD0 : 0x90) + speck;
      t[y * kTexSize + x] = 0xFF000000u | v << 16 | (v - 0x10) << 8 | (v - 0x28);
    }
}

class Lights final : public Registered<Lights> {
 public:
  const Info& info() const override { return info_; }
  int engine() const override { return 0; }

  drv::Result<void> init(drv::Device&, Frame2d& frame, Latency*) override {
    fr_ = &frame;
    if (auto r = scene_.init(frame, 8192, 40000, 64); !r) return r;
    floor_ = scene_.grid(26, 30, 8, 0xFF808890u);
    sphere_ = scene_.sphere(0.9f, 24, 16, 0xFFF0F0F0u);
    torus_ = scene_.torus(0.7f, 0.3f, 32, 12, 0xFFE8D8C0u);
    if (scene_.full()) return tl::unexpected(drv::Error::BadArgument);
    if (auto r = tex_.init(scene_.ctx(), kTexSize, kTexSize); !r) return r;
    static uint32_t texels[kTexSize * kTexSize];
    make_texture(texels);
    return tex_.upload(texels);
  }

  drv::Result<void> frame(uint32_t i) override {
    drv::Batch& b = fr_->batch(i);
    if (auto r = b.begin(); !r) return r;
    gen8::CmdWriter& w = b.cmds();
    const float t = float(i) * (1.0f / 60.0f);
    scene_.begin(i, w, 0xFF0C0C14u);
    w.depth_stencil(true, true, r3d::DepthFunc::Less);
    w.raster(r3d::Cull::Back, r3d::kLighting);
    tex_.bind(w, r3d::kTexBilinear);
    const fm::Mat4 view_proj = fm::Mat4::perspective(1.7320508f, 4.0f / 3.0f, 0.5f, 60.0f) *
                               fm::Mat4::rotate_x(0.5f) * fm::Mat4::translate({0, -4.5f, -13}) *
                               fm::Mat4::rotate_y(t * 0.25f);
    PointLight lights[1 + kPointLights];
    lights[0] = {{0.3f, 1, 0.4f, 0}, {0.25f, 0.25f, 0.3f}, 0};
    const fm::Vec3 colors[kPointLights] = {{1, 0.3f, 0.2f}, {0.2f, 1, 0.3f}, {0.3f, 0.4f, 1}, {1, 0.9f, 0.3f}, {0.9f, 0.3f, 1}};
    for (uint32_t k = 0; k < kPointLights; ++k) {
      const float a = t * (0.6f + 0.15f * float(k)) + float(k) * 1.2566f;
      lights[1 + k] = {{7 * fm::cos(a), 1.2f + fm::sin(a * 1.7f), 5 * fm::sin(a), 1}, colors[k], 0.06f};
    }
    const fm::Vec3 ambient{0.08f, 0.08f, 0.1f};
    const float white[4] = {1, 1, 1, 1};
    if (!scene_.constants(w, view_proj, fm::Mat4{}, lights, 1 + kPointLights, ambient, white))
      return tl::unexpected(drv::Error::BadArgument);
    scene_.draw(w, floor_);
    for (uint32_t k = 0; k < kCols * kRows; ++k) {
      const float x = (float(k % kCols) - (kCols - 1) * 0.5f) * 3.2f;
      const float z = (float(k / kCols) - (kRows - 1) * 0.5f) * 3.2f;
      const fm::Mat4 model = fm::Mat4::translate({x, 1.1f, z}) *
                             fm::Mat4::rotate_y(t * (0.5f + 0.1f * float(k))) *
                             fm::Mat4::rotate_x(0.4f * float(k & 3));
      if (!scene_.constants(w, view_proj, model, lights, 1 + kPointLights, ambient, white))
        return tl::unexpected(drv::Error::BadArgument);
      scene_.draw(w, (k & 1) ? torus_ : sphere_);
    }
    auto s = fr_->submit(i, b);
    if (!s) return tl::unexpected(s.error());
    return {};
  }

  void fini() override {
    if (!fr_) return;
    tex_.fini();
    scene_.fini();
    fr_ = nullptr;
  }

 private:
  Info info_{"lights", "GPU-bound 3D: lit, textured meshes under moving lights, depth-tested"};
  Frame2d* fr_ = nullptr;
  Scene3d scene_;
  drv::Texture2d tex_;
  Mesh floor_, sphere_, torus_;
};

Lights g_lights;

}  // namespace

Workload& lights_workload() { return g_lights; }

}  // namespace wl
