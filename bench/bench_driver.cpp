// Google Benchmarks of the host build of the driver on the GPU model:
// native submission latency (build a one-command batch, submit, wait).
#include <benchmark/benchmark.h>

#include <chrono>
#include <memory>

#include "driver/context.h"
#include "driver/device.h"
#include "host/hw_platform.h"
#include "hw/gpu.h"

namespace {

// One round trip per iteration: MI_STORE_DATA_IMM in a PPGTT batch,
// Batch::submit (ring update + one ELSP write pair), Context::wait on the
// seqno the ring posts to the HWSP.
void BM_SubmitLatency(benchmark::State& state) {
  const int engine = static_cast<int>(state.range(0));
  auto g = hw::Gpu::create(hw::GpuConfig{512ull << 20, false});
  if (!g) {
    state.SkipWithError(g.error().c_str());
    return;
  }
  std::unique_ptr<hw::Gpu> gpu = std::move(*g);
  host::HwPlatform platform(*gpu);
  drv::Device dev;
  if (!dev.init(platform)) {
    state.SkipWithError("driver init failed");
    return;
  }
  drv::Context ctx;
  drv::Batch batch;
  auto dst = dev.create_bo(4096, 0);
  if (!dst || !ctx.init(dev, engine) || !batch.init(ctx, 4096)) {
    state.SkipWithError("context setup failed");
    return;
  }
  auto va = ctx.bind(*dst);
  if (!va) {
    state.SkipWithError("bind failed");
    return;
  }

  uint32_t value = 0;
  bool ok = true;
  const auto t0 = std::chrono::steady_clock::now();
  for (auto _ : state) {
    if (!batch.begin()) {
      ok = false;
      break;
    }
    batch.cmds().store_dword(*va, ++value, false);
    auto s = batch.submit();
    if (!s || !ctx.wait(*s, 5'000'000'000ull)) {
      ok = false;
      break;
    }
  }
  const auto t1 = std::chrono::steady_clock::now();
  if (!ok) state.SkipWithError("submission failed or timed out");
  else if (dst->dwords()[0] != value) state.SkipWithError("batch result missing");

  state.SetItemsProcessed(state.iterations());
  const double us = std::chrono::duration<double, std::micro>(t1 - t0).count();
  state.counters["us_per_submit"] =
      state.iterations() ? us / static_cast<double>(state.iterations()) : 0.0;

  batch.fini();
  ctx.unbind(*dst, *va);
  ctx.fini();
  dev.destroy_bo(*dst);
  dev.fini();
}
BENCHMARK(BM_SubmitLatency)->Arg(1)->ArgName("bcs")->Unit(benchmark::kMicrosecond)->UseRealTime();

}  // namespace
