#include "gvt/aperture_gm.h"

#include <gtest/gtest.h>

#include <vector>

#include "common/gen8/layout.h"

namespace gvt {
namespace {

bool overlap(uint64_t a, uint64_t as, uint64_t b, uint64_t bs) { return a < b + bs && b < a + as; }

void expect_disjoint(const std::vector<GmSlice>& s) {
  for (size_t i = 0; i < s.size(); ++i)
    for (size_t j = i + 1; j < s.size(); ++j) {
      EXPECT_FALSE(overlap(s[i].low_base, s[i].low_size, s[j].low_base, s[j].low_size));
      EXPECT_FALSE(overlap(s[i].high_base, s[i].high_size, s[j].high_base, s[j].high_size));
      EXPECT_FALSE(overlap(s[i].fence_base, s[i].fences, s[j].fence_base, s[j].fences));
    }
}

TEST(GmPartition, SevenDefaultVgpusBesideTheHostThenAClearRefusal) {
  GmPartition p;
  std::vector<GmSlice> all{p.host()};
  for (int i = 0; i < 7; ++i) {
    auto s = p.allocate(default_type());
    ASSERT_TRUE(s) << s.error();
    EXPECT_LE(s->low_base + s->low_size, gen8::kApertureSize);
    EXPECT_GE(s->high_base, gen8::kApertureSize);
    EXPECT_LE(s->high_base + s->high_size, gen8::kGmSize);
    all.push_back(*s);
  }
  expect_disjoint(all);
  auto eighth = p.allocate(default_type());
  ASSERT_FALSE(eighth);
  EXPECT_NE(eighth.error().find("needs 64 MiB of aperture"), std::string::npos) << eighth.error();
  EXPECT_EQ(p.free().low_gm, 0u);
}

TEST(GmPartition, ReleaseMakesRoomAgain) {
  GmPartition p;
  GmResources before = p.free();
  auto b = p.allocate(*find_type("B"));
  ASSERT_TRUE(b);
  p.release(*b);
  EXPECT_EQ(p.free().low_gm, before.low_gm);
  EXPECT_EQ(p.free().high_gm, before.high_gm);
  EXPECT_EQ(p.free().fences, before.fences);
  auto again = p.allocate(*find_type("B"));
  ASSERT_TRUE(again);
  EXPECT_EQ(again->low_base, b->low_base);
}

TEST(GmPartition, MixedTypesStayDisjoint) {
  GmPartition p;
  std::vector<GmSlice> all{p.host()};
  for (const char* n : {"C", "A", "B"}) {
    auto s = p.allocate(*find_type(n));
    ASSERT_TRUE(s) << n << ": " << s.error();
    all.push_back(*s);
  }
  expect_disjoint(all);
  EXPECT_EQ(p.free().low_gm, 32ull << 20);  // 512 - 64 (host) - 224 - 64 - 128
  EXPECT_FALSE(p.allocate(*find_type("A")));
  EXPECT_FALSE(p.allocate(*find_type("D")));
}

}  // namespace
}  // namespace gvt
