#include "gvt/cfg_space.h"

#include <spdlog/spdlog.h>

#include "common/gen8/layout.h"

namespace gvt {

namespace {
constexpr uint32_t kBarOff[2] = {gen8::pci::BAR0, gen8::pci::BAR2};
constexpr uint64_t kBarSize[2] = {gen8::kBar0Size, gen8::kApertureSize};
}  // namespace

VirtualConfig::VirtualConfig(uint64_t ram_size, uint64_t bar0_base, uint64_t bar2_base,
                             RelocateFn relocate)
    : ram_size_(ram_size), relocate_(std::move(relocate)), mapped_{bar0_base, bar2_base} {
  set_bar(0, bar0_base);
  set_bar(1, bar2_base);
}

void VirtualConfig::set_bar(int i, uint64_t base) {
  cfg_.write(kBarOff[i], 4, static_cast<uint32_t>(base));
  cfg_.write(kBarOff[i] + 4, 4, static_cast<uint32_t>(base >> 32));
}

void VirtualConfig::write(uint32_t off, unsigned size, uint32_t v) {
  cfg_.write(off, size, v);
  // BARs are sized and moved with decode off; a move takes effect when
  // decode is (or stays) on.
  if (!cfg_.mem_enabled()) return;
  for (int i = 0; i < 2; ++i) {
    uint64_t now = i == 0 ? cfg_.bar0() : cfg_.bar2();
    if (now == mapped_[i]) continue;
    bool overlaps_ram = now < ram_size_;
    bool overflows = now + kBarSize[i] < now;
    if (overlaps_ram || overflows || !relocate_(i, mapped_[i], now)) {
      ++refused_;
      spdlog::warn("vgpu: BAR{} relocation to 0x{:x} refused", i == 0 ? 0 : 2, now);
      set_bar(i, mapped_[i]);
      continue;
    }
    mapped_[i] = now;
  }
}

}  // namespace gvt
