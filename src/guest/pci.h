// PCI configuration space through ECAM, bus 0 only (vmm_abi::kEcamBase):
// the function at devfn has its 4 KiB at ecam_base + (devfn << 12). Every
// access is an MMIO exit (~10 us), so the scan reads as little as it can.
#pragma once

#include <cstdint>

namespace guest {

struct PciDevice {
  uint32_t devfn = 0;  // (device << 3) | function
  uint16_t vendor = 0, device = 0;
  uint64_t bar0 = 0;  // memory BARs with the type bits masked off
  uint64_t bar2 = 0;
};

void pci_init(uint64_t ecam_base);
uint32_t pci_cfg_read32(uint32_t devfn, uint32_t off);
void pci_cfg_write32(uint32_t devfn, uint32_t off, uint32_t v);
// Address of the memory BAR at config offset `off` (0x10..0x24): 32- or
// 64-bit, type bits masked; 0 for an I/O BAR.
uint64_t pci_bar(uint32_t devfn, uint32_t off);
// Scans bus 0 (functions 1..7 only where function 0 is multi-function) for
// vendor:device. Fills *out (with BAR0 and BAR2) and returns true if found.
// `functions_seen`, if given, receives the number of functions present.
bool pci_find(uint16_t vendor, uint16_t device, PciDevice* out, uint32_t* functions_seen = nullptr);

}  // namespace guest
