#include "hw/gpu.h"

#include <spdlog/spdlog.h>

#include <chrono>

#include "hw/engine.h"
#include "hw/gtt_walk.h"

namespace hw {

using namespace gen8;

namespace {
// LRI/LRM targets must be engine state kept in the context image; otherwise
// one context's register writes would reach the next context.
constexpr bool cmd_regs_in_context() {
  for (const auto& r : kRegs)
    if ((r.flags & kCmd) && !(r.scope == Scope::Engine && (r.flags & kInCtx))) return false;
  return true;
}
static_assert(cmd_regs_in_context());

uint64_t steady_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

bool in_ggtt(uint64_t off) { return off >= kGgttOffset && off < kGgttOffset + kGgttEntries * 8; }
}  // namespace

tl::expected<std::unique_ptr<Gpu>, std::string> Gpu::create(const GpuConfig& cfg) {
  std::unique_ptr<Gpu> g(new Gpu());
  g->cfg_ = cfg;
  auto mem = HostMemory::create(cfg.host_mem_bytes);
  if (!mem) return tl::unexpected("host memory: " + mem.error());
  g->mem_ = std::move(*mem);
  auto ap = ApertureWindow::create(g->mem_->fd(), g->mem_->size());
  if (!ap) return tl::unexpected("aperture: " + ap.error());
  g->aperture_ = std::move(*ap);
  g->ggtt_.reset(new std::atomic<uint64_t>[kGgttEntries]());
  g->display_ = std::make_unique<gen8::Display>(g->regs_);
  g->boot_ns_ = steady_ns();
  for (int e = 0; e < kNumEngines; ++e) g->engines_[e] = std::make_unique<Engine>(*g, e);
  if (cfg.vblank_timer) g->timer_ = std::thread([p = g.get()] { p->vblank_thread(); });
  return g;
}

Gpu::~Gpu() {
  timer_stop_ = true;
  if (timer_.joinable()) timer_.join();
  for (auto& e : engines_) e.reset();
}

uint64_t Gpu::timestamp() const { return (steady_ns() - boot_ns_) / 80; }

// ---- PCI config ----

uint32_t Gpu::cfg_read(uint32_t off, unsigned size) {
  std::lock_guard lk(mu_);
  return pci_.read(off, size);
}

void Gpu::cfg_write(uint32_t off, unsigned size, uint32_t value) {
  std::lock_guard lk(mu_);
  pci_.write(off, size, value);
}

// ---- BAR0 ----

uint64_t Gpu::mmio_read(uint64_t off, unsigned size) {
  if ((size != 4 && size != 8) || off % 4 || off + size > kBar0Size) {
    std::lock_guard lk(mu_);
    stats_.refused++;
    return 0;
  }
  if (in_ggtt(off)) {
    {
      std::lock_guard lk(mu_);
      stats_.ggtt_reads++;
    }
    uint64_t idx = (off - kGgttOffset) / 8, v = ggtt_entry(idx);
    if (size == 8) return off % 8 ? 0 : v;
    return static_cast<uint32_t>(off % 8 ? v >> 32 : v);
  }
  std::lock_guard lk(mu_);
  stats_.reads++;
  return reg_read(static_cast<uint32_t>(off), size);
}

void Gpu::mmio_write(uint64_t off, unsigned size, uint64_t value) {
  if ((size != 4 && size != 8) || off % size || off + size > kBar0Size) {
    std::lock_guard lk(mu_);
    stats_.refused++;
    return;
  }
  if (in_ggtt(off)) {
    {
      std::lock_guard lk(mu_);
      stats_.ggtt_writes++;
    }
    uint64_t idx = (off - kGgttOffset) / 8, pte = value;
    if (size == 4) {
      uint64_t old = ggtt_entry(idx);
      pte = off % 8 ? (old & 0xFFFFFFFFull) | value << 32 : (old & ~0xFFFFFFFFull) | (value & 0xFFFFFFFFull);
    }
    ggtt_write_entry(idx, pte);
    return;
  }
  if (off == reg::GEN6_GDRST) {
    {
      std::lock_guard lk(mu_);
      stats_.writes++;
    }
    uint32_t v = static_cast<uint32_t>(value), mask = 0;
    if (v & kGdrstFull) mask = 3;
    if (v & kGdrstRender) mask |= 1;
    if (v & kGdrstBlt) mask |= 2;
    if (mask) reset_engines(mask | (v & kGdrstFull ? 0x100 : 0));
    return;
  }
  bool msi = false;
  {
    std::lock_guard lk(mu_);
    stats_.writes++;
    uint32_t o = static_cast<uint32_t>(off);
    int i = find_reg(o);
    if (size == 8 && i >= 0 && kRegs[i].scope == Scope::Engine &&
        o - kEngineBase[kRegs[i].instance] == reg::RING_ELSP) {
      // An 8-byte ELSP write carries one element (deviation: saves 2 exits).
      msi |= reg_write(o, static_cast<uint32_t>(value >> 32));
      msi |= reg_write(o, static_cast<uint32_t>(value));
    } else if (size == 8) {
      msi |= reg_write(o, static_cast<uint32_t>(value));
      msi |= reg_write(o + 4, static_cast<uint32_t>(value >> 32));
    } else {
      msi |= reg_write(o, static_cast<uint32_t>(value));
    }
  }
  if (msi) send_msi();
}

uint64_t Gpu::reg_read(uint32_t off, unsigned size) {
  if (size == 8) return reg_read(off, 4) | reg_read(off + 4, 4) << 32;
  int i = find_reg(off);
  if (i < 0) {
    stats_.unknown_reads++;
    spdlog::debug("gpu: read of unknown register 0x{:x}", off);
    return 0;
  }
  const RegDesc& r = kRegs[i];
  if (r.flags & kWriteOnly) return 0;
  if (irq_.owns(off)) return irq_.read(off);
  if (display_->owns(off)) return display_->read(off);
  if (r.scope == Scope::Engine) {
    const Engine& e = *engines_[r.instance];
    uint32_t rel = off - kEngineBase[r.instance];
    if (rel == reg::RING_CONTEXT_STATUS_PTR) return (regs_.get(off) & gen8::kCsbReadPtrMask) | e.csb_ptr();
    if (rel == reg::RING_RESET_CTL) {
      uint32_t v = regs_.get(off);
      return v & kResetCtlRequest ? v | kResetCtlReady : v;
    }
    if (r.flags & kLive) return e.read_live(rel, (off - r.offset) / 4);
  }
  if (off == reg::GEN6_GDRST) return 0;  // resets complete synchronously
  return regs_.get(off);
}

bool Gpu::reg_write(uint32_t off, uint32_t v) {
  int i = find_reg(off);
  if (i < 0) {
    stats_.unknown_writes++;
    spdlog::debug("gpu: write of unknown register 0x{:x} = 0x{:x}", off, v);
    return false;
  }
  const RegDesc& r = kRegs[i];
  if (irq_.owns(off)) return irq_.write(off, v);
  if (display_->owns(off)) return de_events(display_->write(off, v));
  if (r.scope == Scope::Engine) {
    uint32_t rel = off - kEngineBase[r.instance];
    if (rel == reg::RING_ELSP) return engines_[r.instance]->elsp_write(v);
    // Live engine registers are context state: written through the context
    // image or by LRI, never by MMIO.
    if ((r.flags & kLive) && rel != reg::RING_CONTEXT_STATUS_PTR) return false;
  }
  if (off == reg::GFX_FLSH_CNTL_GEN6) return false;  // no GTT TLB: entries apply at once
  regs_.set(off, apply_write(r, regs_.get(off), v));
  return false;
}

void Gpu::reset_engines(uint32_t mask) {
  std::lock_guard rl(reset_mu_);
  std::unique_lock lk(mu_);
  for (int e = 0; e < kNumEngines; ++e)
    if (mask & (1u << e)) engines_[e]->stop_and_wait(lk);
  for (int e = 0; e < kNumEngines; ++e) {
    if (!(mask & (1u << e))) continue;
    engines_[e]->reset_locked();
    regs_.reset_if([e](const RegDesc& r) { return r.scope == Scope::Engine && r.instance == e; });
  }
  if (mask & 0x100) {
    irq_.reset_gt();
    regs_.reset_if([](const RegDesc& r) {
      return r.scope == Scope::Global && !(r.offset >= reg::GEN8_MASTER_IRQ && r.offset < 0x45000);
    });
  }
  spdlog::info("gpu: reset of engine mask 0x{:x} complete", mask);
}

// ---- GGTT and aperture ----

tl::expected<uint64_t, Fault> Gpu::ggtt_translate(uint64_t gm) const {
  if (gm >= kGmSize) return tl::unexpected(Fault::PageFault);
  uint64_t pte = ggtt_entry(gm / kPageSize);
  if (!(pte & kPtePresent)) return tl::unexpected(Fault::PageFault);
  uint64_t phys = (pte & kPteAddrMask) | (gm & (kPageSize - 1));
  if (auto dev = device_domain()) {
    auto t = dev->translate(phys);
    if (!t) return tl::unexpected(Fault::DmaRefused);
    phys = *t;
  }
  if (!mem_->dma(phys, 1)) return tl::unexpected(Fault::DmaRefused);
  return phys;
}

void Gpu::ggtt_write_entry(uint64_t index, uint64_t pte) {
  if (index >= kGgttEntries) return;
  ggtt_[index].store(pte, std::memory_order_relaxed);
  if (index < kApertureSize / kPageSize) ggtt_apply_aperture(index);
}

void Gpu::ggtt_apply_aperture(uint64_t index) {
  std::optional<uint64_t> hpa;
  if (auto t = ggtt_translate(index * kPageSize)) hpa = *t;
  aperture_->map_page(index, hpa);
}

// ---- domains ----

uint32_t Gpu::add_domain(std::shared_ptr<const Domain> d) {
  std::lock_guard lk(dom_mu_);
  domains_.push_back(std::move(d));
  return static_cast<uint32_t>(domains_.size());
}

void Gpu::remove_domain(uint32_t id) {
  std::lock_guard lk(dom_mu_);
  if (id >= 1 && id <= domains_.size()) domains_[id - 1].reset();
}

std::shared_ptr<const Domain> Gpu::domain(uint32_t id) const {
  std::lock_guard lk(dom_mu_);
  if (id < 1 || id > domains_.size()) return nullptr;
  return domains_[id - 1];
}

void Gpu::set_device_domain(uint32_t id) {
  auto d = domain(id);
  {
    std::lock_guard lk(dom_mu_);
    device_domain_ = std::move(d);
  }
  // The aperture window follows the new translation.
  for (uint64_t i = 0; i < kApertureSize / kPageSize; ++i)
    if (ggtt_entry(i) & kPtePresent) ggtt_apply_aperture(i);
}

std::shared_ptr<const Domain> Gpu::device_domain() const {
  std::lock_guard lk(dom_mu_);
  return device_domain_;
}

// ---- interrupts and display ----

bool Gpu::raise_gt_locked(int engine, uint32_t bits) {
  return irq_.raise_gt(bits << gt_shift(engine));
}

bool Gpu::de_events(const gen8::Display::Events& ev) {
  bool msi = false;
  for (int p = 0; p < kNumPipes; ++p)
    if (ev.de[p]) msi |= irq_.raise_de(p, ev.de[p]);
  return msi;
}

bool Gpu::flip_locked(int pipe, uint32_t stride, uint32_t surface, bool async) {
  return de_events(display_->flip(pipe, stride, surface, async));
}

void Gpu::set_msi_handler(std::function<void(uint64_t, uint32_t)> fn) {
  std::lock_guard lk(msi_mu_);
  msi_fn_ = std::move(fn);
}

void Gpu::send_msi() {
  uint64_t addr;
  uint32_t data;
  {
    std::lock_guard lk(mu_);
    if (!pci_.msi_enabled()) return;  // no INTx in this model: the event stays in IIR
    addr = pci_.msi_address();
    data = pci_.msi_data();
  }
  msis_++;
  std::lock_guard lk(msi_mu_);
  if (msi_fn_) msi_fn_(addr, data);
}

void Gpu::vblank() {
  bool msi;
  {
    std::lock_guard lk(mu_);
    msi = de_events(display_->vblank());
  }
  if (msi) send_msi();
}

void Gpu::vblank_thread() {
  using namespace std::chrono;
  auto next = steady_clock::now();
  while (!timer_stop_) {
    next += microseconds(16667);
    while (!timer_stop_ && steady_clock::now() < next) std::this_thread::sleep_for(milliseconds(1));
    if (!timer_stop_) vblank();
  }
}

tl::expected<Frame, std::string> Gpu::scanout(int pipe) {
  gen8::Display::Scanout s;
  {
    std::lock_guard lk(mu_);
    auto r = display_->scanout(pipe);
    if (!r) return tl::unexpected(r.error());
    s = *r;
  }
  Frame f{s.width, s.height, std::vector<uint32_t>(size_t{s.width} * s.height)};
  AddressSpace as = AddressSpace::ggtt(*this);
  for (uint32_t y = 0; y < s.height; ++y) {
    auto* row = reinterpret_cast<uint8_t*>(&f.pixels[size_t{y} * s.width]);
    auto r = as.pieces(s.surface + uint64_t{y} * s.stride, s.width * 4ull,
                       [&](uint64_t hpa, uint64_t done, uint64_t n) {
                         return mem_->dma_read(hpa, row + done, n);
                       });
    if (!r) return tl::unexpected(fmt::format("scanout: surface page 0x{:x} is not readable", r.error().address));
  }
  return f;
}

// ---- accounting ----

void Gpu::account_locked(uint32_t lrca, const ContextCounters& d) {
  auto& c = counters_[lrca];
  c.commands += d.commands;
  c.pixels += d.pixels;
  c.busy_ns += d.busy_ns;
  c.faults += d.faults;
}

ContextCounters Gpu::counters(uint32_t lrca) const {
  std::lock_guard lk(mu_);
  auto it = counters_.find(lrca);
  return it == counters_.end() ? ContextCounters{} : it->second;
}

MmioStats Gpu::mmio_stats() const {
  std::lock_guard lk(mu_);
  return stats_;
}

EngineFault Gpu::last_fault(int engine) const {
  std::lock_guard lk(mu_);
  return engines_[engine]->fault_locked();
}

uint64_t Gpu::lri_count(int engine, uint32_t reg) const { return engines_[engine]->lri_count(reg); }

bool Gpu::engine_idle(int engine) const {
  std::lock_guard lk(mu_);
  return engines_[engine]->idle_locked();
}

}  // namespace hw
