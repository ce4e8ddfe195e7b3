// The mediator on the real GPU model, through the host build of the driver,
// with the fake MPT playing the VM. Guest RAM is backed by real host pages
// (FakeMpt's host_base), so every HPA the mediator installs is one the model
// can reach and the aperture shows.
#pragma once

#include <gtest/gtest.h>

#include <memory>

#include "common/gen8/layout.h"
#include "gvt/gvt.h"
#include "host/hw_platform.h"
#include "hv/fake_mpt.h"
#include "hw/gpu.h"

namespace gvt {

class MediatorTest : public ::testing::Test {
 protected:
  static constexpr uint64_t kRam = 64ull << 20;

  void SetUp() override {
    auto g = hw::Gpu::create(hw::GpuConfig{1ull << 30, false});
    ASSERT_TRUE(g) << g.error();
    gpu = std::move(*g);
    plat = std::make_unique<host::HwPlatform>(*gpu);
    own = host_ranges();
    auto r = host.init(*plat, &own);
    ASSERT_TRUE(r) << drv::error_name(r.error());
    auto m = Gvt::create(host, /*vblank_timer=*/false);
    ASSERT_TRUE(m) << m.error();
    gvt = std::move(*m);
    auto hpa = gpu->memory().alloc_pages(kRam / gen8::kPageSize);
    ASSERT_TRUE(hpa) << hpa.error();
    ram_hpa = *hpa;
    // Guest RAM is those host pages: the CPU and the GPU see the same bytes.
    mpt = std::make_unique<hv::FakeMpt>(kRam, 4096, ram_hpa, gpu->memory().base() + ram_hpa);
  }
  void TearDown() override {
    gvt.reset();  // destroys every vGPU while its MPT still exists
    host.fini();
  }

  std::unique_ptr<hw::Gpu> gpu;
  std::unique_ptr<host::HwPlatform> plat;
  drv::PvInfo own;
  drv::Device host;
  uint64_t ram_hpa = 0;
  std::unique_ptr<hv::FakeMpt> mpt;
  std::unique_ptr<Gvt> gvt;
};

}  // namespace gvt
