#include "common/gen8/pci_config.h"

#include <gtest/gtest.h>

#include "common/gen8/layout.h"

namespace {

using namespace gen8::pci;
using gen8::PciConfig;

TEST(PciConfig, IdentityAndHeader) {
  PciConfig c;
  EXPECT_EQ(c.read(VENDOR, 2), kVendorIntel);
  EXPECT_EQ(c.read(DEVICE, 2), kDeviceBdwGt2);
  EXPECT_EQ(c.read(VENDOR, 4), 0x16168086u);
  EXPECT_EQ(c.read(REVISION, 1), kRevision);
  EXPECT_EQ(c.read(0x09, 1), 0x00u);  // prog-if
  EXPECT_EQ(c.read(0x0A, 1), 0x00u);  // subclass
  EXPECT_EQ(c.read(0x0B, 1), 0x03u);  // base class: display
  EXPECT_EQ(c.read(REVISION, 4), (kClassVga << 8) | kRevision);
  EXPECT_EQ(c.read(0x0E, 1), 0x00u);  // header type 0
  EXPECT_EQ(c.read(STATUS, 2), 0x10u);
  EXPECT_EQ(c.read(COMMAND, 2), 0u);
  EXPECT_EQ(c.read(BAR0, 4), 0b100u);
  EXPECT_EQ(c.read(BAR0 + 4, 4), 0u);
  EXPECT_EQ(c.read(BAR2, 4), 0b1100u);
  EXPECT_EQ(c.read(BAR2 + 4, 4), 0u);
  EXPECT_EQ(c.read(0x20, 4), 0u);
  EXPECT_EQ(c.read(0x24, 4), 0u);
  EXPECT_EQ(c.read(CAP_PTR, 1), MSI_CAP);
  EXPECT_EQ(c.read(MSI_CAP, 1), 0x05u);
  EXPECT_EQ(c.read(MSI_CAP + 1, 1), 0x00u);
  EXPECT_EQ(c.read(MSI_CTRL, 2), kMsi64);
  EXPECT_EQ(c.read(GMCH_CTRL, 4), 0u);
  EXPECT_FALSE(c.mem_enabled());
  EXPECT_FALSE(c.bus_master());
  EXPECT_FALSE(c.msi_enabled());
  EXPECT_EQ(c.bar0(), 0u);
  EXPECT_EQ(c.bar2(), 0u);
}

TEST(PciConfig, Bar0Sizing) {
  PciConfig c;
  c.write(BAR0, 4, 0xFFFFFFFFu);
  c.write(BAR0 + 4, 4, 0xFFFFFFFFu);
  const uint32_t lo = c.read(BAR0, 4);
  EXPECT_EQ(lo, static_cast<uint32_t>(~(gen8::kBar0Size - 1)) | 0b100u);
  EXPECT_EQ(lo, 0xFF000004u);
  EXPECT_EQ(c.read(BAR0 + 4, 4), 0xFFFFFFFFu);
  // The size a driver decodes from the read-back.
  const uint64_t mask = (static_cast<uint64_t>(c.read(BAR0 + 4, 4)) << 32) | (lo & ~0xFu);
  EXPECT_EQ(~mask + 1, gen8::kBar0Size);
}

TEST(PciConfig, Bar2Sizing) {
  PciConfig c;
  c.write(BAR2, 4, 0xFFFFFFFFu);
  c.write(BAR2 + 4, 4, 0xFFFFFFFFu);
  const uint32_t lo = c.read(BAR2, 4);
  EXPECT_EQ(lo, static_cast<uint32_t>(~(gen8::kApertureSize - 1)) | 0b1100u);
  EXPECT_EQ(lo, 0xE000000Cu);
  EXPECT_EQ(c.read(BAR2 + 4, 4), 0xFFFFFFFFu);
  const uint64_t mask = (static_cast<uint64_t>(c.read(BAR2 + 4, 4)) << 32) | (lo & ~0xFu);
  EXPECT_EQ(~mask + 1, gen8::kApertureSize);
}

TEST(PciConfig, BarRelocation) {
  PciConfig c;
  c.write(BAR0, 4, 0xFFFFFFFFu);  // sizing first, as firmware does
  c.write(BAR0, 4, 0xC1000000u);
  c.write(BAR0 + 4, 4, 0x2u);
  EXPECT_EQ(c.bar0(), 0x2C1000000ull);
  EXPECT_EQ(c.read(BAR0, 4), 0xC1000004u);  // type bits survive

  // Address bits below the size are dropped: a BAR is naturally aligned.
  c.write(BAR2, 4, 0x30123457u);
  c.write(BAR2 + 4, 4, 0u);
  EXPECT_EQ(c.bar2(), 0x20000000ull);
  EXPECT_EQ(c.read(BAR2, 4), 0x2000000Cu);
  EXPECT_EQ(c.bar0(), 0x2C1000000ull);  // untouched by BAR2 writes
}

TEST(PciConfig, ReadOnlyFieldsIgnoreAllOnes) {
  PciConfig c;
  uint32_t before[64];
  for (uint32_t off = 0; off < kConfigSize; off += 4) before[off / 4] = c.read(off, 4);
  for (uint32_t off = 0; off < kConfigSize; off += 4) {
    if (off == COMMAND || off == BAR0 || off == BAR0 + 4 || off == BAR2 || off == BAR2 + 4 ||
        off == MSI_CAP || off == MSI_ADDR_LO || off == MSI_ADDR_HI || off == MSI_DATA)
      continue;
    c.write(off, 4, 0xFFFFFFFFu);
    EXPECT_EQ(c.read(off, 4), before[off / 4]) << "offset " << off;
  }
  EXPECT_EQ(c.read(GMCH_CTRL, 4), 0u);
  EXPECT_EQ(c.read(CAP_PTR, 1), MSI_CAP);

  // Writable dwords change only their writable fields.
  c.write(COMMAND, 4, 0xFFFFFFFFu);
  EXPECT_EQ(c.read(COMMAND, 2), static_cast<uint32_t>(kCmdMem | kCmdMaster));
  EXPECT_EQ(c.read(STATUS, 2), 0x10u);
  c.write(MSI_CAP, 4, 0xFFFFFFFFu);
  EXPECT_EQ(c.read(MSI_CAP, 1), 0x05u);
  EXPECT_EQ(c.read(MSI_CAP + 1, 1), 0x00u);
  EXPECT_EQ(c.read(MSI_CTRL, 2), static_cast<uint32_t>(kMsi64 | kMsiEnable));
  c.write(MSI_DATA, 4, 0xFFFFFFFFu);
  EXPECT_EQ(c.read(MSI_DATA, 4), 0xFFFFu);
  c.write(MSI_ADDR_LO, 4, 0xFFFFFFFFu);
  EXPECT_EQ(c.read(MSI_ADDR_LO, 4), 0xFFFFFFFCu);
  // No-ops on an unwritable dword do not touch its neighbours.
  EXPECT_EQ(c.read(VENDOR, 4), before[0]);
}

TEST(PciConfig, SubDwordWritesMerge) {
  PciConfig c;
  // Byte write to the top byte of BAR0's low dword.
  c.write(BAR0 + 3, 1, 0xABu);
  EXPECT_EQ(c.read(BAR0, 4), 0xAB000004u);
  // Word write to the upper half: bits 23:16 are below the 16 MiB size.
  c.write(BAR0 + 2, 2, 0x12FFu);
  EXPECT_EQ(c.read(BAR0, 4), 0x12000004u);
  // Byte write to BAR0's upper dword merges with the bytes around it.
  c.write(BAR0 + 4, 4, 0x11223344u);
  c.write(BAR0 + 5, 1, 0xEEu);
  EXPECT_EQ(c.read(BAR0 + 4, 4), 0x1122EE44u);
  EXPECT_EQ(c.bar0(), 0x1122EE4412000000ull);

  // COMMAND byte write leaves STATUS alone; a byte write to STATUS is ignored.
  c.write(COMMAND, 1, 0x06u);
  EXPECT_TRUE(c.mem_enabled());
  EXPECT_TRUE(c.bus_master());
  c.write(STATUS, 1, 0xFFu);
  EXPECT_EQ(c.read(COMMAND, 4), 0x00100006u);
  c.write(COMMAND, 2, kCmdMaster);
  EXPECT_FALSE(c.mem_enabled());
  EXPECT_TRUE(c.bus_master());

  // MSI data as a word, then the high byte of it alone.
  c.write(MSI_DATA, 2, 0x4021u);
  c.write(MSI_DATA + 1, 1, 0x7Fu);
  EXPECT_EQ(c.msi_data(), 0x7F21u);
  // The reserved upper half of the data dword stays zero.
  c.write(MSI_DATA + 2, 2, 0xFFFFu);
  EXPECT_EQ(c.read(MSI_DATA, 4), 0x7F21u);
}

TEST(PciConfig, MsiFields) {
  PciConfig c;
  c.write(MSI_ADDR_LO, 4, 0xFEE01007u);  // the low 2 bits are reserved
  c.write(MSI_ADDR_HI, 4, 0x1u);
  c.write(MSI_DATA, 2, 0x4041u);
  EXPECT_EQ(c.msi_address(), 0x1FEE01004ull);
  EXPECT_EQ(c.msi_data(), 0x4041u);
  EXPECT_FALSE(c.msi_enabled());

  // Only the enable bit of the control word moves (not multiple-message enable, not 64-bit).
  c.write(MSI_CTRL, 2, 0xFFFFu);
  EXPECT_TRUE(c.msi_enabled());
  EXPECT_EQ(c.read(MSI_CTRL, 2), static_cast<uint32_t>(kMsi64 | kMsiEnable));
  c.write(MSI_CTRL, 2, 0u);
  EXPECT_FALSE(c.msi_enabled());
  EXPECT_EQ(c.read(MSI_CTRL, 2), kMsi64);
  c.write(MSI_CTRL, 1, kMsiEnable);
  EXPECT_TRUE(c.msi_enabled());
  // The capability id and next pointer survive a dword write.
  c.write(MSI_CAP, 4, 0u);
  EXPECT_FALSE(c.msi_enabled());
  EXPECT_EQ(c.read(MSI_CAP, 2), 0x0005u);
}

TEST(PciConfig, InvalidAccesses) {
  PciConfig c;
  // Out of range.
  EXPECT_EQ(c.read(kConfigSize, 4), 0xFFFFFFFFu);
  EXPECT_EQ(c.read(kConfigSize, 2), 0xFFFFu);
  EXPECT_EQ(c.read(0xFFFFFFFFu, 1), 0xFFu);
  // Crossing a dword boundary.
  EXPECT_EQ(c.read(0x03, 2), 0xFFFFu);
  EXPECT_EQ(c.read(0x02, 4), 0xFFFFFFFFu);
  EXPECT_EQ(c.read(0xFF, 2), 0xFFFFu);
  // Bad sizes.
  EXPECT_EQ(c.read(0x00, 3), 0xFFFFFFFFu);
  EXPECT_EQ(c.read(0x00, 0), 0xFFFFFFFFu);
  EXPECT_EQ(c.read(0x00, 8), 0xFFFFFFFFu);
  // A 2-byte read inside one dword is fine.
  EXPECT_EQ(c.read(0x01, 2), 0x1680u);

  // Writes of the same shapes are dropped.
  c.write(BAR0 + 2, 4, 0xFFFFFFFFu);
  c.write(BAR0 + 3, 2, 0xFFFFu);
  c.write(BAR0, 3, 0xFFFFFFFFu);
  c.write(BAR0, 8, 0xFFFFFFFFu);
  c.write(COMMAND, 0, 0xFFFFFFFFu);
  c.write(kConfigSize + COMMAND, 4, 0xFFFFFFFFu);
  c.write(0xFFFFFFFCu, 4, 0xFFFFFFFFu);
  EXPECT_EQ(c.read(BAR0, 4), 0b100u);
  EXPECT_EQ(c.read(BAR0 + 4, 4), 0u);
  EXPECT_EQ(c.read(COMMAND, 2), 0u);
}

}  // namespace
