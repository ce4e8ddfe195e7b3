// A full 4-level, 48-bit PPGTT. Table pages come zeroed from the platform's
// page-table pool before they are linked in, and every entry is written with
// one 8-byte store, so a VMM that write-protects the tables traps once per
// entry.
#pragma once

#include <cstdint>

#include "driver/error.h"
#include "driver/platform.h"

namespace drv {

class Ppgtt {
 public:
  Result<void> init(Platform& p);
  void destroy();
  // Maps [va, va + bytes) onto physically contiguous pages at `phys`.
  Result<void> map(uint64_t va, uint64_t phys, uint64_t bytes);
  void unmap(uint64_t va, uint64_t bytes);
  uint64_t root() const { return pml4_.phys; }
  int table_pages() const { return n_tables_; }

 private:
  static constexpr int kMaxTables = 1024;
  uint64_t* table(uint64_t phys) { return static_cast<uint64_t*>(p_->phys_to_cpu(phys)); }
  Result<uint64_t*> leaf_table(uint64_t va, bool create);

  Platform* p_ = nullptr;
  Pages pml4_;
  Pages tables_[kMaxTables];
  int n_tables_ = 0;
};

}  // namespace drv
