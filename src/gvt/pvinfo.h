// The PV info page (upstream vgt_if at 0x78000) as a vGPU emulates it: the
// vGPU's identity, its two GM ranges and its fence count for the guest
// driver's ballooning, and the guest-to-host notifications. Reads outside the
// published fields return 0; writes other than the guest's fields are logged
// and dropped.
#pragma once

#include <cstdint>

#include "common/gen8/pvinfo.h"
#include "gvt/aperture_gm.h"

namespace gvt {

class PvInfoPage {
 public:
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
  void reset();  // repopulated on every reset

 private:
  uint32_t id_;
  GmSlice slice_;
  bool aware_ = false, display_ready_ = false;
  uint32_t last_g2v_ = 0;
  uint32_t cursor_hot_[2] = {~0u, ~0u};
  uint64_t pdp_[4] = {};
  uint64_t dropped_ = 0;
};

}  // namespace gvt
