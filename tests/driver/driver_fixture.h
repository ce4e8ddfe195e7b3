// The host build of the driver on the GPU model.
#pragma once

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <thread>

#include "driver/context.h"
#include "driver/device.h"
#include "host/hw_platform.h"
#include "hw/gpu.h"

namespace drv::test {

class DriverTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto g = hw::Gpu::create(hw::GpuConfig{512ull << 20, false});
    ASSERT_TRUE(g) << g.error();
    gpu = std::move(*g);
    platform = std::make_unique<host::HwPlatform>(*gpu);
    auto r = dev.init(*platform);
    ASSERT_TRUE(r) << error_name(r.error());
  }
  void TearDown() override {
    dev.fini();
    platform.reset();
    gpu.reset();
  }
  std::unique_ptr<hw::Gpu> gpu;
  std::unique_ptr<host::HwPlatform> platform;
  Device dev;
};

// Runs Gpu::vblank() every 2 ms on a helper thread while in scope.
class VblankPump {
 public:
  explicit VblankPump(hw::Gpu& gpu)
      : thread_([this, &gpu] {
          while (!stop_.load()) {
            gpu.vblank();
            std::this_thread::sleep_for(std::chrono::milliseconds(2));
          }
        }) {}
  ~VblankPump() {
    stop_ = true;
    thread_.join();
  }

 private:
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace drv::test
