// The PV info page (upstream vgt_if at 0x78000) as a vGPU emulates it: the
// vGPU's identity, its two GM ranges and its fence count for the guest
// driver's ballooning, and the guest-to-host notifications. Reads outside the
// published fields return 0; writes other than the guest's fields are logged
// and dropped.
#pragma once

#include <cstdint>
#include <functional>

#include "common/gen8/pvinfo.h"
#include "gvt/aperture_gm.h"

namespace gvt {

class PvInfoPage {
 public:
  // A 4-level PPGTT announced by the guest (g2v_notify L4 create or destroy,
  // its PML4 in pdp[0]), called on the vCPU thread that wrote the notify.
  using PpgttNotify = std::function<void(bool create, uint64_t pml4_gpa)>;

  PvInfoPage(uint32_t vgpu_id, const GmSlice& slice) : id_(vgpu_id), slice_(slice) {}
  static bool owns(uint32_t offset) {
    return offset >= gen8::pvinfo::kBase && offset < gen8::pvinfo::kBase + gen8::pvinfo::kSize;
  }
  uint32_t read(uint32_t offset);
  void write(uint32_t offset, uint32_t value);
  // A read of the page tells the guest driver is PV-aware (upstream's
  // pv_notified).
  bool guest_aware() const { return aware_; }
  bool display_ready() const { return display_ready_; }
  uint32_t last_g2v() const { return last_g2v_; }
  uint64_t pdp(int i) const { return pdp_[i]; }
  uint64_t dropped_writes() const { return dropped_; }
  void set_ppgtt_notify(PpgttNotify fn) { on_ppgtt_ = std::move(fn); }
  uint64_t ppgtt_creates() const { return creates_; }
  uint64_t ppgtt_destroys() const { return destroys_; }
  // Notifications we do not act on: 3-level PPGTTs (our GPU has only 4-level
  // ones), execlist contexts, unknown values.
  uint64_t ignored_notifications() const { return ignored_g2v_; }
  void reset();  // repopulated on every reset

 private:
  void notify(uint32_t g2v);

  uint32_t id_;
  GmSlice slice_;
  bool aware_ = false, display_ready_ = false;
  uint32_t last_g2v_ = 0;
  uint32_t cursor_hot_[2] = {~0u, ~0u};
  uint64_t pdp_[4] = {};
  uint64_t dropped_ = 0;
  uint64_t creates_ = 0, destroys_ = 0, ignored_g2v_ = 0;
  PpgttNotify on_ppgtt_;
};

}  // namespace gvt
