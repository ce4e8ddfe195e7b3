// A vGPU's PCI configuration space (upstream cfg_space.c): the same model as
// the physical GPU's (identity, BAR0 of 16 MiB, BAR2 at the full aperture
// size so that guest GM offsets equal host ones, an MSI capability, no stolen
// memory), plus BAR relocation: once memory decode is on, a moved BAR moves
// the MMIO trap or the aperture memslot with it. A placement overlapping
// guest RAM is refused and the BAR keeps its old base.
#pragma once

#include <cstdint>
#include <functional>

#include "common/gen8/pci_config.h"

namespace gvt {

class VirtualConfig {
 public:
  // `relocate(bar, old_base, new_base)` moves the mapping; false refuses.
  using RelocateFn = std::function<bool(int bar, uint64_t old_base, uint64_t new_base)>;

  VirtualConfig(uint64_t ram_size, uint64_t bar0_base, uint64_t bar2_base, RelocateFn relocate);
  uint32_t read(uint32_t off, unsigned size) const { return cfg_.read(off, size); }
  void write(uint32_t off, unsigned size, uint32_t v);

  uint64_t bar0() const { return mapped_[0]; }
  uint64_t bar2() const { return mapped_[1]; }
  bool msi_enabled() const { return cfg_.msi_enabled(); }
  uint64_t msi_address() const { return cfg_.msi_address(); }
  uint32_t msi_data() const { return cfg_.msi_data(); }
  uint64_t refused_relocations() const { return refused_; }

 private:
  void set_bar(int i, uint64_t base);
  gen8::PciConfig cfg_;
  uint64_t ram_size_;
  RelocateFn relocate_;
  uint64_t mapped_[2];
  uint64_t refused_ = 0;
};

}  // namespace gvt
