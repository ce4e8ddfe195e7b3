// Stored values of every register in the shared table (gen8::kRegs), at their
// power-on state. Offsets outside the table read 0 and drop writes: the
// unknown path is decided by the caller, which also counts it.
#pragma once

#include <array>
#include <cstdint>

#include "common/gen8/regs.h"

namespace hw {

class RegFile {
 public:
  RegFile() { reset(); }

  void reset() {
    for (size_t i = 0; i < gen8::kRegs.size(); ++i) vals_[i] = {gen8::kRegs[i].reset, gen8::kRegs[i].reset};
  }
  // Resets only the registers selected by `pred(const RegDesc&)`.
  template <class Pred>
  void reset_if(Pred pred) {
    for (size_t i = 0; i < gen8::kRegs.size(); ++i)
      if (pred(gen8::kRegs[i])) vals_[i] = {gen8::kRegs[i].reset, gen8::kRegs[i].reset};
  }

  uint32_t get(uint32_t offset) const {
    int i = gen8::find_reg(offset);
    return i < 0 ? 0 : vals_[i][(offset - gen8::kRegs[i].offset) / 4];
  }
  void set(uint32_t offset, uint32_t v) {
    int i = gen8::find_reg(offset);
    if (i >= 0) vals_[i][(offset - gen8::kRegs[i].offset) / 4] = v;
  }

 private:
  std::array<std::array<uint32_t, 2>, gen8::kNumRegs> vals_{};
};

}  // namespace hw
