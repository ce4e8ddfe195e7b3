// The mediator's device (upstream gvt.c and the lifecycle half of vgpu.c):
// the host port, the graphics-memory partition, a global scratch page, the
// vGPUs and their vblank timer. A vGPU is created on a VM through the MPT
// (BAR0 trapped, the aperture slice a memslot, BAR2 outside it trapped and
// refused) and destroyed in the brief's order.
#pragma once

#include <array>
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <tl/expected.hpp>

#include "driver/device.h"
#include "gvt/aperture_gm.h"
#include "gvt/vgpu.h"
#include "gvt/vgpu_types.h"
#include "hv/mpt.h"

namespace gvt {

struct VgpuParams {
  const VgpuType* type = nullptr;  // nullptr: the default type
  hv::Mpt* mpt = nullptr;
  uint64_t ram_size = 0;
  uint64_t bar0 = 0, bar2 = 0;  // where the VM's firmware placed the BARs
  // The VM's second-stage domain (GPA->HPA) on the GPU, for its PPGTT
  // contexts; 0: no submission (ELSP refused).
  uint32_t domain = 0;
  bool scan_nonpriv = false;     // also scan PPGTT batches (debug)
  std::FILE* trace = nullptr;    // per-vGPU command trace (debug)
};

// The host's own slice, as the host driver's `own` ranges (drv::Device::init).
drv::PvInfo host_ranges();

class Gvt final : private SubmitPort {
 public:
  // `host` is the host's driver, initialised with host_ranges(). With
  // `vblank_timer` a thread gives every vGPU a vblank at 60 Hz; tests call
  // vblank() instead.
  static tl::expected<std::unique_ptr<Gvt>, std::string> create(drv::Device& host, bool vblank_timer);
  ~Gvt();
  Gvt(const Gvt&) = delete;
  Gvt& operator=(const Gvt&) = delete;

  // One sentence when the type does not fit or the VM refuses the mappings.
  tl::expected<Vgpu*, std::string> create_vgpu(const VgpuParams& p);
  // Drain, point the slice at the global scratch page, flush, then free and
  // zero the vGPU's pages. The VM's RAM is its owner's to zero and free
  // afterwards: nothing on the GPU reaches it any more.
  void destroy_vgpu(Vgpu* v);

  void vblank();  // one vblank on every vGPU
  // Longest a workload may run before its vGPU is declared hung.
  static constexpr uint64_t kDrainTimeoutNs = 2'000'000'000;
  GmResources free() const;
  drv::Device& host() { return host_; }
  uint64_t scratch_hpa() const { return scratch_.phys; }

 private:
  struct Instance {
    std::unique_ptr<Vgpu> vgpu;
    hv::Mpt* mpt;
    drv::Pages scratch;
    uint64_t bar0, bar2;
  };
  explicit Gvt(drv::Device& host) : host_(host) {}
  // ---- SubmitPort ----
  tl::expected<drv::Bo, std::string> alloc_shadow(uint64_t bytes) override;
  void free_shadow(drv::Bo& bo) override;
  uint32_t new_host_ctx_id() override { return ++host_ctx_ids_; }
  void queue(std::unique_ptr<Workload> w) override;
  // One thread per engine waits for its completions: workloads run one at a
  // time, FIFO across vGPUs.
  void dispatch_main(int e);
  void start_next_locked(int e);  // with qmu_
  bool wait_for_gpu(int e);
  void drain(Vgpu* v);
  bool map_bar(Instance& in, int bar, uint64_t base);
  void unmap_bar(Instance& in, int bar, uint64_t base);
  // Every entry of the slice on the global scratch page, its fences off, flushed.
  void scratch_slice(const GmSlice& s);
  void timer_main();

  drv::Device& host_;
  drv::Pages scratch_;
  mutable std::mutex mu_;  // instances_ and the partition
  GmPartition partition_;
  std::vector<std::unique_ptr<Instance>> instances_;
  std::atomic<bool> stop_{false};
  std::thread timer_;

  std::mutex host_mu_;  // the host driver's allocator and execlist state
  std::atomic<uint32_t> host_ctx_ids_{0x10000};  // above the host's own context ids
  std::mutex qmu_;
  std::condition_variable qcv_;
  std::array<std::deque<std::unique_ptr<Workload>>, gen8::kNumEngines> queue_;
  std::array<std::unique_ptr<Workload>, gen8::kNumEngines> active_;  // on the engine
  std::array<Vgpu*, gen8::kNumEngines> completing_{};  // whose completion is being delivered
  std::array<std::thread, gen8::kNumEngines> dispatch_;
};

}  // namespace gvt
