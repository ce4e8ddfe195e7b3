// The render engine's error paths: malformed or missing 3D state faults the
// context with a recorded error and never crashes or hangs the host; and no
// 3D state leaks from one context to another.
#include <chrono>
#include <thread>

#include "render_fixture.h"

namespace hw::test {
namespace {

using gen8::Fault;

constexpr uint32_t kGray = 0xFF404040u;
const std::vector<Vertex> kTri = {{-0.5f, -0.5f, 0.5f, 0, 0, 1, kGray},
                                  {0.5f, -0.5f, 0.5f, 0, 0, 1, kGray},
                                  {0, 0.5f, 0.5f, 0, 0, 1, kGray}};

class RenderFault : public ::testing::Test {
 protected:
  Scene s{2, 64, 48};
  Fault fault() { return s.gpu->last_fault(0).code; }
  uint32_t reg(uint32_t off) { return static_cast<uint32_t>(s.gpu->mmio_read(off, 4)); }
  // Runs the batch, expecting the context to fault with `want` on `header`.
  void expect_fault(Fault want, uint32_t header) {
    EXPECT_FALSE(s.run());
    ASSERT_TRUE(s.h->wait_fault(0));
    EXPECT_EQ(fault(), want);
    EXPECT_EQ(reg(gen8::kRcsBase + gen8::reg::RING_IPEIR), static_cast<uint32_t>(want));
    EXPECT_EQ(reg(gen8::kRcsBase + gen8::reg::RING_IPEHR) & 0xFFFF0000u, header & 0xFFFF0000u);
    EXPECT_TRUE(reg(gen8::kRcsBase + gen8::reg::RING_EIR) & (1u << static_cast<uint32_t>(want)));
    EXPECT_TRUE(reg(gen8::reg::GEN8_GT_IIR0) & gen8::kGtError);
  }
  static uint32_t hdr(gen8::Op op) { return gen8::cmd(op).header; }
};

TEST_F(RenderFault, DrawInAFreshContextWithoutARenderTarget) {
  s.draw(kTri, constants({}));
  expect_fault(Fault::BadState, hdr(gen8::Op::_3DPRIMITIVE));
}

TEST_F(RenderFault, ClearWithoutARenderTarget) {
  s.w.clear(r3d::kClearColor, 0, 1.0f);
  expect_fault(Fault::BadState, hdr(gen8::Op::_3DSTATE_CLEAR_PARAMS));
}

TEST_F(RenderFault, IndexPastItsVertexBuffer) {
  s.begin(0);
  s.draw_indexed(kTri, {0, 1, 3}, constants({}));
  expect_fault(Fault::BadState, hdr(gen8::Op::_3DPRIMITIVE));
  EXPECT_EQ(s.gpu->last_fault(0).detail, 3u);
}

TEST_F(RenderFault, IndexBufferShorterThanTheDraw) {
  s.begin(0);
  s.bind(kTri, constants({}));
  auto ib = s.upload(std::vector<uint16_t>{0, 1, 2});
  s.w.index_buffer(ib.gm, 6, r3d::kIndex16);
  s.w.primitive(r3d::kTopoTriList, 6, 0, true);
  expect_fault(Fault::BadState, hdr(gen8::Op::_3DPRIMITIVE));
}

TEST_F(RenderFault, NegativeBaseVertex) {
  s.begin(0);
  s.bind(kTri, constants({}));
  auto ib = s.upload(std::vector<uint16_t>{0, 1, 2});
  s.w.index_buffer(ib.gm, 6, r3d::kIndex16);
  s.w.primitive(r3d::kTopoTriList, 3, 0, true, -1);
  expect_fault(Fault::BadState, hdr(gen8::Op::_3DPRIMITIVE));
}

TEST_F(RenderFault, RenderTargetNotMappedInThePpgtt) {
  s.w.render_target(0x7000000000ull, 256, 64, 48);
  s.w.clear(r3d::kClearColor, 0, 1.0f);
  expect_fault(Fault::PageFault, hdr(gen8::Op::_3DSTATE_CLEAR_PARAMS));
  EXPECT_EQ(s.gpu->last_fault(0).detail, 0x7000000000ull);
}

// A privileged (ring) render target whose extent runs past the end of GM.
TEST_F(RenderFault, ExtentOutsideTheGgtt) {
  Cmds c;
  c->render_target(gen8::kGmSize - 4096, 4096, 1024, 2);
  c->clear(r3d::kClearColor, 0, 1.0f);
  s.h->run(s.ctx, c.span());
  ASSERT_TRUE(s.h->wait_fault(0));
  EXPECT_EQ(fault(), Fault::PageFault);
  EXPECT_EQ(s.gpu->last_fault(0).detail, gen8::kGmSize - 4096);
}

// Privilege rule 2: GGTT bindings a privileged buffer set are not usable
// from an unprivileged batch, in the same context.
TEST_F(RenderFault, GgttBindingUsedFromAnUnprivilegedBatch) {
  auto fb = s.h->alloc_ggtt(64 * 48 * 4);
  Cmds c;
  c->render_target(fb.gm, 256, 64, 48);
  c->clear(r3d::kClearColor, 0xFF112233u, 1.0f);
  s.h->run(s.ctx, c.span());
  ASSERT_TRUE(s.h->wait_idle(0));
  EXPECT_EQ(reinterpret_cast<uint32_t*>(fb.cpu)[0], 0xFF112233u) << "the ring may use the GGTT";
  s.w.clear(r3d::kClearColor, 0, 1.0f);
  expect_fault(Fault::GgttSelect, hdr(gen8::Op::_3DSTATE_CLEAR_PARAMS));
  EXPECT_EQ(s.gpu->last_fault(0).detail, fb.gm);
}

TEST_F(RenderFault, MalformedState) {
  struct Case {
    const char* what;
    void (*build)(Scene&);
    gen8::Op op;
  } cases[] = {
      {"pitch below the width", [](Scene& s) { s.w.render_target(s.rt.gm, 64, 64, 48); },
       gen8::Op::_3DSTATE_RENDER_TARGET},
      {"zero-sized surface", [](Scene& s) { s.w.depth_buffer(s.depth.gm, 256, 0, 48); },
       gen8::Op::_3DSTATE_DEPTH_BUFFER},
      {"texture format",
       [](Scene& s) {
         s.w.dw(gen8::header(gen8::Op::_3DSTATE_TEXTURE, 6));
         s.w.addr64(s.rt.gm);
         s.w.dw(256);
         s.w.dw(48u << 16 | 64);
         s.w.dw(r3d::kTexEnable | r3d::kFmtD32F);
       },
       gen8::Op::_3DSTATE_TEXTURE},
      {"vertex element format",
       [](Scene& s) {
         const uint32_t e = r3d::vertex_element(0, r3d::Semantic::Normal, r3d::VeFormat::Float2, 0);
         s.w.vertex_elements(&e, 1);
       },
       gen8::Op::_3DSTATE_VERTEX_ELEMENTS},
      {"index format", [](Scene& s) { s.w.index_buffer(s.rt.gm, 64, 3); },
       gen8::Op::_3DSTATE_INDEX_BUFFER},
      {"viewport", [](Scene& s) { s.w.viewport(0, 0, -4, 4, 0, 1); }, gen8::Op::_3DSTATE_VIEWPORT},
      {"blend mode", [](Scene& s) { s.w.blend(static_cast<r3d::Blend>(3)); }, gen8::Op::_3DSTATE_BLEND},
      {"topology",
       [](Scene& s) {
         s.begin(0);
         s.bind(kTri, constants({}));
         s.w.primitive(0x06, 3, 0);
       },
       gen8::Op::_3DPRIMITIVE},
      {"instancing",
       [](Scene& s) {
         s.begin(0);
         s.bind(kTri, constants({}));
         s.w.dw(gen8::header(gen8::Op::_3DPRIMITIVE, 7));
         for (uint32_t v : {r3d::kTopoTriList, 3u, 0u, 2u, 0u, 0u}) s.w.dw(v);
       },
       gen8::Op::_3DPRIMITIVE},
      {"no constants",
       [](Scene& s) {
         s.begin(0);
         auto vb = s.upload(kTri);
         s.w.vertex_buffer(0, vb.gm, kVertexPitch, uint32_t(vb.size));
         s.w.vertex_elements(kVertexElements, 4);
         s.w.primitive(r3d::kTopoTriList, 3, 0);
       },
       gen8::Op::_3DPRIMITIVE},
      {"depth test without a depth buffer",
       [](Scene& s) {
         s.w.render_target(s.rt.gm, 256, 64, 48);
         s.w.depth_stencil(true, false, r3d::DepthFunc::Less);
         s.draw(kTri, constants({}));
       },
       gen8::Op::_3DPRIMITIVE},
      {"too many lights",
       [](Scene& s) {
         s.begin(0);
         auto cb = constants({});
         const uint32_t n = r3d::cb::kMaxLights + 1;
         std::memcpy(&cb[r3d::cb::kLightCount], &n, 4);
         s.draw(kTri, cb);
       },
       gen8::Op::_3DPRIMITIVE},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.what);
    c.build(s);
    expect_fault(Fault::BadState, hdr(c.op));
    s.h->reset_engine(0);
    s.ctx = s.h->make_context(0);
  }
}

// A draw that would run for hours is stopped by an engine reset.
TEST_F(RenderFault, ResetStopsAnEndlessDraw) {
  s.begin(0);
  auto vb = s.upload(kTri);
  auto cb = s.upload(constants({}));
  s.w.vertex_buffer(0, vb.gm, 0, kVertexPitch);  // pitch 0: every vertex is the first
  s.w.vertex_elements(kVertexElements, 4);
  s.w.constants(cb.gm, uint32_t(cb.size));
  s.w.primitive(r3d::kTopoTriStrip, 0xFFFFFFFFu, 0);
  s.submit();
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_FALSE(s.gpu->engine_idle(0)) << "the draw finished already";
  s.h->reset_engine(0);
  EXPECT_TRUE(s.gpu->engine_idle(0));
  s.ctx = s.h->make_context(0);
  s.begin(0xFF00FF00u);
  ASSERT_TRUE(s.run());
  EXPECT_EQ(s.pixel(0, 0), 0xFF00FF00u);
}

// Each context carries its own 3D state in its image: a fresh context sees
// none of another's, and a context's own state survives a switch.
TEST_F(RenderFault, NoStateLeaksAcrossContexts) {
  s.begin(0xFF000000u);
  s.w.blend(r3d::Blend::Additive);
  s.draw(kTri, constants({}));
  ASSERT_TRUE(s.run());
  const uint32_t* page = reinterpret_cast<const uint32_t*>(s.ctx.image.cpu + r3d::kCtx3dPage * 4096);
  EXPECT_EQ(page[r3d::slot::RENDER_TARGET], static_cast<uint32_t>(s.rt.gm));
  EXPECT_TRUE(page[r3d::slot::FLAGS] & r3d::flag::RENDER_TARGET);

  // Another context, restore-inhibited: no render target, so the draw faults.
  auto other = s.h->make_context(0);
  s.w.primitive(r3d::kTopoTriList, 3, 0);
  EXPECT_FALSE(s.run(&other));
  EXPECT_EQ(fault(), Fault::BadState);
  s.h->reset_engine(0);

  // The other context with its own target: defaults, so opaque, not additive.
  Harness::Buffer rt2 = s.buffer(64 * 48 * 4);
  s.w.render_target(rt2.gm, 256, 64, 48);
  s.w.clear(r3d::kClearColor, 0xFF000000u, 1.0f);
  s.draw(kTri, constants({}));
  s.w.primitive(r3d::kTopoTriList, 3, 0);
  ASSERT_TRUE(s.run(&other));
  EXPECT_EQ(reinterpret_cast<const uint32_t*>(rt2.cpu)[24 * 64 + 32], kGray) << "drawn twice, opaque";

  // The first context again: its saved state (render target, additive
  // blending, buffers) draws with no state command at all.
  EXPECT_EQ(s.pixel(32, 24), kGray);
  s.w.primitive(r3d::kTopoTriList, 3, 0);
  ASSERT_TRUE(s.run());
  EXPECT_EQ(s.pixel(32, 24), 0xFF808080u) << "added twice";
  EXPECT_EQ(s.gpu->counters(s.ctx.lrca()).faults, 0u);
}

}  // namespace
}  // namespace hw::test
