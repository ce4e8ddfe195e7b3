#include "gvt/cfg_space.h"

#include <gtest/gtest.h>

#include <vector>

#include "common/gen8/layout.h"
#include "common/vmm_abi.h"

namespace gvt {
namespace {

using namespace gen8;

struct Moves {
  std::vector<std::tuple<int, uint64_t, uint64_t>> log;
  bool allow = true;
};

VirtualConfig make(Moves& m) {
  return VirtualConfig(256ull << 20, vmm_abi::kBar0Base, vmm_abi::kApertureBase,
                       [&m](int bar, uint64_t from, uint64_t to) {
                         m.log.emplace_back(bar, from, to);
                         return m.allow;
                       });
}

TEST(VirtualConfig, IdentityNoStolenMemoryAndFullApertureBar) {
  Moves m;
  auto c = make(m);
  EXPECT_EQ(c.read(pci::VENDOR, 2), pci::kVendorIntel);
  EXPECT_EQ(c.read(pci::DEVICE, 2), pci::kDeviceBdwGt2);
  EXPECT_EQ(c.read(pci::GMCH_CTRL, 4), 0u);
  c.write(pci::BAR2, 4, 0xFFFFFFFF);
  EXPECT_EQ(c.read(pci::BAR2, 4) & ~0xFu, static_cast<uint32_t>(~(kApertureSize - 1)));
  EXPECT_EQ(c.read(pci::MSI_CAP, 1), 0x05u);
}

TEST(VirtualConfig, SizingWithDecodeOffMovesNothing) {
  Moves m;
  auto c = make(m);
  c.write(pci::BAR0, 4, 0xFFFFFFFF);
  c.write(pci::BAR0 + 4, 4, 0xFFFFFFFF);
  EXPECT_EQ(c.read(pci::BAR0, 4) & ~0xFu, static_cast<uint32_t>(~(kBar0Size - 1)));
  c.write(pci::BAR0, 4, static_cast<uint32_t>(vmm_abi::kBar0Base));
  c.write(pci::BAR0 + 4, 4, 0);
  c.write(pci::COMMAND, 2, pci::kCmdMem);
  EXPECT_TRUE(m.log.empty());
  EXPECT_EQ(c.bar0(), vmm_abi::kBar0Base);
}

TEST(VirtualConfig, RelocationMovesTheMapping) {
  Moves m;
  auto c = make(m);
  c.write(pci::BAR0, 4, 0xD0000000);
  c.write(pci::COMMAND, 2, pci::kCmdMem);
  ASSERT_EQ(m.log.size(), 1u);
  EXPECT_EQ(m.log[0], std::make_tuple(0, vmm_abi::kBar0Base, uint64_t{0xD0000000}));
  EXPECT_EQ(c.bar0(), 0xD0000000u);
  EXPECT_EQ(c.read(pci::BAR0, 4) & ~0xFu, 0xD0000000u);
}

TEST(VirtualConfig, OverlapWithRamIsRefused) {
  Moves m;
  auto c = make(m);
  c.write(pci::COMMAND, 2, pci::kCmdMem);
  c.write(pci::BAR2, 4, 0x08000000);  // inside the 256 MiB of RAM
  EXPECT_TRUE(m.log.empty());
  EXPECT_EQ(c.refused_relocations(), 1u);
  EXPECT_EQ(c.bar2(), vmm_abi::kApertureBase);
  EXPECT_EQ(c.read(pci::BAR2, 4) & ~0xFu, static_cast<uint32_t>(vmm_abi::kApertureBase));
}

TEST(VirtualConfig, TheHypervisorMayRefuseAMove) {
  Moves m;
  m.allow = false;
  auto c = make(m);
  c.write(pci::COMMAND, 2, pci::kCmdMem);
  c.write(pci::BAR0, 4, 0xD0000000);
  EXPECT_EQ(m.log.size(), 1u);
  EXPECT_EQ(c.bar0(), vmm_abi::kBar0Base);
  EXPECT_EQ(c.refused_relocations(), 1u);
}

}  // namespace
}  // namespace gvt
