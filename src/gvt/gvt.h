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
#include "gvt/sched_policy.h"
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
  // PPGTT mode: shadow page tables (guest tables write-protected) instead
  // of the 2-stage domain, with an optional shadow trace (debug).
  bool ppgtt_shadow = false;
  std::FILE* ppgtt_trace = nullptr;
};

// The host's own slice, as the host driver's `own` ranges (drv::Device::init):
// the host port's half (its HWSPs and the mediator's shadow objects) and the
// half the host's own workload gets (HostTenant).
drv::PvInfo host_ranges();
drv::PvInfo host_tenant_ranges();

// What the scheduler measured for one client.
struct SchedStats {
  uint64_t switches_in = 0;  // times it was given the GPU
  uint64_t owned_ns = 0;     // time it held the GPU (what the policy charged)
  uint64_t workloads = 0;    // dispatched to an engine
  uint64_t hangs = 0;        // workloads past the drain timeout: engine reset
  uint64_t hang_late_max_ns = 0;  // how long after its drain timeout a hang's reset was done
  uint64_t preempted = 0;    // workloads cut short by the client's own reset
  uint64_t drain_max_ns = 0, drain_p99_ns = 0;  // switching away from it
};

// Over all clients: each switch's latency (decision to the new owner holding
// the GPU, its drain included) and each drain.
struct SwitchStats {
  uint64_t switches = 0;
  uint64_t latency_p50_ns = 0, latency_p99_ns = 0, latency_max_ns = 0;
  uint64_t drain_p50_ns = 0, drain_p99_ns = 0, drain_max_ns = 0;
};

class Gvt final : private SubmitPort {
 public:
  // `host` is the host's driver, initialised with host_ranges(). With
  // `vblank_timer` a thread gives every vGPU a vblank at 60 Hz; tests call
  // vblank() instead.
  // `sched` tunes the scheduler (tick, balance window, drain timeout).
  static tl::expected<std::unique_ptr<Gvt>, std::string> create(drv::Device& host, bool vblank_timer,
                                                                const SchedParams& sched = {});
  ~Gvt();
  Gvt(const Gvt&) = delete;
  Gvt& operator=(const Gvt&) = delete;

  // One sentence when the type does not fit or the VM refuses the mappings.
  tl::expected<Vgpu*, std::string> create_vgpu(const VgpuParams& p);
  // Drain, point the slice at the global scratch page, flush, then free and
  // zero the vGPU's pages. The VM's RAM is its owner's to zero and free
  // afterwards: nothing on the GPU reaches it any more.
  void destroy_vgpu(Vgpu* v);
  // The VM reboots (the device-model reset): the vGPU goes back to power-on
  // (its queued work dropped, the running workload preempted) and this
  // returns once none of its work is left on the GPU, so its owner may zero
  // and reload the VM's RAM. The VM's CPU must be stopped meanwhile; the
  // other tenants run on.
  void reset_vgpu(Vgpu* v);

  void vblank();  // one vblank on every vGPU
  // Another tenant of the GPU (the host's own workload); remove it only when
  // it has nothing queued or running.
  void add_client(SchedClient* c);
  void remove_client(SchedClient* c);
  SubmitPort& submit_port() { return *this; }
  SchedStats sched_stats(const SchedClient* c) const;
  SwitchStats switch_stats() const;
  const SchedParams& sched_params() const { return sched_; }
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
  // The last samples of a duration, for percentiles.
  class Samples {
   public:
    void add(uint64_t ns);
    uint64_t percentile(int pct) const;
    uint64_t max() const { return max_; }

   private:
    static constexpr size_t kKeep = 1 << 14;
    std::vector<uint64_t> v_;
    size_t next_ = 0;
    uint64_t max_ = 0;
  };
  // A scheduled client: its queues per engine and what it was measured.
  struct Tenant {
    SchedClient* client;
    uint32_t id;
    std::array<std::deque<std::unique_ptr<Workload>>, gen8::kNumEngines> q;
    SchedStats stats;
    Samples drains;  // of switches away from it
    uint64_t last_queued_ns = 0;
  };
  Gvt(drv::Device& host, const SchedParams& sched) : host_(host), sched_(sched), policy_(sched) {}
  // ---- SubmitPort ----
  tl::expected<drv::Bo, std::string> alloc_shadow(uint64_t bytes) override;
  void free_shadow(drv::Bo& bo) override;
  uint32_t new_host_ctx_id() override { return ++host_ctx_ids_; }
  void queue(std::unique_ptr<Workload> w) override;
  std::vector<std::unique_ptr<Workload>> cancel(SchedClient* c, int engine) override;
  // ---- the scheduler, all with qmu_ ----
  Tenant* tenant_locked(const SchedClient* c) const;
  // Takes the tenant's queued workloads on engine `e` off the queue, their
  // shadow batches freed.
  std::vector<std::unique_ptr<Workload>> drop_queued_locked(Tenant& t, int e);
  // Queued or running work, or a submission within the last tick: a client
  // that submits one small batch at a time keeps its slice between them.
  bool has_work_locked(const Tenant& t, uint64_t now) const;
  // Charges the owner, then asks the policy who should own the GPU.
  void schedule_locked(uint64_t now);
  void charge_locked(uint64_t now);
  // Completes a requested switch once no engine runs the old owner's work.
  void try_switch_locked();
  // Starts the owner's next workload on an idle engine.
  void start_next_locked(int e);
  void sched_main();  // the tick
  // One thread per engine waits for its completions.
  void dispatch_main(int e);
  // False when the engine had to be reset; `*late_ns` is then how long after
  // the drain timeout the reset was done (0 for a preemption).
  bool wait_for_gpu(int e, uint64_t* late_ns);
  // `v`'s instance, or instances_.end(); with mu_.
  std::vector<std::unique_ptr<Instance>>::iterator instance_locked(const Vgpu* v);
  // Waits until no engine runs or completes a workload of `c`.
  void wait_off_gpu_locked(std::unique_lock<std::mutex>& lk, const SchedClient* c);
  bool map_bar(Instance& in, int bar, uint64_t base);
  void unmap_bar(Instance& in, int bar, uint64_t base);
  // Every entry of the slice on the global scratch page, its fences off, flushed.
  void scratch_slice(const GmSlice& s);
  void timer_main();

  drv::Device& host_;
  PlatformPageSource shadow_pages_{host_.platform()};  // shadow page tables, from the host's pool
  drv::Pages scratch_;
  mutable std::mutex mu_;  // instances_ and the partition
  GmPartition partition_;
  std::vector<std::unique_ptr<Instance>> instances_;
  std::atomic<bool> stop_{false};
  std::thread timer_;

  std::mutex host_mu_;  // the host driver's allocator and execlist state
  std::atomic<uint32_t> host_ctx_ids_{0x10000};  // above the host's own context ids
  const SchedParams sched_;
  mutable std::mutex qmu_;  // everything below
  std::condition_variable qcv_;
  SchedPolicy policy_;
  std::vector<std::unique_ptr<Tenant>> tenants_;
  uint32_t next_tenant_id_ = 0;
  Tenant* owner_ = nullptr;     // whose workloads the engines take
  Tenant* next_ = nullptr;      // a switch to it waits for the engines to drain
  uint64_t charged_until_ = 0;  // the owner is charged up to here
  uint64_t switch_asked_ns_ = 0;
  Samples switch_ns_, drain_ns_;
  uint64_t switches_ = 0;
  std::array<std::unique_ptr<Workload>, gen8::kNumEngines> active_;  // on the engine
  std::array<SchedClient*, gen8::kNumEngines> completing_{};  // whose completion is being delivered
  std::array<bool, gen8::kNumEngines> preempt_{};  // the active workload's client reset the engine
  std::array<std::thread, gen8::kNumEngines> dispatch_;
  std::thread sched_thread_;
};

}  // namespace gvt
