// The host's own GPU work as one more tenant of the scheduler (upstream: the
// host's i915 requests share the engines with GVT-g's workloads). A second
// host build of the driver, on its own half of the host's GM slice, hands its
// submissions to the mediator through drv::SubmitHook. Its contexts are the
// host's, so they run as they are: no shadow, no scan.
#pragma once

#include <array>
#include <atomic>
#include <memory>
#include <string>

#include "driver/device.h"
#include "gvt/workload.h"

namespace gvt {

class Gvt;

class HostTenant final : public SchedClient, public drv::SubmitHook {
 public:
  // Registers with the mediator's scheduler at `weight`; init `dev` with
  // host_tenant_ranges() and this as its hook.
  HostTenant(Gvt& gvt, uint32_t weight);
  ~HostTenant();
  HostTenant(const HostTenant&) = delete;
  HostTenant& operator=(const HostTenant&) = delete;

  // ---- drv::SubmitHook, on the host workload's thread ----
  void submit(int engine, uint64_t desc) override;
  bool busy(int engine) override { return inflight_[engine].load(std::memory_order_acquire) > 0; }
  bool faulted(int engine) override { return faulted_[engine].load(std::memory_order_acquire); }

  // ---- SchedClient, on a dispatch thread ----
  void complete(std::unique_ptr<Workload> w, bool ok) override;
  uint32_t sched_weight() const override { return weight_; }
  std::string sched_name() const override { return "host"; }

 private:
  Gvt& gvt_;
  uint32_t weight_;
  std::array<std::atomic<uint32_t>, gen8::kNumEngines> inflight_{};
  std::array<std::atomic<bool>, gen8::kNumEngines> faulted_{};
};

}  // namespace gvt
