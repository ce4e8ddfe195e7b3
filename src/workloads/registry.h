// The workload table: each workload file defines one instance.
#pragma once

#include "workloads/workload.h"

namespace wl {

class Workload {
 public:
  virtual const Info& info() const = 0;
  virtual drv::Result<void> init(drv::Device& dev, Frame2d& frame, Latency* latency) = 0;
  // Renders frame `i` and flips to it.
  virtual drv::Result<void> frame(uint32_t i) = 0;
  virtual void fini() {}
  // Which check failed, when the driver error alone does not say (the
  // self-test's); null otherwise. fini() clears it.
  virtual const char* failure() const { return nullptr; }

 protected:
  ~Workload() = default;
};

Workload& fill_workload();
Workload& desktop2d_workload();
Workload& submit_workload();
Workload& ppgtt_churn_workload();
Workload& selftest_workload();

Workload* const* registry();
int registry_size();

}  // namespace wl
