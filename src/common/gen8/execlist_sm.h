// The execlist submit port and its two slots, as a pure state machine: which
// context element runs, and which context status buffer (CSB) events each
// submission and each completion produces. The GPU model runs it for the
// hardware; the mediator runs the same machine for a vGPU, so a guest sees the
// same CSB event sequence in both places. Freestanding.
#pragma once

#include <cstdint>

#include "common/gen8/layout.h"

namespace gen8 {

struct ElspElement {
  uint32_t lo = 0;  // descriptor: valid, addressing mode, privilege, LRCA
  uint32_t hi = 0;  // context id
  constexpr bool valid() const { return (lo & kDescValid) != 0; }
  constexpr uint32_t lrca() const { return lo & kDescLrcaMask; }
  constexpr uint32_t ctx_id() const { return hi; }
  constexpr bool same_context(const ElspElement& o) const {
    return lrca() == o.lrca() && ctx_id() == o.ctx_id();
  }
};

struct CsbEvent {
  uint32_t status;
  uint32_t ctx_id;
};

class ExeclistSm {
 public:
  struct Submit {
    bool complete;     // four dwords have arrived: a submission was attempted
    bool accepted;     // refused when both slots are taken, or element 0 is invalid
    bool lite_restore; // element 0 continues the running context: re-read its tail
    int n_events;
    CsbEvent events[1];
  };

  // One dword written to ELSP. Writes arrive as element 1 high, element 1 low,
  // element 0 high, element 0 low; the fourth submits.
  constexpr Submit port_write(uint32_t v) {
    port_[3 - port_n_] = v;
    if (++port_n_ < 4) return Submit{false, false, false, 0, {}};
    port_n_ = 0;
    ElspElement e0{port_[0], port_[1]}, e1{port_[2], port_[3]};
    return submit(e0, e1);
  }

  // The element the engine should run, or nullptr when idle.
  constexpr const ElspElement* current() const {
    return running_.valid ? &running_.el[running_.index] : nullptr;
  }

  // The current element ran out of ring. Returns the number of events (<= 2).
  constexpr int complete(CsbEvent out[2]) {
    if (!running_.valid) return 0;
    const ElspElement& cur = running_.el[running_.index];
    if (running_.index == 0 && running_.el[1].valid()) {
      out[0] = {kCsbElementSwitch | kCsbComplete, cur.ctx_id()};
      running_.index = 1;
      return 1;
    }
    out[0] = {kCsbComplete | kCsbActiveToIdle, cur.ctx_id()};
    running_ = Slot{};
    if (!pending_.valid) return 1;
    running_ = pending_;
    pending_ = Slot{};
    out[1] = {kCsbIdleToActive, running_.el[0].ctx_id()};
    return 2;
  }

  // RING_EXECLIST_STATUS (low dword | high dword << 32).
  constexpr uint64_t status() const {
    uint32_t lo = 0, hi = 0;
    if (running_.valid) {
      lo |= running_.index ? kElStatCurrentPtr : 0;
      lo |= running_.el[0].valid() ? kElStatEl0Valid : 0;
      lo |= running_.el[1].valid() ? kElStatEl1Valid : 0;
      lo |= running_.index ? kElStatEl1Active : kElStatEl0Active;
      hi = running_.el[running_.index].ctx_id();
    }
    lo |= pending_.valid ? kElStatQueueFull : 0;
    return lo | static_cast<uint64_t>(hi) << 32;
  }

  constexpr void reset() { *this = ExeclistSm{}; }

 private:
  struct Slot {
    ElspElement el[2];
    int index = 0;
    bool valid = false;
  };

  constexpr Submit submit(const ElspElement& e0, const ElspElement& e1) {
    Submit r{true, false, false, 0, {}};
    if (!e0.valid()) return r;
    Slot s{{e0, e1}, 0, true};
    if (!running_.valid) {
      running_ = s;
      r.events[r.n_events++] = {kCsbIdleToActive, e0.ctx_id()};
    } else if (e0.same_context(running_.el[running_.index])) {
      r.events[r.n_events++] = {kCsbPreempted | kCsbLiteRestore,
                                running_.el[running_.index].ctx_id()};
      running_ = s;
      r.lite_restore = true;
    } else if (!pending_.valid) {
      pending_ = s;
    } else {
      return r;
    }
    r.accepted = true;
    return r;
  }

  uint32_t port_[4] = {};
  int port_n_ = 0;
  Slot running_, pending_;
};

}  // namespace gen8
