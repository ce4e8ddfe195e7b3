#include "driver/pv.h"

namespace drv {

namespace {
constexpr uint32_t kPvInfoMagic = 0x78000;
constexpr uint64_t kVgtMagic = 0x4776544776544776ull;  // "vGTvGTvG"
}  // namespace

PvInfo pv_detect(Platform& p) {
  PvInfo info;
  uint64_t magic = p.mmio_read32(kPvInfoMagic) | uint64_t{p.mmio_read32(kPvInfoMagic + 4)} << 32;
  info.present = magic == kVgtMagic;
  return info;
}

}  // namespace drv
