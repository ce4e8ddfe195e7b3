// Interrupt virtualization (upstream interrupt.c): a vGPU's master, GT and
// display interrupt registers behave exactly as the hardware's (the same
// gen8::InterruptController, with its re-evaluation rules: writing the master
// enable, or clearing IIR while IIR & IER is still set, signals again, which
// is what keeps edge MSIs from being lost), and every signal becomes an MSI
// into the VM through the MPT, if the guest enabled MSI in its config space.
#pragma once

#include <cstdint>

#include "common/gen8/irq_regs.h"
#include "gvt/cfg_space.h"
#include "hv/mpt.h"

namespace gvt {

class VirtualInterrupts {
 public:
  VirtualInterrupts(hv::Mpt& mpt, const VirtualConfig& cfg) : mpt_(mpt), cfg_(cfg) {}
  bool owns(uint32_t offset) const { return regs_.owns(offset); }
  uint32_t read(uint32_t offset) const { return regs_.read(offset); }
  void write(uint32_t offset, uint32_t v) { signal(regs_.write(offset, v)); }
  // Events: vblank and flip-done now, completions and context switches later.
  void raise_gt(uint32_t bits) { signal(regs_.raise_gt(bits)); }
  void raise_de(int pipe, uint32_t bits) { signal(regs_.raise_de(pipe, bits)); }
  void reset_gt() { regs_.reset_gt(); }
  void reset() { regs_.reset(); }
  uint64_t injected() const { return injected_; }
  uint64_t suppressed() const { return suppressed_; }  // signals with MSI disabled

 private:
  void signal(bool msi) {
    if (!msi) return;
    if (!cfg_.msi_enabled()) {
      ++suppressed_;  // no INTx on this device: the event stays in IIR
      return;
    }
    ++injected_;
    mpt_.inject_msi(cfg_.msi_address(), cfg_.msi_data());
  }
  gen8::InterruptController regs_;
  hv::Mpt& mpt_;
  const VirtualConfig& cfg_;
  uint64_t injected_ = 0, suppressed_ = 0;
};

}  // namespace gvt
