#include "gvt/vgpu.h"

#include <spdlog/spdlog.h>

#include <cstring>

#include "common/gen8/layout.h"

namespace gvt {

using namespace gen8;

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
      // Mediated submission is not built yet: the hardware is never touched
      // unchecked. (An 8-byte ELSP write is one element, as on the model.)
      traps_.refused_submission++;
      status_ = "error: submission not yet mediated";
      if (on_failsafe_) on_failsafe_(status_);
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
  return traps_;
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
}

void Vgpu::reset_gt() {
  // As upstream: registers below the interrupt block go back to golden;
  // display and interrupt state survive; the PV page is repopulated.
  regs_.reset_if([](const RegDesc& r) { return r.offset < reg::GEN8_MASTER_IRQ; });
  irq_.reset_gt();
  pv_.reset();
}

void Vgpu::reset_device_model() {
  std::lock_guard lk(mu_);
  regs_.reset();
  irq_.reset();
  display_.reset();
  ggtt_.reset();
  pv_.reset();
  for (uint32_t i = 0; i < cfg0_.slice.fences; ++i) host_.write_fence(cfg0_.slice.fence_base + i, 0);
  status_ = "ok";
}

}  // namespace gvt
