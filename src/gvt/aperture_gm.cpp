#include "gvt/aperture_gm.h"

#include <fmt/format.h>

#include <bit>

#include "common/gen8/layout.h"
#include "common/gen8/regs.h"

namespace gvt {

namespace {
constexpr uint32_t fence_mask(uint32_t base, uint32_t n) {
  return (n >= 32 ? ~0u : ((1u << n) - 1)) << base;
}
}  // namespace

GmPartition::GmPartition() {
  low_.init(0, gen8::kApertureSize);
  high_.init(gen8::kApertureSize, gen8::kGmSize);
  host_ = GmSlice{0, kHostReserve.low_gm, gen8::kApertureSize, kHostReserve.high_gm, 0,
                  kHostReserve.fences};
  low_.reserve(host_.low_base, host_.low_size);
  high_.reserve(host_.high_base, host_.high_size);
  fences_used_ = fence_mask(0, host_.fences);
}

tl::expected<GmSlice, std::string> GmPartition::allocate(const VgpuType& t) {
  GmResources f = free();
  auto refuse = [&] {
    return tl::unexpected(fmt::format(
        "a vGPU of type {} needs {} MiB of aperture, {} MiB of hidden GM and {} fences, but only "
        "{} MiB, {} MiB and {} fences are free",
        t.name, t.low_gm >> 20, t.high_gm >> 20, t.fences, f.low_gm >> 20, f.high_gm >> 20,
        f.fences));
  };
  uint32_t fence_base = 0;
  while (fence_base + t.fences <= gen8::kNumFences && (fences_used_ & fence_mask(fence_base, t.fences)))
    ++fence_base;
  if (fence_base + t.fences > gen8::kNumFences) return refuse();
  auto low = low_.alloc(t.low_gm, gen8::kPageSize, 0, gen8::kApertureSize);
  if (!low) return refuse();
  auto high = high_.alloc(t.high_gm, gen8::kPageSize, gen8::kApertureSize, gen8::kGmSize);
  if (!high) {
    low_.free(*low, t.low_gm);
    return refuse();
  }
  fences_used_ |= fence_mask(fence_base, t.fences);
  return GmSlice{*low, t.low_gm, *high, t.high_gm, fence_base, t.fences};
}

void GmPartition::release(const GmSlice& s) {
  low_.free(s.low_base, s.low_size);
  high_.free(s.high_base, s.high_size);
  fences_used_ &= ~fence_mask(s.fence_base, s.fences);
}

GmResources GmPartition::free() const {
  return {low_.free_bytes(), high_.free_bytes(),
          static_cast<uint32_t>(gen8::kNumFences - std::popcount(fences_used_))};
}

}  // namespace gvt
