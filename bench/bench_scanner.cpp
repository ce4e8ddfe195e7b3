// Google Benchmarks of the command scanner (gvt::CmdScanner), in bytes of
// commands scanned per second:
// - BM_ScanRing: ring slices of the driver's commands (PPGTT BB_START,
//   PIPE_CONTROL and MI_STORE_DATA_IMM to the GGTT, LRI to INSTPM): one
//   submission (16 dwords) and a full 16 KiB ring;
// - BM_ScanGgttBatch: a 64 KiB privileged batch of blits and GGTT stores,
//   read from guest memory, scanned and copied into a shadow buffer;
// - BM_ScanPpgttBatch: the same size of PPGTT batch, read and scanned as
//   unprivileged (--scan-nonpriv), not copied.
#include <benchmark/benchmark.h>

#include <cstring>
#include <vector>

#include "common/gen8/encode.h"
#include "gvt/cmd_scanner.h"

namespace {

using namespace gen8;

constexpr gvt::GmSlice kSlice{64ull << 20, 64ull << 20, 1ull << 30, 384ull << 20, 4, 4};
constexpr uint64_t kData = kSlice.low_base + 0x10000;
constexpr uint64_t kBatchGm = kSlice.high_base + 0x100000;
constexpr uint64_t kBatchVa = 0x10000000;
constexpr uint64_t kShadowGm = 0x20000000;
constexpr uint32_t kBatchDwords = 64 * 1024 / 4;

// Guest memory holding one batch at `base`, and one reusable shadow buffer.
struct Memory {
  uint64_t base;
  std::vector<uint32_t> batch, shadow;
  bool read(uint64_t a, void* dst, size_t n) const {
    if (a < base || a - base + n > 4 * batch.size()) return false;
    std::memcpy(dst, batch.data() + (a - base) / 4, n);
    return true;
  }
};

gvt::ScanEnv make_env(int engine, Memory& m) {
  gvt::ScanEnv e{};
  e.engine = engine;
  e.slice = kSlice;
  e.read_ggtt = [&m](uint64_t a, void* d, size_t n) { return m.read(a, d, n); };
  e.read_ppgtt = e.read_ggtt;
  e.alloc_shadow = [&m](uint32_t n) -> tl::expected<gvt::ShadowBuffer, std::string> {
    m.shadow.resize(n);
    return gvt::ShadowBuffer{kShadowGm, m.shadow.data(), n};
  };
  return e;
}

// 64 KiB of blits and stores, ending with MI_BATCH_BUFFER_END.
std::vector<uint32_t> blit_batch(bool ggtt) {
  std::vector<uint32_t> b(kBatchDwords, header(Op::MI_NOOP, 1));
  CmdWriter w(b.data(), kBatchDwords - 1);
  const uint64_t dst = ggtt ? kData : 0x40000000;
  for (uint32_t i = 0; w.size() + 11 <= kBatchDwords - 1; ++i) {
    w.color_blt(dst, 4096, 0, i % 64, 1024, i % 64 + 1, i);
    w.store_dword(dst + 8 * (i % 512), i, ggtt);
  }
  b[kBatchDwords - 1] = header(Op::MI_BATCH_BUFFER_END, 1);
  return b;
}

void BM_ScanRing(benchmark::State& state) {
  const auto dwords = static_cast<uint32_t>(state.range(0));
  std::vector<uint32_t> ring(dwords);
  CmdWriter w(ring.data(), dwords);
  while (w.size() + 16 <= dwords) {
    w.bb_start(kBatchVa, true);
    w.pipe_control(kData, 1, true, false);
    w.store_dword(kData + 64, 2, true);
    w.lri(kRcsBase + reg::RING_INSTPM, 0x10001);
  }
  Memory m{0, {}, {}};
  const gvt::ScanEnv env = make_env(0, m);
  for (auto _ : state) {
    auto r = gvt::CmdScanner::scan_ring(env, ring.data(), w.size(), kSlice.low_base);
    if (!r) state.SkipWithError(r.error().reason.c_str());
    benchmark::DoNotOptimize(r);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * w.bytes());
}
BENCHMARK(BM_ScanRing)->Arg(16)->Arg(4096);

void BM_ScanGgttBatch(benchmark::State& state) {
  Memory m{kBatchGm, blit_batch(true), {}};
  const gvt::ScanEnv env = make_env(1, m);
  uint32_t ring[3];
  for (auto _ : state) {
    CmdWriter w(ring, 3);
    w.bb_start(kBatchGm, false);  // the scan patches it to the copy
    auto r = gvt::CmdScanner::scan_ring(env, ring, 3, kSlice.low_base);
    if (!r || r->batches_copied != 1) state.SkipWithError("batch refused");
    benchmark::DoNotOptimize(m.shadow.data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * (kBatchDwords + 3) * 4);
}
BENCHMARK(BM_ScanGgttBatch);

void BM_ScanPpgttBatch(benchmark::State& state) {
  Memory m{kBatchVa, blit_batch(false), {}};
  gvt::ScanEnv env = make_env(1, m);
  env.scan_nonpriv = true;
  uint32_t ring[3];
  CmdWriter w(ring, 3);
  w.bb_start(kBatchVa, true);
  for (auto _ : state) {
    auto r = gvt::CmdScanner::scan_ring(env, ring, 3, kSlice.low_base);
    if (!r || r->dwords != kBatchDwords + 3) state.SkipWithError("batch refused");
    benchmark::DoNotOptimize(r);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * (kBatchDwords + 3) * 4);
}
BENCHMARK(BM_ScanPpgttBatch);

}  // namespace
