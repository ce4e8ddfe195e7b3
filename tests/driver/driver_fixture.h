// The host build of the driver on the GPU model.
#pragma once

#include <gtest/gtest.h>

#include <memory>

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

}  // namespace drv::test
