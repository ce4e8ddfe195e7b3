// Google Benchmarks of the GPU model: blitter fill bandwidth and
// command-streamer throughput, driven through the BARs by the harness.
#include <benchmark/benchmark.h>

#include <functional>

#include "common/gen8/encode.h"
#include "hw/gpu.h"
#include "hw/harness.h"

namespace {

using namespace gen8;

constexpr uint64_t kVa = 0x10000000, kBatchVa = 0x14000000;

// Builds one PPGTT batch with `build`, then times ring submissions of it on
// `engine` until the engine is idle again.
void run_batch(benchmark::State& state, int engine, uint64_t batch_bytes,
               const std::function<void(hw::Harness&, CmdWriter&)>& build) {
  auto gpu = std::move(*hw::Gpu::create(hw::GpuConfig{1ull << 30, false}));
  hw::Harness h(*gpu);
  auto batch = h.alloc_host(batch_bytes);
  h.ppgtt_map(kBatchVa, batch.hpa, batch.size);
  CmdWriter b(reinterpret_cast<uint32_t*>(batch.cpu), static_cast<uint32_t>(batch.size / 4));
  build(h, b);
  b.bb_end();
  uint32_t ring[4];
  CmdWriter rc(ring, 4);
  rc.bb_start(kBatchVa, true);
  rc.noop();
  auto ctx = h.make_context(engine, 64 * 1024);
  for (auto _ : state) {
    h.run(ctx, {ring, rc.size()});
    if (!h.wait_idle(engine)) state.SkipWithError("engine did not go idle");
  }
}

// XY_COLOR_BLT over a 1024x768x4 surface: bytes written per second.
void BM_BlitterFill(benchmark::State& state) {
  const uint32_t w = 1024, h = 768, pitch = w * 4;
  const int fills = static_cast<int>(state.range(0));
  run_batch(state, 1, 4096, [&](hw::Harness& hs, CmdWriter& b) {
    auto fb = hs.alloc_host(uint64_t{pitch} * h);
    hs.ppgtt_map(kVa, fb.hpa, fb.size);
    for (int i = 0; i < fills; ++i) b.color_blt(kVa, pitch, 0, 0, w, h, 0x00102030u + i);
  });
  state.SetBytesProcessed(state.iterations() * int64_t{fills} * pitch * h);
}
BENCHMARK(BM_BlitterFill)->Arg(8)->Unit(benchmark::kMillisecond)->UseRealTime();

// MI_STORE_DATA_IMM to the PPGTT: MI commands per second, each a memory write.
void BM_CommandStreamer(benchmark::State& state) {
  const int n = static_cast<int>(state.range(0));
  run_batch(state, 0, uint64_t(n) * 16 + 4096, [&](hw::Harness& hs, CmdWriter& b) {
    auto dst = hs.alloc_host(4096);
    hs.ppgtt_map(kVa, dst.hpa, dst.size);
    for (int i = 0; i < n; ++i) b.store_dword(kVa + (i % 1024) * 4, i, false);
  });
  state.SetItemsProcessed(state.iterations() * int64_t{n});
}
BENCHMARK(BM_CommandStreamer)->Arg(100000)->Unit(benchmark::kMillisecond)->UseRealTime();

// MI_NOOPs: the decode-and-dispatch floor of the streamer.
void BM_CommandStreamerNoop(benchmark::State& state) {
  const int n = static_cast<int>(state.range(0));
  run_batch(state, 0, uint64_t(n) * 4 + 4096, [&](hw::Harness&, CmdWriter& b) {
    for (int i = 0; i < n; ++i) b.noop();
  });
  state.SetItemsProcessed(state.iterations() * int64_t{n});
}
BENCHMARK(BM_CommandStreamerNoop)->Arg(100000)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace
