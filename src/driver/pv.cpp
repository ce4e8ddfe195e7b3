#include "driver/pv.h"

#include "common/gen8/layout.h"
#include "common/gen8/pvinfo.h"
#include "driver/gm_alloc.h"

namespace drv {

namespace pvi = gen8::pvinfo;

PvInfo pv_detect(Platform& p) {
  PvInfo info;
  uint64_t magic = p.mmio_read32(pvi::MAGIC) | uint64_t{p.mmio_read32(pvi::MAGIC + 4)} << 32;
  if (magic != pvi::kMagic || (p.mmio_read32(pvi::VERSION_MAJOR) & 0xFFFF) < pvi::kVersionMajor)
    return info;
  info.present = true;
  info.vgt_id = p.mmio_read32(pvi::VGT_ID);
  info.caps = p.mmio_read32(pvi::VGT_CAPS);
  info.mappable_base = p.mmio_read32(pvi::MAPPABLE_BASE);
  info.mappable_size = p.mmio_read32(pvi::MAPPABLE_SIZE);
  info.hidden_base = p.mmio_read32(pvi::NONMAPPABLE_BASE);
  info.hidden_size = p.mmio_read32(pvi::NONMAPPABLE_SIZE);
  info.fences = p.mmio_read32(pvi::FENCE_NUM);
  return info;
}

Result<void> pv_balloon(const PvInfo& info, GmAllocator& gm) {
  if (!info.present) return {};
  using gen8::kApertureSize, gen8::kGmSize;
  // As upstream's i915_vgpu.c: the mappable range inside the aperture, the
  // hidden range above it, both inside the GM.
  if (!info.mappable_size || !info.hidden_size || info.mappable_base > kApertureSize ||
      info.mappable_size > kApertureSize - info.mappable_base || info.hidden_base < kApertureSize ||
      info.hidden_base > kGmSize || info.hidden_size > kGmSize - info.hidden_base ||
      (info.mappable_base | info.mappable_size | info.hidden_base | info.hidden_size) %
          gen8::kPageSize)
    return tl::unexpected(Error::BadArgument);
  const uint64_t map_end = info.mappable_base + info.mappable_size;
  const uint64_t hid_end = info.hidden_base + info.hidden_size;
  struct {
    uint64_t start, end;
  } balloons[] = {{0, info.mappable_base},
                  {map_end, kApertureSize},
                  {kApertureSize, info.hidden_base},
                  {hid_end, kGmSize}};
  for (const auto& b : balloons)
    if (b.end > b.start)
      if (auto r = gm.reserve(b.start, b.end - b.start); !r) return r;
  return {};
}

void pv_notify_ppgtt(Platform& p, const PvInfo& info, uint64_t pml4, bool create) {
  if (!info.present || !(info.caps & pvi::kCapFullPpgtt)) return;
  p.mmio_write32(pvi::pdp_lo(0), static_cast<uint32_t>(pml4));
  p.mmio_write32(pvi::pdp_hi(0), static_cast<uint32_t>(pml4 >> 32));
  p.mmio_write32(pvi::G2V_NOTIFY, create ? pvi::kG2vPpgttL4Create : pvi::kG2vPpgttL4Destroy);
}

}  // namespace drv
