// Volatile MMIO accessors. Each is exactly one plain `mov`, so the VMM's
// instruction decoder sees a simple load or store, and one access is one exit.
#pragma once

#include <cstdint>

namespace guest {

inline uint32_t mmio_read32(uint64_t addr) {
  uint32_t v;
  asm volatile("movl (%1), %0" : "=r"(v) : "r"(addr) : "memory");
  return v;
}

inline uint64_t mmio_read64(uint64_t addr) {
  uint64_t v;
  asm volatile("movq (%1), %0" : "=r"(v) : "r"(addr) : "memory");
  return v;
}

inline void mmio_write32(uint64_t addr, uint32_t v) {
  asm volatile("movl %0, (%1)" : : "r"(v), "r"(addr) : "memory");
}

inline void mmio_write64(uint64_t addr, uint64_t v) {
  asm volatile("movq %0, (%1)" : : "r"(v), "r"(addr) : "memory");
}

}  // namespace guest
