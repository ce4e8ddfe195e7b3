// Shadow PPGTT mode on the submission path, in one process: the shadow
// context names the shadow's root and no second-stage domain, the GPU walks
// the shadow, and every guest page-table store traps (the soft VM sends the
// driver's through the MPT) and reaches the GPU by the next submission.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>

#include "common/gen8/layout.h"
#include "driver/context.h"
#include "driver/device.h"
#include "gvt/gvt.h"
#include "support/guest_runs.h"
#include "support/mediated_host.h"
#include "support/stuck_batch.h"

namespace gvt {
namespace {

using namespace gen8;
using namespace test_support;

std::unique_ptr<GuestVm> shadow_vm(MediatedHost& h) {
  auto vm = GuestVm::create(h.gpu(), h.gvt(), GuestVm::kDefaultRam, nullptr, false, nullptr, true);
  EXPECT_TRUE(vm) << vm.error();
  return vm ? std::move(*vm) : nullptr;
}

class ShadowMode : public ::testing::TestWithParam<std::string> {};

TEST_P(ShadowMode, WorkloadGetsItsNativeFramesThroughTheShadow) {
  ASSERT_EQ(native(GetParam()).error, "");
  auto h = MediatedHost::create();
  ASSERT_TRUE(h) << h.error();
  auto vm = shadow_vm(**h);
  ASSERT_TRUE(vm);
  expect_native(run_guest(**h, *vm, GetParam(), kFrames), GetParam());
  EXPECT_EQ(vm->vgpu().status(), "ok");
  ASSERT_NE(vm->vgpu().ppgtt_shadow(), nullptr);
  const PpgttStats s = vm->vgpu().ppgtt_shadow()->stats();
  EXPECT_GT(s.roots_shadowed, 0u);
  EXPECT_GT(s.peak_shadow_pages, 3u);  // at least a root and one table per level
  EXPECT_GT(s.peak_protected_pages, 3u);
  EXPECT_EQ(s.refused_frame + s.refused_table + s.refused_large + s.bad_roots, 0u);
  EXPECT_GT(vm->vgpu().traps().pagetable, 0u);  // the driver's table stores trapped
}

INSTANTIATE_TEST_SUITE_P(Workloads, ShadowMode, ::testing::Values("fill", "desktop2d", "submit", "lights", "ppgtt-churn"),
                         [](const auto& info) {
                           std::string name = info.param;  // gtest names: no '-'
                           std::replace(name.begin(), name.end(), '-', '_');
                           return name;
                         });

// The guest's 4-level walk of `va`: the GPA of its leaf entry.
uint64_t leaf_entry_gpa(const uint8_t* ram, uint64_t pml4, uint64_t va) {
  uint64_t table = pml4;
  for (int level = 3; level > 0; --level) {
    uint64_t e;
    std::memcpy(&e, ram + table + ((va >> (12 + 9 * level)) & 511) * 8, 8);
    table = e & kPteAddrMask;
  }
  return table + ((va >> 12) & 511) * 8;
}

// A shadow-mode VM with its driver loaded.
class ShadowModeEdits : public ::testing::Test {
 protected:
  void SetUp() override {
    auto host = MediatedHost::create();
    ASSERT_TRUE(host) << host.error();
    h = std::move(*host);
    vm = shadow_vm(*h);
    ASSERT_TRUE(vm);
    ASSERT_TRUE(dev.init(vm->guest()));
  }
  void TearDown() override { dev.fini(); }
  std::unique_ptr<MediatedHost> h;
  std::unique_ptr<GuestVm> vm;
  drv::Device dev;
};

// A guest remaps a buffer's page while its context lives: the write to its
// table traps, and the next submission's stores land in the new page, never
// the old one.
TEST_F(ShadowModeEdits, ATrappedTableWriteIsSeenByTheNextSubmission) {
  drv::Context ctx;
  ASSERT_TRUE(ctx.init(dev, 1));
  auto a = dev.create_bo(kPageSize, 0), b = dev.create_bo(kPageSize, 0);
  ASSERT_TRUE(a && b);
  auto va = ctx.bind(*a);
  ASSERT_TRUE(va);
  drv::Batch batch;
  ASSERT_TRUE(batch.init(ctx, kPageSize));
  auto store = [&](uint32_t v) {
    if (!batch.begin()) return false;
    batch.cmds().store_dword(*va, v, false);
    auto seq = batch.submit();
    return seq && ctx.wait(*seq);
  };
  ASSERT_TRUE(store(0x1111));
  EXPECT_EQ(a->dwords()[0], 0x1111u);
  const uint64_t pte_gpa = leaf_entry_gpa(vm->guest().ram(), ctx.ppgtt().root(), *va);
  uint64_t pte;
  std::memcpy(&pte, vm->guest().ram() + pte_gpa, 8);
  ASSERT_EQ(pte & kPteAddrMask, a->pages.phys);
  const uint64_t traps = vm->vgpu().traps().pagetable;
  pte = (pte & ~kPteAddrMask) | b->pages.phys;
  ASSERT_TRUE(vm->mpt().guest_write(pte_gpa, &pte, 8));  // the guest's store, trapped
  EXPECT_EQ(vm->vgpu().traps().pagetable, traps + 1);
  ASSERT_TRUE(store(0x2222));
  EXPECT_EQ(b->dwords()[0], 0x2222u);
  EXPECT_EQ(a->dwords()[0], 0x1111u) << "the GPU used a stale shadow entry";
  // A leaf outside the VM's RAM is refused: the store goes to the vGPU's
  // scratch page, not to host memory.
  pte = (pte & ~kPteAddrMask) | (vm->ram_size() + (64ull << 20));
  ASSERT_TRUE(vm->mpt().guest_write(pte_gpa, &pte, 8));
  ASSERT_TRUE(store(0x3333));
  EXPECT_EQ(vm->vgpu().ppgtt_shadow()->stats().refused_frame, 1u);
  EXPECT_EQ(b->dwords()[0], 0x2222u);
  EXPECT_EQ(vm->vgpu().status(), "ok");
  pte = (pte & ~kPteAddrMask) | a->pages.phys;  // back, so teardown unbinds its own page
  ASSERT_TRUE(vm->mpt().guest_write(pte_gpa, &pte, 8));
  batch.fini();
  ctx.unbind(*a, *va);
  dev.destroy_bo(*a);
  dev.destroy_bo(*b);
  ctx.fini();
}

// A guest engine reset drops the workloads queued behind a stuck one; each
// let go of its hold on the shadow root, so the root goes as soon as the
// guest destroys its PPGTT. A held root would stay shadowed and
// write-protected until the next full reset, and enough of them would
// send the vGPU to failsafe at its cap.
TEST_F(ShadowModeEdits, AnEngineResetLetsGoOfTheRootsOfDroppedWorkloads) {
  const PpgttShadow& shadow = *vm->vgpu().ppgtt_shadow();
  {
    StuckBatch stuck;
    ASSERT_TRUE(stuck.submit(dev));
    ASSERT_TRUE(eventually([&] { return h->gvt().sched_stats(&vm->vgpu()).workloads >= 1; }));
    // Two more submissions on the stuck context queue behind it.
    drv::Batch more[2];
    for (auto& b : more) {
      ASSERT_TRUE(b.init(stuck.ctx, kPageSize) && b.begin());
      b.cmds().noop();
      ASSERT_TRUE(b.submit());
    }
    const uint64_t root = stuck.ctx.ppgtt().root();
    ASSERT_TRUE(shadow.root_hpa(root));
    vm->guest().mmio_write32(reg::GEN6_GDRST, kGdrstBlt);
    ASSERT_TRUE(eventually([&] { return h->gvt().sched_stats(&vm->vgpu()).preempted == 1; }));
    for (auto& b : more) b.fini();
    stuck.batch.fini();
    stuck.ctx.unbind(stuck.sem, stuck.sem_va);
    stuck.sem_va = 0;
    stuck.ctx.fini();  // the PV destroy
    EXPECT_FALSE(shadow.root_hpa(root)) << "a dropped workload still holds the root";
  }
  EXPECT_EQ(vm->vgpu().status(), "ok");
  EXPECT_EQ(shadow.stats().contexts, 0u);
}

}  // namespace
}  // namespace gvt
