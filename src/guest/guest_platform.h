// The driver's platform inside a gvirt VM (drv::Platform, see
// src/driver/platform.h): config space through ECAM at 00:02.0, MMIO through
// the BAR0 the PCI scan found, pages from the runtime's allocator (VA == GPA),
// time from the TSC, waits through the VMM's paravirtual WAIT, and MSIs at
// vector 0x40 counted by irq.S.
#pragma once

#include <cstdint>

#include "driver/platform.h"
#include "guest/pci.h"

namespace guest {

class GuestPlatform final : public drv::Platform {
 public:
  static constexpr uint64_t kMsiAddress = 0xFEE00000;  // LAPIC 0 (vmm_abi::kLapicBase)
  static constexpr uint32_t kMsiVector = 0x40;         // irq.S: msi_handler

  explicit GuestPlatform(const PciDevice& gpu);

  uint32_t cfg_read32(uint32_t off) override;
  void cfg_write32(uint32_t off, uint32_t v) override;
  uint32_t mmio_read32(uint32_t off) override;
  void mmio_write32(uint32_t off, uint32_t v) override;
  void mmio_write64(uint32_t off, uint64_t v) override;  // one 8-byte store, one exit
  bool alloc_pages(uint64_t count, bool page_table, drv::Pages* out) override;
  void free_pages(const drv::Pages& p) override;
  void* phys_to_cpu(uint64_t phys) override { return reinterpret_cast<void*>(phys); }
  uint8_t* aperture() override { return reinterpret_cast<uint8_t*>(gpu_.bar2); }
  uint64_t now_ns() override;
  void wait(const volatile uint32_t* addr, uint32_t expected, uint64_t deadline_ns) override;
  bool take_interrupt() override;
  uint64_t msi_address() override { return kMsiAddress; }
  uint32_t msi_data() override { return kMsiVector; }
  void log(const char* msg) override;

  uint64_t pages_in_use() const { return pages_in_use_; }

 private:
  PciDevice gpu_;
  uint32_t irq_seen_ = 0;  // g_irq_count at the last take_interrupt()
  uint64_t pages_in_use_ = 0;
};

}  // namespace guest
