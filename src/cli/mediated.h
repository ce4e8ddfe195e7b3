// `gvirt run --vm ...` without --passthrough: every VM on its own vGPU, all
// sharing the one physical GPU through the mediator (src/gvt), time-shared by
// its scheduler. The host's driver owns the physical GPU and its own GM
// slice; the mediator reaches the GPU only through it. The host's own
// workload (--host-workload) is one more tenant. VMs are KVM VMs, or soft
// VMs (--vmm soft) where there is no KVM.
#pragma once

#include <memory>
#include <thread>
#include <vector>

#include <tl/expected.hpp>

#include "cli/guest_run.h"
#include "cli/native.h"
#include "cli/passthrough.h"
#include "cli/soft_vm.h"
#include "cli/vm_spec.h"
#include "driver/device.h"
#include "gvt/gvt.h"
#include "gvt/host_tenant.h"
#include "host/hw_platform.h"
#include "hw/gpu.h"

namespace cli {

// The host of a mediated run: the physical GPU, the host's driver, the
// mediator and the VMs on their vGPUs. VMs can be added and destroyed while
// others run.
class MediatedHost {
 public:
  // `host_mem` covers every VM's RAM and the host's own pages.
  static tl::expected<std::unique_ptr<MediatedHost>, std::string> create(uint64_t host_mem,
                                                                         const VmRunOptions& opt);
  ~MediatedHost();

  // Creates a VM (RAM, image) and its vGPU; one sentence when it cannot.
  tl::expected<size_t, std::string> add_vm(const VmSpec& spec);
  void start(size_t i);
  // Waits for VM i and collects its result.
  RunResult wait(size_t i);
  // Reboots VM i mid-run while the others run (`virsh reset`): its vGPU is
  // reset and its work taken off the GPU, then its RAM is zeroed and the
  // guest boots again, its driver loading and ballooning afresh. Its result
  // is the new boot's. A KVM VM only: a soft VM's CPU is a host thread,
  // which cannot be reset.
  tl::expected<void, std::string> reboot(size_t i);
  // Stops VM i, destroys its vGPU (drain, scratch, flush, free), then zeroes
  // and frees its RAM.
  void destroy(size_t i);
  // The host's own workload as a scheduler tenant, on its own thread.
  tl::expected<void, std::string> start_host(const VmSpec& spec);
  RunResult wait_host();
  // The scheduler's parameters and what it measured over the whole run.
  nlohmann::json scheduler_json() const;

  hv::Vm& vm(size_t i) { return *guests_[i]->vm; }
  gvt::Vgpu& vgpu(size_t i) { return *guests_[i]->vgpu; }
  const drv::Pages& ram(size_t i) const { return guests_[i]->ram; }
  hw::Gpu& gpu() { return *gpu_; }
  gvt::Gvt& mediator() { return *gvt_; }

 private:
  struct Guest {
    VmSpec spec;
    const gvt::VgpuType* type = nullptr;
    drv::Pages ram;
    std::unique_ptr<hv::Vm> vm;
    gvt::Vgpu* vgpu = nullptr;
    uint32_t domain = 0;  // the VM's second-stage domain on the GPU
    std::FILE* trace = nullptr;
    std::FILE* ppgtt_trace = nullptr;
    FrameWindow win;
    gvt::Traps traps0, traps1;  // at the first frame and at the last
    std::unique_ptr<SoftVm> soft;  // instead of `vm`
    std::thread thread;  // a soft VM's CPU
    RunResult soft_result;
  };
  struct HostRun {
    VmSpec spec;
    std::unique_ptr<gvt::HostTenant> tenant;
    drv::Device dev;
    bool initialised = false;
    std::thread thread;
    RunResult result;
  };
  void run_soft(Guest& gu);
  // What the scheduler and the GPU measured for one tenant.
  nlohmann::json sched_json(const gvt::SchedClient& c, const std::vector<uint32_t>& contexts) const;
  MediatedHost() = default;

  VmRunOptions opt_;
  std::vector<uint8_t> elf_;
  std::unique_ptr<hw::Gpu> gpu_;
  std::unique_ptr<host::HwPlatform> platform_;
  drv::Device host_;
  std::unique_ptr<gvt::Gvt> gvt_;
  std::vector<std::unique_ptr<Guest>> guests_;
  std::unique_ptr<HostRun> host_run_;
};

struct MediatedRun {
  std::vector<RunResult> results;  // the VMs', then the host's own workload
  nlohmann::json scheduler;
};

// Runs every spec at once, each VM on its own vGPU, with the host's own
// workload beside them if `opt.host_workload` names one.
tl::expected<MediatedRun, std::string> run_mediated(const std::vector<VmSpec>& specs, const VmRunOptions& opt);

}  // namespace cli
