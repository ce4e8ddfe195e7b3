#include "gvt/vgpu_types.h"

#include <gtest/gtest.h>

#include "common/gen8/layout.h"

namespace gvt {
namespace {

GmResources beside_host() {
  GmResources t = total_resources();
  return {t.low_gm - kHostReserve.low_gm, t.high_gm - kHostReserve.high_gm,
          t.fences - kHostReserve.fences};
}

TEST(VgpuTypes, DefaultTypeFitsSevenVmsBesideTheHost) {
  EXPECT_EQ(instances_that_fit(default_type(), beside_host()), 7u);
}

TEST(VgpuTypes, ResourcesAreScaledToThisGpu) {
  GmResources t = total_resources();
  EXPECT_EQ(t.low_gm, gen8::kApertureSize);
  EXPECT_EQ(t.low_gm + t.high_gm, gen8::kGmSize);
  EXPECT_EQ(t.fences, 32u);
  for (const auto& ty : vgpu_types()) {
    SCOPED_TRACE(ty.name);
    EXPECT_GE(instances_that_fit(ty, beside_host()), 1u);
    EXPECT_EQ(ty.low_gm % gen8::kPageSize, 0u);
    EXPECT_EQ(ty.high_gm % gen8::kPageSize, 0u);
    EXPECT_EQ(ty.weight * (16 / ty.weight), 16u);  // upstream's 16 / n weights
  }
}

TEST(VgpuTypes, LookupByNameOrUpstreamName) {
  ASSERT_NE(find_type("A"), nullptr);
  EXPECT_EQ(find_type("GVTg_V5_4"), find_type("B"));
  EXPECT_EQ(find_type("nope"), nullptr);
}

TEST(VgpuTypes, FitIsBoundByTheScarcestResource) {
  const VgpuType& a = default_type();
  EXPECT_EQ(instances_that_fit(a, {a.low_gm * 3, a.high_gm * 10, a.fences * 10}), 3u);
  EXPECT_EQ(instances_that_fit(a, {a.low_gm * 10, a.high_gm * 2, a.fences * 10}), 2u);
  EXPECT_EQ(instances_that_fit(a, {a.low_gm * 10, a.high_gm * 10, a.fences}), 1u);
  EXPECT_EQ(instances_that_fit(a, {a.low_gm - 1, a.high_gm * 10, a.fences * 10}), 0u);
}

}  // namespace
}  // namespace gvt
