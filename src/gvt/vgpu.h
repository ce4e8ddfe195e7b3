// A vGPU: the full virtual GPU a VM's native driver programs as if it were
// the hardware (upstream vgpu.c + mmio.c + handlers.c). It serves the VM's
// PCI config space and BAR0 (registers, the PV info page, the GGTT) from
// virtual state, shadows what the GPU walks, and reaches the physical GPU only
// through the host's driver (the host port).
#pragma once

#include <cstdint>
#include <string>

#include <tl/expected.hpp>

#include "common/gen8/display_regs.h"
#include "driver/device.h"
#include "gvt/aperture_gm.h"
#include "gvt/cfg_space.h"
#include "gvt/ggtt_shadow.h"
#include "gvt/interrupt.h"
#include "gvt/pvinfo.h"
#include "gvt/vreg.h"
#include "hv/bus.h"
#include "hv/mpt.h"
#include "hv/pci.h"

namespace gvt {

// Traps by kind, as the mediator classifies them.
struct Traps {
  uint64_t mmio = 0, ggtt = 0, pvinfo = 0, pagetable = 0;
  uint64_t refused_fence = 0;       // fence index beyond the vGPU's, or a range outside its aperture
  uint64_t refused_submission = 0;  // ELSP writes before mediated submission exists
};

struct VgpuConfig {
  uint32_t id = 1;
  GmSlice slice;
  uint64_t ram_size = 0;
  uint64_t scratch_hpa = 0;  // the vGPU's own scratch page
  uint64_t bar0 = 0, bar2 = 0;
};

class Vgpu final : public hv::BusDevice, public hv::PciFunction {
 public:
  // `relocate` moves BAR mappings (see VirtualConfig).
  Vgpu(const VgpuConfig& cfg, hv::Mpt& mpt, drv::Device& host, VirtualConfig::RelocateFn relocate);

  // ---- BAR0 and config space, on the VM's vCPU thread ----
  void read(uint64_t offset, uint8_t* data, uint32_t len) override;
  void write(uint64_t offset, const uint8_t* data, uint32_t len) override;
  uint32_t cfg_read(uint32_t off, unsigned size) override { return cfg_.read(off, size); }
  void cfg_write(uint32_t off, unsigned size, uint32_t v) override { cfg_.write(off, size, v); }

  // The per-vGPU vblank (a host timer calls it at 60 Hz).
  void vblank();
  // The VM's screen: the primary plane of `pipe`, refused unless the whole
  // surface lies in the vGPU's own GM.
  tl::expected<gen8::Display::Scanout, std::string> plane(int pipe) const;

  // The three reset levels.
  void reset_engines(uint32_t mask);  // guest GDRST of engines
  void reset_gt();                    // full GT reset: also the shadows and the PV page
  void reset_device_model();          // VM reboot: everything, failsafe cleared

  const Traps& traps() const { return traps_; }
  const GgttStats& ggtt_stats() const { return ggtt_.stats(); }
  const std::string& status() const { return status_; }
  const VirtualConfig& config() const { return cfg_; }
  std::vector<RegDiff> register_diff() const { return regs_.diff_golden(); }
  const GmSlice& slice() const { return cfg0_.slice; }

 private:
  uint32_t reg_read(uint32_t off);
  void reg_write(uint32_t off, uint32_t v);
  void fence_write(uint32_t off, uint32_t v);
  void display_events(const gen8::Display::Events& ev);
  bool in_slice(uint64_t gm, uint64_t size) const;

  VgpuConfig cfg0_;
  hv::Mpt& mpt_;
  drv::Device& host_;
  VirtualConfig cfg_;
  VirtualRegs regs_;
  VirtualInterrupts irq_;
  gen8::Display display_;
  GgttShadow ggtt_;
  PvInfoPage pv_;
  Traps traps_;
  std::string status_ = "ok";
};

}  // namespace gvt
