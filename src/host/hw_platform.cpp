#include "host/hw_platform.h"

#include <spdlog/spdlog.h>

#include <chrono>
#include <thread>

namespace host {

HwPlatform::HwPlatform(hw::Gpu& gpu) : gpu_(gpu) {
  gpu_.set_msi_handler([this](uint64_t, uint32_t) {
    {
      std::lock_guard lk(mu_);
      irq_ = true;
    }
    cv_.notify_all();
  });
}

HwPlatform::~HwPlatform() { gpu_.set_msi_handler(nullptr); }

bool HwPlatform::alloc_pages(uint64_t count, bool, drv::Pages* out) {
  auto hpa = gpu_.memory().alloc_pages(count);
  if (!hpa) return false;
  *out = drv::Pages{*hpa, gpu_.memory().base() + *hpa, count};
  pages_in_use_ += count;
  return true;
}

void HwPlatform::free_pages(const drv::Pages& p) {
  gpu_.memory().free_pages(p.phys, p.count);
  pages_in_use_ -= p.count;
}

uint64_t HwPlatform::now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// The GPU writes memory without an interrupt, so poll: spin briefly (the
// round trip of a tiny batch is a few microseconds), then sleep in short
// steps. An MSI wakes the sleep at once.
void HwPlatform::wait(const volatile uint32_t* addr, uint32_t expected, uint64_t deadline_ns) {
  for (int i = 0; i < 2000; ++i) {
    if (drv::polled(*addr) != expected || irq_.load(std::memory_order_relaxed) || now_ns() >= deadline_ns) return;
    std::this_thread::yield();
  }
  std::unique_lock lk(mu_);
  while (drv::polled(*addr) == expected && !irq_ && now_ns() < deadline_ns)
    cv_.wait_for(lk, std::chrono::microseconds(50));
}

void HwPlatform::log(const char* msg) { spdlog::info("driver: {}", msg); }

}  // namespace host
