// Shared pieces of the render engine's tests: a scene on the GPU model (one
// RCS context, buffers in the PPGTT, a batch built with the table's
// encoders), a vertex format, constant buffers, and golden-image comparison.
#pragma once

#include <gtest/gtest.h>
#include <png.h>

#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "common/fmath.h"
#include "common/gen8/encode.h"
#include "hw/gpu.h"
#include "hw/harness.h"
#include "gpu_fixture.h"

namespace hw::test {

namespace r3d = gen8::r3d;

// The tests' vertex: position, normal, colour (0xAARRGGBB), texture coordinates.
struct Vertex {
  float x, y, z;
  float nx = 0, ny = 0, nz = 1;
  uint32_t color = 0xFFFFFFFFu;
  float u = 0, v = 0;
};
inline constexpr uint32_t kVertexPitch = sizeof(Vertex);
inline constexpr uint32_t kVertexElements[] = {
    r3d::vertex_element(0, r3d::Semantic::Position, r3d::VeFormat::Float3, 0),
    r3d::vertex_element(0, r3d::Semantic::Normal, r3d::VeFormat::Float3, 12),
    r3d::vertex_element(0, r3d::Semantic::Color, r3d::VeFormat::Unorm8x4, 24),
    r3d::vertex_element(0, r3d::Semantic::TexCoord, r3d::VeFormat::Float2, 28),
};

struct LightDesc {
  fm::Vec4 pos;
  fm::Vec3 color;
  float attenuation = 0;
};

// A constant buffer's floats.
inline std::vector<float> constants(const fm::Mat4& mvp, const fm::Mat4& model = {},
                                    const std::vector<LightDesc>& lights = {},
                                    fm::Vec3 ambient = {0.15f, 0.15f, 0.15f}) {
  std::vector<float> f(r3d::cb::bytes(static_cast<uint32_t>(lights.size())) / 4, 0.0f);
  for (int i = 0; i < 16; ++i) {
    f[r3d::cb::kMvp + i] = mvp.m[i];
    f[r3d::cb::kModel + i] = model.m[i];
  }
  f[r3d::cb::kAmbient] = ambient.x;
  f[r3d::cb::kAmbient + 1] = ambient.y;
  f[r3d::cb::kAmbient + 2] = ambient.z;
  for (int i = 0; i < 4; ++i) f[r3d::cb::kDiffuse + i] = 1.0f;
  const auto n = static_cast<uint32_t>(lights.size());
  std::memcpy(&f[r3d::cb::kLightCount], &n, 4);
  for (uint32_t i = 0; i < n; ++i) {
    float* l = &f[r3d::cb::kLights + i * r3d::cb::kLightFloats];
    const LightDesc& d = lights[i];
    for (float v : {d.pos.x, d.pos.y, d.pos.z, d.pos.w, d.color.x, d.color.y, d.color.z, d.attenuation})
      *l++ = v;
  }
  return f;
}

// One RCS context drawing into a width x height render target, all in the PPGTT.
class Scene {
 public:
  static constexpr uint64_t kVa = 0x20000000;

  Scene(unsigned threads, uint32_t width, uint32_t height) : width_(width), height_(height) {
    auto g = Gpu::create(GpuConfig{256ull << 20, false, threads});
    EXPECT_TRUE(g) << g.error();
    gpu = std::move(*g);
    h = std::make_unique<Harness>(*gpu);
    ctx = h->make_context(0);
    batch_ = buffer(256 * 1024);
    rt = buffer(uint64_t{width} * height * 4);
    depth = buffer(uint64_t{width} * height * 4);
    w = gen8::CmdWriter(reinterpret_cast<uint32_t*>(batch_.cpu), uint32_t(batch_.size / 4));
  }
  ~Scene() {
    h.reset();
    gpu.reset();
  }

  // Host pages mapped in the PPGTT at the next free address (buf.gm).
  Harness::Buffer buffer(uint64_t bytes) {
    Harness::Buffer b = h->alloc_host(bytes);
    h->ppgtt_map(next_va_, b.hpa, b.size);
    b.gm = next_va_;
    next_va_ += (b.size + 0xFFFF) & ~0xFFFFull;
    return b;
  }
  template <class T>
  Harness::Buffer upload(const std::vector<T>& data) {
    Harness::Buffer b = buffer(data.size() * sizeof(T));
    std::memcpy(b.cpu, data.data(), data.size() * sizeof(T));
    return b;
  }

  // The render target, a depth buffer cleared to 1, a full-target clear.
  void begin(uint32_t clear_color) {
    w.render_target(rt.gm, width_ * 4, width_, height_);
    w.depth_buffer(depth.gm, width_ * 4, width_, height_);
    w.clear(r3d::kClearColor | r3d::kClearDepth, clear_color, 1.0f);
  }
  // Vertex buffer 0 in the Vertex format, and the constants.
  void bind(const std::vector<Vertex>& vertices, const std::vector<float>& cb) {
    auto vb = upload(vertices);
    auto c = upload(cb);
    w.vertex_buffer(0, vb.gm, kVertexPitch, uint32_t(vertices.size() * kVertexPitch));
    w.vertex_elements(kVertexElements, 4);
    w.constants(c.gm, uint32_t(cb.size() * 4));
  }
  void draw(const std::vector<Vertex>& vertices, const std::vector<float>& cb,
            uint32_t topology = r3d::kTopoTriList) {
    bind(vertices, cb);
    w.primitive(topology, uint32_t(vertices.size()), 0);
  }
  void draw_indexed(const std::vector<Vertex>& vertices, const std::vector<uint16_t>& indices,
                    const std::vector<float>& cb, uint32_t topology = r3d::kTopoTriList) {
    bind(vertices, cb);
    auto ib = upload(indices);
    w.index_buffer(ib.gm, uint32_t(indices.size() * 2), r3d::kIndex16);
    w.primitive(topology, uint32_t(indices.size()), 0, true);
  }

  // Runs the batch (unprivileged, from the PPGTT) on `on` (the scene's own
  // context by default) and waits; false on a fault.
  bool run(Harness::Context* on = nullptr) {
    submit(on);
    return h->wait_idle(0) && gpu->last_fault(0).code == gen8::Fault::None;
  }
  // The same without waiting; the batch buffer starts over.
  void submit(Harness::Context* on = nullptr) {
    w.bb_end();
    uint32_t ring[4];
    gen8::CmdWriter rc(ring, 4);
    rc.bb_start(batch_.gm, true);
    h->run(on ? *on : ctx, {ring, rc.size()});
    w = gen8::CmdWriter(reinterpret_cast<uint32_t*>(batch_.cpu), uint32_t(batch_.size / 4));
  }
  std::vector<uint32_t> pixels() const {
    std::vector<uint32_t> p(size_t{width_} * height_);
    std::memcpy(p.data(), rt.cpu, p.size() * 4);
    return p;
  }
  uint32_t pixel(uint32_t x, uint32_t y) const {
    return reinterpret_cast<const uint32_t*>(rt.cpu)[size_t{y} * width_ + x];
  }
  uint32_t width() const { return width_; }
  uint32_t height() const { return height_; }

  std::unique_ptr<Gpu> gpu;
  std::unique_ptr<Harness> h;
  Harness::Context ctx;
  Harness::Buffer rt, depth;
  gen8::CmdWriter w{nullptr, 0};

 private:
  uint32_t width_, height_;
  uint64_t next_va_ = kVa;
  Harness::Buffer batch_;
};

// Compares B8G8R8A8 pixels bit for bit with tests/hw/golden/<name>.png (an
// RGBA PNG). GVIRT_UPDATE_GOLDEN=1 rewrites the golden file instead.
inline void expect_golden(const std::string& name, const std::vector<uint32_t>& px, uint32_t w,
                          uint32_t h) {
  const std::string path = std::string(GVIRT_SOURCE_DIR) + "/tests/hw/golden/" + name + ".png";
  png_image img{};
  img.version = PNG_IMAGE_VERSION;
  if (std::getenv("GVIRT_UPDATE_GOLDEN")) {
    img.width = w;
    img.height = h;
    img.format = PNG_FORMAT_BGRA;
    ASSERT_TRUE(png_image_write_to_file(&img, path.c_str(), 0, px.data(), 0, nullptr)) << img.message;
    return;
  }
  ASSERT_TRUE(png_image_begin_read_from_file(&img, path.c_str())) << path << ": " << img.message;
  img.format = PNG_FORMAT_BGRA;
  std::vector<uint32_t> golden(size_t{img.width} * img.height);
  ASSERT_TRUE(png_image_finish_read(&img, nullptr, golden.data(), 0, nullptr)) << img.message;
  ASSERT_EQ(img.width, w);
  ASSERT_EQ(img.height, h);
  size_t differ = 0, first = 0;
  for (size_t i = 0; i < px.size(); ++i)
    if (px[i] != golden[i] && differ++ == 0) first = i;
  if (differ) {
    const std::string actual = ::testing::TempDir() + name + ".actual.png";
    png_image out{};
    out.version = PNG_IMAGE_VERSION;
    out.width = w;
    out.height = h;
    out.format = PNG_FORMAT_BGRA;
    png_image_write_to_file(&out, actual.c_str(), 0, px.data(), 0, nullptr);
    ADD_FAILURE() << name << ": " << differ << " pixels differ from the golden image, the first at ("
                  << first % w << ", " << first / w << "): 0x" << std::hex << px[first] << " != 0x"
                  << golden[first] << "; the image is in " << actual;
  }
}

}  // namespace hw::test
