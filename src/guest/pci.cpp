#include "guest/pci.h"

#include "guest/mmio.h"

namespace guest {

namespace {
uint64_t g_ecam = 0;
constexpr uint32_t kHeaderType = 0x0C;  // dword: cache line, latency, header type, BIST
constexpr uint32_t kBarIo = 1u << 0, kBarMem64 = 2u << 1, kBarTypeBits = 6u;
}  // namespace

void pci_init(uint64_t ecam_base) { g_ecam = ecam_base; }

uint32_t pci_cfg_read32(uint32_t devfn, uint32_t off) {
  return mmio_read32(g_ecam + (uint64_t{devfn & 0xFF} << 12) + (off & 0xFFC));
}

void pci_cfg_write32(uint32_t devfn, uint32_t off, uint32_t v) {
  mmio_write32(g_ecam + (uint64_t{devfn & 0xFF} << 12) + (off & 0xFFC), v);
}

uint64_t pci_bar(uint32_t devfn, uint32_t off) {
  uint32_t lo = pci_cfg_read32(devfn, off);
  if (lo & kBarIo) return 0;
  uint64_t addr = lo & ~0xFu;
  if ((lo & kBarTypeBits) == kBarMem64) addr |= uint64_t{pci_cfg_read32(devfn, off + 4)} << 32;
  return addr;
}

bool pci_find(uint16_t vendor, uint16_t device, PciDevice* out, uint32_t* functions_seen) {
  uint32_t seen = 0;
  bool found = false;
  for (uint32_t dev = 0; dev < 32; ++dev) {
    uint32_t nfn = 1;
    for (uint32_t fn = 0; fn < nfn; ++fn) {
      uint32_t devfn = dev << 3 | fn;
      uint32_t id = pci_cfg_read32(devfn, 0);
      if ((id & 0xFFFF) == 0xFFFF || (id & 0xFFFF) == 0) continue;
      ++seen;
      if (fn == 0 && (pci_cfg_read32(devfn, kHeaderType) >> 16) & 0x80) nfn = 8;
      if (!found && (id & 0xFFFF) == vendor && (id >> 16) == device) {
        found = true;
        out->devfn = devfn;
        out->vendor = static_cast<uint16_t>(id);
        out->device = static_cast<uint16_t>(id >> 16);
        out->bar0 = pci_bar(devfn, 0x10);
        out->bar2 = pci_bar(devfn, 0x18);
      }
    }
  }
  if (functions_seen) *functions_seen = seen;
  return found;
}

}  // namespace guest
