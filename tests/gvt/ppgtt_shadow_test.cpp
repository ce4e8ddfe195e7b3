#include "gvt/ppgtt_shadow.h"

#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <thread>
#include <string>
#include <vector>

#include "hw/gpu.h"
#include "hw/gtt_walk.h"
#include "support/ppgtt_support.h"

namespace gvt {
namespace {

using gen8::kPtePresent;
using gen8::kPtePs;
using gen8::kPteRw;
using test_support::ArenaPages;
using test_support::check_shadow;
using test_support::guest_walk;
using test_support::GuestTables;
using test_support::kPage;
using test_support::pt_index;
using test_support::shadow_walk;

constexpr uint64_t kMiB = 1ull << 20;
constexpr uint64_t kRam = 16 * kMiB;
constexpr uint64_t kScratch = 0x70'0000'0000ull;
constexpr uint64_t kArenaHpa = 0x50'0000'0000ull;
constexpr size_t kArenaPages = 256;
constexpr uint64_t kData = 8 * kMiB;  // data pages; tables live in [1 MiB, 4 MiB)
constexpr uint64_t kPte = kPtePresent | kPteRw;

// Addresses under distinct entries at every level, up to the top of 48 bits.
const std::vector<uint64_t> kVas = {0x0, 0x1000, 0x200000, 0x40000000, 0x80'0000'0000, 0x7FFF'FFFF'F000};

class PpgttShadowTest : public ::testing::Test {
 protected:
  hv::FakeMpt mpt{kRam};
  std::vector<uint8_t> arena_mem = std::vector<uint8_t>(kArenaPages * kPage);
  ArenaPages arena{arena_mem.data(), kArenaHpa, kArenaPages};
  GuestTables guest{mpt, 1 * kMiB, 4 * kMiB};
  std::unique_ptr<PpgttShadow> shadow = std::make_unique<PpgttShadow>(mpt, arena, kScratch);
  uint64_t pml4 = guest.new_page();

  void map_all(uint64_t root) {
    for (size_t i = 0; i < kVas.size(); ++i) guest.map(root, kVas[i], kData + i * kPage);
  }
  uint64_t acquire(uint64_t root) {
    auto r = shadow->acquire(root);
    EXPECT_TRUE(r) << to_string(r.error());
    return r.value_or(0);
  }
  // `vas`, their neighbours and kVas translate alike through the shadow and
  // through the guest's tables, and the shadow names only RAM and scratch.
  void expect_same(uint64_t root, std::vector<uint64_t> vas = {}) {
    auto hpa = shadow->root_hpa(root);
    ASSERT_TRUE(hpa);
    vas.insert(vas.end(), kVas.begin(), kVas.end());
    for (uint64_t va : vas)
      for (uint64_t v : {va, va + kPage, va - kPage})
        if (v < gen8::kPpgttSize) {
          EXPECT_EQ(shadow_walk(arena, *hpa, v), guest_walk(mpt, root, v, kScratch)) << std::hex << "va 0x" << v;
        }
    EXPECT_EQ(check_shadow(arena, mpt, *hpa, kScratch), "");
  }
  // A new chain of tables from `level` down, mapping `va` to `gpa`; its top.
  uint64_t fresh_subtree(int level, uint64_t va, uint64_t gpa) {
    const uint64_t top = guest.new_page();
    uint64_t t = top;
    for (int l = level; l >= 1; --l) {
      const uint64_t child = guest.new_page();
      guest.store(t + pt_index(va, l) * 8, child | kPte);
      t = child;
    }
    guest.store(t + pt_index(va, 0) * 8, gpa | kPte);
    return top;
  }
  uint64_t slot(uint64_t root, uint64_t va, int level) { return guest.slot(root, va, level).value(); }
};

TEST_F(PpgttShadowTest, BuildsFromAGuestTableAndProtectsEveryTablePage) {
  map_all(pml4);
  const uint64_t root = acquire(pml4);
  EXPECT_TRUE(arena.entries(root));
  expect_same(pml4, {0x2000, 0x400000, 0x100'0000'0000});
  const PpgttStats s = shadow->stats();
  EXPECT_EQ(s.contexts, 1u);
  EXPECT_EQ(s.shadow_pages, guest.pages_used());
  EXPECT_EQ(s.protected_pages, guest.pages_used());
  EXPECT_EQ(mpt.protected_pages(), guest.pages_used());
  EXPECT_EQ(arena.in_use(), guest.pages_used());
  EXPECT_EQ(mpt.pinned_pages(), kVas.size());
  EXPECT_EQ(s.traps, 0u);
  // A second acquire of the same root shares the shadow.
  EXPECT_EQ(acquire(pml4 | 0x18), root);
  EXPECT_EQ(shadow->stats().shadow_pages, guest.pages_used());
}

TEST_F(PpgttShadowTest, TrappedWriteAtEachLevelIsMirrored) {
  map_all(pml4);
  acquire(pml4);
  // PT: the page behind kVas[0] moves.
  guest.store(slot(pml4, 0x0, 0), (kData + 100 * kPage) | kPte);
  expect_same(pml4);
  EXPECT_EQ(mpt.pin_count(kData / kPage), 0u);
  // PD, PDP, PML4: a new subtree replaces the old one (or fills a hole).
  struct {
    int level;
    uint64_t va;
  } cases[] = {{1, 0x200000}, {2, 0x40000000}, {3, 0x100'0000'0000}};
  for (const auto& c : cases) {
    const uint64_t before = shadow->stats().traps;
    guest.store(slot(pml4, c.va, c.level), fresh_subtree(c.level - 1, c.va, kData + 200 * kPage) | kPte);
    EXPECT_EQ(shadow->stats().traps, before + 1) << "level " << c.level;
    expect_same(pml4, {c.va});
    EXPECT_EQ(mpt.protected_pages(), shadow->stats().shadow_pages) << "level " << c.level;
  }
  // The replaced PT, and the replaced PD with its PT, are tables no more.
  EXPECT_EQ(shadow->stats().shadow_pages, guest.pages_used() - 3);
}

TEST_F(PpgttShadowTest, HalfWritesAreBufferedUntilWholeOrSynced) {
  map_all(pml4);
  const uint64_t root = acquire(pml4);
  const uint64_t s = slot(pml4, 0x1000, 0), moved = (kData + 50 * kPage) | kPte;
  const uint64_t old_hpa = mpt.host_base() + kData + kPage;
  const uint32_t lo = static_cast<uint32_t>(moved), hi = static_cast<uint32_t>(moved >> 32);
  mpt.guest_write(s + 4, &hi, 4);
  mpt.guest_write(s, &lo, 4);
  EXPECT_EQ(shadow->stats().half_writes, 1u);  // the second half made it whole
  expect_same(pml4);
  // Only the low half: the old mapping stays until sync().
  const uint32_t lo2 = static_cast<uint32_t>((kData + 51 * kPage) | kPte);
  mpt.guest_write(slot(pml4, 0x0, 0), &lo2, 4);
  EXPECT_EQ(shadow_walk(arena, root, 0x0), old_hpa - kPage);
  EXPECT_EQ(shadow->stats().half_writes, 2u);
  ASSERT_TRUE(shadow->sync());
  EXPECT_EQ(shadow->stats().resyncs, 1u);
  expect_same(pml4);
  // A byte-wise store of a whole entry completes it without sync().
  const uint64_t moved3 = (kData + 52 * kPage) | kPte;
  for (unsigned b = 0; b < 8; ++b) mpt.guest_write(s + b, reinterpret_cast<const uint8_t*>(&moved3) + b, 1);
  EXPECT_EQ(shadow_walk(arena, root, 0x1000), mpt.host_base() + kData + 52 * kPage);
  ASSERT_TRUE(shadow->sync());
  EXPECT_EQ(shadow->stats().resyncs, 1u);
}

TEST_F(PpgttShadowTest, UnmapAndRemap) {
  map_all(pml4);
  const uint64_t root = acquire(pml4);
  const uint64_t s = slot(pml4, 0x200000, 0), gfn = (kData + 2 * kPage) / kPage;
  guest.store(s, 0);
  EXPECT_FALSE(shadow_walk(arena, root, 0x200000));
  EXPECT_EQ(mpt.pin_count(gfn), 0u);
  guest.store(s, gfn * kPage | kPte);
  EXPECT_EQ(shadow_walk(arena, root, 0x200000), mpt.host_base() + gfn * kPage);
  EXPECT_EQ(mpt.pin_count(gfn), 1u);
  // A whole PDP entry unmapped and remapped: its subtree goes and comes back.
  const uint64_t pdp_slot = slot(pml4, 0x40000000, 2), pd = guest.load(pdp_slot);
  const size_t tables = shadow->stats().shadow_pages;
  guest.store(pdp_slot, 0);
  EXPECT_EQ(shadow->stats().shadow_pages, tables - 2);
  EXPECT_EQ(mpt.protected_pages(), tables - 2);
  guest.store(pdp_slot, pd);
  EXPECT_EQ(shadow->stats().shadow_pages, tables);
  expect_same(pml4);
}

TEST_F(PpgttShadowTest, SharedSubtreeIsShadowedOnceAndSeenByEveryUser) {
  map_all(pml4);
  // PML4 entries 0 and 2 name the same PDP; a second PPGTT shares it too.
  const uint64_t pdp = guest.load(slot(pml4, 0x0, 3));
  guest.store(pml4 + 2 * 8, pdp);
  const uint64_t pml4b = guest.new_page();
  guest.store(pml4b + 5 * 8, pdp);
  acquire(pml4);
  const size_t tables = shadow->stats().shadow_pages;
  EXPECT_EQ(tables, guest.pages_used() - 1);  // pml4b is not shadowed yet
  ASSERT_TRUE(shadow->pv_create(pml4b));
  EXPECT_EQ(shadow->stats().shadow_pages, tables + 1);
  EXPECT_EQ(shadow->stats().contexts, 2u);
  // One trapped write in the shared PT shows through all three paths.
  const uint64_t before = shadow->stats().traps;
  guest.store(slot(pml4, 0x1000, 0), (kData + 77 * kPage) | kPte);
  EXPECT_EQ(shadow->stats().traps, before + 1);
  const uint64_t va2 = 0x1000 + (2ull << 39), va5 = 0x1000 + (5ull << 39);
  expect_same(pml4, {va2});
  expect_same(pml4b, {va5});
  EXPECT_EQ(shadow_walk(arena, *shadow->root_hpa(pml4b), va5), mpt.host_base() + kData + 77 * kPage);
  // Destroying the second PPGTT keeps what the first still uses.
  shadow->pv_destroy(pml4b);
  EXPECT_FALSE(shadow->root_hpa(pml4b));
  EXPECT_EQ(shadow->stats().shadow_pages, tables);
  EXPECT_EQ(mpt.protected_pages(), tables);
  expect_same(pml4, {va2});
  shadow->pv_destroy(pml4b);
  const PpgttStats st = shadow->stats();
  EXPECT_EQ(st.bad_notifications, 1u);
  // What the run did stays in the totals and peaks.
  EXPECT_EQ(st.contexts, 1u);
  EXPECT_EQ(st.roots_shadowed, 2u);
  EXPECT_EQ(st.peak_contexts, 2u);
  EXPECT_EQ(st.peak_shadow_pages, tables + 1);
  EXPECT_EQ(st.peak_protected_pages, tables + 1);
}

TEST_F(PpgttShadowTest, TablePageReusedAsDataIsUnprotectedAndReadAfresh) {
  map_all(pml4);
  acquire(pml4);
  const uint64_t pd_slot = slot(pml4, 0x200000, 1), pt = guest.load(pd_slot) & gen8::kPteAddrMask;
  guest.store(pd_slot, 0);
  EXPECT_EQ(mpt.protected_pages(), guest.pages_used() - 1);
  // Data now: writes no longer trap.
  const uint64_t traps = shadow->stats().traps;
  guest.store(pt, (kData + 9 * kPage) | kPte);     // was the mapping of 0x200000
  guest.store(pt + 7 * 8, (kRam + kPage) | kPte);  // outside RAM
  EXPECT_EQ(shadow->stats().traps, traps);
  // Linked again, its new contents are what counts.
  guest.store(pd_slot, pt | kPte);
  expect_same(pml4, {0x200000 + 7 * kPage});
  EXPECT_EQ(shadow_walk(arena, *shadow->root_hpa(pml4), 0x200000), mpt.host_base() + kData + 9 * kPage);
  EXPECT_EQ(shadow_walk(arena, *shadow->root_hpa(pml4), 0x200000 + 7 * kPage), kScratch);
  EXPECT_EQ(shadow->stats().refused_frame, 1u);
  EXPECT_EQ(mpt.protected_pages(), guest.pages_used());
}

TEST_F(PpgttShadowTest, HostileEntriesAreCountedRefusals) {
  map_all(pml4);
  const uint64_t root = acquire(pml4);
  guest.store(slot(pml4, 0x0, 0), (kRam) | kPte);                       // leaf past RAM
  guest.store(slot(pml4, 0x200000, 1), (kData) | kPte | kPtePs);        // 2 MiB page
  guest.store(slot(pml4, 0x40000000, 2), (kData) | kPte | kPtePs);      // 1 GiB page
  guest.store(slot(pml4, 0x80'0000'0000, 3), (1ull << 40) | kPte);      // table past RAM
  guest.store(slot(pml4, 0x7FFF'FFFF'F000, 0), 0xFFFF'FFFF'FFFF'F001);  // every bit
  expect_same(pml4);
  EXPECT_EQ(shadow_walk(arena, root, 0x0), kScratch);
  EXPECT_FALSE(shadow_walk(arena, root, 0x200000));
  const PpgttStats s = shadow->stats();
  EXPECT_EQ(s.refused_frame, 2u);
  EXPECT_EQ(s.refused_large, 2u);
  EXPECT_EQ(s.refused_table, 1u);
  EXPECT_FALSE(shadow->failsafe());
  // A root outside RAM is refused without failsafe.
  auto bad = shadow->acquire(kRam);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error(), ShadowError::BadRoot);
  EXPECT_EQ(shadow->stats().bad_roots, 1u);
  EXPECT_TRUE(shadow->sync());
}

TEST_F(PpgttShadowTest, WithoutScratchARefusedLeafIsNotPresent) {
  shadow = std::make_unique<PpgttShadow>(mpt, arena, 0);
  guest.map(pml4, 0x0, kRam);
  const uint64_t root = acquire(pml4);
  EXPECT_FALSE(shadow_walk(arena, root, 0x0));
  EXPECT_EQ(shadow->stats().refused_frame, 1u);
}

TEST_F(PpgttShadowTest, CapOnProtectedPagesGoesToFailsafe) {
  map_all(pml4);  // 13 table pages
  shadow = std::make_unique<PpgttShadow>(mpt, arena, kScratch, PpgttLimits{12, 100});
  auto r = shadow->acquire(pml4);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), ShadowError::ProtectCap);
  EXPECT_EQ(shadow->failsafe(), ShadowError::ProtectCap);
  EXPECT_EQ(shadow->sync().error(), ShadowError::Failsafe);
  EXPECT_EQ(shadow->acquire(pml4).error(), ShadowError::Failsafe);
  // The partial build was undone; its pages wait for the next tables.
  EXPECT_EQ(mpt.protected_pages(), 0u);
  EXPECT_EQ(mpt.pinned_pages(), 0u);
  EXPECT_EQ(shadow->stats().shadow_pages, 0u);
  EXPECT_EQ(arena.in_use(), shadow->stats().spare_pages);
  EXPECT_EQ(arena.in_use(), 12u);
  shadow->reset();
  EXPECT_FALSE(shadow->failsafe());
  EXPECT_TRUE(shadow->sync());
}

TEST_F(PpgttShadowTest, CapReachedByATrappedWriteTellsTheOwnerOnce) {
  guest.map(pml4, 0x0, kData);  // 4 tables
  shadow = std::make_unique<PpgttShadow>(mpt, arena, kScratch, PpgttLimits{100, 5});
  std::vector<ShadowError> told;
  shadow->set_failsafe_handler([&](ShadowError e) { told.push_back(e); });
  acquire(pml4);
  // Two more tables needed, one allowed.
  guest.store(slot(pml4, 0x40000000, 2), fresh_subtree(1, 0x40000000, kData) | kPte);
  ASSERT_EQ(told.size(), 1u);
  EXPECT_EQ(told[0], ShadowError::ShadowCap);
  const uint64_t traps = shadow->stats().traps;
  guest.store(slot(pml4, 0x0, 0), 0);  // ignored, but counted
  EXPECT_EQ(shadow->stats().traps, traps + 1);
  EXPECT_EQ(shadow->sync().error(), ShadowError::Failsafe);
  EXPECT_EQ(told.size(), 1u);
}

TEST_F(PpgttShadowTest, IdleRootsAreReclaimedToMakeRoom) {
  shadow = std::make_unique<PpgttShadow>(mpt, arena, kScratch, PpgttLimits{6, 100});
  guest.map(pml4, 0x0, kData);
  const uint64_t pml4b = guest.new_page();
  guest.map(pml4b, 0x0, kData + kPage);
  acquire(pml4);
  shadow->release(pml4);
  acquire(pml4b);  // 8 pages in all: the idle one goes
  EXPECT_FALSE(shadow->root_hpa(pml4));
  EXPECT_EQ(shadow->stats().reclaimed_roots, 1u);
  EXPECT_EQ(mpt.protected_pages(), 4u);
  // One in use is never reclaimed.
  auto r = shadow->acquire(pml4);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), ShadowError::ProtectCap);
}

TEST_F(PpgttShadowTest, PvDestroyWaitsForTheLastSubmission) {
  guest.map(pml4, 0x0, kData);
  ASSERT_TRUE(shadow->pv_create(pml4));
  acquire(pml4);
  shadow->pv_destroy(pml4);
  EXPECT_TRUE(shadow->root_hpa(pml4));  // a submission still runs on it
  shadow->release(pml4);
  ASSERT_TRUE(shadow->sync());
  EXPECT_FALSE(shadow->root_hpa(pml4));
  EXPECT_EQ(mpt.protected_pages(), 0u);
  EXPECT_EQ(mpt.pinned_pages(), 0u);
}

TEST_F(PpgttShadowTest, DestructionUnprotectsUnpinsAndFreesEverything) {
  map_all(pml4);
  acquire(pml4);
  guest.store(slot(pml4, 0x0, 0), 0);
  shadow.reset();
  EXPECT_EQ(mpt.protected_pages(), 0u);
  EXPECT_EQ(mpt.pinned_pages(), 0u);
  EXPECT_EQ(mpt.bad_unpins(), 0u);
  EXPECT_EQ(arena.in_use(), 0u);
}

TEST_F(PpgttShadowTest, TraceHasOneLinePerShadowUpdate) {
  map_all(pml4);
  acquire(pml4);
  std::vector<std::string> lines;
  shadow->set_trace([&](std::string_view l) { lines.emplace_back(l); });
  guest.store(slot(pml4, 0x1000, 0), (kData + 3 * kPage) | kPte);
  guest.store(slot(pml4, 0x0, 0), kRam | kPte);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_NE(lines[0].find("PT"), std::string::npos) << lines[0];
  EXPECT_NE(lines[0].find(": page"), std::string::npos) << lines[0];
  EXPECT_NE(lines[1].find("outside RAM"), std::string::npos) << lines[1];
  EXPECT_EQ(shadow->stats().updates, guest.pages_used() - 1 + kVas.size() + 2);
  EXPECT_GT(shadow->stats().shadow_ns, 0u);
}

// The GPU model and a guest whose RAM is the model's host memory.
class PpgttShadowGpuTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto g = hw::Gpu::create(hw::GpuConfig{64 * kMiB, false});
    ASSERT_TRUE(g) << g.error();
    gpu = std::move(*g);
    hw::HostMemory& mem = gpu->memory();
    auto ram = mem.alloc_pages(kRam / kPage), arena_hpa = mem.alloc_pages(kArenaPages), s = mem.alloc_pages(1);
    ASSERT_TRUE(ram && arena_hpa && s);
    scratch = *s;
    mpt = std::make_unique<hv::FakeMpt>(kRam, 4096, *ram, mem.base() + *ram);
    arena = std::make_unique<ArenaPages>(mem.base() + *arena_hpa, *arena_hpa, kArenaPages);
    guest = std::make_unique<GuestTables>(*mpt, 1 * kMiB, 4 * kMiB);
    pml4 = guest->new_page();
  }

  std::unique_ptr<hw::Gpu> gpu;
  std::unique_ptr<hv::FakeMpt> mpt;
  std::unique_ptr<ArenaPages> arena;
  std::unique_ptr<GuestTables> guest;
  uint64_t scratch = 0, pml4 = 0;

  // A page table mapping address 0 of its range to `gpa`, as a PD entry.
  uint64_t fresh_pt(uint64_t gpa) {
    const uint64_t pt = guest->new_page();
    guest->store(pt, gpa | kPte);
    return pt | kPte;
  }
};

// The GPU model walking the shadow root with no second-stage domain
// translates exactly as the guest's tables mapped through GFN->HPA.
TEST_F(PpgttShadowGpuTest, TheModelWalksTheShadowLikeTheGuestTables) {
  for (size_t i = 0; i < kVas.size(); ++i) guest->map(pml4, kVas[i], kData + i * kPage);
  guest->map(pml4, 0x5000, kRam + 3 * kPage);  // refused: scratch
  {
    PpgttShadow shadow(*mpt, *arena, scratch);
    auto root = shadow.acquire(pml4);
    ASSERT_TRUE(root);
    guest->store(*guest->slot(pml4, 0x200000, 1), kData | kPte | kPtePs);  // faults natively too
    std::vector<uint64_t> vas = kVas;
    vas.insert(vas.end(), {0x2000, 0x5000, 0x200000, 0x300000, 0x40001000});
    auto as = hw::AddressSpace::ppgtt(*gpu, *root, nullptr);
    for (uint64_t va : vas) {
      auto got = as.page(va);
      auto want = guest_walk(*mpt, pml4, va, scratch);
      ASSERT_EQ(got.has_value(), want.has_value()) << std::hex << "va 0x" << va;
      if (want) {
        EXPECT_EQ(*got, *want) << std::hex << "va 0x" << va;
      }
    }
    EXPECT_EQ(*as.page(0x5000), scratch);
  }
  EXPECT_EQ(mpt->protected_pages(), 0u);
}

// A vCPU thread swaps a PD entry between two page tables (each swap builds
// one shadow table and retires the other) while the GPU model walks: the walk
// sees the old page, the new one, or a retired table's zeroes, never anything
// else. Under TSan this checks that shadow entries are written and walked
// whole (nothing else orders the walker after the writer: no lock is shared).
TEST_F(PpgttShadowGpuTest, TheModelWalksWhileTheGuestRewritesTables) {
  guest->map(pml4, 0x0, kData);
  const uint64_t pd_slot = *guest->slot(pml4, 0x0, 1);
  const uint64_t pts[2] = {guest->load(pd_slot), fresh_pt(kData + kPage)};
  PpgttShadow shadow(*mpt, *arena, scratch);
  auto root = shadow.acquire(pml4);
  ASSERT_TRUE(root);
  // Relaxed flags: they must not order the walker after the writer.
  std::atomic<bool> stop{false};
  std::atomic<uint64_t> swaps{0};
  std::thread vcpu([&] {
    uint64_t n = 0;
    while (!stop.load(std::memory_order_relaxed) || n % 2) {
      guest->store(pd_slot, pts[++n & 1]);
      swaps.store(n, std::memory_order_relaxed);
    }
  });
  auto as = hw::AddressSpace::ppgtt(*gpu, *root, nullptr);
  const uint64_t a = mpt->host_base() + kData, b = a + kPage;
  uint64_t walks = 0, faults = 0, wrong = 0;
  while (walks < 2000 || swaps.load(std::memory_order_relaxed) < 200) {
    as.flush();
    auto p = as.page(0x0);
    faults += !p;
    wrong += p && *p != a && *p != b;
    ++walks;
  }
  stop.store(true, std::memory_order_relaxed);
  vcpu.join();
  EXPECT_EQ(wrong, 0u) << walks << " walks, " << faults << " faults";
  EXPECT_EQ(shadow.stats().traps, swaps.load());
  as.flush();
  EXPECT_EQ(*as.page(0x0), a);  // an even number of swaps: back on the first table
  EXPECT_EQ(shadow.stats().shadow_pages, 4u);
}

}  // namespace
}  // namespace gvt
