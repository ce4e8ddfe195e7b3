#include "gvt/vgpu_types.h"

#include <algorithm>
#include <array>

#include "common/gen8/layout.h"
#include "common/gen8/regs.h"

namespace gvt {

namespace {

constexpr std::array<VgpuType, 4> kTypes = {{
    {"A", "GVTg_V5_8", 64 * kMiB, 384 * kMiB, 4, 2, 1024, 768},
    {"B", "GVTg_V5_4", 128 * kMiB, 512 * kMiB, 4, 4, 1920, 1200},
    {"C", "GVTg_V5_2", 224 * kMiB, 1024 * kMiB, 4, 8, 1920, 1200},
    {"D", "GVTg_V5_1", 448 * kMiB, 2048 * kMiB, 4, 16, 1920, 1200},
}};

constexpr GmResources kTotal{gen8::kApertureSize, gen8::kGmSize - gen8::kApertureSize,
                             gen8::kNumFences};

constexpr uint32_t fit(const VgpuType& t, const GmResources& f) {
  uint64_t n = std::min({f.low_gm / t.low_gm, f.high_gm / t.high_gm, uint64_t{f.fences / t.fences}});
  return static_cast<uint32_t>(n);
}

constexpr GmResources minus(const GmResources& a, const GmResources& b) {
  return {a.low_gm - b.low_gm, a.high_gm - b.high_gm, a.fences - b.fences};
}

// The brief's requirement, checked at compile time: 7 default vGPUs beside
// the host.
static_assert(fit(kTypes[0], minus(kTotal, kHostReserve)) >= 7);

}  // namespace

std::span<const VgpuType> vgpu_types() { return kTypes; }

const VgpuType* find_type(std::string_view name) {
  for (const auto& t : kTypes)
    if (name == t.name || name == t.upstream) return &t;
  return nullptr;
}

const VgpuType& default_type() { return kTypes[0]; }

GmResources total_resources() { return kTotal; }

uint32_t instances_that_fit(const VgpuType& t, const GmResources& free) { return fit(t, free); }

}  // namespace gvt
