#include "gvt/vgpu.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstring>

#include "common/gen8/layout.h"
#include "gvt/guest_ppgtt.h"

namespace gvt {

using namespace gen8;

Vgpu::~Vgpu() { free_shadows(); }

Vgpu::Vgpu(const VgpuConfig& cfg, hv::Mpt& mpt, drv::Device& host, VirtualConfig::RelocateFn relocate)
    : cfg0_(cfg),
      mpt_(mpt),
      host_(host),
      cfg_(cfg.ram_size, cfg.bar0, cfg.bar2, std::move(relocate)),
      irq_(mpt, cfg_),
      display_(regs_.file()),
      ggtt_(mpt, cfg.slice, cfg.scratch_hpa,
            [&host](uint64_t index, uint64_t pte) { host.write_ggtt(index, pte); }),
      pv_(cfg.id, cfg.slice) {
  for (uint32_t i = 0; i < cfg.slice.fences; ++i) host_.write_fence(cfg.slice.fence_base + i, 0);
}

void Vgpu::read(uint64_t off, uint8_t* data, uint32_t len) {
  std::lock_guard lk(mu_);
  uint64_t v = 0;
  if (off >= kGgttOffset && off < kGgttOffset + kGgttEntries * 8) {
    traps_.ggtt++;
    v = ggtt_.read(off - kGgttOffset, len);
  } else if (off < kMmioRegSpace && (len == 4 || len == 8) && off % 4 == 0) {
    if (PvInfoPage::owns(static_cast<uint32_t>(off)))
      traps_.pvinfo++;
    else
      traps_.mmio++;
    v = reg_read(static_cast<uint32_t>(off));
    if (len == 8) v |= uint64_t{reg_read(static_cast<uint32_t>(off) + 4)} << 32;
  } else {
    traps_.mmio++;
  }
  std::memcpy(data, &v, len);
}

void Vgpu::write(uint64_t off, const uint8_t* data, uint32_t len) {
  std::lock_guard lk(mu_);
  uint64_t v = 0;
  std::memcpy(&v, data, len);
  if (off >= kGgttOffset && off < kGgttOffset + kGgttEntries * 8) {
    traps_.ggtt++;
    ggtt_.write(off - kGgttOffset, len, v);
    return;
  }
  if (off >= kMmioRegSpace || (len != 4 && len != 8) || off % 4) {
    traps_.mmio++;
    spdlog::debug("vgpu {}: MMIO write of {} bytes at 0x{:x} refused", cfg0_.id, len, off);
    return;
  }
  uint32_t o = static_cast<uint32_t>(off);
  if (PvInfoPage::owns(o))
    traps_.pvinfo++;
  else
    traps_.mmio++;
  for (int e = 0; e < kNumEngines; ++e)
    if (o == kEngineBase[e] + reg::RING_ELSP) {
      if (!port_) {
        // Without mediated submission the hardware is never touched unchecked.
        traps_.refused_submission++;
        status_ = "error: submission not yet mediated";
        if (on_failsafe_) on_failsafe_(status_);
        return;
      }
      // An 8-byte ELSP write carries one element, high dword first, as on the model.
      if (len == 8) elsp_write(e, static_cast<uint32_t>(v >> 32));
      elsp_write(e, static_cast<uint32_t>(v));
      return;
    }
  reg_write(o, static_cast<uint32_t>(v));
  if (len == 8) reg_write(o + 4, static_cast<uint32_t>(v >> 32));
}

uint32_t Vgpu::cfg_read(uint32_t off, unsigned size) {
  std::lock_guard lk(mu_);
  return cfg_.read(off, size);
}

void Vgpu::cfg_write(uint32_t off, unsigned size, uint32_t v) {
  std::lock_guard lk(mu_);
  cfg_.write(off, size, v);
}

uint32_t Vgpu::reg_read(uint32_t off) {
  if (PvInfoPage::owns(off)) return pv_.read(off);
  for (int e = 0; e < kNumEngines; ++e) {
    uint32_t rel = off - kEngineBase[e];
    if (rel == reg::RING_EXECLIST_STATUS || rel == reg::RING_EXECLIST_STATUS + 4)
      return static_cast<uint32_t>(el_[e].status() >> (rel == reg::RING_EXECLIST_STATUS + 4 ? 32 : 0));
    if (rel >= reg::RING_CONTEXT_STATUS_BUF && rel < reg::RING_CONTEXT_STATUS_BUF + 8 * kCsbEntries)
      return static_cast<uint32_t>(el_[e].csb((rel - reg::RING_CONTEXT_STATUS_BUF) / 8) >> (rel & 4 ? 32 : 0));
    if (rel == reg::RING_CONTEXT_STATUS_PTR) return (regs_.read(off) & kCsbReadPtrMask) | el_[e].write_ptr();
  }
  if (irq_.owns(off)) return irq_.read(off);
  if (display_.owns(off)) return display_.read(off);
  if (off == reg::GEN6_GDRST) return 0;  // resets complete at once
  return regs_.read(off);
}

void Vgpu::reg_write(uint32_t off, uint32_t v) {
  if (PvInfoPage::owns(off)) return pv_.write(off, v);
  if (irq_.owns(off)) return irq_.write(off, v);
  if (display_.owns(off)) {
    for (int p = 0; p < kNumPipes; ++p)
      if (off == reg::DSPSURF + p * kPipeStride && !in_slice(v & ~0xFFFull, kPageSize)) {
        // Kept in the virtual register (the guest reads back what it wrote),
        // but the decoder will never scan it out.
        traps_.refused_surface++;
        spdlog::debug("vgpu {}: DSPSURF 0x{:x} outside its GM refused", cfg0_.id, v);
      }
    return display_events(display_.write(off, v));
  }
  if (off >= reg::FENCE_REG_GEN6 && off < reg::FENCE_REG_GEN6 + 8 * kNumFences)
    return fence_write(off, v);
  if (off == reg::GEN6_GDRST) {
    if (v & kGdrstFull) return reset_gt();
    return reset_engines((v & kGdrstRender ? 1u : 0u) | (v & kGdrstBlt ? 2u : 0u));
  }
  regs_.write(off, v);
  for (int e = 0; e < kNumEngines; ++e)
    if (off == kEngineBase[e] + reg::RING_CONTEXT_STATUS_PTR) {
      // The guest read its CSB up to here: events that waited for room go out.
      const VirtualExeclist::GmWrite w = guest_writer();
      if (el_[e].read_ptr_write((regs_.read(off) & kCsbReadPtrMask) >> 8, hwsp_gm(e), w))
        irq_.raise_gt(kGtCtxSwitch << gt_shift(e));
    }
}

// Guest fence i is the vGPU's physical fence fence_base + i; a valid fence
// must cover only the vGPU's own aperture.
void Vgpu::fence_write(uint32_t off, uint32_t v) {
  uint32_t i = (off - reg::FENCE_REG_GEN6) / 8;
  if (i >= cfg0_.slice.fences) {
    traps_.refused_fence++;
    return;
  }
  regs_.write(off, v);
  uint32_t base = reg::FENCE_REG_GEN6 + 8 * i;
  uint64_t value = regs_.get(base) | uint64_t{regs_.get(base + 4)} << 32;
  if (value & kFenceValid) {
    const GmSlice& s = cfg0_.slice;
    uint64_t start = value & 0xFFFFF000ull, end = (value >> 32) & 0xFFFFF000ull;  // last page
    if (end < start || start < s.low_base || end >= s.low_base + s.low_size) {
      traps_.refused_fence++;
      value = 0;
    }
  }
  host_.write_fence(cfg0_.slice.fence_base + i, value);
}

void Vgpu::display_events(const Display::Events& ev) {
  for (int p = 0; p < kNumPipes; ++p)
    if (ev.de[p]) irq_.raise_de(p, ev.de[p]);
}

void Vgpu::vblank() {
  std::lock_guard lk(mu_);
  display_events(display_.vblank());
}

void Vgpu::ApertureTrap::read(uint64_t offset, uint8_t* data, uint32_t len) {
  std::lock_guard lk(v_.mu_);
  v_.traps_.aperture++;
  v_.traps_.refused_aperture++;
  spdlog::debug("vgpu {}: aperture read at BAR2 offset 0x{:x} outside its slice refused", v_.cfg0_.id,
                offset);
  std::memset(data, 0, len);
}

void Vgpu::ApertureTrap::write(uint64_t offset, const uint8_t*, uint32_t) {
  std::lock_guard lk(v_.mu_);
  v_.traps_.aperture++;
  v_.traps_.refused_aperture++;
  spdlog::debug("vgpu {}: aperture write at BAR2 offset 0x{:x} outside its slice refused",
                v_.cfg0_.id, offset);
}

Traps Vgpu::traps() const {
  std::lock_guard lk(mu_);
  Traps t = traps_;
  if (ppgtt_) t.pagetable = ppgtt_->stats().traps;  // writes to write-protected guest tables
  return t;
}

GgttStats Vgpu::ggtt_stats() const {
  std::lock_guard lk(mu_);
  return ggtt_.stats();
}

std::string Vgpu::status() const {
  std::lock_guard lk(mu_);
  return status_;
}

uint64_t Vgpu::msis_injected() const {
  std::lock_guard lk(mu_);
  return irq_.injected();
}

std::vector<RegDiff> Vgpu::register_diff() const {
  std::lock_guard lk(mu_);
  return regs_.diff_golden();
}

bool Vgpu::in_slice(uint64_t gm, uint64_t size) const {
  const GmSlice& s = cfg0_.slice;
  auto inside = [&](uint64_t base, uint64_t len) {
    return gm >= base && size <= len && gm - base <= len - size;
  };
  return inside(s.low_base, s.low_size) || inside(s.high_base, s.high_size);
}

tl::expected<Display::Scanout, std::string> Vgpu::plane(int pipe) const {
  std::lock_guard lk(mu_);
  auto s = display_.scanout(pipe);
  if (!s) return s;
  if (!in_slice(s->surface, uint64_t{s->stride} * s->height))
    return tl::unexpected(std::string("the plane's surface lies outside the vGPU's graphics memory"));
  return s;
}

void Vgpu::reset_engines(uint32_t mask) {
  regs_.reset_if([mask](const RegDesc& r) {
    return r.scope == Scope::Engine && (mask & (1u << r.instance));
  });
  for (int e = 0; e < kNumEngines; ++e)
    if (mask & (1u << e)) reset_execlist(e);
}

// The guest forgets what it submitted: queued workloads go, the one on the
// GPU is preempted, and a completion still on its way is dropped.
void Vgpu::reset_execlist(int e) {
  el_[e].reset();
  inflight_[e] = 0;
  ++generation_[e];
  if (!port_) return;
  for (const auto& w : port_->cancel(this, e)) release_root(*w);
}

// A workload's hold on its shadow PPGTT root, unless a reset of the shadow
// since has dropped every root (its release would drop a newer hold).
void Vgpu::release_root(const Workload& w) {
  if (w.shadow_root && w.ppgtt_epoch == ppgtt_epoch_) ppgtt_->release(w.pml4_gpa);
}

void Vgpu::reset_ppgtt() {
  if (!ppgtt_) return;
  ppgtt_->reset();
  ++ppgtt_epoch_;
}

void Vgpu::reset_gt() {
  // As upstream: registers below the interrupt block go back to golden;
  // display and interrupt state survive; the PV page is repopulated and the
  // shadows are invalidated.
  regs_.reset_if([](const RegDesc& r) { return r.offset < reg::GEN8_MASTER_IRQ; });
  irq_.reset_gt();
  for (int e = 0; e < kNumEngines; ++e) reset_execlist(e);
  pv_.reset();
  reset_ppgtt();
}

void Vgpu::reset_device_model() {
  std::lock_guard lk(mu_);
  regs_.reset();
  irq_.reset();
  for (int e = 0; e < kNumEngines; ++e) reset_execlist(e);
  display_.reset();
  ggtt_.reset();
  pv_.reset();
  reset_ppgtt();
  ppgtt_failed_ = false;
  for (uint32_t i = 0; i < cfg0_.slice.fences; ++i) host_.write_fence(cfg0_.slice.fence_base + i, 0);
  status_ = "ok";
}

}  // namespace gvt

namespace gvt {

void Vgpu::attach_submission(SubmitPort* port, uint32_t domain, bool scan_nonpriv, std::FILE* trace) {
  std::lock_guard lk(mu_);
  port_ = port;
  domain_ = domain;
  scan_nonpriv_ = scan_nonpriv;
  trace_ = trace;
}

void Vgpu::attach_ppgtt_shadow(ShadowPageSource& pages, std::FILE* trace) {
  std::lock_guard lk(mu_);
  ppgtt_ = std::make_unique<PpgttShadow>(mpt_, pages, cfg0_.scratch_hpa);
  ppgtt_->set_failsafe_handler([this](ShadowError e) {
    ppgtt_error_ = std::string("PPGTT shadow: ") + to_string(e);
    ppgtt_failed_ = true;
  });
  if (trace)
    ppgtt_->set_trace([trace, id = cfg0_.id](std::string_view line) {
      fmt::print(trace, "vgpu {} {}\n", id, line);
    });
  // The driver announces its PPGTTs: shadowing starts before the first
  // submission and ends with the PPGTT.
  pv_.set_ppgtt_notify([this](bool create, uint64_t pml4) {
    if (!create) return ppgtt_->pv_destroy(pml4);
    auto r = ppgtt_->pv_create(pml4);
    if (!r && r.error() != ShadowError::BadRoot) failsafe(std::string("PPGTT shadow: ") + to_string(r.error()));
  });
}

std::vector<uint32_t> Vgpu::shadow_contexts() const {
  std::lock_guard lk(mu_);
  std::vector<uint32_t> out;
  for (const auto& per_engine : shadows_)
    for (const auto& [lrca, sc] : per_engine)
      for (const drv::Bo* bo : {&sc.image, &sc.ring}) out.push_back(static_cast<uint32_t>(bo->gm));
  for (const drv::Bo& bo : retired_) out.push_back(static_cast<uint32_t>(bo.gm));
  return out;
}

void Vgpu::free_shadows() {
  if (!port_) return;
  drop_shadows_locked();
  for (auto& bo : retired_) port_->free_shadow(bo);
  retired_.clear();
}

void Vgpu::drop_shadow_contexts() {
  std::lock_guard lk(mu_);
  drop_shadows_locked();
}

void Vgpu::drop_shadows_locked() {
  for (auto& per_engine : shadows_) {
    for (auto& [lrca, sc] : per_engine) {
      retired_.push_back(sc.image);
      retired_.push_back(sc.ring);
    }
    per_engine.clear();
  }
}

tl::expected<drv::Bo, std::string> Vgpu::shadow_bo(uint64_t bytes) {
  auto it = std::find_if(retired_.begin(), retired_.end(),
                         [bytes](const drv::Bo& b) { return b.size == bytes; });
  if (it == retired_.end()) return port_->alloc_shadow(bytes);
  drv::Bo bo = *it;
  retired_.erase(it);
  return bo;
}

VirtualExeclist::GmWrite Vgpu::guest_writer() {
  return [this](uint64_t gm, const void* src, size_t n) { return gm_access(gm, const_cast<void*>(src), n, true); };
}

bool Vgpu::gm_access(uint64_t gm, void* buf, size_t len, bool write) {
  auto* p = static_cast<uint8_t*>(buf);
  while (len) {
    auto gpa = ggtt_.gpa(gm);
    if (!gpa) return false;
    size_t n = std::min<size_t>(len, kPageSize - gm % kPageSize);
    if (!(write ? mpt_.write_gpa(*gpa, p, n) : mpt_.read_gpa(*gpa, p, n))) return false;
    gm += n;
    p += n;
    len -= n;
  }
  return true;
}

uint64_t Vgpu::hwsp_gm(int e) const { return regs_.get(kEngineBase[e] + reg::RING_HWS_PGA) & ~0xFFFull; }

void Vgpu::failsafe(const std::string& why) {
  if (status_.rfind("failsafe", 0) == 0) return;
  status_ = "failsafe: " + why;
  spdlog::warn("vgpu {}: {}", cfg0_.id, status_);
  if (on_failsafe_) on_failsafe_(status_);
}

void Vgpu::elsp_write(int e, uint32_t v) {
  traps_.elsp++;
  if (ppgtt_failed_) failsafe(ppgtt_error_);
  if (status_ != "ok") return;  // failsafe: submissions stop, the engine looks hung
  const VirtualExeclist::GmWrite w = guest_writer();
  auto r = el_[e].port_write(v, hwsp_gm(e), w);
  if (!r.complete) return;
  if (r.n_events) irq_.raise_gt(kGtCtxSwitch << gt_shift(e));
  if (!r.accepted) return;
  // A new running element, or a lite restore of the running one (a new
  // tail): either way there is ring to run. A pending element waits.
  if (r.lite_restore || (r.n_events && !inflight_[e])) start_workload(e);
}

void Vgpu::start_workload(int e) {
  const ElspElement* el = el_[e].current();
  if (!el) return;
  auto w = build_workload(e, *el);
  if (!w) return failsafe(w.error());
  inflight_[e]++;
  traps_.workloads++;
  traps_.commands_scanned += (*w)->scan.commands;
  traps_.dwords_scanned += (*w)->scan.dwords;
  port_->queue(std::move(*w));
}

tl::expected<std::unique_ptr<Workload>, std::string> Vgpu::build_workload(int e, const ElspElement& el) {
  const uint32_t pages = e == 0 ? kCtxRcsPages : kCtxBcsPages;
  if (!in_slice(el.lrca(), uint64_t{pages} * kPageSize))
    return tl::unexpected(fmt::format("{}: ELSP context 0x{:x} lies outside the vGPU's GM", kEngineNames[e],
                                      el.lrca()));
  uint32_t image[1024];
  if (!gm_access(el.lrca() + kCtxRegStatePage * kPageSize, image, sizeof image, false))
    return tl::unexpected(fmt::format("{}: context 0x{:x} is not mapped", kEngineNames[e], el.lrca()));
  const uint32_t start = image[ctx::RING_START] & ~0xFFFu, size = ring_size(image[ctx::RING_CTL]);
  const uint32_t tail = image[ctx::RING_TAIL] & kRingTailMask;
  if (!in_slice(start, size) || tail >= size)
    return tl::unexpected(fmt::format("{}: ring 0x{:x} (+{}) or tail 0x{:x} outside the vGPU's GM",
                                      kEngineNames[e], start, size, tail));
  auto [it, fresh] = shadows_[e].try_emplace(el.lrca());
  ShadowContext& sc = it->second;
  if (fresh) {
    auto img = shadow_bo(uint64_t{pages} * kPageSize);
    auto ring = img ? shadow_bo(size) : tl::expected<drv::Bo, std::string>{};
    if (!img || !ring) {
      if (img) retired_.push_back(*img);
      shadows_[e].erase(it);
      return tl::unexpected(img ? ring.error() : img.error());
    }
    sc.image = *img;
    sc.ring = *ring;
    sc.guest_head = image[ctx::RING_HEAD] & kRingHeadMask;
  }
  // The shadow ring mirrors the guest ring's offsets: a ring that changes
  // size under a live context (its queued workloads still use the shadow),
  // or a head outside it, cannot be mirrored.
  if (sc.ring.size != size)
    return tl::unexpected(fmt::format("{}: context 0x{:x} changed its ring size from {} to {}", kEngineNames[e],
                                      el.lrca(), sc.ring.size, size));
  if (sc.guest_head >= size)
    return tl::unexpected(fmt::format("{}: ring head 0x{:x} outside its {}-byte ring", kEngineNames[e],
                                      sc.guest_head, size));
  auto w = std::make_unique<Workload>();
  w->client = this;
  w->engine = e;
  w->lrca = el.lrca();
  w->shadow = &sc;
  w->head = sc.guest_head;
  w->tail = tail;
  w->domain = domain_;
  w->generation = generation_[e];
  std::copy(std::begin(image), std::end(image), w->guest_image.begin());
  // The guest's ring slice, copied once (unwrapped), scanned and patched in
  // the copy, then placed at the same offsets in the shadow ring.
  const uint32_t n = (tail + size - w->head) % size / 4;
  const uint32_t first = std::min(n, (size - w->head) / 4);
  std::vector<uint32_t> copy(n);
  if (!gm_access(start + w->head, copy.data(), first * 4ull, false) ||
      !gm_access(start, copy.data() + first, (n - first) * 4ull, false))
    return tl::unexpected(fmt::format("{}: ring 0x{:x} is not mapped", kEngineNames[e], start));
  ScanEnv env;
  env.engine = e;
  env.slice = cfg0_.slice;
  env.read_ggtt = [this](uint64_t gm, void* dst, size_t len) { return gm_access(gm, dst, len, false); };
  env.alloc_shadow = [this, &w](uint32_t dwords) -> tl::expected<ShadowBuffer, std::string> {
    auto bo = port_->alloc_shadow(uint64_t{dwords} * 4);
    if (!bo) return tl::unexpected(bo.error());
    w->batches.push_back(*bo);
    return ShadowBuffer{bo->gm, bo->dwords(), static_cast<uint32_t>(bo->size / 4)};
  };
  env.scan_nonpriv = scan_nonpriv_;
  const uint64_t pml4 = uint64_t{image[ctx::PDP0_UDW]} << 32 | image[ctx::PDP0_LDW];
  if (ppgtt_) {
    // Shadow mode: the GPU walks the shadow of the guest's tables, brought
    // up to date (partial writes included) before the workload can run.
    auto root = ppgtt_->acquire(pml4);
    if (!root)
      return tl::unexpected(fmt::format("{}: PPGTT shadow of root 0x{:x}: {}", kEngineNames[e], pml4,
                                        to_string(root.error())));
    if (auto s = ppgtt_->sync(); !s) {
      ppgtt_->release(pml4);
      return tl::unexpected(fmt::format("{}: PPGTT shadow: {}", kEngineNames[e], to_string(s.error())));
    }
    w->pml4_gpa = pml4;
    w->shadow_root = *root;
    w->ppgtt_epoch = ppgtt_epoch_;
    w->domain = 0;
  }
  env.read_ppgtt = [this, pml4](uint64_t va, void* dst, size_t len) {
    return read_guest_ppgtt(mpt_, pml4, va, dst, len);
  };
  if (trace_)
    env.trace = [this, e](uint64_t gm, const CmdDesc& c, const uint32_t* d, uint32_t len) {
      fmt::print(trace_, "{} 0x{:09x} {:<22}", kEngineNames[e], gm, c.name);
      for (uint32_t i = 0; i < len && i < 8; ++i) fmt::print(trace_, " {:08x}", d[i]);
      fmt::print(trace_, "{}\n", len > 8 ? " ..." : "");
    };
  auto scan = CmdScanner::scan_ring(env, copy.data(), n, start + w->head);
  if (!scan) {
    for (auto& b : w->batches) port_->free_shadow(b);
    release_root(*w);
    const ScanViolation& v = scan.error();
    return tl::unexpected(fmt::format("{} at GM 0x{:x} (dword {}, 0x{:08x}): {}", kEngineNames[e], v.gm,
                                      v.offset, v.dword, v.reason));
  }
  w->scan = std::move(*scan);
  traps_.flips_emulated += w->scan.flips.size();
  for (const FlipCmd& f : w->scan.flips) {
    if (!in_slice(f.surface, kPageSize)) traps_.refused_surface++;
    auto d = display_.flip(f.pipe, f.stride, f.surface, f.async);
    for (int p = 0; p < kNumPipes; ++p) w->flip_events.de[p] |= d.de[p];
  }
  uint32_t* ring = sc.ring.dwords();
  std::copy(copy.begin(), copy.begin() + first, ring + w->head / 4);
  std::copy(copy.begin() + first, copy.end(), ring);
  sc.guest_head = tail;
  w->host_ctx_id = port_->new_host_ctx_id();
  w->desc = uint64_t{w->host_ctx_id} << 32 | sc.image.gm | kDescValid | kDescAddrModeLegacy64 | kDescPrivilege;
  return w;
}

// Only values go back: the ring head (in the guest's ring), context control,
// the timestamp and the engine state. Never an address of the host's.
void Vgpu::write_back(const Workload& w) {
  const uint32_t* sp = w.saved_image.data();
  const uint64_t page = w.lrca + kCtxRegStatePage * kPageSize;
  auto put = [&](uint32_t i, uint32_t v) { gm_access(page + i * 4, &v, 4, true); };
  put(ctx::RING_HEAD, w.tail);
  put(ctx::CONTEXT_CONTROL, sp[ctx::CONTEXT_CONTROL]);
  put(ctx::CTX_TIMESTAMP, sp[ctx::CTX_TIMESTAMP]);
  put(ctx::INSTPM, sp[ctx::INSTPM]);
  gm_access(page + ctx::GPR0 * 4, const_cast<uint32_t*>(sp + ctx::GPR0), 8 * kNumGprs, true);
}

// Strictly in the brief's order: the GPU's own seqno writes are done; then
// the context write-back, the CSB entries with their HWSP mirror, the
// virtual IIR, the MSI.
void Vgpu::complete(std::unique_ptr<Workload> w, bool ok) {
  std::lock_guard lk(mu_);
  const int e = w->engine;
  for (auto& b : w->batches) port_->free_shadow(b);
  release_root(*w);
  if (w->generation != generation_[e]) return;  // reset since: the guest forgot it
  inflight_[e]--;
  if (!ok) return failsafe(fmt::format("{}: the GPU hung running a workload", kEngineNames[e]));
  write_back(*w);
  const Display::Events& ev = w->flip_events;
  if (inflight_[e] || status_ != "ok") return display_events(ev);
  // The element is done once its ring is all run (a lite restore may have
  // queued more).
  const VirtualExeclist::GmWrite gw = guest_writer();
  int n = el_[e].complete(hwsp_gm(e), gw);
  display_events(ev);
  if (n) irq_.raise_gt(kGtCtxSwitch << gt_shift(e));
  if (el_[e].current()) start_workload(e);
}

}  // namespace gvt
