// Execlist emulation (upstream execlist.c): one vGPU engine's submit port
// and its context status buffer. The same gen8::ExeclistSm the GPU model runs
// decides which element runs and which CSB events each submission and each
// completion produce, so the guest's driver sees the hardware's event
// sequence. Events land in the 6-entry virtual CSB registers and in the
// guest's HWSP mirror (entries, then the write pointer), as on hardware.
#pragma once

#include <cstdint>
#include <functional>

#include "common/gen8/execlist_sm.h"

namespace gvt {

class VirtualExeclist {
 public:
  // Writes guest memory at a GM address through the vGPU's GGTT view.
  using GmWrite = std::function<bool(uint64_t gm, const void* src, size_t len)>;

  // One ELSP dword; a completed submission posts its events to the HWSP at
  // `hwsp_gm`. Returns the state machine's verdict.
  gen8::ExeclistSm::Submit port_write(uint32_t v, uint64_t hwsp_gm, const GmWrite& write);
  // The running element finished: posts its events; returns how many.
  int complete(uint64_t hwsp_gm, const GmWrite& write);
  const gen8::ElspElement* current() const { return sm_.current(); }

  uint64_t status() const { return sm_.status(); }
  uint64_t csb(uint32_t i) const { return csb_[i % gen8::kCsbEntries]; }
  uint32_t write_ptr() const { return wp_; }
  uint64_t events() const { return events_; }
  void reset();

 private:
  void post(const gen8::CsbEvent& ev, uint64_t hwsp_gm, const GmWrite& write);

  gen8::ExeclistSm sm_;
  uint64_t csb_[gen8::kCsbEntries] = {};
  uint32_t wp_ = gen8::kCsbPtrEmpty;
  uint64_t events_ = 0;
};

}  // namespace gvt
