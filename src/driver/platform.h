// The driver's platform layer: everything the driver needs from where it
// runs. The host build talks to the GPU model; the guest build talks to the
// VM's devices. Freestanding: the driver never includes host headers.
#pragma once

#include <cstdint>

namespace drv {

// A run of physically contiguous pages. `phys` is what the GPU is given: an
// HPA natively, a GPA inside a VM.
struct Pages {
  uint64_t phys = 0;
  void* cpu = nullptr;
  uint64_t count = 0;
};

// A word the GPU writes last and software polls (a seqno, a CSB write
// pointer): an acquire load, so what the GPU wrote before it is visible.
inline uint32_t polled(const volatile uint32_t& w) { return __atomic_load_n(&w, __ATOMIC_ACQUIRE); }

// A word software writes while the GPU may read it (a running context's
// RING_TAIL, re-read on a lite restore): a dword store is single-copy atomic
// on the hardware, and a release store says so to the memory model.
inline void published(volatile uint32_t& w, uint32_t v) { __atomic_store_n(&w, v, __ATOMIC_RELEASE); }

class Platform {
 public:
  virtual uint32_t cfg_read32(uint32_t off) = 0;
  virtual void cfg_write32(uint32_t off, uint32_t v) = 0;
  virtual uint32_t mmio_read32(uint32_t off) = 0;
  virtual void mmio_write32(uint32_t off, uint32_t v) = 0;
  virtual void mmio_write64(uint32_t off, uint64_t v) = 0;
  // Zeroed, physically contiguous pages. Page-table pages come from their
  // own pool (a VMM may write-protect them).
  virtual bool alloc_pages(uint64_t count, bool page_table, Pages* out) = 0;
  virtual void free_pages(const Pages& p) = 0;
  virtual void* phys_to_cpu(uint64_t phys) = 0;
  virtual uint8_t* aperture() = 0;  // BAR2
  virtual uint64_t now_ns() = 0;
  // Returns when *addr != expected, when an interrupt arrived since the last
  // return, or at the deadline (now_ns() clock).
  virtual void wait(const volatile uint32_t* addr, uint32_t expected, uint64_t deadline_ns) = 0;
  // True once for each batch of interrupts delivered since the last call.
  virtual bool take_interrupt() = 0;
  // Where the device's MSIs go.
  virtual uint64_t msi_address() = 0;
  virtual uint32_t msi_data() = 0;
  virtual void log(const char* msg) = 0;
  // One 8-byte store to a page-table page. A VMM that write-protects the
  // tables traps it as the CPU does it; a soft VM (no CPU traps) has to be
  // told of it here.
  virtual void store_table_entry(uint64_t* slot, uint64_t v) { __atomic_store_n(slot, v, __ATOMIC_RELEASE); }

 protected:
  ~Platform() = default;
};

}  // namespace drv
