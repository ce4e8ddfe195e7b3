// The mediator's device (upstream gvt.c and the lifecycle half of vgpu.c):
// the host port, the graphics-memory partition, a global scratch page, the
// vGPUs and their vblank timer. A vGPU is created on a VM through the MPT
// (BAR0 trapped, the aperture slice a memslot, BAR2 outside it trapped and
// refused) and destroyed in the brief's order.
#pragma once

#include <atomic>
#include <cstdint>
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
};

// The host's own slice, as the host driver's `own` ranges (drv::Device::init).
drv::PvInfo host_ranges();

class Gvt {
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
};

}  // namespace gvt
