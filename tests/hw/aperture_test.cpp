#include "hw/aperture.h"

#include <gtest/gtest.h>

#include <cstring>

#include "hw/host_mem.h"

namespace {

constexpr uint64_t kPage = gen8::kPageSize;

class Aperture : public ::testing::Test {
 protected:
  void SetUp() override {
    auto m = hw::HostMemory::create(64ull << 20);
    ASSERT_TRUE(m) << m.error();
    mem = std::move(*m);
    auto w = hw::ApertureWindow::create(mem->fd(), mem->size(), 32ull << 20);
    ASSERT_TRUE(w) << w.error();
    win = std::move(*w);
  }
  uint64_t alloc(uint64_t n) {
    auto p = mem->alloc_pages(n);
    EXPECT_TRUE(p) << (p ? "" : p.error());
    return p ? *p : 0;
  }
  uint8_t* page(uint64_t index) { return win->base() + index * kPage; }

  std::unique_ptr<hw::HostMemory> mem;
  std::unique_ptr<hw::ApertureWindow> win;
};

TEST(ApertureCreate, DefaultWindowIsOneHolelessZeroMapping) {
  auto m = hw::HostMemory::create(1 << 20);
  ASSERT_TRUE(m);
  auto w = hw::ApertureWindow::create((*m)->fd(), (*m)->size());
  ASSERT_TRUE(w) << w.error();
  EXPECT_EQ((*w)->size(), gen8::kApertureSize);
  EXPECT_EQ((*w)->vma_count(), 1u);
  EXPECT_EQ((*w)->base()[0], 0);
  EXPECT_EQ((*w)->base()[gen8::kApertureSize - 1], 0);
  EXPECT_EQ((*w)->remaps(), 0u);
}

TEST(ApertureCreate, RefusesBadSizes) {
  auto m = hw::HostMemory::create(1 << 20);
  ASSERT_TRUE(m);
  EXPECT_FALSE(hw::ApertureWindow::create((*m)->fd(), (*m)->size(), 0));
  auto w = hw::ApertureWindow::create((*m)->fd(), (*m)->size(), kPage + 1);
  ASSERT_FALSE(w);
  EXPECT_FALSE(w.error().empty());
}

TEST_F(Aperture, WritesGoBothWays) {
  const uint64_t hpa = alloc(1);
  ASSERT_TRUE(win->map_page(3, hpa));
  EXPECT_EQ(win->remaps(), 1u);
  page(3)[10] = 0xAB;
  EXPECT_EQ(mem->base()[hpa + 10], 0xAB);
  mem->base()[hpa + kPage - 1] = 0xCD;
  EXPECT_EQ(page(3)[kPage - 1], 0xCD);
  EXPECT_EQ(page(2)[kPage - 1], 0);  // neighbours untouched
  EXPECT_EQ(page(4)[0], 0);
}

TEST_F(Aperture, RemapShowsTheNewPage) {
  const uint64_t a = alloc(1), b = alloc(1);
  mem->base()[a] = 1;
  mem->base()[b] = 2;
  ASSERT_TRUE(win->map_page(7, a));
  EXPECT_EQ(page(7)[0], 1);
  ASSERT_TRUE(win->map_page(7, b));
  EXPECT_EQ(page(7)[0], 2);
  EXPECT_EQ(win->remaps(), 2u);
  ASSERT_TRUE(win->map_page(7, b));  // unchanged: not a remap
  EXPECT_EQ(win->remaps(), 2u);
}

TEST_F(Aperture, UnmapGivesZerosAndDetachesFromHost) {
  const uint64_t hpa = alloc(1);
  std::memset(mem->base() + hpa, 0x77, kPage);
  ASSERT_TRUE(win->map_page(5, hpa));
  EXPECT_EQ(page(5)[100], 0x77);
  ASSERT_TRUE(win->map_page(5, std::nullopt));
  EXPECT_EQ(win->remaps(), 2u);
  for (uint64_t i = 0; i < kPage; ++i) ASSERT_EQ(page(5)[i], 0) << i;
  page(5)[0] = 0x99;  // private zero memory now
  EXPECT_EQ(mem->base()[hpa], 0x77);
  ASSERT_TRUE(win->map_page(5, std::nullopt));  // already zeros: not a remap
  EXPECT_EQ(win->remaps(), 2u);
}

TEST_F(Aperture, FreedHostPageReadsAsZero) {
  const uint64_t hpa = alloc(1);
  ASSERT_TRUE(win->map_page(0, hpa));
  page(0)[0] = 0x42;
  mem->free_pages(hpa, 1);
  EXPECT_EQ(page(0)[0], 0);
}

TEST_F(Aperture, RefusesOutOfRange) {
  const uint64_t pages = win->size() / kPage;
  EXPECT_FALSE(win->map_page(pages, kPage));
  EXPECT_FALSE(win->map_page(UINT64_MAX, std::nullopt));
  EXPECT_FALSE(win->map_page(0, mem->size()));  // one page past the memfd
  EXPECT_FALSE(win->map_page(0, UINT64_MAX & ~(kPage - 1)));
  EXPECT_FALSE(win->map_page(0, kPage + 8));  // misaligned
  EXPECT_EQ(win->remaps(), 0u);
  EXPECT_EQ(win->vma_count(), 1u);

  mem->base()[mem->size() - 1] = 0x3C;
  ASSERT_TRUE(win->map_page(pages - 1, mem->size() - kPage));  // last page of each
  EXPECT_EQ(win->base()[win->size() - 1], 0x3C);
}

TEST_F(Aperture, ContiguousPagesMergeIntoFewMappings) {
  constexpr uint64_t kN = 4096;
  const uint64_t hpa = alloc(kN);
  for (uint64_t i = 0; i < kN; ++i) mem->base()[hpa + i * kPage] = static_cast<uint8_t>(i);
  for (uint64_t i = 0; i < kN; ++i) ASSERT_TRUE(win->map_page(i, hpa + i * kPage)) << i;
  EXPECT_EQ(win->remaps(), kN);
  EXPECT_LE(win->vma_count(), 4u);
  for (uint64_t i = 0; i < kN; i += 97) EXPECT_EQ(page(i)[0], static_cast<uint8_t>(i)) << i;

  for (uint64_t i = 0; i < kN; ++i) ASSERT_TRUE(win->map_page(i, std::nullopt)) << i;
  EXPECT_LE(win->vma_count(), 4u);
  EXPECT_EQ(page(kN / 2)[0], 0);
}

TEST_F(Aperture, ReverseOrderPagesStillWork) {
  constexpr uint64_t kN = 4096;
  const uint64_t hpa = alloc(kN);
  for (uint64_t i = 0; i < kN; ++i) {
    const uint64_t h = hpa + (kN - 1 - i) * kPage;
    std::memcpy(mem->base() + h, &i, sizeof i);
    ASSERT_TRUE(win->map_page(i, h)) << i;
  }
  for (uint64_t i = 0; i < kN; ++i) {
    uint64_t v = 0;
    std::memcpy(&v, page(i), sizeof v);
    ASSERT_EQ(v, i);
  }
  EXPECT_LE(win->vma_count(), kN + 2);
}

}  // namespace
