// The host build's platform layer: the driver runs natively on the GPU model.
// MMIO goes straight to the model, pages come from host physical memory, and
// the model's MSIs wake the driver's waits.
#pragma once

#include <atomic>
#include <condition_variable>
#include <mutex>

#include "driver/platform.h"
#include "hw/gpu.h"

namespace host {

class HwPlatform final : public drv::Platform {
 public:
  explicit HwPlatform(hw::Gpu& gpu);
  ~HwPlatform();

  uint32_t cfg_read32(uint32_t off) override { return gpu_.cfg_read(off, 4); }
  void cfg_write32(uint32_t off, uint32_t v) override { gpu_.cfg_write(off, 4, v); }
  uint32_t mmio_read32(uint32_t off) override { return static_cast<uint32_t>(gpu_.mmio_read(off, 4)); }
  void mmio_write32(uint32_t off, uint32_t v) override { gpu_.mmio_write(off, 4, v); }
  void mmio_write64(uint32_t off, uint64_t v) override { gpu_.mmio_write(off, 8, v); }
  bool alloc_pages(uint64_t count, bool page_table, drv::Pages* out) override;
  void free_pages(const drv::Pages& p) override;
  void* phys_to_cpu(uint64_t phys) override { return gpu_.memory().base() + phys; }
  uint8_t* aperture() override { return gpu_.aperture(); }
  uint64_t now_ns() override;
  void wait(const volatile uint32_t* addr, uint32_t expected, uint64_t deadline_ns) override;
  bool take_interrupt() override { return irq_.exchange(false); }
  uint64_t msi_address() override { return 0xFEE00000u; }
  uint32_t msi_data() override { return 0x41; }
  void log(const char* msg) override;

  uint64_t pages_in_use() const { return pages_in_use_.load(); }

 private:
  hw::Gpu& gpu_;
  std::atomic<bool> irq_{false};
  std::atomic<uint64_t> pages_in_use_{0};
  std::mutex mu_;
  std::condition_variable cv_;
};

}  // namespace host
