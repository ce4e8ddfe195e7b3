// Modeset and page flips on one pipe's primary plane. Async flips take one
// MMIO write and never wait for vblank; sync flips wait for flip-done.
#pragma once

#include <cstdint>

#include "driver/device.h"

namespace drv {

struct Mode {
  uint32_t width = 1024, height = 768;
};

// An MI_DISPLAY_FLIP for the ring.
struct FlipRequest {
  uint32_t plane, stride, surface;
  bool async;
};

class Display {
 public:
  Result<void> modeset(Device& dev, int pipe, const Mode& mode, const Bo& fb, bool async);
  // Flips by MMIO now (sync flips wait for flip-done).
  Result<void> flip(const Bo& fb);
  // The same flip for the ring, executed after the work before it.
  FlipRequest flip_request(const Bo& fb) const;
  uint32_t stride() const { return mode_.width * 4; }
  bool async() const { return async_; }

 private:
  Device* dev_ = nullptr;
  int pipe_ = 0;
  Mode mode_;
  bool async_ = true;
};

}  // namespace drv
