// Google Benchmarks of the mediator's BAR0 handlers, on the GPU model with the
// fake MPT (no KVM). A trapped MMIO access already costs the VM an exit of
// about 10 µs (docs/driver.md; a write-protect trap is ~35 µs, docs/wp-cost.md),
// so these nanoseconds come on top of the exit: they say how much the
// mediator adds, not what the guest sees in total.
//
// BM_Direct_* call Vgpu::write/read as the VMM's exit dispatch does;
// BM_Bus_* go through FakeMpt::mmio_write/read and add the bus lookup.
#include <benchmark/benchmark.h>

#include <cstdio>
#include <cstdlib>
#include <memory>

#include "common/gen8/layout.h"
#include "common/vmm_abi.h"
#include "gvt/gvt.h"
#include "host/hw_platform.h"
#include "hv/fake_mpt.h"
#include "hw/gpu.h"

namespace {

using namespace gen8;
constexpr uint64_t kRam = 64ull << 20;
// A plain read-write engine register: the default store (VirtualRegs).
constexpr uint32_t kPlainReg = kRcsBase + reg::RING_HWS_PGA;

// One host, one mediator, one vGPU, shared by every benchmark.
struct Env {
  std::unique_ptr<hw::Gpu> gpu;
  std::unique_ptr<host::HwPlatform> plat;
  drv::PvInfo own = gvt::host_ranges();
  drv::Device host;
  std::unique_ptr<hv::FakeMpt> mpt;
  std::unique_ptr<gvt::Gvt> gvt;
  gvt::Vgpu* v = nullptr;

  Env() {
    auto g = hw::Gpu::create(hw::GpuConfig{1ull << 30, false});
    if (!g) die(g.error());
    gpu = std::move(*g);
    plat = std::make_unique<host::HwPlatform>(*gpu);
    if (!host.init(*plat, &own)) die("host driver init failed");
    auto m = gvt::Gvt::create(host, false);
    if (!m) die(m.error());
    gvt = std::move(*m);
    // Guest RAM on real host pages: installed entries are reachable HPAs.
    auto hpa = gpu->memory().alloc_pages(kRam / kPageSize);
    if (!hpa) die(hpa.error());
    mpt = std::make_unique<hv::FakeMpt>(kRam, 4096, *hpa);
    auto r = gvt->create_vgpu({nullptr, mpt.get(), kRam, vmm_abi::kBar0Base, vmm_abi::kApertureBase});
    if (!r) die(r.error());
    v = *r;
  }
  [[noreturn]] static void die(const std::string& why) {
    std::fprintf(stderr, "bench_gvt: %s\n", why.c_str());
    std::exit(1);
  }
  static Env& get() {
    static Env e;
    return e;
  }
};

void w32(gvt::Vgpu& v, uint64_t off, uint32_t x) { v.write(off, reinterpret_cast<const uint8_t*>(&x), 4); }
void w64(gvt::Vgpu& v, uint64_t off, uint64_t x) { v.write(off, reinterpret_cast<const uint8_t*>(&x), 8); }
uint64_t ggtt_off(uint64_t gm) { return kGgttOffset + gm / kPageSize * 8; }

// (a) A write to an ordinary register.
void BM_Direct_RegWrite(benchmark::State& state) {
  gvt::Vgpu& v = *Env::get().v;
  uint32_t x = 0, back = 0;
  for (auto _ : state) w32(v, kPlainReg, x += 0x1000);
  v.read(kPlainReg, reinterpret_cast<uint8_t*>(&back), 4);
  if (back != x) state.SkipWithError("the register did not keep the write");
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Direct_RegWrite);

// (b) A read of it.
void BM_Direct_RegRead(benchmark::State& state) {
  gvt::Vgpu& v = *Env::get().v;
  uint32_t x = 0;
  for (auto _ : state) {
    v.read(kPlainReg, reinterpret_cast<uint8_t*>(&x), 4);
    benchmark::DoNotOptimize(x);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Direct_RegRead);

// (c) An 8-byte guest GGTT entry write in the slice: check, pin_gfn, the
// physical entry through the host port into the model, unpin of the old
// frame. Alternating frames so that every write really remaps. In the
// aperture (low GM) the model also remaps its CPU window page (an mmap);
// in hidden GM it does not.
void ggtt_write(benchmark::State& state, bool low) {
  Env& e = Env::get();
  const gvt::GmSlice& s = e.v->slice();
  const uint64_t off = ggtt_off(low ? s.low_base + 8 * kPageSize : s.high_base + 8 * kPageSize);
  uint64_t gfn = 0x100;
  for (auto _ : state) {
    gfn ^= 1;
    w64(*e.v, off, gfn * kPageSize | kPtePresent);
  }
  // Measured what we meant to: the last frame is what the GPU sees.
  if (e.host.read_ggtt((off - kGgttOffset) / 8) != ((e.mpt->host_base() + gfn * kPageSize) | kPtePresent))
    state.SkipWithError("the physical GGTT entry was not installed");
  state.SetItemsProcessed(state.iterations());
}
void BM_Direct_GgttWrite64_Aperture(benchmark::State& state) { ggtt_write(state, true); }
void BM_Direct_GgttWrite64_HiddenGm(benchmark::State& state) { ggtt_write(state, false); }
BENCHMARK(BM_Direct_GgttWrite64_Aperture);
BENCHMARK(BM_Direct_GgttWrite64_HiddenGm);

// (d) The same entry as two 4-byte halves (two exits in a VM); one item is
// one whole entry.
void BM_Direct_GgttHalfPair_HiddenGm(benchmark::State& state) {
  Env& e = Env::get();
  const uint64_t off = ggtt_off(e.v->slice().high_base + 9 * kPageSize);
  uint64_t gfn = 0x200;
  for (auto _ : state) {
    gfn ^= 1;
    w32(*e.v, off, static_cast<uint32_t>(gfn * kPageSize | kPtePresent));
    w32(*e.v, off + 4, 0);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Direct_GgttHalfPair_HiddenGm);

// (e) An interrupt register: DE pipe A IMR (re-evaluates the virtual
// interrupt state; nothing is pending, so no MSI).
void BM_Direct_DeImrWrite(benchmark::State& state) {
  gvt::Vgpu& v = *Env::get().v;
  uint32_t x = 0;
  for (auto _ : state) w32(v, reg::GEN8_DE_PIPE_IMR, x ^= kDePipeVblank);
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Direct_DeImrWrite);

// (f) An aperture access outside the slice: counted and refused.
void BM_Direct_ApertureRefusedWrite(benchmark::State& state) {
  hv::BusDevice& trap = Env::get().v->aperture_trap();
  const uint32_t x = 0xDEADBEEF;
  for (auto _ : state) trap.write(0x1000, reinterpret_cast<const uint8_t*>(&x), 4);
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Direct_ApertureRefusedWrite);

void BM_Direct_ApertureRefusedRead(benchmark::State& state) {
  hv::BusDevice& trap = Env::get().v->aperture_trap();
  uint32_t x = 0;
  for (auto _ : state) {
    trap.read(0x1000, reinterpret_cast<uint8_t*>(&x), 4);
    benchmark::DoNotOptimize(x);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Direct_ApertureRefusedRead);

// ---- the same, through the MPT's bus lookup ----

void BM_Bus_RegWrite(benchmark::State& state) {
  hv::FakeMpt& mpt = *Env::get().mpt;
  uint32_t x = 0;
  for (auto _ : state) {
    x += 0x1000;
    mpt.mmio_write(vmm_abi::kBar0Base + kPlainReg, &x, 4);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Bus_RegWrite);

void BM_Bus_RegRead(benchmark::State& state) {
  hv::FakeMpt& mpt = *Env::get().mpt;
  uint32_t x = 0;
  for (auto _ : state) {
    mpt.mmio_read(vmm_abi::kBar0Base + kPlainReg, &x, 4);
    benchmark::DoNotOptimize(x);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Bus_RegRead);

void BM_Bus_GgttWrite64_HiddenGm(benchmark::State& state) {
  Env& e = Env::get();
  const uint64_t gpa = vmm_abi::kBar0Base + ggtt_off(e.v->slice().high_base + 10 * kPageSize);
  uint64_t gfn = 0x300;
  for (auto _ : state) {
    gfn ^= 1;
    uint64_t pte = gfn * kPageSize | kPtePresent;
    e.mpt->mmio_write(gpa, &pte, 8);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Bus_GgttWrite64_HiddenGm);

void BM_Bus_ApertureRefusedWrite(benchmark::State& state) {
  hv::FakeMpt& mpt = *Env::get().mpt;
  const uint32_t x = 0xDEADBEEF;
  for (auto _ : state) mpt.mmio_write(vmm_abi::kApertureBase + 0x1000, &x, 4);
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Bus_ApertureRefusedWrite);

}  // namespace
