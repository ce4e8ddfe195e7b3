// Google Benchmarks of PPGTT shadowing (gvt::PpgttShadow) against FakeMpt,
// so they measure the mediator's own cost, not KVM's exit or memslot costs
// (docs/wp-cost.md has those):
// - BM_TrappedPteWrite: one trapped 8-byte PTE write, re-shadowed (the old
//   frame unpinned, the new one pinned), as ppgtt-churn does 128 per frame;
// - BM_BuildRoot/N: shadowing a PPGTT whose N page tables map 512 pages each
//   (N + 3 tables protected, N * 512 frames pinned), then dropping it.
#include <benchmark/benchmark.h>

#include <vector>

#include "support/ppgtt_support.h"

namespace {

using namespace test_support;

constexpr uint64_t kRam = 64ull << 20;
constexpr uint64_t kPte = gen8::kPtePresent | gen8::kPteRw;
constexpr uint64_t kData = 32ull << 20;

struct Setup {
  hv::FakeMpt mpt{kRam};
  std::vector<uint8_t> arena_mem = std::vector<uint8_t>(1024 * kPage);
  ArenaPages arena{arena_mem.data(), 0x50'0000'0000ull, 1024};
  GuestTables guest{mpt, 1ull << 20, 16ull << 20};
  uint64_t pml4 = guest.new_page();
  // `tables` page tables, each full, covering [0, tables * 2 MiB).
  explicit Setup(int tables) {
    for (uint64_t va = 0; va < uint64_t(tables) << 21; va += kPage) guest.map(pml4, va, kData + va % (16ull << 20));
  }
};

void BM_TrappedPteWrite(benchmark::State& state) {
  Setup s(1);
  gvt::PpgttShadow shadow(s.mpt, s.arena, 0x70'0000'0000ull);
  if (!shadow.acquire(s.pml4)) state.SkipWithError("acquire failed");
  const uint64_t slot = *s.guest.slot(s.pml4, 0x3000, 0);
  uint64_t n = 0;
  for (auto _ : state) s.guest.store(slot, (kData + (++n & 1) * kPage) | kPte);
  state.SetItemsProcessed(state.iterations());
  if (shadow.stats().traps != n) state.SkipWithError("a write did not trap");
}
BENCHMARK(BM_TrappedPteWrite);

void BM_BuildRoot(benchmark::State& state) {
  Setup s(static_cast<int>(state.range(0)));
  gvt::PpgttShadow shadow(s.mpt, s.arena, 0x70'0000'0000ull);
  for (auto _ : state) {
    if (!shadow.acquire(s.pml4)) state.SkipWithError("acquire failed");
    shadow.reset();
  }
  state.SetItemsProcessed(state.iterations() * state.range(0) * 512);
}
BENCHMARK(BM_BuildRoot)->Arg(1)->Arg(16)->Unit(benchmark::kMicrosecond);

}  // namespace
