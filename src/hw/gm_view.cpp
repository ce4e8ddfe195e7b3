#include "hw/gm_view.h"

namespace hw {

tl::expected<GmView, WalkFault> GmView::map(AddressSpace& as, HostMemory& mem, uint64_t addr,
                                            uint64_t bytes) {
  GmView v;
  v.addr_ = addr;
  v.size_ = bytes;
  if (!bytes) return v;
  const uint64_t first = addr >> 12, last = (addr + bytes - 1) >> 12;
  if (addr + bytes < addr) return tl::unexpected(WalkFault{gen8::Fault::PageFault, addr});
  v.pages_.reserve(last - first + 1);
  for (uint64_t p = first; p <= last; ++p) {
    auto hpa = as.page(p << 12);
    if (!hpa) return tl::unexpected(hpa.error());
    uint8_t* host = mem.dma(*hpa, gen8::kPageSize);
    if (!host) return tl::unexpected(WalkFault{gen8::Fault::DmaRefused, p << 12});
    v.pages_.push_back(host);
  }
  return v;
}

}  // namespace hw
