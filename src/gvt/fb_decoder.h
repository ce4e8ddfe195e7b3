// The framebuffer decoder (upstream fb_decoder.c): a VM's screen for the
// host, read from the vGPU's virtual primary-plane registers and then through
// the physical GGTT, exactly the pages the display engine would scan out. A
// surface outside the vGPU's own GM is refused.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <tl/expected.hpp>

#include "driver/device.h"
#include "gvt/vgpu.h"

namespace gvt {

struct Framebuffer {
  uint32_t width = 0, height = 0;
  std::vector<uint32_t> pixels;  // XRGB8888, row-major, tightly packed
};

tl::expected<Framebuffer, std::string> decode_fb(const Vgpu& v, drv::Device& host, int pipe);

}  // namespace gvt
