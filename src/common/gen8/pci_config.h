// The GPU's 256-byte PCI configuration space (type 0 header + MSI capability):
// the physical GPU's (src/hw) and, with its own instance, each vGPU's.
// The guest owns it through config cycles, so every write goes through a
// per-dword writable mask: only COMMAND's memory/bus-master bits, the BAR
// address bits, and the MSI enable/address/data fields ever change. Accesses
// that are not 1, 2 or 4 bytes, or that cross a dword, read all ones and drop
// writes, as a host bridge does for a malformed cycle.
#pragma once

#include <array>
#include <cstdint>

namespace gen8 {

class PciConfig {
 public:
  PciConfig();

  // Little endian; an invalid access reads all ones of `size` bytes (a
  // dword's worth when the size itself is invalid).
  uint32_t read(uint32_t off, unsigned size) const;
  void write(uint32_t off, unsigned size, uint32_t v);

  // BAR base addresses with the type bits masked off.
  uint64_t bar0() const;
  uint64_t bar2() const;
  bool mem_enabled() const;
  bool bus_master() const;
  bool msi_enabled() const;
  uint64_t msi_address() const;
  uint32_t msi_data() const;

 private:
  uint32_t dw(uint32_t off) const { return dwords_[off / 4]; }
  uint64_t bar(uint32_t off) const;

  std::array<uint32_t, 64> dwords_{};
};

}  // namespace gen8
