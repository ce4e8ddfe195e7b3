#include "hw/domain.h"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

namespace {

constexpr uint64_t kPage = 4096;

TEST(Domain, StartsUnmapped) {
  hw::Domain d(1 << 20);
  EXPECT_EQ(d.gpa_limit(), 1u << 20);
  EXPECT_FALSE(d.translate(0));
  EXPECT_FALSE(d.translate((1 << 20) - 1));
}

TEST(Domain, MapTranslatesEveryByteOfEveryPage) {
  hw::Domain d(1 << 20);
  ASSERT_TRUE(d.map(0x2000, 0x10000, 0x3000));
  EXPECT_EQ(d.translate(0x2000), 0x10000u);
  EXPECT_EQ(d.translate(0x2FFF), 0x10FFFu);
  EXPECT_EQ(d.translate(0x3000), 0x11000u);
  EXPECT_EQ(d.translate(0x4ABC), 0x12ABCu);
  EXPECT_FALSE(d.translate(0x1FFF));
  EXPECT_FALSE(d.translate(0x5000));
}

TEST(Domain, HpaZeroIsAValidTarget) {
  hw::Domain d(16 * kPage);
  ASSERT_TRUE(d.map(kPage, 0, kPage));
  EXPECT_EQ(d.translate(kPage + 5), 5u);
}

TEST(Domain, RemapReplacesTheTarget) {
  hw::Domain d(16 * kPage);
  ASSERT_TRUE(d.map(0, 0x100000, 2 * kPage));
  ASSERT_TRUE(d.map(kPage, 0x900000, kPage));
  EXPECT_EQ(d.translate(0), 0x100000u);
  EXPECT_EQ(d.translate(kPage + 8), 0x900008u);
}

TEST(Domain, MapRefusesBadRangesAndChangesNothing) {
  hw::Domain d(16 * kPage);
  EXPECT_FALSE(d.map(1, 0, kPage));               // gpa misaligned
  EXPECT_FALSE(d.map(0, 0x800, kPage));           // hpa misaligned
  EXPECT_FALSE(d.map(0, 0, kPage + 1));           // size misaligned
  EXPECT_FALSE(d.map(0, 0, 0));                   // empty
  EXPECT_FALSE(d.map(15 * kPage, 0, 2 * kPage));  // crosses the limit
  EXPECT_FALSE(d.map(16 * kPage, 0, kPage));      // at the limit
  EXPECT_FALSE(d.map(UINT64_MAX & ~(kPage - 1), 0, kPage));
  EXPECT_FALSE(d.map(kPage, 0, UINT64_MAX & ~(kPage - 1)));      // gpa + bytes wraps
  EXPECT_FALSE(d.map(0, UINT64_MAX & ~(kPage - 1), 2 * kPage));  // hpa + bytes wraps
  for (uint64_t g = 0; g < 16 * kPage; g += kPage) EXPECT_FALSE(d.translate(g)) << g;

  EXPECT_TRUE(d.map(0, 0, 16 * kPage));                     // exactly the whole domain
  EXPECT_TRUE(d.map(0, UINT64_MAX & ~(kPage - 1), kPage));  // top page of the HPA space
  EXPECT_EQ(d.translate(kPage - 1), UINT64_MAX);
}

TEST(Domain, TranslateBeyondTheLimit) {
  hw::Domain d(16 * kPage);
  ASSERT_TRUE(d.map(0, 0x40000, 16 * kPage));
  EXPECT_EQ(d.translate(16 * kPage - 1), 0x40000u + 16 * kPage - 1);
  EXPECT_FALSE(d.translate(16 * kPage));
  EXPECT_FALSE(d.translate(UINT64_MAX));
}

TEST(Domain, PartialLastPageIsOutOfReach) {
  hw::Domain d(kPage + kPage / 2);
  EXPECT_EQ(d.gpa_limit(), kPage + kPage / 2);
  EXPECT_TRUE(d.map(0, 0x5000, kPage));
  EXPECT_FALSE(d.map(kPage, 0x6000, kPage));
  EXPECT_FALSE(d.translate(kPage + 1));
}

TEST(Domain, UnmapDropsEveryTouchedPage) {
  hw::Domain d(16 * kPage);
  ASSERT_TRUE(d.map(0, 0x100000, 16 * kPage));
  d.unmap(kPage + 100, kPage);  // touches pages 1 and 2
  EXPECT_TRUE(d.translate(0));
  EXPECT_FALSE(d.translate(kPage));
  EXPECT_FALSE(d.translate(2 * kPage + kPage - 1));
  EXPECT_EQ(d.translate(3 * kPage), 0x103000u);

  d.unmap(4 * kPage, 0);  // empty: nothing
  EXPECT_TRUE(d.translate(4 * kPage));

  d.unmap(14 * kPage, 100 * kPage);  // clamped at the limit
  EXPECT_TRUE(d.translate(13 * kPage));
  EXPECT_FALSE(d.translate(14 * kPage));
  EXPECT_FALSE(d.translate(15 * kPage));

  d.unmap(UINT64_MAX - 10, 100);   // beyond the limit and wrapping: ignored
  d.unmap(5 * kPage, UINT64_MAX);  // to the top of the space
  EXPECT_TRUE(d.translate(4 * kPage));
  EXPECT_FALSE(d.translate(5 * kPage));
  EXPECT_FALSE(d.translate(13 * kPage));
}

TEST(Domain, ConcurrentTranslates) {
  constexpr uint64_t kPages = 4096;
  hw::Domain d(kPages * kPage);
  for (uint64_t p = 0; p < kPages; p += 2) ASSERT_TRUE(d.map(p * kPage, (p + 7) * kPage, kPage));
  std::vector<int> bad(4, 0);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&, t] {
      for (uint64_t p = 0; p < kPages; ++p) {
        auto h = d.translate(p * kPage + 3);
        if (p % 2 ? h.has_value() : h != (p + 7) * kPage + 3) ++bad[t];
      }
    });
  for (auto& th : threads) th.join();
  for (int b : bad) EXPECT_EQ(b, 0);
}

}  // namespace
