// Execlist emulation (upstream execlist.c): one vGPU engine's submit port
// and its context status buffer. The same gen8::ExeclistSm the GPU model runs
// decides which element runs and which CSB events each submission and each
// completion produce, so the guest's driver sees the hardware's event
// sequence. Events land in the 6-entry virtual CSB registers and in the
// guest's HWSP mirror (entries, then the write pointer), as on hardware.
// Unlike hardware, an entry the guest has not read is never overwritten:
// the guest tells what it has read through the CSB pointer register's read
// pointer, and an event that would land on an unread entry waits until it
// does (up to kMaxDeferred events; past that the guest is not reading at
// all, and entries are overwritten as hardware would).
#pragma once

#include <cstdint>
#include <deque>
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
  // The guest's read pointer (RING_CONTEXT_STATUS_PTR bits 10:8): entries up
  // to it are read. Posts what waited for room; returns how many.
  int read_ptr_write(uint32_t rp, uint64_t hwsp_gm, const GmWrite& write);

  static constexpr size_t kMaxDeferred = 32;
  static constexpr uint32_t kMaxUnread = gen8::kCsbEntries - 1;

  uint64_t status() const { return sm_.status(); }
  uint64_t csb(uint32_t i) const { return csb_[i % gen8::kCsbEntries]; }
  uint32_t write_ptr() const { return wp_; }
  uint64_t events() const { return events_; }
  uint64_t deferred() const { return deferred_total_; }    // events that waited for the guest
  uint64_t overwritten() const { return overwritten_; }    // unread entries overwritten past the cap
  void reset();

 private:
  // Returns whether the event reached the CSB now.
  bool post(const gen8::CsbEvent& ev, uint64_t hwsp_gm, const GmWrite& write);
  void write_entry(const gen8::CsbEvent& ev, uint64_t hwsp_gm, const GmWrite& write);

  gen8::ExeclistSm sm_;
  uint64_t csb_[gen8::kCsbEntries] = {};
  uint32_t wp_ = gen8::kCsbPtrEmpty;
  uint32_t unread_ = 0;  // entries written since the guest's read pointer
  std::deque<gen8::CsbEvent> deferred_;
  uint64_t events_ = 0, deferred_total_ = 0, overwritten_ = 0;
};

}  // namespace gvt
