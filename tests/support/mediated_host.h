// gVirt in one process, without KVM: the GPU model, the host's driver on it
// (ballooned into the host's slice), the mediator with submission, and VMs
// played by soft VMs (cli::SoftVm: FakeMpts whose RAM is lent host memory,
// each with its vGPU at 00:02.0 and a guest platform the real driver runs
// on).
#pragma once

#include <memory>
#include <string>

#include <tl/expected.hpp>

#include "common/gen8/layout.h"
#include "common/vmm_abi.h"
#include "driver/device.h"
#include "gvt/gvt.h"
#include "host/hw_platform.h"
#include "hv/fake_mpt.h"
#include "hw/domain.h"
#include "hw/gpu.h"
#include "cli/soft_vm.h"

namespace test_support {

class MediatedHost {
 public:
  static constexpr uint64_t kHostMem = 3ull << 30;
  // Everything the host hands out (its own pages, shadows, the VMs' RAM)
  // lies at or above this HPA: no guest value (a GPA below the VM's RAM
  // size, a GM address of one of the first vGPUs, a ring dword) can be
  // mistaken for a host physical address.
  static constexpr uint64_t kHostPagesFrom = 2ull << 30;

  // Tests hold contexts on purpose, for as long as a sanitizer build on a
  // loaded machine needs: only tests of the drain timeout set a short one.
  static constexpr gvt::SchedParams kTestSched{1'000'000, 100'000'000, 60'000'000'000};

  static tl::expected<std::unique_ptr<MediatedHost>, std::string> create(const gvt::SchedParams& sched = kTestSched) {
    std::unique_ptr<MediatedHost> h(new MediatedHost());
    auto g = hw::Gpu::create(hw::GpuConfig{kHostMem, false});
    if (!g) return tl::unexpected(g.error());
    h->gpu_ = std::move(*g);
    // Page 0 is never handed out: the pad is [1 page, kHostPagesFrom).
    auto pad = h->gpu_->memory().alloc_pages(kHostPagesFrom / gen8::kPageSize - 1);
    if (!pad || *pad != gen8::kPageSize) return tl::unexpected(std::string("cannot reserve the low host memory"));
    h->platform_ = std::make_unique<host::HwPlatform>(*h->gpu_);
    const drv::PvInfo own = gvt::host_ranges();
    if (auto r = h->host_.init(*h->platform_, &own); !r)
      return tl::unexpected(std::string("host driver: ") + drv::error_name(r.error()));
    h->initialised_ = true;
    // Async flips only: no vblank timer, so nothing runs that a test did not start.
    auto m = gvt::Gvt::create(h->host_, false, sched);
    if (!m) return tl::unexpected(m.error());
    h->gvt_ = std::move(*m);
    return h;
  }
  ~MediatedHost() {
    gvt_.reset();  // destroys any vGPU left
    if (initialised_) host_.fini();
  }

  hw::Gpu& gpu() { return *gpu_; }
  drv::Device& host() { return host_; }
  host::HwPlatform& platform() { return *platform_; }
  gvt::Gvt& gvt() { return *gvt_; }

 private:
  MediatedHost() = default;
  std::unique_ptr<hw::Gpu> gpu_;
  std::unique_ptr<host::HwPlatform> platform_;
  drv::Device host_;
  bool initialised_ = false;
  std::unique_ptr<gvt::Gvt> gvt_;
};

// One VM: RAM from host memory, its second-stage domain, its FakeMpt, its
// vGPU, and the guest platform on top.
using GuestVm = cli::SoftVm;
using cli::VgpuGuest;

}  // namespace test_support
