#include "common/gen8/pci_config.h"

#include "common/gen8/layout.h"

namespace gen8 {

using namespace pci;

namespace {

inline constexpr uint32_t kBarMem64 = 0b100;
inline constexpr uint32_t kBarPrefetch = 0b1000;
inline constexpr uint32_t kBarTypeMask = 0xF;
inline constexpr uint16_t kStatusCapList = 1u << 4;
inline constexpr uint8_t kCapIdMsi = 0x05;

static_assert(kConfigSize == 256);
static_assert((kBar0Size & (kBar0Size - 1)) == 0 && kBar0Size >= 16);
static_assert((kApertureSize & (kApertureSize - 1)) == 0 && kApertureSize >= 16);

// Sizing works because address bits below the BAR size are not writable: a
// write of all ones reads back ~(size - 1) | type bits.
constexpr uint32_t bar_lo_mask(uint64_t size) {
  return static_cast<uint32_t>(~(size - 1)) & ~kBarTypeMask;
}
constexpr uint32_t bar_hi_mask(uint64_t size) { return static_cast<uint32_t>(~(size - 1) >> 32); }

// Writable bits of the dword at `off` (dword aligned); zero means read-only.
constexpr uint32_t writable_mask(uint32_t off) {
  switch (off) {
    case COMMAND:  // STATUS, the upper half, is read-only
      return kCmdMem | kCmdMaster;
    case BAR0:
      return bar_lo_mask(kBar0Size);
    case BAR0 + 4:
      return bar_hi_mask(kBar0Size);
    case BAR2:
      return bar_lo_mask(kApertureSize);
    case BAR2 + 4:
      return bar_hi_mask(kApertureSize);
    case MSI_CAP:  // control is the upper half; only the enable bit is ours to take
      return static_cast<uint32_t>(kMsiEnable) << 16;
    case MSI_ADDR_LO:
      return 0xFFFFFFFCu;
    case MSI_ADDR_HI:
      return 0xFFFFFFFFu;
    case MSI_DATA:
      return 0xFFFFu;
    default:
      return 0;
  }
}

static_assert(COMMAND % 4 == 0 && MSI_CTRL == MSI_CAP + 2 && MSI_DATA % 4 == 0);

constexpr bool valid_access(uint32_t off, unsigned size) {
  return (size == 1 || size == 2 || size == 4) && off < kConfigSize && (off & 3) + size <= 4;
}

// An invalid size reads a full dword of ones.
constexpr uint32_t size_mask(unsigned size) {
  return size == 1 ? 0xFFu : size == 2 ? 0xFFFFu : 0xFFFFFFFFu;
}

}  // namespace

PciConfig::PciConfig() {
  dwords_[VENDOR / 4] = kVendorIntel | static_cast<uint32_t>(kDeviceBdwGt2) << 16;
  dwords_[COMMAND / 4] = static_cast<uint32_t>(kStatusCapList) << 16;
  dwords_[REVISION / 4] = kRevision | kClassVga << 8;
  dwords_[BAR0 / 4] = kBarMem64;
  dwords_[BAR2 / 4] = kBarMem64 | kBarPrefetch;
  dwords_[CAP_PTR / 4] = MSI_CAP;
  dwords_[MSI_CAP / 4] = kCapIdMsi | static_cast<uint32_t>(kMsi64) << 16;
}

uint32_t PciConfig::read(uint32_t off, unsigned size) const {
  if (!valid_access(off, size)) return size_mask(size);
  return (dw(off & ~3u) >> (8 * (off & 3))) & size_mask(size);
}

void PciConfig::write(uint32_t off, unsigned size, uint32_t v) {
  if (!valid_access(off, size)) return;
  const uint32_t base = off & ~3u;
  const unsigned shift = 8 * (off & 3);
  // Bytes outside the access keep their value; then only writable bits move.
  const uint32_t bytes = size_mask(size) << shift;
  const uint32_t old = dw(base);
  const uint32_t merged = (old & ~bytes) | ((v << shift) & bytes);
  const uint32_t wm = writable_mask(base);
  dwords_[base / 4] = (old & ~wm) | (merged & wm);
}

uint64_t PciConfig::bar(uint32_t off) const {
  return (static_cast<uint64_t>(dw(off + 4)) << 32 | dw(off)) & ~uint64_t{kBarTypeMask};
}

uint64_t PciConfig::bar0() const { return bar(BAR0); }
uint64_t PciConfig::bar2() const { return bar(BAR2); }
bool PciConfig::mem_enabled() const { return dw(COMMAND) & kCmdMem; }
bool PciConfig::bus_master() const { return dw(COMMAND) & kCmdMaster; }
bool PciConfig::msi_enabled() const { return (dw(MSI_CAP) >> 16) & kMsiEnable; }
uint64_t PciConfig::msi_address() const {
  return static_cast<uint64_t>(dw(MSI_ADDR_HI)) << 32 | dw(MSI_ADDR_LO);
}
uint32_t PciConfig::msi_data() const { return dw(MSI_DATA) & 0xFFFFu; }

}  // namespace gen8
