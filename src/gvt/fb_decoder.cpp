#include "gvt/fb_decoder.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstring>

#include "common/gen8/layout.h"

namespace gvt {

using gen8::kPageSize;

tl::expected<Framebuffer, std::string> decode_fb(const Vgpu& v, drv::Device& host, int pipe) {
  auto plane = v.plane(pipe);
  if (!plane) return tl::unexpected(plane.error());
  Framebuffer fb{plane->width, plane->height,
                 std::vector<uint32_t>(size_t{plane->width} * plane->height)};
  for (uint32_t y = 0; y < fb.height; ++y) {
    auto* row = reinterpret_cast<uint8_t*>(&fb.pixels[size_t{y} * fb.width]);
    uint64_t gm = plane->surface + uint64_t{y} * plane->stride;
    for (uint64_t done = 0, n; done < fb.width * 4ull; done += n) {
      uint64_t at = gm + done;
      n = std::min<uint64_t>(fb.width * 4ull - done, kPageSize - at % kPageSize);
      uint64_t pte = host.read_ggtt(at / kPageSize);
      if (!(pte & gen8::kPtePresent))
        return tl::unexpected(fmt::format("the plane's page at GM 0x{:x} is not mapped", at));
      auto* page = static_cast<const uint8_t*>(host.platform().phys_to_cpu(pte & gen8::kPteAddrMask));
      std::memcpy(row + done, page + at % kPageSize, n);
    }
  }
  return fb;
}

}  // namespace gvt
