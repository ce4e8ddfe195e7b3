#include "gvt/gvt.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>

#include "common/gen8/layout.h"

namespace gvt {

using gen8::kPageSize;

namespace {

// The host's slice, split: the port needs little aperture (its HWSPs; the
// shadow objects live in hidden GM), the host's own workload needs
// CPU-visible framebuffers.
constexpr uint64_t kTenantAperture = 48ull << 20, kTenantHidden = 128ull << 20;

drv::PvInfo host_part(bool tenant) {
  GmPartition p;
  const GmSlice& h = p.host();
  drv::PvInfo info;
  info.present = true;
  info.mappable_base = h.low_base + (tenant ? h.low_size - kTenantAperture : 0);
  info.mappable_size = tenant ? kTenantAperture : h.low_size - kTenantAperture;
  info.hidden_base = h.high_base + (tenant ? h.high_size - kTenantHidden : 0);
  info.hidden_size = tenant ? kTenantHidden : h.high_size - kTenantHidden;
  info.fences = tenant ? h.fences / 2 : h.fences - h.fences / 2;
  return info;
}

}  // namespace

drv::PvInfo host_ranges() { return host_part(false); }
drv::PvInfo host_tenant_ranges() { return host_part(true); }

tl::expected<std::unique_ptr<Gvt>, std::string> Gvt::create(drv::Device& host, bool vblank_timer,
                                                            const SchedParams& sched) {
  if (!sched.tick_ns || sched.balance_ns < sched.tick_ns || !sched.drain_timeout_ns)
    return tl::unexpected(std::string("the scheduler needs a tick, a balance window of at least one tick, "
                                      "and a drain timeout"));
  std::unique_ptr<Gvt> g(new Gvt(host, sched));
  if (!host.platform().alloc_pages(1, false, &g->scratch_))
    return tl::unexpected(std::string("cannot allocate the mediator's scratch page"));
  host.set_gt_irqs(gen8::kGtError | gen8::kGtCtxSwitch);
  if (vblank_timer) g->timer_ = std::thread([p = g.get()] { p->timer_main(); });
  for (int e = 0; e < gen8::kNumEngines; ++e)
    g->dispatch_[e] = std::thread([p = g.get(), e] { p->dispatch_main(e); });
  g->sched_thread_ = std::thread([p = g.get()] { p->sched_main(); });
  return g;
}

Gvt::~Gvt() {
  while (!instances_.empty()) destroy_vgpu(instances_.back()->vgpu.get());
  {
    std::lock_guard lk(qmu_);
    stop_ = true;
  }
  qcv_.notify_all();
  for (auto& t : dispatch_)
    if (t.joinable()) t.join();
  if (timer_.joinable()) timer_.join();
  if (sched_thread_.joinable()) sched_thread_.join();
  host_.platform().free_pages(scratch_);
}

GmResources Gvt::free() const {
  std::lock_guard lk(mu_);
  return partition_.free();
}

// BAR0 is trapped whole. BAR2 is the slice as a memslot over the host
// aperture (whose pages the slice's GGTT entries, on scratch until the guest
// maps them, fill) and two trapped ranges around it that refuse everything.
bool Gvt::map_bar(Instance& in, int bar, uint64_t base) {
  Vgpu& v = *in.vgpu;
  if (bar == 0) return in.mpt->trap_mmio(base, gen8::kBar0Size, &v);
  const GmSlice& s = v.slice();
  const uint64_t end = s.low_base + s.low_size;
  if (!in.mpt->map_gpa(base + s.low_base, s.low_size, host_.platform().aperture() + s.low_base))
    return false;
  // On failure undo only what was installed here: a trap that was refused
  // belongs to someone else (BAR0, the VMM's ECAM).
  if (s.low_base != 0 && !in.mpt->trap_mmio(base, s.low_base, &v.aperture_trap())) {
    in.mpt->unmap_gpa(base + s.low_base);
    return false;
  }
  if (end != gen8::kApertureSize &&
      !in.mpt->trap_mmio(base + end, gen8::kApertureSize - end, &v.aperture_trap())) {
    if (s.low_base != 0) in.mpt->untrap_mmio(base);
    in.mpt->unmap_gpa(base + s.low_base);
    return false;
  }
  return true;
}

void Gvt::unmap_bar(Instance& in, int bar, uint64_t base) {
  if (bar == 0) return in.mpt->untrap_mmio(base);
  const GmSlice& s = in.vgpu->slice();
  const uint64_t end = s.low_base + s.low_size;
  in.mpt->unmap_gpa(base + s.low_base);
  if (s.low_base != 0) in.mpt->untrap_mmio(base);
  if (end != gen8::kApertureSize) in.mpt->untrap_mmio(base + end);
}

void Gvt::scratch_slice(const GmSlice& s) {
  for (uint64_t gm = s.low_base; gm < s.low_base + s.low_size; gm += kPageSize)
    host_.write_ggtt(gm / kPageSize, scratch_.phys | gen8::kPtePresent);
  for (uint64_t gm = s.high_base; gm < s.high_base + s.high_size; gm += kPageSize)
    host_.write_ggtt(gm / kPageSize, scratch_.phys | gen8::kPtePresent);
  for (uint32_t i = 0; i < s.fences; ++i) host_.write_fence(s.fence_base + i, 0);
  host_.flush_ggtt();
}

tl::expected<Vgpu*, std::string> Gvt::create_vgpu(const VgpuParams& p) {
  const VgpuType& type = p.type ? *p.type : default_type();
  std::lock_guard lk(mu_);
  auto slice = partition_.allocate(type);
  if (!slice) return tl::unexpected(slice.error());
  auto in = std::make_unique<Instance>();
  in->mpt = p.mpt;
  in->bar0 = p.bar0;
  in->bar2 = p.bar2;
  if (!host_.platform().alloc_pages(1, false, &in->scratch)) {
    partition_.release(*slice);
    return tl::unexpected(std::string("cannot allocate the vGPU's scratch page"));
  }
  uint32_t id = 1;
  while (std::any_of(instances_.begin(), instances_.end(),
                     [id](const auto& i) { return i->vgpu->id() == id; }))
    ++id;
  VgpuConfig cfg{id, *slice, p.ram_size, in->scratch.phys, p.bar0, p.bar2, type.weight};
  Instance* raw = in.get();
  in->vgpu = std::make_unique<Vgpu>(cfg, *p.mpt, host_, [this, raw](int bar, uint64_t from, uint64_t to) {
    unmap_bar(*raw, bar, from);
    if (map_bar(*raw, bar, to)) return true;
    map_bar(*raw, bar, from);
    return false;
  });
  host_.flush_ggtt();
  const bool bar0 = map_bar(*in, 0, p.bar0);
  if (!bar0 || !map_bar(*in, 1, p.bar2)) {
    if (bar0) unmap_bar(*in, 0, p.bar0);
    // The shadow put the slice on the vGPU's scratch page, freed just below.
    scratch_slice(*slice);
    in->vgpu.reset();
    host_.platform().free_pages(in->scratch);
    partition_.release(*slice);
    return tl::unexpected(std::string("the VM refused the vGPU's BAR mappings"));
  }
  Vgpu* v = in->vgpu.get();
  if (p.domain) {
    add_client(v);
    v->attach_submission(this, p.domain, p.scan_nonpriv, p.trace);
    if (p.ppgtt_shadow) v->attach_ppgtt_shadow(shadow_pages_, p.ppgtt_trace);
  }
  instances_.push_back(std::move(in));
  spdlog::info("vgpu {}: type {}, aperture [0x{:x}, +{} MiB), hidden GM [0x{:x}, +{} MiB), fences {}-{}",
               id, type.name, slice->low_base, slice->low_size >> 20, slice->high_base,
               slice->high_size >> 20, slice->fence_base, slice->fence_base + slice->fences - 1);
  return v;
}

void Gvt::destroy_vgpu(Vgpu* v) {
  std::lock_guard lk(mu_);
  auto it = instance_locked(v);
  if (it == instances_.end()) return;
  Instance& in = **it;
  // Drain: the VM reaches the vGPU no more (its vCPU is stopped and the
  // traps and memslot go), the vblank timer is held off by mu_, its queued
  // workloads are dropped and the one on an engine runs to its end.
  remove_client(v);
  const VirtualConfig& cfg = v->config();
  unmap_bar(in, 0, cfg.bar0());
  unmap_bar(in, 1, cfg.bar2());
  // Scratch: every entry of the slice on the global scratch page, fences off.
  const GmSlice s = v->slice();
  // Flushed: the GPU sees only scratch from here on.
  scratch_slice(s);
  // Free and zero: the guest frames are unpinned, the scratch page is
  // zeroed as it is freed, and the slice goes back to the partition.
  uint32_t id = v->id();
  in.vgpu.reset();
  host_.platform().free_pages(in.scratch);
  partition_.release(s);
  instances_.erase(it);
  spdlog::info("vgpu {}: destroyed", id);
}

std::vector<std::unique_ptr<Gvt::Instance>>::iterator Gvt::instance_locked(const Vgpu* v) {
  return std::find_if(instances_.begin(), instances_.end(),
                      [v](const auto& i) { return i->vgpu.get() == v; });
}

void Gvt::reset_vgpu(Vgpu* v) {
  std::lock_guard lk(mu_);
  if (instance_locked(v) == instances_.end()) return;
  // The reset cancels every engine's work (the running workload is reset
  // off its engine within a millisecond; its late completion is dropped),
  // and once none is left the shadow contexts can go.
  v->reset_device_model();
  {
    std::unique_lock qlk(qmu_);
    wait_off_gpu_locked(qlk, v);
  }
  v->drop_shadow_contexts();
  spdlog::info("vgpu {}: reset for a reboot", v->id());
}

tl::expected<drv::Bo, std::string> Gvt::alloc_shadow(uint64_t bytes) {
  std::lock_guard lk(host_mu_);
  auto bo = host_.create_bo(bytes, drv::kBoGgtt);
  if (!bo) return tl::unexpected(fmt::format("no host GM for a {}-byte shadow object ({})", bytes,
                                             drv::error_name(bo.error())));
  return *bo;
}

void Gvt::free_shadow(drv::Bo& bo) {
  std::lock_guard lk(host_mu_);
  host_.destroy_bo(bo);
}

void Gvt::add_client(SchedClient* c) {
  std::lock_guard lk(qmu_);
  auto t = std::make_unique<Tenant>();
  t->client = c;
  t->id = ++next_tenant_id_;
  policy_.add(t->id, c->sched_weight());
  tenants_.push_back(std::move(t));
}

void Gvt::remove_client(SchedClient* c) {
  std::unique_lock lk(qmu_);
  Tenant* t = tenant_locked(c);
  if (!t) return;
  for (int e = 0; e < gen8::kNumEngines; ++e) drop_queued_locked(*t, e);
  // The one on an engine runs to its end (or its drain timeout).
  wait_off_gpu_locked(lk, c);
  const uint64_t now = host_.platform().now_ns();
  charge_locked(now);
  if (owner_ == t) owner_ = nullptr;
  if (next_ == t) next_ = nullptr;
  policy_.remove(t->id);
  std::erase_if(tenants_, [t](const auto& p) { return p.get() == t; });
  schedule_locked(now);
}

void Gvt::wait_off_gpu_locked(std::unique_lock<std::mutex>& lk, const SchedClient* c) {
  qcv_.wait(lk, [&] {
    for (int e = 0; e < gen8::kNumEngines; ++e)
      if ((active_[e] && active_[e]->client == c) || completing_[e] == c) return false;
    return true;
  });
}

Gvt::Tenant* Gvt::tenant_locked(const SchedClient* c) const {
  for (const auto& t : tenants_)
    if (t->client == c) return t.get();
  return nullptr;
}

bool Gvt::has_work_locked(const Tenant& t, uint64_t now) const {
  for (int e = 0; e < gen8::kNumEngines; ++e)
    if (!t.q[e].empty() || (active_[e] && active_[e]->client == t.client)) return true;
  return t.last_queued_ns && now - t.last_queued_ns < sched_.tick_ns;
}

void Gvt::queue(std::unique_ptr<Workload> w) {
  const int e = w->engine;
  {
    std::lock_guard lk(qmu_);
    Tenant* t = tenant_locked(w->client);
    if (!t) {  // not (or no longer) scheduled: it never runs
      for (auto& b : w->batches) free_shadow(b);
      return;
    }
    t->q[e].push_back(std::move(w));
    t->last_queued_ns = host_.platform().now_ns();
    if (!owner_ && !next_) {
      next_ = t;
      switch_asked_ns_ = t->last_queued_ns;
      try_switch_locked();
    } else {
      start_next_locked(e);
    }
  }
  qcv_.notify_all();
}

std::vector<std::unique_ptr<Workload>> Gvt::drop_queued_locked(Tenant& t, int e) {
  std::vector<std::unique_ptr<Workload>> dropped;
  for (auto& w : t.q[e]) {
    for (auto& b : w->batches) free_shadow(b);
    w->batches.clear();
    dropped.push_back(std::move(w));
  }
  t.q[e].clear();
  return dropped;
}

std::vector<std::unique_ptr<Workload>> Gvt::cancel(SchedClient* c, int e) {
  std::lock_guard lk(qmu_);
  Tenant* t = tenant_locked(c);
  if (!t) return {};
  if (active_[e] && active_[e]->client == c) preempt_[e] = true;
  return drop_queued_locked(*t, e);
}

void Gvt::charge_locked(uint64_t now) {
  if (owner_ && now > charged_until_) {
    policy_.charge(owner_->id, now - charged_until_);
    owner_->stats.owned_ns += now - charged_until_;
  }
  charged_until_ = now;
}

void Gvt::schedule_locked(uint64_t now) {
  charge_locked(now);
  if (next_) return try_switch_locked();
  auto has_work = [this, now](uint32_t id) {
    for (const auto& t : tenants_)
      if (t->id == id) return has_work_locked(*t, now);
    return false;
  };
  auto pick = policy_.pick(owner_ ? std::optional<uint32_t>(owner_->id) : std::nullopt, has_work);
  if (!pick || (owner_ && *pick == owner_->id)) return;
  for (const auto& t : tenants_)
    if (t->id == *pick) next_ = t.get();
  switch_asked_ns_ = now;
  try_switch_locked();
}

// The engines take no more of the old owner's work once a switch is asked
// for; the switch happens when the last of it has left the GPU. The model
// keeps no engine state outside the context images, so nothing else is
// saved or restored (no mmio_context).
void Gvt::try_switch_locked() {
  if (!next_) return;
  for (const auto& a : active_)
    if (a) return;
  const uint64_t now = host_.platform().now_ns();
  const uint64_t drain = now - switch_asked_ns_;
  charge_locked(now);
  if (owner_) owner_->drains.add(drain);
  drain_ns_.add(drain);
  owner_ = next_;
  next_ = nullptr;
  owner_->stats.switches_in++;
  switches_++;
  for (int e = 0; e < gen8::kNumEngines; ++e) start_next_locked(e);
  switch_ns_.add(host_.platform().now_ns() - switch_asked_ns_);
}

void Gvt::start_next_locked(int e) {
  if (active_[e] || next_ || !owner_ || owner_->q[e].empty()) return;
  active_[e] = std::move(owner_->q[e].front());
  owner_->q[e].pop_front();
  owner_->stats.workloads++;
  Workload& w = *active_[e];
  if (w.shadow) fill_shadow_context(w);
  std::lock_guard lk(host_mu_);
  w.submitted_ns = host_.platform().now_ns();
  host_.elsp_submit(e, w.host_ctx_id, w.desc);
}

void Gvt::sched_main() {
  while (!stop_) {
    std::this_thread::sleep_for(std::chrono::nanoseconds(sched_.tick_ns));
    {
      std::lock_guard lk(qmu_);
      schedule_locked(host_.platform().now_ns());
    }
    qcv_.notify_all();
  }
}

void Gvt::dispatch_main(int e) {
  for (;;) {
    {
      std::unique_lock lk(qmu_);
      qcv_.wait(lk, [&] { return stop_ || active_[e]; });
      if (stop_) return;
    }
    uint64_t late_ns = 0;
    const bool ok = wait_for_gpu(e, &late_ns);
    std::unique_ptr<Workload> w;
    {
      std::lock_guard lk(qmu_);
      w = std::move(active_[e]);
      if (w->shadow) save_shadow_context(*w);  // before the next workload may refill the image
      completing_[e] = w->client;
      if (Tenant* t = tenant_locked(w->client); t && !ok) {
        (preempt_[e] ? t->stats.preempted : t->stats.hangs)++;
        t->stats.hang_late_max_ns = std::max(t->stats.hang_late_max_ns, late_ns);
      }
      preempt_[e] = false;
      if (next_)
        try_switch_locked();
      else
        start_next_locked(e);
    }
    SchedClient* c = w->client;
    c->complete(std::move(w), ok);
    {
      std::lock_guard lk(qmu_);
      completing_[e] = nullptr;
    }
    qcv_.notify_all();
  }
}

// The active workload's completion, from the host's CSB. One that runs past
// the drain timeout, or whose client reset the engine, is stopped by an
// engine reset. Only this thread touches active_[e] once it is set, until it
// takes it back.
bool Gvt::wait_for_gpu(int e, uint64_t* late_ns) {
  Workload& w = *active_[e];
  drv::Platform& p = host_.platform();
  const uint64_t deadline = w.submitted_ns + sched_.drain_timeout_ns;
  for (;;) {
    uint32_t seen = drv::polled(*host_.csb_write_ptr(e));
    bool preempt;
    {
      std::lock_guard lk(qmu_);
      preempt = preempt_[e];
    }
    {
      std::lock_guard lk(host_mu_);
      if (host_.context_done(e, w.host_ctx_id)) return true;
      host_.service_interrupts();
      const bool timed_out = p.now_ns() >= deadline, hung = host_.engine_faulted(e) || timed_out;
      if (hung || preempt) {
        spdlog::warn("{}: {} workload {} {}: engine reset", w.client->sched_name(), gen8::kEngineNames[e],
                     w.host_ctx_id, hung ? "hung" : "preempted by its reset");
        host_.reset_engine(e);
        if (timed_out && !preempt) *late_ns = p.now_ns() - deadline;
        return false;
      }
    }
    p.wait(host_.csb_write_ptr(e), seen, std::min(deadline, p.now_ns() + 1'000'000));
  }
}

SchedStats Gvt::sched_stats(const SchedClient* c) const {
  std::lock_guard lk(qmu_);
  const Tenant* t = tenant_locked(c);
  if (!t) return {};
  SchedStats s = t->stats;
  s.drain_max_ns = t->drains.max();
  s.drain_p99_ns = t->drains.percentile(99);
  return s;
}

SwitchStats Gvt::switch_stats() const {
  std::lock_guard lk(qmu_);
  SwitchStats s;
  s.switches = switches_;
  s.latency_p50_ns = switch_ns_.percentile(50);
  s.latency_p99_ns = switch_ns_.percentile(99);
  s.latency_max_ns = switch_ns_.max();
  s.drain_p50_ns = drain_ns_.percentile(50);
  s.drain_p99_ns = drain_ns_.percentile(99);
  s.drain_max_ns = drain_ns_.max();
  return s;
}

void Gvt::Samples::add(uint64_t ns) {
  if (v_.size() < kKeep)
    v_.push_back(ns);
  else
    v_[next_++ % kKeep] = ns;
  max_ = std::max(max_, ns);
}

uint64_t Gvt::Samples::percentile(int pct) const {
  if (v_.empty()) return 0;
  std::vector<uint64_t> s = v_;
  auto it = s.begin() + static_cast<ptrdiff_t>((s.size() - 1) * pct / 100);
  std::nth_element(s.begin(), it, s.end());
  return *it;
}

void Gvt::vblank() {
  std::lock_guard lk(mu_);
  for (auto& in : instances_) in->vgpu->vblank();
}

void Gvt::timer_main() {
  using clock = std::chrono::steady_clock;
  auto next = clock::now();
  while (!stop_) {
    next += std::chrono::microseconds(16667);
    std::this_thread::sleep_until(next);
    vblank();
  }
}

}  // namespace gvt
