#include "gvt/interrupt.h"

#include <gtest/gtest.h>

#include "common/gen8/layout.h"
#include "common/vmm_abi.h"
#include "hv/fake_mpt.h"

namespace gvt {
namespace {

using namespace gen8;

class VirtualIrq : public ::testing::Test {
 protected:
  void SetUp() override {
    cfg.write(pci::MSI_ADDR_LO, 4, 0xFEE00000);
    cfg.write(pci::MSI_DATA, 2, vmm_abi::kMsiVector);
    cfg.write(pci::MSI_CTRL, 2, pci::kMsiEnable);
    irq.write(reg::GEN8_DE_PIPE_IMR, 0);
    irq.write(reg::GEN8_DE_PIPE_IER, kDePipeVblank | kDePipeFlipDone);
    irq.write(reg::GEN8_GT_IMR0, 0);
    irq.write(reg::GEN8_GT_IER0, kGtUser | (kGtUser << 16));
  }
  hv::FakeMpt mpt{64ull << 20};
  VirtualConfig cfg{64ull << 20, vmm_abi::kBar0Base, vmm_abi::kApertureBase,
                    [](int, uint64_t, uint64_t) { return true; }};
  VirtualInterrupts irq{mpt, cfg};
};

TEST_F(VirtualIrq, EnabledEventBecomesAnMsiIntoTheVm) {
  irq.write(reg::GEN8_MASTER_IRQ, kMasterEnable);
  irq.raise_de(0, kDePipeVblank);
  ASSERT_EQ(mpt.msis.size(), 1u);
  EXPECT_EQ(mpt.msis[0].addr, 0xFEE00000u);
  EXPECT_EQ(mpt.msis[0].data, vmm_abi::kMsiVector);
  EXPECT_TRUE(irq.read(reg::GEN8_MASTER_IRQ) & master_de_pipe(0));
}

TEST_F(VirtualIrq, MaskedOrMasterOffMeansNoMsi) {
  irq.raise_de(0, kDePipeVblank);  // master off
  EXPECT_TRUE(mpt.msis.empty());
  irq.write(reg::GEN8_DE_PIPE_IMR, kDePipeFlipDone);
  irq.write(reg::GEN8_MASTER_IRQ, kMasterEnable);  // the pending vblank signals now
  EXPECT_EQ(mpt.msis.size(), 1u);
  irq.raise_de(0, kDePipeFlipDone);  // masked: not latched
  EXPECT_EQ(mpt.msis.size(), 1u);
  EXPECT_FALSE(irq.read(reg::GEN8_DE_PIPE_IIR) & kDePipeFlipDone);
}

TEST_F(VirtualIrq, ClearingOneBitWhileAnotherIsPendingReinjects) {
  irq.write(reg::GEN8_MASTER_IRQ, kMasterEnable);
  irq.raise_gt(kGtUser);
  irq.raise_gt(kGtUser << 16);
  size_t n = mpt.msis.size();
  irq.write(reg::GEN8_GT_IIR0, kGtUser);  // BCS still pending: signal again
  EXPECT_EQ(mpt.msis.size(), n + 1);
  irq.write(reg::GEN8_GT_IIR0, kGtUser << 16);  // nothing left
  EXPECT_EQ(mpt.msis.size(), n + 1);
}

TEST_F(VirtualIrq, MsiDisabledInConfigSpaceIsCountedNotInjected) {
  cfg.write(pci::MSI_CTRL, 2, 0);
  irq.write(reg::GEN8_MASTER_IRQ, kMasterEnable);
  irq.raise_de(0, kDePipeVblank);
  EXPECT_TRUE(mpt.msis.empty());
  EXPECT_EQ(irq.suppressed(), 1u);
}

}  // namespace
}  // namespace gvt
