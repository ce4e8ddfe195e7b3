// A soft VM: a VM without KVM, for hosts that have none and for the
// mediator's tests. Its RAM is lent host memory (GPA 0 = HPA ram_hpa), its
// hypervisor a FakeMpt, its DMA confined by its own second-stage domain, and
// its vGPU the same one a KVM VM gets. The guest's driver runs on a host
// thread over VgpuGuest: every BAR0 access still goes through the MPT's trap
// to the vGPU's handlers (counted as traps), but costs no VM exit. Its CPU
// traps nothing by itself: the driver's page-table stores go through
// VgpuGuest::store_table_entry to FakeMpt::guest_write, which calls the
// write-protection callbacks, so shadow PPGTT mode works here too. A vGPU
// that enters failsafe stops its soft VM as it stops a KVM VM
// (VgpuGuest::stop): the thread cannot be halted, but it sleeps out its
// driver's timeouts instead of polling beside the co-runners.
#pragma once

#include <cstdio>
#include <memory>
#include <string>

#include <tl/expected.hpp>

#include "cli/vgpu_guest.h"
#include "gvt/gvt.h"
#include "hv/fake_mpt.h"
#include "hw/gpu.h"

namespace cli {

class SoftVm {
 public:
  static constexpr uint64_t kDefaultRam = 64ull << 20;

  // The vGPU's BARs sit where the VMM's firmware puts them in a KVM VM.
  static tl::expected<std::unique_ptr<SoftVm>, std::string> create(hw::Gpu& gpu, gvt::Gvt& gvt,
                                                                  uint64_t ram = kDefaultRam,
                                                                  const gvt::VgpuType* type = nullptr,
                                                                  bool scan_nonpriv = false,
                                                                  std::FILE* trace = nullptr,
                                                                  bool ppgtt_shadow = false,
                                                                  std::FILE* ppgtt_trace = nullptr);
  ~SoftVm();
  SoftVm(const SoftVm&) = delete;
  SoftVm& operator=(const SoftVm&) = delete;

  // Drains the vGPU and destroys it: from here on nothing but the caller
  // touches the VM's RAM.
  void destroy_vgpu();

  hv::FakeMpt& mpt() { return *mpt_; }
  gvt::Vgpu& vgpu() { return *vgpu_; }
  VgpuGuest& guest() { return *guest_; }
  uint64_t ram_hpa() const { return ram_hpa_; }
  uint64_t ram_size() const { return ram_size_; }

 private:
  SoftVm(hw::Gpu& gpu, gvt::Gvt& gvt) : gpu_(gpu), gvt_(gvt) {}
  hw::Gpu& gpu_;
  gvt::Gvt& gvt_;
  uint64_t ram_hpa_ = 0, ram_size_ = 0;
  uint32_t domain_ = 0;
  std::unique_ptr<hv::FakeMpt> mpt_;
  gvt::Vgpu* vgpu_ = nullptr;
  std::unique_ptr<VgpuGuest> guest_;
};

}  // namespace cli
