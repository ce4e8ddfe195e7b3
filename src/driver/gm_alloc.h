// Graphics-memory range allocator: first fit over a sorted list of free
// ranges, with ranges that can be reserved up front (ballooning reserves every
// range outside the vGPU's own). Fixed capacity: no heap.
#pragma once

#include <cstdint>

#include "driver/error.h"

namespace drv {

class GmAllocator {
 public:
  static constexpr int kMaxRanges = 256;

  // Manages [start, end).
  void init(uint64_t start, uint64_t end);
  // Removes [start, start + size) from the free space for good.
  Result<void> reserve(uint64_t start, uint64_t size);
  // A free range of `size` bytes aligned to `align`, inside [lo, hi).
  Result<uint64_t> alloc(uint64_t size, uint64_t align, uint64_t lo, uint64_t hi);
  void free(uint64_t start, uint64_t size);
  uint64_t free_bytes() const;
  int ranges() const { return n_; }

 private:
  struct Range {
    uint64_t start, end;
  };
  Result<void> carve(int i, uint64_t start, uint64_t end);
  Range r_[kMaxRanges];
  int n_ = 0;
};

}  // namespace drv
