// A vGPU's virtual register file (upstream's vreg): every register of the
// shared table, starting at the golden power-on state, with the table's write
// policy (masked writes, write-1-to-clear, read-only bits) applied to guest
// writes. Offsets absent from the table are logged, counted and ignored.
// Registers with side effects get their handlers in the vGPU device model;
// this is the default store beneath them.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/gen8/reg_file.h"

namespace gvt {

struct RegDiff {
  std::string name;
  uint32_t offset;
  uint32_t golden, value;
};

class VirtualRegs {
 public:
  uint32_t read(uint32_t offset);
  void write(uint32_t offset, uint32_t value);
  // Direct access for handlers (no policy, no counting).
  uint32_t get(uint32_t offset) const { return file_.get(offset); }
  void set(uint32_t offset, uint32_t value) { file_.set(offset, value); }
  void reset() { file_.reset(); }
  template <class Pred>
  void reset_if(Pred pred) {
    file_.reset_if(pred);
  }
  // Every register whose value differs from the golden state (debug aid).
  std::vector<RegDiff> diff_golden() const;
  uint64_t unknown_accesses() const { return unknown_; }
  // The display model keeps its plain registers here too.
  gen8::RegFile& file() { return file_; }

 private:
  gen8::RegFile file_;
  uint64_t unknown_ = 0;
};

}  // namespace gvt
