#include "gvt/vreg.h"

#include <gtest/gtest.h>

#include "common/gen8/layout.h"

namespace gvt {
namespace {

using namespace gen8;

TEST(VirtualRegs, StartsAtTheGoldenState) {
  VirtualRegs v;
  for (const auto& r : kRegs) {
    if (!(r.flags & kWriteOnly)) {
      EXPECT_EQ(v.read(r.offset), r.reset) << r.name;
    }
  }
  EXPECT_TRUE(v.diff_golden().empty());
}

// Generated from the table: every register applies its own policy.
TEST(VirtualRegs, EveryRegisterAppliesItsWritePolicy) {
  VirtualRegs v;
  for (const auto& r : kRegs) {
    if (r.flags & kWriteOnly) continue;
    for (uint32_t pattern : {0xFFFFFFFFu, 0x12345678u, 0u}) {
      uint32_t old = v.read(r.offset);
      v.write(r.offset, pattern);
      EXPECT_EQ(v.read(r.offset), apply_write(r, old, pattern)) << r.name;
    }
  }
  EXPECT_EQ(v.unknown_accesses(), 0u);
}

TEST(VirtualRegs, MaskedW1cAndReadOnly) {
  VirtualRegs v;
  uint32_t mi_mode = kRcsBase + reg::RING_MI_MODE;
  v.write(mi_mode, 0x00050005);
  v.write(mi_mode, 0x00040000);
  EXPECT_EQ(v.read(mi_mode), 1u);
  v.set(reg::GEN8_GT_IIR0, 0xF0);
  v.write(reg::GEN8_GT_IIR0, 0x30);  // write 1 to clear
  EXPECT_EQ(v.read(reg::GEN8_GT_IIR0), 0xC0u);
  v.write(kRcsBase + reg::RING_HWS_PGA, 0x12345FFF);  // low 12 bits read-only
  EXPECT_EQ(v.read(kRcsBase + reg::RING_HWS_PGA), 0x12345000u);
}

TEST(VirtualRegs, UnknownOffsetsAreCountedAndIgnored) {
  VirtualRegs v;
  v.write(0x4, 1);
  EXPECT_EQ(v.read(0x4), 0u);
  EXPECT_EQ(v.unknown_accesses(), 2u);
  EXPECT_TRUE(v.diff_golden().empty());
}

TEST(VirtualRegs, DiffAgainstGoldenNamesWhatChanged) {
  VirtualRegs v;
  v.write(reg::DSPSTRIDE, 4096);
  v.write(reg::FENCE_REG_GEN6 + 4, 7);
  auto d = v.diff_golden();
  ASSERT_EQ(d.size(), 2u);  // in offset order
  EXPECT_EQ(d[0].name, "DSPSTRIDE");
  EXPECT_EQ(d[0].value, 4096u);
  EXPECT_EQ(d[1].name, "FENCE_REG_GEN6");
  EXPECT_EQ(d[1].offset, reg::FENCE_REG_GEN6 + 4);
  EXPECT_EQ(d[1].value, 7u);
  v.reset();
  EXPECT_TRUE(v.diff_golden().empty());
}

}  // namespace
}  // namespace gvt
