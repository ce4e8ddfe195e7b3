// Everything paravirtual in the driver lives in pv.cpp, gated by the PV info
// page at 0x78000: on bare hardware the page is absent and nothing here runs.
#pragma once

#include <cstdint>

#include "driver/error.h"
#include "driver/platform.h"

namespace drv {

class GmAllocator;

struct PvInfo {
  bool present = false;
  uint32_t vgt_id = 0;
  uint32_t caps = 0;
  uint64_t mappable_base = 0, mappable_size = 0;
  uint64_t hidden_base = 0, hidden_size = 0;
  uint32_t fences = 0;
};

// Reads the PV info page; `present` is false on bare hardware.
PvInfo pv_detect(Platform& p);
// Address-space ballooning: reserves every GM range outside the vGPU's own
// two ranges, so guest GM addresses equal host GM addresses. Refuses ranges
// that do not fit the GPU's layout (a hostile or broken host).
Result<void> pv_balloon(const PvInfo& info, GmAllocator& gm);
// Tells the host a 4-level PPGTT rooted at `pml4` is created or destroyed, as
// upstream i915 does, so a host that shadows page tables can start before
// the first submission and free on destroy. Nothing on bare hardware or when
// the PV page lacks the full-PPGTT capability.
void pv_notify_ppgtt(Platform& p, const PvInfo& info, uint64_t pml4, bool create);

}  // namespace drv
