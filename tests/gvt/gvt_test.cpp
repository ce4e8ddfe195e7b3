// The vGPU lifecycle (gvt::Gvt) on the real GPU model, through the host build
// of the driver, with the fake MPT playing the VM. Guest RAM is backed by real
// host pages (FakeMpt's host_base), so every HPA the mediator installs is one
// the model can reach and the aperture shows.
#include "gvt/gvt.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstring>
#include <memory>
#include <set>
#include <utility>
#include <vector>

#include "common/gen8/layout.h"
#include "common/gen8/pvinfo.h"
#include "common/vmm_abi.h"
#include "host/hw_platform.h"
#include "hv/fake_mpt.h"
#include "hw/gpu.h"
#include "mediator_fixture.h"

namespace gvt {
namespace {

using namespace gen8;
using ::testing::HasSubstr;
using vmm_abi::kApertureBase;
using vmm_abi::kBar0Base;

// A device of the VMM's own (ECAM, say) that the mediator must never touch.
class Neighbour final : public hv::BusDevice {
 public:
  void read(uint64_t, uint8_t* data, uint32_t len) override { std::memset(data, 0xA5, len); }
  void write(uint64_t, const uint8_t*, uint32_t) override {}
};

class GvtTest : public MediatorTest {
 protected:
  Vgpu* create(hv::FakeMpt* vm = nullptr, uint64_t bar0 = kBar0Base, uint64_t bar2 = kApertureBase) {
    vm = vm ? vm : mpt.get();
    auto v = gvt->create_vgpu({nullptr, vm, vm->ram_size(), bar0, bar2});
    EXPECT_TRUE(v) << v.error();
    return v ? *v : nullptr;
  }

  // The guest CPU: BAR0 accesses at their GPAs.
  bool w32(uint64_t off, uint32_t v) { return mpt->mmio_write(kBar0Base + off, &v, 4); }
  bool w64(uint64_t off, uint64_t v) { return mpt->mmio_write(kBar0Base + off, &v, 8); }
  uint64_t r64(uint64_t off) {
    uint64_t v = ~0ull;
    EXPECT_TRUE(mpt->mmio_read(kBar0Base + off, &v, 8));
    return v;
  }
  hv::FakeMpt* new_vm() { return vms.emplace_back(std::make_unique<hv::FakeMpt>(16ull << 20)).get(); }
  static uint64_t ggtt(uint64_t gm) { return kGgttOffset + gm / kPageSize * 8; }
  uint8_t* hpa_ptr(uint64_t hpa) { return gpu->memory().base() + hpa; }

  // Physical GGTT entries of both slices not equal to `pte`, and the first one.
  struct Sweep {
    uint64_t mismatches = 0, first_gm = 0;
  };
  Sweep sweep(const GmSlice& s, uint64_t pte) {
    Sweep r;
    auto range = [&](uint64_t base, uint64_t size) {
      for (uint64_t gm = base; gm < base + size; gm += kPageSize)
        if (gpu->ggtt_entry(gm / kPageSize) != pte && !r.mismatches++) r.first_gm = gm;
    };
    range(s.low_base, s.low_size);
    range(s.high_base, s.high_size);
    return r;
  }

  std::vector<std::unique_ptr<hv::FakeMpt>> vms;  // more VMs; they outlive gvt's vGPUs
};

TEST_F(GvtTest, CreateTrapsBar0AndServesItFromVirtualState) {
  Vgpu* v = create();
  ASSERT_TRUE(v);
  // The PV page only exists in the vGPU: reading it proves the trap is the vGPU's.
  EXPECT_EQ(r64(pvinfo::MAGIC), pvinfo::kMagic);
  uint32_t imr = 0;
  ASSERT_TRUE(mpt->mmio_read(kBar0Base + reg::GEN8_GT_IMR0, &imr, 4));
  EXPECT_EQ(imr, kAll);  // golden, whatever the host driver programmed
  EXPECT_EQ(v->traps().pvinfo, 1u);  // one 8-byte access, one exit
  EXPECT_EQ(v->traps().mmio, 1u);
  // BAR0 ends where it should: its last register is trapped, the next byte not.
  uint32_t x;
  EXPECT_TRUE(mpt->mmio_read(kBar0Base + kBar0Size - 4, &x, 4));
  EXPECT_FALSE(mpt->mmio_read(kBar0Base + kBar0Size, &x, 4));
}

TEST_F(GvtTest, CreateMapsTheApertureSliceOverTheHostAperture) {
  Vgpu* v = create();
  ASSERT_TRUE(v);
  const GmSlice& s = v->slice();
  auto maps = mpt->mappings();
  ASSERT_EQ(maps.size(), 1u);
  auto it = maps.find(kApertureBase + s.low_base);
  ASSERT_NE(it, maps.end());
  EXPECT_EQ(it->second.size, s.low_size);
  EXPECT_EQ(it->second.host, gpu->aperture() + s.low_base);
  // Inside the slice there is no trap: the guest's CPU goes straight through.
  uint32_t x;
  EXPECT_FALSE(mpt->mmio_read(kApertureBase + s.low_base, &x, 4));
}

TEST_F(GvtTest, CreatePointsEveryEntryOfBothSlicesAtTheVgpusOwnScratch) {
  Vgpu* v = create();
  ASSERT_TRUE(v);
  const GmSlice& s = v->slice();
  const uint64_t pte = v->scratch_hpa() | kPtePresent;
  EXPECT_NE(v->scratch_hpa(), gvt->scratch_hpa());
  EXPECT_EQ(gpu->ggtt_entry(s.low_base / kPageSize), pte);
  EXPECT_EQ(gpu->ggtt_entry((s.low_base + s.low_size) / kPageSize - 1), pte);
  EXPECT_EQ(gpu->ggtt_entry(s.high_base / kPageSize), pte);
  EXPECT_EQ(gpu->ggtt_entry((s.high_base + s.high_size) / kPageSize - 1), pte);
  Sweep r = sweep(s, pte);
  EXPECT_EQ(r.mismatches, 0u) << "first at GM 0x" << std::hex << r.first_gm;
  // Only its slices: the neighbours on either side are untouched.
  EXPECT_NE(gpu->ggtt_entry(s.low_base / kPageSize - 1), pte);
  EXPECT_NE(gpu->ggtt_entry((s.low_base + s.low_size) / kPageSize), pte);
  EXPECT_NE(gpu->ggtt_entry(s.high_base / kPageSize - 1), pte);
  EXPECT_NE(gpu->ggtt_entry((s.high_base + s.high_size) / kPageSize), pte);
  // So a guest store through its aperture into a page it never mapped lands
  // in its own scratch page, nowhere else.
  const uint32_t junk = 0x5C5C5C5C;
  std::memcpy(mpt->mappings().at(kApertureBase + s.low_base).host, &junk, 4);
  uint32_t seen = 0;
  std::memcpy(&seen, hpa_ptr(v->scratch_hpa()), 4);
  EXPECT_EQ(seen, junk);
}

TEST_F(GvtTest, ApertureOutsideTheSliceIsTrappedAndRefused) {
  Vgpu* v = create();
  ASSERT_TRUE(v);
  const GmSlice& s = v->slice();
  // The host's aperture below the slice holds something the guest must not see.
  const uint32_t secret = 0x5EC2E7;
  std::memcpy(gpu->aperture() + kPageSize, &secret, 4);
  uint32_t x = ~0u;
  ASSERT_TRUE(mpt->mmio_read(kApertureBase + kPageSize, &x, 4));
  EXPECT_EQ(x, 0u);
  const uint32_t evil = 0x0BADF00D;
  ASSERT_TRUE(mpt->mmio_write(kApertureBase + kPageSize, &evil, 4));
  uint32_t now = 0;
  std::memcpy(&now, gpu->aperture() + kPageSize, 4);
  EXPECT_EQ(now, secret);
  // Above the slice, up to the end of BAR2 (the next vGPUs' slices).
  x = ~0u;
  ASSERT_TRUE(mpt->mmio_read(kApertureBase + s.low_base + s.low_size, &x, 4));
  EXPECT_EQ(x, 0u);
  ASSERT_TRUE(mpt->mmio_write(kApertureBase + kApertureSize - 4, &evil, 4));
  std::memcpy(&now, gpu->aperture() + kApertureSize - 4, 4);
  EXPECT_NE(now, evil);
  EXPECT_EQ(v->traps().aperture, 4u);
  EXPECT_EQ(v->traps().refused_aperture, 4u);
  // BAR2 ends where it should.
  EXPECT_FALSE(mpt->mmio_read(kApertureBase + kApertureSize, &x, 4));
}

TEST_F(GvtTest, SevenDefaultVgpusFitBesideTheHostAndAnEighthIsRefused) {
  const GmResources initial = gvt->free();
  std::vector<Vgpu*> v;
  std::set<uint32_t> ids;
  std::set<uint64_t> low_bases;
  for (int i = 0; i < 7; ++i) {
    Vgpu* p = create(new_vm());
    ASSERT_TRUE(p) << "vGPU " << i;
    v.push_back(p);
    ids.insert(p->id());
    low_bases.insert(p->slice().low_base);
  }
  EXPECT_EQ(ids, (std::set<uint32_t>{1, 2, 3, 4, 5, 6, 7}));
  EXPECT_EQ(low_bases.size(), 7u);
  EXPECT_EQ(gvt->free().low_gm, 0u);

  hv::FakeMpt& eighth_vm = *new_vm();
  auto eighth = gvt->create_vgpu({nullptr, &eighth_vm, eighth_vm.ram_size(), kBar0Base, kApertureBase});
  ASSERT_FALSE(eighth);
  EXPECT_THAT(eighth.error(), HasSubstr("type A"));
  // A refused vGPU leaves nothing in its VM.
  uint32_t x;
  EXPECT_FALSE(eighth_vm.mmio_read(kBar0Base, &x, 4));
  EXPECT_TRUE(eighth_vm.mappings().empty());

  // Destroying one frees its slice, id and fences for the next.
  const GmSlice freed = v[3]->slice();
  const uint32_t freed_id = v[3]->id();
  gvt->destroy_vgpu(v[3]);
  auto again = gvt->create_vgpu({nullptr, &eighth_vm, eighth_vm.ram_size(), kBar0Base, kApertureBase});
  ASSERT_TRUE(again) << again.error();
  EXPECT_EQ((*again)->slice().low_base, freed.low_base);
  EXPECT_EQ((*again)->slice().fence_base, freed.fence_base);
  EXPECT_EQ((*again)->id(), freed_id);
  v[3] = *again;

  for (Vgpu* p : v) gvt->destroy_vgpu(p);
  const GmResources after = gvt->free();
  EXPECT_EQ(after.low_gm, initial.low_gm);
  EXPECT_EQ(after.high_gm, initial.high_gm);
  EXPECT_EQ(after.fences, initial.fences);
}

TEST_F(GvtTest, GuestGgttWriteInstallsTheFramesHostPage) {
  Vgpu* v = create();
  ASSERT_TRUE(v);
  const GmSlice& s = v->slice();
  const uint64_t gm = s.low_base + 5 * kPageSize, gfn = 0x123;
  ASSERT_TRUE(w64(ggtt(gm), gfn * kPageSize | kPtePresent));
  const uint64_t hpa = ram_hpa + gfn * kPageSize;
  EXPECT_EQ(host.read_ggtt(gm / kPageSize), hpa | kPtePresent);
  EXPECT_EQ(mpt->pin_count(gfn), 1u);
  EXPECT_EQ(r64(ggtt(gm)), gfn * kPageSize | kPtePresent);  // the guest reads its own view
  // The guest's aperture now shows that frame, both ways.
  uint8_t* ap = static_cast<uint8_t*>(mpt->mappings().at(kApertureBase + s.low_base).host);
  const uint32_t word = 0xC0FFEE01;
  std::memcpy(hpa_ptr(hpa) + 16, &word, 4);
  uint32_t seen = 0;
  std::memcpy(&seen, ap + 5 * kPageSize + 16, 4);
  EXPECT_EQ(seen, word);
  std::memcpy(ap + 5 * kPageSize + 32, &word, 4);
  std::memcpy(&seen, hpa_ptr(hpa) + 32, 4);
  EXPECT_EQ(seen, word);

  // Remapping pins the new frame and unpins the old one.
  ASSERT_TRUE(w64(ggtt(gm), (gfn + 1) * kPageSize | kPtePresent));
  EXPECT_EQ(host.read_ggtt(gm / kPageSize), (hpa + kPageSize) | kPtePresent);
  EXPECT_EQ(mpt->pin_count(gfn), 0u);
  EXPECT_EQ(mpt->pin_count(gfn + 1), 1u);

  // A frame beyond the VM's RAM goes to scratch, counted, nothing pinned.
  ASSERT_TRUE(w64(ggtt(gm), kRam | kPtePresent));
  EXPECT_EQ(host.read_ggtt(gm / kPageSize), v->scratch_hpa() | kPtePresent);
  EXPECT_EQ(v->ggtt_stats().refused_frame, 1u);
  EXPECT_EQ(mpt->pinned_pages(), 0u);

  // An entry outside its slices (the host's) never reaches the GPU.
  const uint64_t host_gm = kPageSize;
  const uint64_t before = host.read_ggtt(host_gm / kPageSize);
  ASSERT_TRUE(w64(ggtt(host_gm), gfn * kPageSize | kPtePresent));
  EXPECT_EQ(host.read_ggtt(host_gm / kPageSize), before);
  EXPECT_EQ(v->ggtt_stats().refused_range, 1u);

  // Two 4-byte halves: installed only once both are written.
  const uint64_t hi_gm = s.high_base + 3 * kPageSize;
  ASSERT_TRUE(w32(ggtt(hi_gm), static_cast<uint32_t>(gfn * kPageSize | kPtePresent)));
  EXPECT_EQ(host.read_ggtt(hi_gm / kPageSize), v->scratch_hpa() | kPtePresent);
  ASSERT_TRUE(w32(ggtt(hi_gm) + 4, 0));
  EXPECT_EQ(host.read_ggtt(hi_gm / kPageSize), hpa | kPtePresent);
  EXPECT_EQ(mpt->pin_count(gfn), 1u);
}

TEST_F(GvtTest, DestroyLeavesTheSliceOnTheGlobalScratchAndTheVmUntouched) {
  const uint64_t pages_before = plat->pages_in_use();
  const GmResources free_before = gvt->free();
  Vgpu* v = create();
  ASSERT_TRUE(v);
  const GmSlice s = v->slice();
  const uint64_t scratch = v->scratch_hpa();
  // Some state to tear down: two pinned frames, a fence, junk in its scratch page.
  ASSERT_TRUE(w64(ggtt(s.low_base), 0x10 * kPageSize | kPtePresent));
  ASSERT_TRUE(w64(ggtt(s.high_base), 0x11 * kPageSize | kPtePresent));
  const uint64_t fence = s.low_base | kFenceValid | (s.low_base + 15 * kPageSize) << 32;
  ASSERT_TRUE(w64(reg::FENCE_REG_GEN6 + 8, fence));
  const uint32_t phys_fence = reg::FENCE_REG_GEN6 + 8 * (s.fence_base + 1);
  ASSERT_EQ(gpu->mmio_read(phys_fence, 8), fence);
  ASSERT_EQ(mpt->pinned_pages(), 2u);
  std::memset(hpa_ptr(scratch), 0x77, kPageSize);

  gvt->destroy_vgpu(v);

  Sweep r = sweep(s, gvt->scratch_hpa() | kPtePresent);
  EXPECT_EQ(r.mismatches, 0u) << "first at GM 0x" << std::hex << r.first_gm;
  for (uint32_t i = 0; i < s.fences; ++i)
    EXPECT_EQ(gpu->mmio_read(reg::FENCE_REG_GEN6 + 8 * (s.fence_base + i), 8), 0u) << "fence " << i;
  EXPECT_EQ(mpt->pinned_pages(), 0u);
  EXPECT_EQ(mpt->bad_unpins(), 0u);
  EXPECT_TRUE(mpt->mappings().empty());
  uint32_t x;
  EXPECT_FALSE(mpt->mmio_read(kBar0Base, &x, 4));
  EXPECT_FALSE(mpt->mmio_read(kApertureBase, &x, 4));
  EXPECT_FALSE(mpt->mmio_read(kApertureBase + kApertureSize - 4, &x, 4));
  // Its scratch page went back zeroed, and nothing else leaked.
  EXPECT_EQ(plat->pages_in_use(), pages_before);
  std::vector<uint8_t> zeros(kPageSize, 0);
  EXPECT_EQ(std::memcmp(hpa_ptr(scratch), zeros.data(), kPageSize), 0);
  EXPECT_EQ(gvt->free().low_gm, free_before.low_gm);
  EXPECT_EQ(gvt->free().fences, free_before.fences);
  EXPECT_TRUE(create());  // the slice is reusable
}

class BarTest : public GvtTest {
 protected:
  void SetUp() override {
    GvtTest::SetUp();
    if (HasFatalFailure()) return;
    v = create();
    ASSERT_TRUE(v);
    v->cfg_write(pci::COMMAND, 2, pci::kCmdMem);  // decode on: moves take effect at once
  }
  void set_bar(uint32_t off, uint64_t base) {
    v->cfg_write(off, 4, static_cast<uint32_t>(base));
    v->cfg_write(off + 4, 4, static_cast<uint32_t>(base >> 32));
  }
  uint64_t bar(uint32_t off) {
    return (v->cfg_read(off, 4) & ~0xFu) | uint64_t{v->cfg_read(off + 4, 4)} << 32;
  }
  bool magic_at(uint64_t bar0) {
    uint64_t m = 0;
    return mpt->mmio_read(bar0 + pvinfo::MAGIC, &m, 8) && m == pvinfo::kMagic;
  }
  Vgpu* v = nullptr;
};

TEST_F(BarTest, MovingBar0MovesTheTrap) {
  constexpr uint64_t kNew = 0xD000'0000;
  set_bar(pci::BAR0, kNew);
  EXPECT_EQ(v->config().bar0(), kNew);
  EXPECT_EQ(bar(pci::BAR0), kNew);
  EXPECT_FALSE(magic_at(kBar0Base));
  EXPECT_TRUE(magic_at(kNew));
  // Above 4 GiB, high dword first so that every step is a valid placement.
  constexpr uint64_t kHigh = 0x1'D000'0000;
  v->cfg_write(pci::BAR0 + 4, 4, 1);
  EXPECT_EQ(v->config().bar0(), kHigh);
  EXPECT_FALSE(magic_at(kNew));
  EXPECT_TRUE(magic_at(kHigh));
  EXPECT_EQ(v->config().refused_relocations(), 0u);
}

TEST_F(BarTest, MovingBar2MovesTheSliceMappingAndTheTraps) {
  const GmSlice& s = v->slice();
  constexpr uint64_t kNew = 0xA000'0000;  // 512 MiB aligned, clear of BAR0
  set_bar(pci::BAR2, kNew);
  EXPECT_EQ(v->config().bar2(), kNew);
  auto maps = mpt->mappings();
  ASSERT_EQ(maps.size(), 1u);
  EXPECT_EQ(maps.begin()->first, kNew + s.low_base);
  EXPECT_EQ(maps.begin()->second.host, gpu->aperture() + s.low_base);
  uint32_t x;
  EXPECT_FALSE(mpt->mmio_read(kApertureBase, &x, 4));
  EXPECT_FALSE(mpt->mmio_read(kApertureBase + s.low_base + s.low_size, &x, 4));
  const uint64_t refused = v->traps().refused_aperture;
  EXPECT_TRUE(mpt->mmio_read(kNew, &x, 4));
  EXPECT_TRUE(mpt->mmio_read(kNew + s.low_base + s.low_size, &x, 4));
  EXPECT_EQ(v->traps().refused_aperture, refused + 2);
  EXPECT_TRUE(magic_at(kBar0Base));
}

TEST_F(BarTest, BarOverGuestRamIsRefusedAndKeepsItsBase) {
  v->cfg_write(pci::BAR0, 4, 0x0100'0000);  // 16 MiB: inside the 64 MiB of RAM
  EXPECT_EQ(v->config().refused_relocations(), 1u);
  EXPECT_EQ(bar(pci::BAR0), kBar0Base);
  EXPECT_TRUE(magic_at(kBar0Base));
  v->cfg_write(pci::BAR2, 4, 0);
  EXPECT_EQ(v->config().refused_relocations(), 2u);
  EXPECT_EQ(bar(pci::BAR2), kApertureBase);
  auto maps = mpt->mappings();
  ASSERT_EQ(maps.size(), 1u);
  EXPECT_EQ(maps.begin()->first, kApertureBase + v->slice().low_base);
}

TEST_F(BarTest, BarTheHypervisorRefusesKeepsItsBaseAndItsMappings) {
  // BAR0 where BAR2's slice would go: the VM refuses the aperture memslot.
  constexpr uint64_t kBar0 = 0xA400'0000;
  set_bar(pci::BAR0, kBar0);
  ASSERT_TRUE(magic_at(kBar0));
  set_bar(pci::BAR2, 0xA000'0000);
  EXPECT_EQ(v->config().refused_relocations(), 1u);
  EXPECT_EQ(bar(pci::BAR2), kApertureBase);
  EXPECT_EQ(mpt->mappings().begin()->first, kApertureBase + v->slice().low_base);
  uint32_t x;
  EXPECT_TRUE(mpt->mmio_read(kApertureBase, &x, 4));
  EXPECT_TRUE(magic_at(kBar0));
}

TEST_F(GvtTest, VblankBecomesAnMsiWhenTheGuestEnabledIt) {
  Vgpu* v = create();
  ASSERT_TRUE(v);
  v->cfg_write(pci::MSI_ADDR_LO, 4, 0xFEE00000);
  v->cfg_write(pci::MSI_DATA, 2, vmm_abi::kMsiVector);
  v->cfg_write(pci::MSI_CTRL, 2, pci::kMsiEnable);
  ASSERT_TRUE(w32(reg::GEN8_DE_PIPE_IMR, 0));
  ASSERT_TRUE(w32(reg::GEN8_DE_PIPE_IER, kDePipeVblank));
  ASSERT_TRUE(w32(reg::PIPECONF, kPipeconfEnable));
  gvt->vblank();  // master interrupt still off: latched, not signalled
  EXPECT_TRUE(mpt->msis.empty());
  ASSERT_TRUE(w32(reg::GEN8_MASTER_IRQ, kMasterEnable));  // the pending vblank signals now
  ASSERT_EQ(mpt->msis.size(), 1u);
  ASSERT_TRUE(w32(reg::GEN8_DE_PIPE_IIR, kDePipeVblank));
  gvt->vblank();
  ASSERT_EQ(mpt->msis.size(), 2u);
  EXPECT_EQ(mpt->msis[1], (hv::FakeMpt::Msi{0xFEE00000, vmm_abi::kMsiVector}));
  uint32_t frames = 0;
  ASSERT_TRUE(mpt->mmio_read(kBar0Base + reg::PIPE_FRMCOUNT, &frames, 4));
  EXPECT_EQ(frames, 2u);
}

TEST_F(GvtTest, VblankReachesEveryVgpuButOnlyItsOwnVm) {
  hv::FakeMpt& other = *new_vm();
  Vgpu* a = create();
  Vgpu* b = create(&other);
  ASSERT_TRUE(a && b);
  for (Vgpu* v : {a, b}) {
    v->cfg_write(pci::MSI_ADDR_LO, 4, 0xFEE00000);
    v->cfg_write(pci::MSI_DATA, 2, v == a ? 0x40 : 0x41);
    v->cfg_write(pci::MSI_CTRL, 2, pci::kMsiEnable);
    for (auto [off, val] : {std::pair{reg::GEN8_DE_PIPE_IMR, 0u}, {reg::GEN8_DE_PIPE_IER, kDePipeVblank},
                            {reg::PIPECONF, kPipeconfEnable}, {reg::GEN8_MASTER_IRQ, kMasterEnable}})
      v->write(off, reinterpret_cast<const uint8_t*>(&val), 4);
  }
  gvt->vblank();
  ASSERT_EQ(mpt->msis.size(), 1u);
  EXPECT_EQ(mpt->msis[0].data, 0x40u);
  ASSERT_EQ(other.msis.size(), 1u);
  EXPECT_EQ(other.msis[0].data, 0x41u);
}

// ---- The mediator undoes only what it did ----
// A VM's bus also carries the VMM's own devices (ECAM, the PV registers) and
// whatever the guest placed next to its BARs. A refused mapping, a move or a
// destroy must never remove a trap the mediator did not install, and a
// refused vGPU must leave no GGTT entry on the scratch page it frees.
//  until Gvt::map_bar/unmap_bar/create_vgpu are fixed (they fail
// against the current src/gvt/gvt.cpp); enable them with the fix.

TEST_F(BarTest, RefusedBar2MoveLeavesBar0Trapped) {
  // BAR2 at 0xC0000000: the slice's memslot fits, the trap below it meets BAR0.
  set_bar(pci::BAR2, 0xC000'0000);
  EXPECT_EQ(v->config().refused_relocations(), 1u);
  EXPECT_EQ(bar(pci::BAR2), kApertureBase);
  EXPECT_TRUE(magic_at(kBar0Base));
}

TEST_F(BarTest, RefusedBar2MoveLeavesTheVmmsDevicesAlone) {
  Neighbour ecam;
  ASSERT_TRUE(mpt->trap_mmio(vmm_abi::kEcamBase, vmm_abi::kEcamSize, &ecam));
  set_bar(pci::BAR2, vmm_abi::kEcamBase);  // 512 MiB aligned and above RAM: only the VM can refuse
  EXPECT_EQ(v->config().refused_relocations(), 1u);
  uint32_t x = 0;
  EXPECT_TRUE(mpt->mmio_read(vmm_abi::kEcamBase, &x, 4));
  EXPECT_EQ(x, 0xA5A5A5A5u);
  mpt->untrap_mmio(vmm_abi::kEcamBase);
}

TEST_F(GvtTest, SliceEndingTheApertureHasNoUpperTrapToRemove) {
  const VgpuType* d = find_type("D");  // 448 MiB: the whole aperture after the host's
  ASSERT_TRUE(d);
  Neighbour next;
  ASSERT_TRUE(mpt->trap_mmio(kApertureBase + kApertureSize, kPageSize, &next));
  auto v = gvt->create_vgpu({d, mpt.get(), kRam, kBar0Base, kApertureBase});
  ASSERT_TRUE(v) << v.error();
  ASSERT_EQ((*v)->slice().low_base + (*v)->slice().low_size, kApertureSize);
  gvt->destroy_vgpu(*v);
  uint32_t x = 0;
  EXPECT_TRUE(mpt->mmio_read(kApertureBase + kApertureSize, &x, 4));
  mpt->untrap_mmio(kApertureBase + kApertureSize);
}

TEST_F(GvtTest, RefusedCreateLeavesTheDeviceAtItsBar0Alone) {
  Neighbour other;
  ASSERT_TRUE(mpt->trap_mmio(kBar0Base, kPageSize, &other));
  auto v = gvt->create_vgpu({nullptr, mpt.get(), kRam, kBar0Base, kApertureBase});
  ASSERT_FALSE(v);
  EXPECT_THAT(v.error(), HasSubstr("refused"));
  uint32_t x = 0;
  EXPECT_TRUE(mpt->mmio_read(kBar0Base, &x, 4));
  EXPECT_EQ(x, 0xA5A5A5A5u);
  mpt->untrap_mmio(kBar0Base);
}

TEST_F(GvtTest, RefusedCreateLeavesNoEntryOnThePageItFreed) {
  const GmSlice s = *GmPartition().allocate(default_type());  // the slice it is given first
  const uint64_t pages_before = plat->pages_in_use();
  Neighbour other;  // in BAR2 above the slice: the upper aperture trap is refused
  ASSERT_TRUE(mpt->trap_mmio(kApertureBase + kApertureSize - kPageSize, kPageSize, &other));
  auto v = gvt->create_vgpu({nullptr, mpt.get(), kRam, kBar0Base, kApertureBase});
  ASSERT_FALSE(v);
  EXPECT_EQ(plat->pages_in_use(), pages_before);
  // The vGPU's scratch page is free again, for anyone: no entry may name it.
  Sweep r = sweep(s, gvt->scratch_hpa() | kPtePresent);
  EXPECT_EQ(r.mismatches, 0u) << "first at GM 0x" << std::hex << r.first_gm << ": 0x"
                              << gpu->ggtt_entry(r.first_gm / kPageSize);
  mpt->untrap_mmio(kApertureBase + kApertureSize - kPageSize);
}

}  // namespace
}  // namespace gvt
