// A vGPU: the full virtual GPU a VM's native driver programs as if it were
// the hardware (upstream vgpu.c + mmio.c + handlers.c). It serves the VM's
// PCI config space and BAR0 (registers, the PV info page, the GGTT) from
// virtual state, shadows what the GPU walks, and reaches the physical GPU only
// through the host's driver (the host port).
#pragma once

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include <tl/expected.hpp>

#include "common/gen8/display_regs.h"
#include "driver/device.h"
#include "gvt/aperture_gm.h"
#include "gvt/cfg_space.h"
#include "gvt/execlist.h"
#include "gvt/ggtt_shadow.h"
#include "gvt/interrupt.h"
#include "gvt/ppgtt_shadow.h"
#include "gvt/pvinfo.h"
#include "gvt/vreg.h"
#include "gvt/workload.h"
#include "hv/bus.h"
#include "hv/mpt.h"
#include "hv/pci.h"

namespace gvt {

// Traps by kind, as the mediator classifies them.
struct Traps {
  uint64_t mmio = 0, ggtt = 0, pvinfo = 0, pagetable = 0;
  uint64_t aperture = 0;            // BAR2 accesses outside the slice (inside it there is no exit)
  uint64_t refused_aperture = 0;    // all of them: dropped writes, reads of 0
  uint64_t refused_fence = 0;       // fence index beyond the vGPU's, or a range outside its aperture
  uint64_t refused_surface = 0;     // DSPSURF outside the vGPU's GM
  uint64_t refused_submission = 0;  // ELSP writes without mediated submission
  uint64_t elsp = 0;                // ELSP dwords
  uint64_t workloads = 0;           // workloads submitted to the GPU
  uint64_t commands_scanned = 0, dwords_scanned = 0;
  uint64_t flips_emulated = 0;      // ring MI_DISPLAY_FLIPs, NOOPed and emulated
};

struct VgpuConfig {
  uint32_t id = 1;
  GmSlice slice;
  uint64_t ram_size = 0;
  uint64_t scratch_hpa = 0;  // the vGPU's own scratch page
  uint64_t bar0 = 0, bar2 = 0;
  uint32_t weight = 1;  // scheduling weight (the type's)
};

class Vgpu final : public hv::BusDevice, public hv::PciFunction, public SchedClient {
 public:
  // `relocate` moves BAR mappings (see VirtualConfig).
  Vgpu(const VgpuConfig& cfg, hv::Mpt& mpt, drv::Device& host, VirtualConfig::RelocateFn relocate);
  ~Vgpu() override;

  // Mediated submission: workloads go to `port`, and the GPU translates the
  // guest's PPGTT GPAs through second-stage domain `domain`. Without it an
  // ELSP write is refused ("submission not yet mediated").
  // `scan_nonpriv` also scans PPGTT batches; `trace`, if set, gets one line
  // per scanned command (the caller owns the file and outlives the vGPU).
  void attach_submission(SubmitPort* port, uint32_t domain, bool scan_nonpriv, std::FILE* trace);
  // Shadow PPGTT mode instead of the 2-stage domain: guest page tables are
  // write-protected and shadowed (ppgtt_shadow.h). `trace`, if set, gets one
  // line per shadow entry written.
  void attach_ppgtt_shadow(ShadowPageSource& pages, std::FILE* trace);
  // Null in 2-stage mode.
  const PpgttShadow* ppgtt_shadow() const { return ppgtt_.get(); }
  // A workload finished on the GPU (`ok`) or hung; on a dispatch thread.
  void complete(std::unique_ptr<Workload> w, bool ok) override;
  uint32_t sched_weight() const override { return cfg0_.weight; }
  std::string sched_name() const override { return "vgpu " + std::to_string(cfg0_.id); }

  // ---- BAR0 and config space, on the VM's vCPU thread ----
  void read(uint64_t offset, uint8_t* data, uint32_t len) override;
  void write(uint64_t offset, const uint8_t* data, uint32_t len) override;
  // Locked: the vblank timer reads the MSI capability through the interrupts.
  uint32_t cfg_read(uint32_t off, unsigned size) override;
  void cfg_write(uint32_t off, unsigned size, uint32_t v) override;

  // Called (on the vCPU thread) when the vGPU enters failsafe: the VM must
  // stop, its GPU state is no longer trustworthy.
  void set_failsafe_handler(std::function<void(const std::string&)> fn) { on_failsafe_ = std::move(fn); }

  // BAR2 outside the vGPU's aperture slice: every access exits here and is
  // refused. (The slice itself is a memslot: no exit.)
  hv::BusDevice& aperture_trap() { return aperture_trap_; }

  // The per-vGPU vblank (a host timer calls it at 60 Hz).
  void vblank();
  // The VM's screen: the primary plane of `pipe`, refused unless the whole
  // surface lies in the vGPU's own GM.
  tl::expected<gen8::Display::Scanout, std::string> plane(int pipe) const;

  // The third reset level, on VM reboot: everything, failsafe cleared. (The
  // guest asks for the other two through GDRST.) Gvt::reset_vgpu is the
  // whole reboot: this, then the wait for the vGPU's work to leave the GPU,
  // then drop_shadow_contexts().
  void reset_device_model();
  // The shadow contexts go with the guest contexts they mirrored (a new boot
  // reuses their addresses with fresh rings). Only when none of this vGPU's
  // workloads is queued or on the GPU: they point into their shadow context.
  // Their objects are kept for this vGPU's next shadows: the GPU accounts
  // work by the shadow context's address, which must not pass to another VM.
  void drop_shadow_contexts();

  // Snapshots: the vCPU and the vblank timer update these concurrently.
  Traps traps() const;
  GgttStats ggtt_stats() const;
  std::string status() const;
  uint64_t msis_injected() const;
  std::vector<RegDiff> register_diff() const;
  const VirtualConfig& config() const { return cfg_; }
  const GmSlice& slice() const { return cfg0_.slice; }
  uint32_t id() const { return cfg0_.id; }
  // The GM addresses of its shadow objects. The GPU accounts work by
  // context address, and every context this vGPU's work ran in is among
  // them (those a reboot retired too: a retired image may come back as a
  // ring); the rest account nothing.
  std::vector<uint32_t> shadow_contexts() const;
  uint64_t scratch_hpa() const { return cfg0_.scratch_hpa; }

 private:
  uint32_t reg_read(uint32_t off);
  void reg_write(uint32_t off, uint32_t v);
  void fence_write(uint32_t off, uint32_t v);
  void display_events(const gen8::Display::Events& ev);
  void reset_engines(uint32_t mask);  // guest GDRST of engines
  void reset_execlist(int e);
  void release_root(const Workload& w);
  void reset_ppgtt();
  void elsp_write(int e, uint32_t v);
  void start_workload(int e);
  tl::expected<std::unique_ptr<Workload>, std::string> build_workload(int e, const gen8::ElspElement& el);
  void write_back(const Workload& w);
  void failsafe(const std::string& why);
  uint64_t hwsp_gm(int e) const;
  // Guest memory by GM address, through the guest's GGTT view.
  bool gm_access(uint64_t gm, void* buf, size_t len, bool write);
  VirtualExeclist::GmWrite guest_writer();  // gm_access writes, for the virtual CSB
  void free_shadows();
  // Shadow contexts to retired_ (their objects kept for this vGPU).
  void drop_shadows_locked();
  // A retired shadow object of this size, else a new one from the port.
  tl::expected<drv::Bo, std::string> shadow_bo(uint64_t bytes);
  void reset_gt();                    // full GT reset: also the shadows and the PV page
  bool in_slice(uint64_t gm, uint64_t size) const;

  class ApertureTrap final : public hv::BusDevice {
   public:
    explicit ApertureTrap(Vgpu& v) : v_(v) {}
    void read(uint64_t offset, uint8_t* data, uint32_t len) override;
    void write(uint64_t offset, const uint8_t* data, uint32_t len) override;

   private:
    Vgpu& v_;
  };

  // Serializes the vCPU's traps, the vblank timer and the host's readers.
  mutable std::mutex mu_;
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
  ApertureTrap aperture_trap_{*this};
  std::function<void(const std::string&)> on_failsafe_;
  SubmitPort* port_ = nullptr;
  uint32_t domain_ = 0;
  bool scan_nonpriv_ = false;
  std::FILE* trace_ = nullptr;
  VirtualExeclist el_[gen8::kNumEngines];
  std::map<uint32_t, ShadowContext> shadows_[gen8::kNumEngines];  // by guest LRCA
  std::vector<drv::Bo> retired_;  // images and rings of shadows a reboot dropped
  uint32_t inflight_[gen8::kNumEngines] = {};
  // Bumped by every reset of the engine: a workload built before it is
  // stale, and its completion is dropped (the guest has forgotten it).
  uint32_t generation_[gen8::kNumEngines] = {};
  std::unique_ptr<PpgttShadow> ppgtt_;
  uint32_t ppgtt_epoch_ = 0;  // resets of ppgtt_ (each drops every root)
  // Set by the shadow's failsafe callback, which may run inside a trap the
  // vGPU lock does not cover; the next ELSP acts on it.
  std::atomic<bool> ppgtt_failed_{false};
  std::string ppgtt_error_;
};

}  // namespace gvt
