#include "common/gen8/irq_regs.h"

#include <gtest/gtest.h>

#include "common/gen8/layout.h"

namespace {

namespace r = gen8::reg;
using gen8::InterruptController;

constexpr uint32_t de(uint32_t reg, int pipe) { return reg + pipe * r::kDePipeStride; }

constexpr uint32_t kRcsUser = gen8::kGtUser << 0;
constexpr uint32_t kBcsUser = gen8::kGtUser << 16;

// Master enabled, every GT and pipe-0 bit unmasked and enabled.
gen8::InterruptController armed() {
  gen8::InterruptController ic;
  ic.write(r::GEN8_GT_IMR0, 0);
  ic.write(r::GEN8_GT_IER0, 0xFFFFFFFFu);
  ic.write(de(r::GEN8_DE_PIPE_IMR, 0), 0);
  ic.write(de(r::GEN8_DE_PIPE_IER, 0), 0xFFFFFFFFu);
  ic.write(r::GEN8_MASTER_IRQ, gen8::kMasterEnable);
  return ic;
}

TEST(Irq, PowerOnState) {
  gen8::InterruptController ic;
  EXPECT_EQ(ic.read(r::GEN8_MASTER_IRQ), 0u);
  EXPECT_EQ(ic.read(r::GEN8_GT_IMR0), 0xFFFFFFFFu);
  EXPECT_EQ(ic.read(r::GEN8_GT_IER0), 0u);
  EXPECT_EQ(ic.read(r::GEN8_GT_IIR0), 0u);
  for (int p = 0; p < gen8::kNumPipes; ++p) {
    EXPECT_EQ(ic.read(de(r::GEN8_DE_PIPE_IMR, p)), 0xFFFFFFFFu);
    EXPECT_EQ(ic.read(de(r::GEN8_DE_PIPE_IER, p)), 0u);
  }
  EXPECT_FALSE(ic.pending());
}

TEST(Irq, Owns) {
  gen8::InterruptController ic;
  EXPECT_TRUE(ic.owns(r::GEN8_MASTER_IRQ));
  for (uint32_t off : {r::GEN8_GT_ISR0, r::GEN8_GT_IMR0, r::GEN8_GT_IIR0, r::GEN8_GT_IER0})
    EXPECT_TRUE(ic.owns(off));
  for (int p = 0; p < gen8::kNumPipes; ++p)
    for (uint32_t reg :
         {r::GEN8_DE_PIPE_ISR, r::GEN8_DE_PIPE_IMR, r::GEN8_DE_PIPE_IIR, r::GEN8_DE_PIPE_IER})
      EXPECT_TRUE(ic.owns(de(reg, p)));
  EXPECT_FALSE(ic.owns(de(r::GEN8_DE_PIPE_ISR, gen8::kNumPipes)));
  EXPECT_FALSE(ic.owns(r::GEN8_GT_ISR0 + 0x10));  // GT group 1 is not modelled
  EXPECT_FALSE(ic.owns(r::GEN8_GT_IIR0 + 1));
  EXPECT_FALSE(ic.owns(r::GEN8_MASTER_IRQ + 4));
  EXPECT_FALSE(ic.owns(0));
}

TEST(Irq, MaskedEventsAreNotLatched) {
  gen8::InterruptController ic;
  ic.write(r::GEN8_GT_IER0, 0xFFFFFFFFu);
  ic.write(r::GEN8_MASTER_IRQ, gen8::kMasterEnable);
  // IMR powers on all ones: nothing latches.
  EXPECT_FALSE(ic.raise_gt(kRcsUser));
  EXPECT_EQ(ic.read(r::GEN8_GT_IIR0), 0u);
  EXPECT_EQ(ic.read(r::GEN8_GT_ISR0), kRcsUser);  // raw event still visible
  EXPECT_FALSE(ic.pending());

  // Unmask only the BCS user bit: the RCS half of a combined event is dropped.
  ic.write(r::GEN8_GT_IMR0, ~kBcsUser);
  EXPECT_EQ(ic.read(r::GEN8_GT_IMR0), ~kBcsUser);
  EXPECT_TRUE(ic.raise_gt(kRcsUser | kBcsUser));
  EXPECT_EQ(ic.read(r::GEN8_GT_IIR0), kBcsUser);
  EXPECT_EQ(ic.read(r::GEN8_GT_ISR0), kRcsUser | kBcsUser);

  // Unmasking later does not resurrect the dropped event.
  ic.write(r::GEN8_GT_IMR0, 0);
  EXPECT_EQ(ic.read(r::GEN8_GT_IIR0), kBcsUser);

  // Same on a display pipe.
  ic.write(de(r::GEN8_DE_PIPE_IER, 1), 0xFFFFFFFFu);
  EXPECT_FALSE(ic.raise_de(1, gen8::kDePipeVblank));
  EXPECT_EQ(ic.read(de(r::GEN8_DE_PIPE_IIR, 1)), 0u);
  EXPECT_EQ(ic.read(de(r::GEN8_DE_PIPE_ISR, 1)), gen8::kDePipeVblank);
}

TEST(Irq, RaiseDecision) {  // rule a)
  gen8::InterruptController ic = armed();
  EXPECT_TRUE(ic.raise_gt(kRcsUser));
  EXPECT_EQ(ic.read(r::GEN8_GT_IIR0), kRcsUser);
  EXPECT_TRUE(ic.raise_de(0, gen8::kDePipeVblank));
  EXPECT_EQ(ic.read(de(r::GEN8_DE_PIPE_IIR, 0)), gen8::kDePipeVblank);
  EXPECT_FALSE(ic.raise_gt(0));

  // Latched but not enabled: no MSI, not pending through that bit.
  gen8::InterruptController ic2 = armed();
  ic2.write(r::GEN8_GT_IER0, kBcsUser);
  EXPECT_FALSE(ic2.raise_gt(kRcsUser));
  EXPECT_EQ(ic2.read(r::GEN8_GT_IIR0), kRcsUser);
  EXPECT_FALSE(ic2.pending());

  // Master disabled: latched, no MSI.
  gen8::InterruptController ic3 = armed();
  ic3.write(r::GEN8_MASTER_IRQ, 0);
  EXPECT_FALSE(ic3.raise_gt(kRcsUser));
  EXPECT_EQ(ic3.read(r::GEN8_GT_IIR0), kRcsUser);
  EXPECT_FALSE(ic3.pending());

  // Invalid pipes are ignored.
  EXPECT_FALSE(ic.raise_de(-1, gen8::kDePipeVblank));
  EXPECT_FALSE(ic.raise_de(gen8::kNumPipes, gen8::kDePipeVblank));
}

TEST(Irq, MasterEnableDecision) {  // rule b)
  gen8::InterruptController ic = armed();
  ic.write(r::GEN8_MASTER_IRQ, 0);
  EXPECT_FALSE(ic.raise_gt(kRcsUser));
  // 0 -> 1 with a pending, enabled bit: the event must not be lost.
  EXPECT_TRUE(ic.write(r::GEN8_MASTER_IRQ, gen8::kMasterEnable));
  EXPECT_TRUE(ic.pending());
  // 1 -> 1: no new edge.
  EXPECT_FALSE(ic.write(r::GEN8_MASTER_IRQ, gen8::kMasterEnable));
  // 1 -> 0 -> 1 with nothing pending: nothing to send.
  ic.write(r::GEN8_GT_IIR0, 0xFFFFFFFFu);
  EXPECT_FALSE(ic.write(r::GEN8_MASTER_IRQ, 0));
  EXPECT_FALSE(ic.write(r::GEN8_MASTER_IRQ, gen8::kMasterEnable));
  // Latched but not enabled does not count as pending.
  ic.write(r::GEN8_MASTER_IRQ, 0);
  ic.write(r::GEN8_GT_IER0, 0);
  ic.raise_gt(kRcsUser);
  EXPECT_FALSE(ic.write(r::GEN8_MASTER_IRQ, gen8::kMasterEnable));
  // A display group pending also counts.
  ic.write(r::GEN8_MASTER_IRQ, 0);
  ic.raise_de(0, gen8::kDePipeFlipDone);
  EXPECT_TRUE(ic.write(r::GEN8_MASTER_IRQ, gen8::kMasterEnable));
}

TEST(Irq, MasterReadAndWrite) {
  gen8::InterruptController ic = armed();
  EXPECT_EQ(ic.read(r::GEN8_MASTER_IRQ), gen8::kMasterEnable);
  ic.raise_gt(kRcsUser);
  EXPECT_EQ(ic.read(r::GEN8_MASTER_IRQ), gen8::kMasterEnable | gen8::kMasterGtRcs);
  ic.raise_gt(kBcsUser);
  EXPECT_EQ(ic.read(r::GEN8_MASTER_IRQ),
            gen8::kMasterEnable | gen8::kMasterGtRcs | gen8::kMasterGtBcs);
  ic.write(r::GEN8_GT_IIR0, kRcsUser);
  EXPECT_EQ(ic.read(r::GEN8_MASTER_IRQ), gen8::kMasterEnable | gen8::kMasterGtBcs);

  // Pipe 2 summary needs both IIR and IER.
  ic.write(de(r::GEN8_DE_PIPE_IMR, 2), 0);
  ic.raise_de(2, gen8::kDePipeVblank);
  EXPECT_EQ(ic.read(r::GEN8_MASTER_IRQ) & gen8::master_de_pipe(2), 0u);
  ic.write(de(r::GEN8_DE_PIPE_IER, 2), gen8::kDePipeVblank);
  EXPECT_EQ(ic.read(r::GEN8_MASTER_IRQ),
            gen8::kMasterEnable | gen8::kMasterGtBcs | gen8::master_de_pipe(2));

  // A master write changes only bit 31: summary bits cannot be forced or cleared.
  ic.write(r::GEN8_MASTER_IRQ, 0x7FFFFFFFu);
  EXPECT_EQ(ic.read(r::GEN8_MASTER_IRQ), gen8::kMasterGtBcs | gen8::master_de_pipe(2));
  EXPECT_FALSE(ic.pending());
  ic.write(r::GEN8_GT_IIR0, 0xFFFFFFFFu);
  ic.write(de(r::GEN8_DE_PIPE_IIR, 2), 0xFFFFFFFFu);
  ic.write(r::GEN8_MASTER_IRQ, 0xFFFFFFFFu);
  EXPECT_EQ(ic.read(r::GEN8_MASTER_IRQ), gen8::kMasterEnable);
}

TEST(Irq, IirClearDecision) {  // rule c)
  gen8::InterruptController ic = armed();
  ic.raise_gt(kRcsUser);
  ic.raise_gt(kBcsUser);
  // The lost-interrupt case: clearing one bit while another is pending and
  // enabled must produce a fresh edge.
  EXPECT_TRUE(ic.write(r::GEN8_GT_IIR0, kRcsUser));
  EXPECT_EQ(ic.read(r::GEN8_GT_IIR0), kBcsUser);
  // Clearing the last one: nothing left.
  EXPECT_FALSE(ic.write(r::GEN8_GT_IIR0, kBcsUser));
  EXPECT_EQ(ic.read(r::GEN8_GT_IIR0), 0u);
  EXPECT_FALSE(ic.pending());

  // Pending in another group also counts.
  ic.raise_gt(kRcsUser);
  ic.raise_de(0, gen8::kDePipeVblank);
  EXPECT_TRUE(ic.write(r::GEN8_GT_IIR0, kRcsUser));
  EXPECT_FALSE(ic.write(de(r::GEN8_DE_PIPE_IIR, 0), gen8::kDePipeVblank));

  // Write-1-to-clear: zeros leave bits alone.
  ic.raise_gt(kRcsUser | kBcsUser);
  EXPECT_TRUE(ic.write(r::GEN8_GT_IIR0, 0));
  EXPECT_EQ(ic.read(r::GEN8_GT_IIR0), kRcsUser | kBcsUser);

  // Remaining bit latched but not enabled: no MSI.
  ic.write(r::GEN8_GT_IER0, kRcsUser);
  EXPECT_FALSE(ic.write(r::GEN8_GT_IIR0, kRcsUser));
  EXPECT_EQ(ic.read(r::GEN8_GT_IIR0), kBcsUser);

  // Master disabled: no MSI even though something is pending in IIR & IER.
  ic.write(r::GEN8_GT_IER0, 0xFFFFFFFFu);
  ic.raise_gt(kRcsUser);
  ic.write(r::GEN8_MASTER_IRQ, 0);
  EXPECT_FALSE(ic.write(r::GEN8_GT_IIR0, kRcsUser));
}

TEST(Irq, IerDecision) {  // rule d)
  gen8::InterruptController ic = armed();
  ic.write(r::GEN8_GT_IER0, 0);
  ic.raise_gt(kRcsUser | kBcsUser);
  // Newly enabling a latched bit sends.
  EXPECT_TRUE(ic.write(r::GEN8_GT_IER0, kRcsUser));
  // Re-writing the same enable is not new.
  EXPECT_FALSE(ic.write(r::GEN8_GT_IER0, kRcsUser));
  // Newly enabled bits with nothing latched there: no MSI.
  EXPECT_FALSE(ic.write(r::GEN8_GT_IER0, kRcsUser | gen8::kGtNotify));
  // Newly enabling the other latched bit sends again.
  EXPECT_TRUE(ic.write(r::GEN8_GT_IER0, kRcsUser | gen8::kGtNotify | kBcsUser));
  // Disabling never sends.
  EXPECT_FALSE(ic.write(r::GEN8_GT_IER0, 0));
  // Master disabled: no MSI.
  ic.write(r::GEN8_MASTER_IRQ, 0);
  EXPECT_FALSE(ic.write(r::GEN8_GT_IER0, kRcsUser));
  EXPECT_EQ(ic.read(r::GEN8_GT_IER0), kRcsUser);

  // Display group.
  gen8::InterruptController d = armed();
  d.write(de(r::GEN8_DE_PIPE_IER, 0), 0);
  d.raise_de(0, gen8::kDePipeFlipDone);
  EXPECT_TRUE(d.write(de(r::GEN8_DE_PIPE_IER, 0), gen8::kDePipeFlipDone));
}

TEST(Irq, ImrAndIsrWrites) {  // rule e) and read-only ISR
  gen8::InterruptController ic = armed();
  ic.write(r::GEN8_GT_IER0, 0);
  ic.raise_gt(kRcsUser);
  ic.write(r::GEN8_GT_IER0, kRcsUser);
  EXPECT_FALSE(ic.write(r::GEN8_GT_IMR0, 0xFFFFFFFFu));
  EXPECT_FALSE(ic.write(r::GEN8_GT_IMR0, 0));
  EXPECT_EQ(ic.read(r::GEN8_GT_IMR0), 0u);
  // Masking does not retract an already latched bit.
  ic.write(r::GEN8_GT_IMR0, 0xFFFFFFFFu);
  EXPECT_EQ(ic.read(r::GEN8_GT_IIR0), kRcsUser);
  EXPECT_TRUE(ic.pending());

  EXPECT_FALSE(ic.write(r::GEN8_GT_ISR0, 0x12345678u));
  EXPECT_EQ(ic.read(r::GEN8_GT_ISR0), kRcsUser);
  EXPECT_FALSE(ic.write(de(r::GEN8_DE_PIPE_ISR, 1), 0xFFFFFFFFu));
  EXPECT_EQ(ic.read(de(r::GEN8_DE_PIPE_ISR, 1)), 0u);
}

TEST(Irq, UnownedOffsets) {
  gen8::InterruptController ic = armed();
  ic.raise_gt(kRcsUser);
  EXPECT_EQ(ic.read(r::GEN8_GT_IIR0 + 2), 0u);
  EXPECT_FALSE(ic.write(r::GEN8_GT_IIR0 + 2, 0xFFFFFFFFu));
  EXPECT_FALSE(ic.write(de(r::GEN8_DE_PIPE_IER, gen8::kNumPipes), 0xFFFFFFFFu));
  EXPECT_EQ(ic.read(r::GEN8_GT_IIR0), kRcsUser);
}

TEST(Irq, ResetGt) {
  gen8::InterruptController ic = armed();
  ic.raise_gt(kRcsUser);
  ic.raise_de(0, gen8::kDePipeVblank);
  ic.reset_gt();
  EXPECT_EQ(ic.read(r::GEN8_GT_IIR0), 0u);
  EXPECT_EQ(ic.read(r::GEN8_GT_ISR0), 0u);
  EXPECT_EQ(ic.read(r::GEN8_GT_IMR0), 0xFFFFFFFFu);
  EXPECT_EQ(ic.read(r::GEN8_GT_IER0), 0u);
  // Display and master survive a GT reset.
  EXPECT_EQ(ic.read(de(r::GEN8_DE_PIPE_IIR, 0)), gen8::kDePipeVblank);
  EXPECT_EQ(ic.read(de(r::GEN8_DE_PIPE_IMR, 0)), 0u);
  EXPECT_EQ(ic.read(de(r::GEN8_DE_PIPE_IER, 0)), 0xFFFFFFFFu);
  EXPECT_EQ(ic.read(r::GEN8_MASTER_IRQ), gen8::kMasterEnable | gen8::master_de_pipe(0));

  ic.reset();
  EXPECT_EQ(ic.read(r::GEN8_MASTER_IRQ), 0u);
  EXPECT_EQ(ic.read(de(r::GEN8_DE_PIPE_IIR, 0)), 0u);
  EXPECT_EQ(ic.read(de(r::GEN8_DE_PIPE_ISR, 0)), 0u);
  EXPECT_EQ(ic.read(de(r::GEN8_DE_PIPE_IMR, 0)), 0xFFFFFFFFu);
  EXPECT_EQ(ic.read(de(r::GEN8_DE_PIPE_IER, 0)), 0u);
  EXPECT_FALSE(ic.pending());
}

}  // namespace
