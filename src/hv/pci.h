// PCI configuration space through ECAM (bus 0): the guest's config accesses
// are MMIO that this device routes to the function at each devfn.
#pragma once

#include <array>
#include <cstdint>

#include "hv/bus.h"

namespace hv {

class PciFunction {
 public:
  virtual ~PciFunction() = default;
  virtual uint32_t cfg_read(uint32_t off, unsigned size) = 0;
  virtual void cfg_write(uint32_t off, unsigned size, uint32_t v) = 0;
};

class Ecam final : public BusDevice {
 public:
  bool attach(uint32_t devfn, PciFunction* f);
  void read(uint64_t offset, uint8_t* data, uint32_t len) override;
  void write(uint64_t offset, const uint8_t* data, uint32_t len) override;

 private:
  std::array<PciFunction*, 256> fns_{};
};

}  // namespace hv
