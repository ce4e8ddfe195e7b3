// Graphics-memory partitioning (upstream aperture_gm.c): each vGPU owns one
// slice of the aperture (low GM), one slice of the hidden GM and a run of
// fences, all the time, because the CPU and the GPU may be working for
// different VMs at once. The host's own slice comes first.
#pragma once

#include <cstdint>
#include <string>

#include <tl/expected.hpp>

#include "driver/gm_alloc.h"
#include "gvt/vgpu_types.h"

namespace gvt {

struct GmSlice {
  uint64_t low_base = 0, low_size = 0;
  uint64_t high_base = 0, high_size = 0;
  uint32_t fence_base = 0, fences = 0;
};

class GmPartition {
 public:
  GmPartition();
  const GmSlice& host() const { return host_; }
  // One sentence when the type does not fit.
  tl::expected<GmSlice, std::string> allocate(const VgpuType& t);
  void release(const GmSlice& s);
  GmResources free() const;

 private:
  drv::GmAllocator low_, high_;
  uint32_t fences_used_ = 0;  // bit i: fence i is taken
  GmSlice host_;
};

}  // namespace gvt
