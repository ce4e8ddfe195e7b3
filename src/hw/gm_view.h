// A GM range resolved once to host pointers, page by page, so the render
// engine's worker threads read and write it without walking page tables (the
// walker's TLB belongs to the engine thread). Resolving faults exactly where
// the engine's own access would.
#pragma once

#include <cstdint>
#include <cstring>
#include <vector>

#include <tl/expected.hpp>

#include "hw/gtt_walk.h"
#include "hw/host_mem.h"

namespace hw {

class GmView {
 public:
  GmView() = default;
  static tl::expected<GmView, WalkFault> map(AddressSpace& as, HostMemory& mem, uint64_t addr,
                                             uint64_t bytes);

  uint64_t addr() const { return addr_; }
  uint64_t size() const { return size_; }
  // The host address of byte `off`; 4-byte items at 4-byte aligned offsets
  // never straddle a page (every 3D address is dword aligned).
  uint8_t* at(uint64_t off) const {
    const uint64_t a = (addr_ & 0xFFF) + off;
    return pages_[a >> 12] + (a & 0xFFF);
  }
  uint32_t dword(uint64_t off) const {
    uint32_t v;
    std::memcpy(&v, at(off), 4);
    return v;
  }

 private:
  uint64_t addr_ = 0, size_ = 0;
  std::vector<uint8_t*> pages_;
};

}  // namespace hw
