// The vGPU device model against the fake MPT and a host port that records
// what would reach the physical GPU.
#include "gvt/vgpu.h"

#include <gtest/gtest.h>

#include "support/null_platform.h"

#include <map>

#include "common/gen8/layout.h"
#include "common/vmm_abi.h"
#include "hv/fake_mpt.h"

namespace gvt {
namespace {

using namespace gen8;

// The host build of the driver over a platform that records BAR0 writes.
class RecordingPlatform final : public test_support::NullPlatform {
 public:
  std::map<uint32_t, uint64_t> writes;
  void mmio_write32(uint32_t off, uint32_t v) override { writes[off] = v; }
  void mmio_write64(uint32_t off, uint64_t v) override { writes[off] = v; }
};

constexpr uint64_t kRam = 64ull << 20;
constexpr uint64_t kScratch = 0x7000000000ull;

class VgpuTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // The host port only writes GGTT entries and fences; no init needed.
    host.init(plat);  // fails (no GPU behind the recorder): harmless for these tests
    plat.writes.clear();
    slice = *part.allocate(default_type());
    VgpuConfig c{1, slice, kRam, kScratch, vmm_abi::kBar0Base, vmm_abi::kApertureBase};
    vgpu = std::make_unique<Vgpu>(c, mpt, host, [](int, uint64_t, uint64_t) { return true; });
  }
  void w32(uint64_t off, uint32_t v) { vgpu->write(off, reinterpret_cast<uint8_t*>(&v), 4); }
  void w64(uint64_t off, uint64_t v) { vgpu->write(off, reinterpret_cast<uint8_t*>(&v), 8); }
  uint32_t r32(uint64_t off) {
    uint32_t v;
    vgpu->read(off, reinterpret_cast<uint8_t*>(&v), 4);
    return v;
  }
  void cfg_msi() {
    vgpu->cfg_write(pci::MSI_ADDR_LO, 4, 0xFEE00000);
    vgpu->cfg_write(pci::MSI_DATA, 2, vmm_abi::kMsiVector);
    vgpu->cfg_write(pci::MSI_CTRL, 2, pci::kMsiEnable);
  }
  uint64_t phys_ggtt(uint64_t gm) { return plat.writes[static_cast<uint32_t>(kGgttOffset + gm / kPageSize * 8)]; }

  RecordingPlatform plat;
  drv::Device host;
  GmPartition part;
  GmSlice slice;
  hv::FakeMpt mpt{kRam};
  std::unique_ptr<Vgpu> vgpu;
};

TEST_F(VgpuTest, RegistersStartGoldenAndCountTraps) {
  EXPECT_EQ(r32(reg::GEN8_GT_IMR0), kAll);
  EXPECT_EQ(r32(reg::PIPESRC), kRegs[find_reg(reg::PIPESRC)].reset);
  w32(reg::DSPSTRIDE, 4096);
  EXPECT_EQ(r32(reg::DSPSTRIDE), 4096u);
  EXPECT_EQ(vgpu->traps().mmio, 4u);
  ASSERT_EQ(vgpu->register_diff().size(), 1u);
  EXPECT_EQ(vgpu->register_diff()[0].name, "DSPSTRIDE");
}

TEST_F(VgpuTest, GgttWritesAreShadowedThroughTheHostPort) {
  uint64_t gm = slice.low_base;
  w64(kGgttOffset + gm / kPageSize * 8, 0x42000 | kPtePresent);
  EXPECT_EQ(phys_ggtt(gm), (mpt.host_base() + 0x42000) | kPtePresent);
  EXPECT_EQ(vgpu->traps().ggtt, 1u);
  uint64_t foreign = slice.low_base + slice.low_size;  // the next vGPU's slice
  w64(kGgttOffset + foreign / kPageSize * 8, 0x42000 | kPtePresent);
  EXPECT_EQ(plat.writes.count(static_cast<uint32_t>(kGgttOffset + foreign / kPageSize * 8)), 0u);
  EXPECT_EQ(vgpu->ggtt_stats().refused_range, 1u);
}

TEST_F(VgpuTest, PvPagePublishesTheSlice) {
  EXPECT_EQ(r32(pvinfo::MAPPABLE_BASE), slice.low_base);
  EXPECT_EQ(r32(pvinfo::NONMAPPABLE_SIZE), slice.high_size);
  EXPECT_EQ(vgpu->traps().pvinfo, 2u);
}

TEST_F(VgpuTest, FencesMapOntoTheVgpusOwnAndAreRangeChecked) {
  uint64_t start = slice.low_base, end = slice.low_base + 15 * kPageSize;
  w64(reg::FENCE_REG_GEN6 + 8, start | kFenceValid | (end << 32));
  uint32_t phys = reg::FENCE_REG_GEN6 + 8 * (slice.fence_base + 1);
  EXPECT_EQ(plat.writes[phys], start | kFenceValid | (end << 32));
  w64(reg::FENCE_REG_GEN6 + 8, kFenceValid | ((slice.low_base - kPageSize) << 32));  // outside
  EXPECT_EQ(plat.writes[phys], 0u);
  w64(reg::FENCE_REG_GEN6 + 8 * slice.fences, start | kFenceValid);  // beyond its fences
  EXPECT_GE(vgpu->traps().refused_fence, 2u);
}

TEST_F(VgpuTest, SyncFlipCompletesAtTheVgpusVblankWithAnInterrupt) {
  cfg_msi();
  w32(reg::GEN8_DE_PIPE_IMR, 0);
  w32(reg::GEN8_DE_PIPE_IER, kDePipeFlipDone | kDePipeVblank);
  w32(reg::GEN8_MASTER_IRQ, kMasterEnable);
  w32(reg::PIPECONF, kPipeconfEnable);
  w32(reg::DSPCNTR, kDspEnable | kDspFormatXrgb8888);
  w32(reg::DSPSTRIDE, 4096);
  w32(reg::DSPSURF, static_cast<uint32_t>(slice.low_base));
  EXPECT_TRUE(mpt.msis.empty());
  vgpu->vblank();
  EXPECT_EQ(r32(reg::DSPSURFLIVE), slice.low_base);
  EXPECT_FALSE(mpt.msis.empty());
  auto p = vgpu->plane(0);
  ASSERT_TRUE(p) << p.error();
  EXPECT_EQ(p->surface, slice.low_base);
}

TEST_F(VgpuTest, PlaneOutsideTheVgpusGmIsRefused) {
  w32(reg::PIPECONF, kPipeconfEnable);
  w32(reg::DSPCNTR, kDspEnable | kDspFormatXrgb8888 | kDspAsyncFlip);
  w32(reg::DSPSTRIDE, 4096);
  w32(reg::DSPSURF, 0);  // the host's slice
  auto p = vgpu->plane(0);
  ASSERT_FALSE(p);
  EXPECT_NE(p.error().find("outside"), std::string::npos);
}

TEST_F(VgpuTest, SubmissionIsRefusedUntilMediated) {
  w64(kRcsBase + reg::RING_ELSP, 0x1234);
  EXPECT_EQ(vgpu->status(), "error: submission not yet mediated");
  EXPECT_EQ(vgpu->traps().refused_submission, 1u);
  for (const auto& [off, v] : plat.writes) EXPECT_NE(off, kRcsBase + reg::RING_ELSP);
}

TEST_F(VgpuTest, ResetLevelsRestoreExactlyTheirSets) {
  w32(kBcsBase + reg::RING_HWS_PGA, 0x5000);
  w32(reg::DSPSTRIDE, 4096);
  w32(reg::GEN8_GT_IER0, 0xF);
  w32(reg::GEN6_GDRST, kGdrstBlt);  // engine reset: BCS registers only
  EXPECT_EQ(r32(kBcsBase + reg::RING_HWS_PGA), 0u);
  EXPECT_EQ(r32(reg::DSPSTRIDE), 4096u);
  w32(kRcsBase + reg::RING_HWS_PGA, 0x6000);
  w32(reg::GEN6_GDRST, kGdrstFull);  // GT reset: below the interrupt block, and GT interrupts
  EXPECT_EQ(r32(kRcsBase + reg::RING_HWS_PGA), 0u);
  EXPECT_EQ(r32(reg::GEN8_GT_IER0), 0u);
  EXPECT_EQ(r32(reg::DSPSTRIDE), 4096u);  // display survives a GT reset
  uint64_t gm = slice.low_base;
  w64(kGgttOffset + gm / kPageSize * 8, 0x42000 | kPtePresent);
  w64(kRcsBase + reg::RING_ELSP, 1);
  vgpu->reset_device_model();  // VM reboot: everything
  EXPECT_EQ(r32(reg::DSPSTRIDE), 0u);
  EXPECT_EQ(phys_ggtt(gm), kScratch | kPtePresent);
  EXPECT_EQ(vgpu->status(), "ok");
  EXPECT_TRUE(vgpu->register_diff().empty());
}

}  // namespace
}  // namespace gvt
