// The workload table: each workload file defines one instance, the
// prototype that names it. Every run works on a fresh copy of it, so runs may
// go on at once in one process (soft VMs, the host's own workload).
#pragma once

#include <stddef.h>

#include <new>

#include "workloads/workload.h"

namespace wl {

class Workload {
 public:
  virtual const Info& info() const = 0;
  // The engine its frames run on: 1 the blitter, 0 the render engine.
  virtual int engine() const { return 1; }
  virtual drv::Result<void> init(drv::Device& dev, Frame2d& frame, Latency* latency) = 0;
  // Renders frame `i` and flips to it.
  virtual drv::Result<void> frame(uint32_t i) = 0;
  virtual void fini() {}
  // Which check failed, when the driver error alone does not say (the
  // self-test's); null otherwise. fini() clears it.
  virtual const char* failure() const { return nullptr; }
  // A fresh instance in `at` (kMaxWorkloadBytes, suitably aligned), and its end.
  virtual Workload* construct(void* at) const = 0;
  virtual void destroy() = 0;

 protected:
  ~Workload() = default;
};

inline constexpr size_t kMaxWorkloadBytes = 64 * 1024;

// What every workload class derives from: construct() and destroy() for T.
template <typename T>
class Registered : public Workload {
 public:
  Workload* construct(void* at) const override {
    static_assert(sizeof(T) <= kMaxWorkloadBytes, "raise kMaxWorkloadBytes");
    return new (at) T();
  }
  void destroy() override { static_cast<T*>(this)->~T(); }

 protected:
  ~Registered() = default;
};

Workload& fill_workload();
Workload& desktop2d_workload();
Workload& submit_workload();
Workload& ppgtt_churn_workload();
Workload& selftest_workload();
Workload& lights_workload();
Workload& arena_workload();
Workload& hang_workload();

Workload* const* registry();
int registry_size();

}  // namespace wl
