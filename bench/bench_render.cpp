// Google Benchmarks of the render engine at 1 and 2 worker threads:
// triangle throughput (Mtri/s, many small lit triangles) and fill rate
// (Mpix/s, full-screen textured, depth-tested quads), driven through the
// BARs by the harness.
#include <benchmark/benchmark.h>

#include <cstring>
#include <vector>

#include "common/fmath.h"
#include "common/gen8/encode.h"
#include "hw/gpu.h"
#include "hw/harness.h"

namespace {

using namespace gen8;

constexpr uint32_t kW = 1024, kH = 768;
constexpr uint64_t kVa = 0x20000000;

struct Vtx {
  float x, y, z, nx, ny, nz, u, v;
};

class Bench {
 public:
  explicit Bench(unsigned threads)
      : gpu_(std::move(*hw::Gpu::create(hw::GpuConfig{1ull << 30, false, threads}))), h_(*gpu_) {
    ctx_ = h_.make_context(0, 64 * 1024);
  }
  hw::Harness::Buffer buffer(uint64_t bytes) {
    auto b = h_.alloc_host(bytes);
    h_.ppgtt_map(next_, b.hpa, b.size);
    b.gm = next_;
    next_ += (b.size + 0xFFFF) & ~0xFFFFull;
    return b;
  }
  // Builds the batch with `build` (after the render target, depth buffer,
  // vertex layout and constants), then times submissions of it.
  template <class Build>
  void run(benchmark::State& state, const std::vector<Vtx>& verts, Build&& build) {
    auto rt = buffer(uint64_t{kW} * kH * 4), depth = buffer(uint64_t{kW} * kH * 4);
    auto vb = buffer(verts.size() * sizeof(Vtx));
    std::memcpy(vb.cpu, verts.data(), verts.size() * sizeof(Vtx));
    std::vector<float> cb(r3d::cb::bytes(1) / 4, 0.0f);
    fm::Mat4 id;
    for (int i = 0; i < 16; ++i) cb[r3d::cb::kMvp + i] = cb[r3d::cb::kModel + i] = id.m[i];
    for (int i = 0; i < 4; ++i) cb[r3d::cb::kDiffuse + i] = 1;
    const uint32_t one = 1;
    std::memcpy(&cb[r3d::cb::kLightCount], &one, 4);
    const float light[8] = {0.3f, 0.5f, 1, 0, 0.9f, 0.8f, 0.7f, 0};
    std::memcpy(&cb[r3d::cb::kLights], light, sizeof light);
    auto c = buffer(cb.size() * 4);
    std::memcpy(c.cpu, cb.data(), cb.size() * 4);
    auto tex = buffer(256 * 256 * 4);
    for (uint32_t i = 0; i < 256 * 256; ++i) reinterpret_cast<uint32_t*>(tex.cpu)[i] = 0xFF000000u | i * 2654435761u >> 8;
    auto batch = buffer(1 << 20);
    CmdWriter w(reinterpret_cast<uint32_t*>(batch.cpu), uint32_t(batch.size / 4));
    const uint32_t el[] = {r3d::vertex_element(0, r3d::Semantic::Position, r3d::VeFormat::Float3, 0),
                           r3d::vertex_element(0, r3d::Semantic::Normal, r3d::VeFormat::Float3, 12),
                           r3d::vertex_element(0, r3d::Semantic::TexCoord, r3d::VeFormat::Float2, 24)};
    w.render_target(rt.gm, kW * 4, kW, kH);
    w.depth_buffer(depth.gm, kW * 4, kW, kH);
    w.vertex_buffer(0, vb.gm, sizeof(Vtx), uint32_t(verts.size() * sizeof(Vtx)));
    w.vertex_elements(el, 3);
    w.constants(c.gm, uint32_t(cb.size() * 4));
    w.texture(tex.gm, 1024, 256, 256, r3d::kTexBilinear);
    build(w);
    w.bb_end();
    uint32_t ring[4];
    CmdWriter rc(ring, 4);
    rc.bb_start(batch.gm, true);
    rc.noop();
    for (auto _ : state) {
      h_.run(ctx_, {ring, rc.size()});
      if (!h_.wait_idle(0) || gpu_->last_fault(0).code != Fault::None) state.SkipWithError("render fault");
    }
  }

 private:
  std::unique_ptr<hw::Gpu> gpu_;
  hw::Harness h_;
  hw::Harness::Context ctx_;
  uint64_t next_ = kVa;
};

// 64K lit, textured triangles of about 20 pixels each, in a grid.
void BM_Triangles(benchmark::State& state) {
  Bench b(static_cast<unsigned>(state.range(0)));
  constexpr uint32_t kCols = 256, kRows = 128;
  std::vector<Vtx> v;
  for (uint32_t j = 0; j < kRows; ++j)
    for (uint32_t i = 0; i < kCols; ++i) {
      const float x0 = -1 + 2.0f * i / kCols, y0 = -1 + 2.0f * j / kRows, dx = 1.4f / kCols, dy = 1.4f / kRows;
      for (Vtx p : {Vtx{x0, y0, 0.5f, 0, 0, 1, 0, 0}, Vtx{x0 + dx, y0, 0.5f, 0, 0, 1, 1, 0}, Vtx{x0, y0 + dy, 0.5f, 0, 0, 1, 0, 1},
                    Vtx{x0 + dx, y0, 0.5f, 0, 0, 1, 1, 0}, Vtx{x0 + dx, y0 + dy, 0.5f, 0, 0, 1, 1, 1}, Vtx{x0, y0 + dy, 0.5f, 0, 0, 1, 0, 1}})
        v.push_back(p);
    }
  b.run(state, v, [&](CmdWriter& w) {
    w.raster(r3d::Cull::None, r3d::kLighting);
    w.primitive(r3d::kTopoTriList, uint32_t(v.size()), 0);
  });
  state.counters["Mtri/s"] = benchmark::Counter(double(v.size() / 3) * state.iterations() / 1e6, benchmark::Counter::kIsRate);
}
BENCHMARK(BM_Triangles)->Arg(1)->Arg(2)->ArgName("threads")->Unit(benchmark::kMillisecond)->UseRealTime();

// Four full-screen quads, textured and depth-tested (each in front of the last).
void BM_Fill(benchmark::State& state) {
  Bench b(static_cast<unsigned>(state.range(0)));
  std::vector<Vtx> v;
  for (int k = 0; k < 4; ++k) {
    const float z = 0.9f - 0.2f * k;
    for (Vtx p : {Vtx{-1, -1, z, 0, 0, 1, 0, 0}, Vtx{1, -1, z, 0, 0, 1, 4, 0}, Vtx{1, 1, z, 0, 0, 1, 4, 3},
                  Vtx{-1, -1, z, 0, 0, 1, 0, 0}, Vtx{1, 1, z, 0, 0, 1, 4, 3}, Vtx{-1, 1, z, 0, 0, 1, 0, 3}})
      v.push_back(p);
  }
  b.run(state, v, [&](CmdWriter& w) {
    w.clear(r3d::kClearDepth, 0, 1.0f);
    w.depth_stencil(true, true, r3d::DepthFunc::Less);
    w.primitive(r3d::kTopoTriList, uint32_t(v.size()), 0);
  });
  state.counters["Mpix/s"] = benchmark::Counter(4.0 * kW * kH * state.iterations() / 1e6, benchmark::Counter::kIsRate);
}
BENCHMARK(BM_Fill)->Arg(1)->Arg(2)->ArgName("threads")->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace
