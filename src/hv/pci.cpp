#include "hv/pci.h"

#include <cstring>

namespace hv {

bool Ecam::attach(uint32_t devfn, PciFunction* f) {
  if (devfn >= fns_.size() || fns_[devfn]) return false;
  fns_[devfn] = f;
  return true;
}

void Ecam::read(uint64_t offset, uint8_t* data, uint32_t len) {
  uint32_t devfn = (offset >> 12) & 0xFF, reg = offset & 0xFFF;
  uint32_t v = 0xFFFFFFFFu;  // no function: all ones, as on real buses
  if (fns_[devfn] && len <= 4 && reg < 256) v = fns_[devfn]->cfg_read(reg, len);
  std::memset(data, 0xFF, len);
  std::memcpy(data, &v, len < 4 ? len : 4);
}

void Ecam::write(uint64_t offset, const uint8_t* data, uint32_t len) {
  uint32_t devfn = (offset >> 12) & 0xFF, reg = offset & 0xFFF;
  if (!fns_[devfn] || len > 4 || reg >= 256) return;
  uint32_t v = 0;
  std::memcpy(&v, data, len);
  fns_[devfn]->cfg_write(reg, len, v);
}

}  // namespace hv
