// The workload table: each workload file defines one instance.
#pragma once

#include "workloads/workload.h"

namespace wl {

class Workload {
 public:
  virtual const Info& info() const = 0;
  virtual drv::Result<void> init(drv::Device& dev, Frame2d& frame, Latency* latency) = 0;
  // Builds and submits frame `i`, its flip included.
  virtual drv::Result<void> frame(uint32_t i) = 0;
  virtual void fini() {}

 protected:
  ~Workload() = default;
};

Workload& fill_workload();
Workload& desktop2d_workload();
Workload& submit_workload();

Workload* const* registry();
int registry_size();

}  // namespace wl
