// Stored values of every register in the shared table (kRegs), starting
// at their power-on ("golden") state: the GPU model's register file, and the
// virtual register file of every vGPU. Offsets outside the table read 0 and
// drop writes: the unknown path is decided by the caller, which counts it.
#pragma once

#include <array>
#include <cstdint>

#include "common/gen8/regs.h"

namespace gen8 {

class RegFile {
 public:
  RegFile() { reset(); }

  void reset() {
    for (size_t i = 0; i < kRegs.size(); ++i) vals_[i] = {kRegs[i].reset, kRegs[i].reset};
  }
  // Resets only the registers selected by `pred(const RegDesc&)`.
  template <class Pred>
  void reset_if(Pred pred) {
    for (size_t i = 0; i < kRegs.size(); ++i)
      if (pred(kRegs[i])) vals_[i] = {kRegs[i].reset, kRegs[i].reset};
  }

  uint32_t get(uint32_t offset) const {
    int i = find_reg(offset);
    return i < 0 ? 0 : vals_[i][(offset - kRegs[i].offset) / 4];
  }
  void set(uint32_t offset, uint32_t v) {
    int i = find_reg(offset);
    if (i >= 0) vals_[i][(offset - kRegs[i].offset) / 4] = v;
  }

 private:
  std::array<std::array<uint32_t, 2>, kNumRegs> vals_{};
};

}  // namespace gen8
