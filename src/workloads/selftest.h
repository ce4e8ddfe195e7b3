// The `selftest` workload's screen: a pure function of the vGPU id and the
// frame index, so the host can draw the frame a VM must be showing and
// compare checksums without trusting the guest.
#pragma once

#include <cstdint>

namespace wl {

// Fills a Frame2d::kWidth x kHeight XRGB8888 frame, tightly packed: a
// background colour per id, the id in big seven-segment digits, and a square
// that moves with the frame index.
void selftest_draw(uint32_t* pixels, uint32_t vgt_id, uint32_t frame);

}  // namespace wl
