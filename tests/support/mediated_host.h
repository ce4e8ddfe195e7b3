// gVirt in one process, without KVM: the GPU model, the host's driver on it
// (ballooned into the host's slice), the mediator with submission, and VMs
// played by FakeMpts whose RAM is lent host memory, each with its vGPU at
// 00:02.0 and a guest platform (VgpuGuest) the real driver runs on. The
// sequence is cli::MediatedHost::add_vm's, less the KVM VM.
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
#include "support/vgpu_guest.h"

namespace test_support {

class MediatedHost {
 public:
  static constexpr uint64_t kHostMem = 3ull << 30;
  // Everything the host hands out (its own pages, shadows, the VMs' RAM)
  // lies at or above this HPA: no guest value (a GPA below the VM's RAM
  // size, a GM address of one of the first vGPUs, a ring dword) can be
  // mistaken for a host physical address.
  static constexpr uint64_t kHostPagesFrom = 2ull << 30;

  static tl::expected<std::unique_ptr<MediatedHost>, std::string> create(const gvt::SchedParams& sched = {}) {
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

// One VM: RAM from host memory (GPA 0 = HPA ram_hpa), its second-stage domain
// on the GPU, its FakeMpt, its vGPU, and the guest platform on top.
class GuestVm {
 public:
  static constexpr uint64_t kDefaultRam = 64ull << 20;

  static tl::expected<std::unique_ptr<GuestVm>, std::string> create(MediatedHost& h, uint64_t ram = kDefaultRam,
                                                                   const gvt::VgpuType* type = nullptr) {
    std::unique_ptr<GuestVm> vm(new GuestVm(h));
    auto hpa = h.gpu().memory().alloc_pages(ram / gen8::kPageSize);
    if (!hpa) return tl::unexpected(hpa.error());
    vm->ram_hpa_ = *hpa;
    vm->ram_size_ = ram;
    vm->mpt_ = std::make_unique<hv::FakeMpt>(ram, 4096, *hpa, h.gpu().memory().base() + *hpa);
    auto dom = std::make_shared<hw::Domain>(ram);
    if (!dom->map(0, *hpa, ram)) return tl::unexpected(std::string("cannot map the VM's domain"));
    vm->domain_ = h.gpu().add_domain(dom);
    auto v = h.gvt().create_vgpu(
        {type, vm->mpt_.get(), ram, vmm_abi::kBar0Base, vmm_abi::kApertureBase, vm->domain_});
    if (!v) return tl::unexpected(v.error());
    vm->vgpu_ = *v;
    vm->guest_ = std::make_unique<VgpuGuest>(*vm->mpt_, *vm->vgpu_);
    return vm;
  }
  ~GuestVm() {
    destroy_vgpu();
    if (domain_) h_.gpu().remove_domain(domain_);
    if (ram_size_) h_.gpu().memory().free_pages(ram_hpa_, ram_size_ / gen8::kPageSize);
  }

  // Drains the vGPU and destroys it: from here on nothing but the test
  // touches the VM's RAM.
  void destroy_vgpu() {
    if (vgpu_) h_.gvt().destroy_vgpu(vgpu_);
    vgpu_ = nullptr;
  }

  hv::FakeMpt& mpt() { return *mpt_; }
  gvt::Vgpu& vgpu() { return *vgpu_; }
  VgpuGuest& guest() { return *guest_; }
  uint64_t ram_hpa() const { return ram_hpa_; }
  uint64_t ram_size() const { return ram_size_; }

 private:
  explicit GuestVm(MediatedHost& h) : h_(h) {}
  MediatedHost& h_;
  uint64_t ram_hpa_ = 0, ram_size_ = 0;
  uint32_t domain_ = 0;
  std::unique_ptr<hv::FakeMpt> mpt_;
  gvt::Vgpu* vgpu_ = nullptr;
  std::unique_ptr<VgpuGuest> guest_;
};

}  // namespace test_support
