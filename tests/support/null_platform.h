// A driver platform with no GPU behind it: every call does nothing. Tests
// derive from it and override only what they observe (MMIO, mostly).
#pragma once

#include "driver/platform.h"

namespace test_support {

class NullPlatform : public drv::Platform {
 public:
  uint32_t cfg_read32(uint32_t) override { return 0; }
  void cfg_write32(uint32_t, uint32_t) override {}
  uint32_t mmio_read32(uint32_t) override { return 0; }
  void mmio_write32(uint32_t, uint32_t) override {}
  void mmio_write64(uint32_t, uint64_t) override {}
  bool alloc_pages(uint64_t, bool, drv::Pages*) override { return false; }
  void free_pages(const drv::Pages&) override {}
  void* phys_to_cpu(uint64_t) override { return nullptr; }
  uint8_t* aperture() override { return nullptr; }
  uint64_t now_ns() override { return 0; }
  void wait(const volatile uint32_t*, uint32_t, uint64_t) override {}
  bool take_interrupt() override { return false; }
  uint64_t msi_address() override { return 0; }
  uint32_t msi_data() override { return 0; }
  void log(const char*) override {}
};

}  // namespace test_support
