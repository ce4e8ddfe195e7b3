// Golden images of the render engine, one scene per feature, each compared
// bit for bit with a committed PNG at 1 and 2 render threads; plus the fill
// rule, checked without a golden file.
#include <vector>

#include "render_fixture.h"

namespace hw::test {
namespace {

constexpr uint32_t kW = 128, kH = 96;
constexpr uint32_t kRed = 0xFFFF0000u, kGreen = 0xFF00FF00u, kBlue = 0xFF0000FFu, kWhite = 0xFFFFFFFFu;

fm::Mat4 camera(fm::Vec3 eye_offset = {0, 0, -3}) {
  return fm::Mat4::perspective(1.5f, float(kW) / kH, 0.5f, 20.0f) * fm::Mat4::translate(eye_offset);
}

// A unit quad in the z = 0 plane, as two triangles, with uv spanning [0, uv].
std::vector<Vertex> quad(float x0, float y0, float x1, float y1, float z, uint32_t color, float uv = 1) {
  Vertex a{x0, y0, z, 0, 0, 1, color, 0, uv}, b{x1, y0, z, 0, 0, 1, color, uv, uv};
  Vertex c{x1, y1, z, 0, 0, 1, color, uv, 0}, d{x0, y1, z, 0, 0, 1, color, 0, 0};
  return {a, b, c, a, c, d};
}

// A sphere of radius r with outward normals, as an indexed triangle list.
void sphere(float r, uint32_t slices, uint32_t stacks, uint32_t color, std::vector<Vertex>& v,
            std::vector<uint16_t>& idx) {
  for (uint32_t j = 0; j <= stacks; ++j) {
    const float phi = fm::kPi * float(j) / float(stacks);
    for (uint32_t i = 0; i <= slices; ++i) {
      const float th = 2 * fm::kPi * float(i) / float(slices);
      const fm::Vec3 n{fm::sin(phi) * fm::cos(th), fm::cos(phi), fm::sin(phi) * fm::sin(th)};
      v.push_back({n.x * r, n.y * r, n.z * r, n.x, n.y, n.z, color, float(i) / slices, float(j) / stacks});
    }
  }
  for (uint32_t j = 0; j < stacks; ++j)
    for (uint32_t i = 0; i < slices; ++i) {
      const auto a = uint16_t(j * (slices + 1) + i), b = uint16_t(a + slices + 1);
      for (uint16_t k : {a, uint16_t(a + 1), b, uint16_t(a + 1), uint16_t(b + 1), b}) idx.push_back(k);
    }
}

class RenderGolden : public ::testing::TestWithParam<unsigned> {
 protected:
  void SetUp() override { s = std::make_unique<Scene>(GetParam(), kW, kH); }
  void finish(const char* name) {
    ASSERT_TRUE(s->run()) << "fault " << static_cast<int>(s->gpu->last_fault(0).code);
    expect_golden(name, s->pixels(), kW, kH);
  }
  std::unique_ptr<Scene> s;
};

TEST_P(RenderGolden, Triangle) {
  s->begin(0xFF102040u);
  const auto ortho = constants({});
  // Gouraud: one colour per corner.
  s->w.raster(r3d::Cull::None, 0);
  s->draw({{-0.9f, -0.8f, 0.5f, 0, 0, 1, kRed}, {0.1f, -0.8f, 0.5f, 0, 0, 1, kGreen},
           {-0.4f, 0.8f, 0.5f, 0, 0, 1, kBlue}},
          ortho);
  // Flat: a strip of two triangles, each the colour of its first corner.
  s->w.raster(r3d::Cull::Back, r3d::kFlatShading);
  s->draw({{0.2f, -0.8f, 0.5f, 0, 0, 1, kGreen}, {0.9f, -0.8f, 0.5f, 0, 0, 1, kRed},
           {0.2f, 0.0f, 0.5f, 0, 0, 1, kWhite}, {0.9f, 0.0f, 0.5f, 0, 0, 1, kBlue}},
          ortho, r3d::kTopoTriStrip);
  // Back-facing (clockwise): culled, nothing drawn.
  s->draw({{0.2f, 0.2f, 0.5f, 0, 0, 1, kWhite}, {0.5f, 0.9f, 0.5f, 0, 0, 1, kWhite},
           {0.9f, 0.2f, 0.5f, 0, 0, 1, kWhite}},
          ortho);
  finish("triangle");
  EXPECT_EQ(s->pixel(100, 20), 0xFF102040u) << "the back face was culled";
}

TEST_P(RenderGolden, Depth) {
  s->begin(0xFF000000u);
  s->w.depth_stencil(true, true, r3d::DepthFunc::Less);
  const auto mvp = constants(camera());
  // Two quads crossing each other in depth, then an indexed one behind both.
  std::vector<Vertex> a = quad(-1.2f, -0.8f, 0.6f, 0.8f, 0, kRed);
  for (auto& v : a) v.z = v.x * 0.8f;
  std::vector<Vertex> b = quad(-0.6f, -0.6f, 1.2f, 0.9f, 0, kGreen);
  for (auto& v : b) v.z = -v.x * 0.8f;
  s->draw(a, mvp);
  s->draw(b, mvp);
  s->draw_indexed({{-2, -2, -0.5f, 0, 0, 1, kBlue}, {2, -2, -0.5f, 0, 0, 1, kBlue},
                   {2, 2, -0.5f, 0, 0, 1, kWhite}, {-2, 2, -0.5f, 0, 0, 1, kWhite}},
                  {0, 1, 2, 0, 2, 3}, mvp);
  finish("depth");
}

TEST_P(RenderGolden, Texture) {
  // A 16x16 texture: four coloured quadrants with a checker on top.
  std::vector<uint32_t> tex(16 * 16);
  for (uint32_t y = 0; y < 16; ++y)
    for (uint32_t x = 0; x < 16; ++x) {
      const uint32_t base = x < 8 ? (y < 8 ? kRed : kGreen) : (y < 8 ? kBlue : 0xFFFFFF00u);
      tex[y * 16 + x] = ((x ^ y) & 2) ? base : (base & 0xFF7F7F7Fu);
    }
  auto t = s->upload(tex);
  s->begin(0xFF202020u);
  // A floor tilted away from the camera: perspective-correct coordinates.
  const fm::Mat4 model = fm::Mat4::rotate_x(-1.1f);
  const auto cb = constants(camera({0, 0.3f, -2.5f}) * model, model);
  s->w.texture(t.gm, 64, 16, 16, 0);  // nearest, wrap
  s->draw(quad(-1.5f, -1.5f, 0, 1.5f, 0, kWhite, 3), cb);
  s->w.texture(t.gm, 64, 16, 16, r3d::kTexBilinear | r3d::kTexClamp);
  std::vector<Vertex> q = quad(0, -1.5f, 1.5f, 1.5f, 0, kWhite, 1);
  for (auto& v : q) v.u = v.u * 1.5f - 0.25f, v.v = v.v * 1.5f - 0.25f;
  s->draw(q, cb);
  s->w.texture_off();
  finish("texture");
}

TEST_P(RenderGolden, Blending) {
  s->begin(0xFF404040u);
  const auto ortho = constants({});
  s->draw(quad(-0.9f, -0.9f, 0.3f, 0.3f, 0.5f, 0xFFC02020u), ortho);
  s->w.blend(r3d::Blend::Alpha);
  s->draw(quad(-0.5f, -0.5f, 0.6f, 0.6f, 0.5f, 0x8020C020u), ortho);
  s->w.blend(r3d::Blend::Additive);
  s->draw(quad(-0.1f, -0.8f, 0.9f, 0.2f, 0.5f, 0xC02040FFu), ortho);
  // Gouraud alpha: from opaque to transparent across a triangle.
  s->w.blend(r3d::Blend::Alpha);
  s->draw({{-0.9f, 0.5f, 0.5f, 0, 0, 1, 0xFFFFFFFFu}, {0.9f, 0.5f, 0.5f, 0, 0, 1, 0x00FFFFFFu},
           {0.0f, 0.95f, 0.5f, 0, 0, 1, 0x80FFFF00u}},
          ortho);
  finish("blending");
}

TEST_P(RenderGolden, Clipping) {
  s->begin(0xFF000020u);
  s->w.depth_stencil(true, true, r3d::DepthFunc::LessEqual);
  // A floor running from behind the camera to far away: it crosses the near
  // plane and is clipped there.
  const auto cb = constants(camera({0, 1, 0}));
  s->draw({{-3, 0, 2, 0, 1, 0, kRed}, {3, 0, 2, 0, 1, 0, kGreen}, {0, 0, -15, 0, 1, 0, kBlue}}, cb);
  // A triangle far outside the viewport on every side (guard band), scissored.
  s->w.scissor(16, 40, 112, 80);
  s->draw({{-40, -30, 0.2f, 0, 0, 1, 0xFF808000u}, {40, -30, 0.2f, 0, 0, 1, 0xFF008080u},
           {0, 40, 0.2f, 0, 0, 1, 0xFF800080u}},
          constants({}));
  // A smaller viewport.
  s->w.scissor(0, 0, kW, kH);
  s->w.viewport(8, 8, 32, 24, 0, 1);
  s->draw(quad(-1, -1, 1, 1, 0.1f, kWhite), constants({}));
  finish("clipping");
}

TEST_P(RenderGolden, Lights) {
  s->begin(0xFF000000u);
  s->w.depth_stencil(true, true, r3d::DepthFunc::Less);
  std::vector<Vertex> v;
  std::vector<uint16_t> idx;
  sphere(0.8f, 24, 16, 0xFFE0E0E0u, v, idx);
  const std::vector<LightDesc> lights = {
      {{0.3f, 1, 0.5f, 0}, {0.5f, 0.5f, 0.45f}},        // directional, from above
      {{-2, 0, 1.5f, 1}, {1.0f, 0.2f, 0.1f}, 0.1f},     // a red point light, left
      {{2, -0.5f, 1.5f, 1}, {0.1f, 0.3f, 1.0f}, 0.1f},  // a blue point light, right
  };
  s->w.raster(r3d::Cull::Back, r3d::kLighting);
  const fm::Mat4 left = fm::Mat4::translate({-0.9f, 0, 0}) * fm::Mat4::rotate_y(0.4f);
  s->draw_indexed(v, idx, constants(camera() * left, left, lights));
  s->w.raster(r3d::Cull::Back, r3d::kLighting | r3d::kFlatShading);
  const fm::Mat4 right = fm::Mat4::translate({0.9f, 0, 0});
  s->draw_indexed(v, idx, constants(camera() * right, right, lights));
  finish("lights");
}

INSTANTIATE_TEST_SUITE_P(Threads, RenderGolden, ::testing::Values(1u, 2u),
                         [](const auto& info) { return std::to_string(info.param) + "_threads"; });

// Top-left fill rule: triangles that share edges cover each pixel once. A fan
// of 8 triangles, each adding 1/4 of white: every covered pixel is exactly
// one quarter bright, and the fan has no holes.
TEST(RenderFillRule, SharedEdgesCoverEachPixelOnce) {
  Scene s(2, 64, 64);
  s.begin(0x00000000u);
  s.w.blend(r3d::Blend::Additive);
  std::vector<Vertex> fan;
  const fm::Vec3 c{0.03f, -0.02f, 0.5f};
  for (int i = 0; i < 8; ++i) {
    const float a0 = 2 * fm::kPi * i / 8, a1 = 2 * fm::kPi * (i + 1) / 8;
    fan.push_back({c.x, c.y, c.z, 0, 0, 1, 0x40404040u});
    fan.push_back({0.9f * fm::cos(a0), 0.9f * fm::sin(a0), c.z, 0, 0, 1, 0x40404040u});
    fan.push_back({0.9f * fm::cos(a1), 0.9f * fm::sin(a1), c.z, 0, 0, 1, 0x40404040u});
  }
  // Vertex alpha 0x40 scales the additive colour: 0x40 * 0x40 / 255 = 0x10.
  s.draw(fan, constants({}));
  ASSERT_TRUE(s.run());
  uint32_t covered = 0;
  for (uint32_t px : s.pixels()) {
    ASSERT_TRUE(px == 0 || px == 0x40101010u) << std::hex << px;
    covered += px != 0;
  }
  // An octagon of radius 0.9 * 32 pixels: area 2 sqrt(2) r^2, about 2350.
  EXPECT_NEAR(covered, 2346, 40);
  EXPECT_EQ(s.pixel(32, 32), 0x40101010u);
  EXPECT_EQ(s.gpu->counters(s.ctx.lrca()).pixels, 64u * 64 + covered);
}

}  // namespace
}  // namespace hw::test
