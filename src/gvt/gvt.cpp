#include "gvt/gvt.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>

#include "common/gen8/layout.h"

namespace gvt {

using gen8::kPageSize;

drv::PvInfo host_ranges() {
  GmPartition p;
  const GmSlice& h = p.host();
  drv::PvInfo info;
  info.present = true;
  info.mappable_base = h.low_base;
  info.mappable_size = h.low_size;
  info.hidden_base = h.high_base;
  info.hidden_size = h.high_size;
  info.fences = h.fences;
  return info;
}

tl::expected<std::unique_ptr<Gvt>, std::string> Gvt::create(drv::Device& host, bool vblank_timer) {
  std::unique_ptr<Gvt> g(new Gvt(host));
  if (!host.platform().alloc_pages(1, false, &g->scratch_))
    return tl::unexpected(std::string("cannot allocate the mediator's scratch page"));
  host.set_gt_irqs(gen8::kGtError | gen8::kGtCtxSwitch);
  if (vblank_timer) g->timer_ = std::thread([p = g.get()] { p->timer_main(); });
  for (int e = 0; e < gen8::kNumEngines; ++e)
    g->dispatch_[e] = std::thread([p = g.get(), e] { p->dispatch_main(e); });
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
  VgpuConfig cfg{id, *slice, p.ram_size, in->scratch.phys, p.bar0, p.bar2};
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
  if (p.domain) v->attach_submission(this, p.domain, p.scan_nonpriv, p.trace);
  instances_.push_back(std::move(in));
  spdlog::info("vgpu {}: type {}, aperture [0x{:x}, +{} MiB), hidden GM [0x{:x}, +{} MiB), fences {}-{}",
               id, type.name, slice->low_base, slice->low_size >> 20, slice->high_base,
               slice->high_size >> 20, slice->fence_base, slice->fence_base + slice->fences - 1);
  return v;
}

void Gvt::destroy_vgpu(Vgpu* v) {
  std::lock_guard lk(mu_);
  auto it = std::find_if(instances_.begin(), instances_.end(),
                         [v](const auto& i) { return i->vgpu.get() == v; });
  if (it == instances_.end()) return;
  Instance& in = **it;
  // Drain: the VM reaches the vGPU no more (its vCPU is stopped and the
  // traps and memslot go), the vblank timer is held off by mu_, its queued
  // workloads are dropped and the one on an engine runs to its end.
  drain(v);
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

// FIFO per engine, one workload on the GPU at a time. An idle engine takes
// the workload at once, on the caller's thread: the dispatch thread only
// waits for completions.
void Gvt::queue(std::unique_ptr<Workload> w) {
  const int e = w->engine;
  {
    std::lock_guard lk(qmu_);
    queue_[e].push_back(std::move(w));
    if (!active_[e]) start_next_locked(e);
  }
  qcv_.notify_all();
}

void Gvt::start_next_locked(int e) {
  if (queue_[e].empty()) return;
  active_[e] = std::move(queue_[e].front());
  queue_[e].pop_front();
  Workload& w = *active_[e];
  fill_shadow_context(w);
  std::lock_guard lk(host_mu_);
  w.submitted_ns = host_.platform().now_ns();
  host_.elsp_submit(e, w.host_ctx_id, w.desc);
}

void Gvt::drain(Vgpu* v) {
  std::unique_lock lk(qmu_);
  for (auto& q : queue_)
    for (auto it = q.begin(); it != q.end();)
      if ((*it)->vgpu == v) {
        for (auto& b : (*it)->batches) free_shadow(b);
        it = q.erase(it);
      } else {
        ++it;
      }
  auto busy = [&] {
    for (int e = 0; e < gen8::kNumEngines; ++e)
      if ((active_[e] && active_[e]->vgpu == v) || completing_[e] == v) return true;
    return false;
  };
  qcv_.wait(lk, [&] { return !busy(); });
}

void Gvt::dispatch_main(int e) {
  for (;;) {
    {
      std::unique_lock lk(qmu_);
      qcv_.wait(lk, [&] { return stop_ || active_[e]; });
      if (stop_) return;
    }
    bool ok = wait_for_gpu(e);
    std::unique_ptr<Workload> w;
    {
      std::lock_guard lk(qmu_);
      w = std::move(active_[e]);
      save_shadow_context(*w);  // before the next workload may refill the image
      completing_[e] = w->vgpu;
      start_next_locked(e);
    }
    Vgpu* v = w->vgpu;
    v->complete(std::move(w), ok);
    {
      std::lock_guard lk(qmu_);
      completing_[e] = nullptr;
    }
    qcv_.notify_all();
  }
}

// The active workload's completion, from the host's CSB; a hang past the
// drain timeout resets the engine. Only this thread touches active_[e] once
// it is set, until it takes it back.
bool Gvt::wait_for_gpu(int e) {
  Workload& w = *active_[e];
  drv::Platform& p = host_.platform();
  const uint64_t deadline = w.submitted_ns + kDrainTimeoutNs;
  for (;;) {
    uint32_t seen = drv::polled(*host_.csb_write_ptr(e));
    {
      std::lock_guard lk(host_mu_);
      if (host_.context_done(e, w.host_ctx_id)) return true;
      host_.service_interrupts();
      if (host_.engine_faulted(e) || p.now_ns() >= deadline) {
        spdlog::warn("vgpu {}: {} workload {} hung: engine reset", w.vgpu->id(), gen8::kEngineNames[e],
                     w.host_ctx_id);
        host_.reset_engine(e);
        return false;
      }
    }
    p.wait(host_.csb_write_ptr(e), seen, std::min(deadline, p.now_ns() + 1'000'000));
  }
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
