#include "hw/host_mem.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstring>
#include <thread>
#include <vector>

namespace {

constexpr uint64_t kPage = 4096;

std::unique_ptr<hw::HostMemory> make(uint64_t bytes) {
  auto m = hw::HostMemory::create(bytes);
  EXPECT_TRUE(m.has_value()) << (m ? "" : m.error());
  return m ? std::move(*m) : nullptr;
}

bool all_zero(const uint8_t* p, uint64_t len) {
  for (uint64_t i = 0; i < len; ++i)
    if (p[i]) return false;
  return true;
}

uint64_t backed_bytes(int fd) {
  struct stat st {};
  EXPECT_EQ(fstat(fd, &st), 0);
  return static_cast<uint64_t>(st.st_blocks) * 512;
}

TEST(HostMemory, CreateRoundsUpAndIsSparse) {
  auto m = make((4ull << 30) + 1);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->size(), (4ull << 30) + kPage);
  EXPECT_GE(m->fd(), 0);
  ASSERT_NE(m->base(), nullptr);
  EXPECT_EQ(m->free_pages_count(), m->size() / kPage - 1);  // page 0 reserved
  m->base()[m->size() - 1] = 0x5A;
  EXPECT_EQ(m->base()[m->size() - 1], 0x5A);
  EXPECT_LT(backed_bytes(m->fd()), 1ull << 20);  // only the touched page is backed
}

TEST(HostMemory, CreateRefusesBadSizes) {
  auto zero = hw::HostMemory::create(0);
  ASSERT_FALSE(zero);
  EXPECT_FALSE(zero.error().empty());
  auto huge = hw::HostMemory::create(UINT64_MAX);
  ASSERT_FALSE(huge);
  EXPECT_NE(huge.error().find("too large"), std::string::npos);
}

TEST(HostMemory, AllocIsAlignedZeroedAndContiguous) {
  auto m = make(1 << 20);
  ASSERT_TRUE(m);
  auto a = m->alloc_pages(4);
  ASSERT_TRUE(a) << a.error();
  EXPECT_NE(*a, 0u);
  EXPECT_EQ(*a % kPage, 0u);
  EXPECT_TRUE(all_zero(m->base() + *a, 4 * kPage));
  std::memset(m->base() + *a, 0xEE, 4 * kPage);

  auto b = m->alloc_pages(3);
  ASSERT_TRUE(b);
  EXPECT_EQ(*b, *a + 4 * kPage);  // first fit on a fresh list: right after a
  EXPECT_TRUE(all_zero(m->base() + *b, 3 * kPage));
  EXPECT_EQ(m->free_pages_count(), 256u - 1 - 7);
}

TEST(HostMemory, PageZeroIsNeverHandedOutAndExhaustionIsAnError) {
  auto m = make(64 * kPage);
  ASSERT_TRUE(m);
  for (int i = 0; i < 63; ++i) {
    auto p = m->alloc_pages(1);
    ASSERT_TRUE(p) << p.error();
    EXPECT_GE(*p, kPage);
    EXPECT_LT(*p, m->size());
  }
  EXPECT_EQ(m->free_pages_count(), 0u);
  auto none = m->alloc_pages(1);
  ASSERT_FALSE(none);
  EXPECT_FALSE(none.error().empty());
  EXPECT_FALSE(m->alloc_pages(0));
}

TEST(HostMemory, TooLargeRequestFailsWithoutSideEffects) {
  auto m = make(16 * kPage);
  ASSERT_TRUE(m);
  EXPECT_FALSE(m->alloc_pages(16));  // only 15 pages exist beside page 0
  EXPECT_FALSE(m->alloc_pages(UINT64_MAX));
  EXPECT_EQ(m->free_pages_count(), 15u);
  auto all = m->alloc_pages(15);
  ASSERT_TRUE(all);
  EXPECT_EQ(*all, kPage);
}

TEST(HostMemory, FreeCoalescesAndFirstFitSkipsSmallHoles) {
  auto m = make(256 * kPage);
  ASSERT_TRUE(m);
  auto a = m->alloc_pages(10), b = m->alloc_pages(10), c = m->alloc_pages(10);
  ASSERT_TRUE(a && b && c);
  m->free_pages(*a, 10);
  m->free_pages(*c, 10);  // merges with the free tail
  auto d = m->alloc_pages(20);
  ASSERT_TRUE(d);
  EXPECT_EQ(*d, *c);  // the 10-page hole at a is too small
  auto e = m->alloc_pages(10);
  ASSERT_TRUE(e);
  EXPECT_EQ(*e, *a);  // ...but fits exactly here

  m->free_pages(*e, 10);
  m->free_pages(*d, 20);
  m->free_pages(*b, 10);  // joins both neighbours into one range
  EXPECT_EQ(m->free_pages_count(), 255u);
  auto all = m->alloc_pages(255);
  ASSERT_TRUE(all) << all.error();
  EXPECT_EQ(*all, kPage);
}

TEST(HostMemory, BadFreesAreRefusedWithoutCrash) {
  auto m = make(64 * kPage);
  ASSERT_TRUE(m);
  auto a = m->alloc_pages(4);
  ASSERT_TRUE(a);
  m->free_pages(*a, 4);
  const uint64_t free_now = m->free_pages_count();
  m->free_pages(*a, 4);                 // double free
  m->free_pages(*a + kPage, 1);         // inside a free range
  m->free_pages(0, 1);                  // reserved page
  m->free_pages(*a + 1, 1);             // misaligned
  m->free_pages(*a, 0);                 // empty
  m->free_pages(m->size(), 1);          // beyond the end
  m->free_pages(m->size() - kPage, 2);  // crosses the end
  m->free_pages(kPage, UINT64_MAX);     // count overflow
  EXPECT_EQ(m->free_pages_count(), free_now);

  auto b = m->alloc_pages(2), c = m->alloc_pages(2);
  ASSERT_TRUE(b && c);
  m->free_pages(*b, 2);
  const uint64_t before = m->free_pages_count();
  m->free_pages(*b + kPage, 2);  // half already free, half allocated: all refused
  EXPECT_EQ(m->free_pages_count(), before);
  auto again = m->alloc_pages(2);
  ASSERT_TRUE(again);
  EXPECT_EQ(*again, *b);
}

TEST(HostMemory, ReallocatedPagesAreZeroEvenAfterAStaleWrite) {
  auto m = make(64 * kPage);
  ASSERT_TRUE(m);
  auto a = m->alloc_pages(2);
  ASSERT_TRUE(a);
  std::memset(m->base() + *a, 0x11, 2 * kPage);
  m->free_pages(*a, 2);
  EXPECT_TRUE(all_zero(m->base() + *a, 2 * kPage));
  m->base()[*a + 100] = 0x22;  // a stale pointer writes after the free
  auto b = m->alloc_pages(2);
  ASSERT_TRUE(b);
  ASSERT_EQ(*b, *a);
  EXPECT_TRUE(all_zero(m->base() + *b, 2 * kPage));
}

TEST(HostMemory, FreeReturnsMemoryToTheHost) {
  auto m = make(64ull << 20);
  ASSERT_TRUE(m);
  auto a = m->alloc_pages(1024);
  ASSERT_TRUE(a);
  std::memset(m->base() + *a, 0x33, 1024 * kPage);
  EXPECT_GE(backed_bytes(m->fd()), 1024 * kPage);
  m->free_pages(*a, 1024);
  EXPECT_LT(backed_bytes(m->fd()), 64 * kPage);
}

TEST(HostMemory, DmaRangeChecksAtTheBoundary) {
  auto m = make(16 * kPage);
  ASSERT_TRUE(m);
  const uint64_t s = m->size();
  EXPECT_EQ(m->dma(s - 1, 1), m->base() + s - 1);  // last byte inside
  EXPECT_EQ(m->dma(0, s), m->base());              // all of it
  EXPECT_EQ(m->refused_dma(), 0u);

  EXPECT_EQ(m->dma(s, 1), nullptr);  // one past
  EXPECT_EQ(m->refused_dma(), 1u);
  EXPECT_EQ(m->last_refused_hpa(), s);
  EXPECT_EQ(m->dma(s - 1, 2), nullptr);  // straddles the end
  EXPECT_EQ(m->dma(0, s + 1), nullptr);
  EXPECT_EQ(m->refused_dma(), 3u);
  EXPECT_EQ(m->last_refused_hpa(), 0u);

  EXPECT_EQ(m->dma(UINT64_MAX, 2), nullptr);  // hpa + len wraps to 1
  EXPECT_EQ(m->last_refused_hpa(), UINT64_MAX);
  EXPECT_EQ(m->dma(UINT64_MAX - kPage + 2, kPage), nullptr);  // wraps to 1
  EXPECT_EQ(m->dma(kPage, UINT64_MAX), nullptr);
  EXPECT_EQ(m->refused_dma(), 6u);
  EXPECT_EQ(m->last_refused_hpa(), kPage);
}

TEST(HostMemory, DmaReadWrite) {
  auto m = make(16 * kPage);
  ASSERT_TRUE(m);
  const uint64_t s = m->size();
  const uint32_t v = 0xCAFEF00D;
  ASSERT_TRUE(m->dma_write(s - 4, &v, 4));
  uint32_t r = 0;
  ASSERT_TRUE(m->dma_read(s - 4, &r, 4));
  EXPECT_EQ(r, v);
  EXPECT_EQ(std::memcmp(m->base() + s - 4, &v, 4), 0);

  r = 7;
  EXPECT_FALSE(m->dma_read(s - 3, &r, 4));
  EXPECT_EQ(r, 7u);  // untouched on refusal
  EXPECT_FALSE(m->dma_write(s - 3, &v, 4));
  EXPECT_FALSE(m->dma_write(UINT64_MAX - 1, &v, 4));
  EXPECT_EQ(m->refused_dma(), 3u);
  EXPECT_TRUE(m->dma_read(s, nullptr, 0));  // empty range at the end is inside
}

TEST(HostMemory, ConcurrentAllocationsNeverOverlap) {
  auto m = make(1024 * kPage);
  ASSERT_TRUE(m);
  std::vector<std::thread> threads;
  std::vector<int> bad(8, 0);
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 200; ++i) {
        const uint64_t n = 1 + (i + t) % 3;
        auto p = m->alloc_pages(n);
        if (!p) continue;
        uint8_t* q = m->dma(*p, n * kPage);
        std::memset(q, t + 1, n * kPage);
        for (uint64_t k = 0; k < n * kPage; k += 512)
          if (q[k] != t + 1) ++bad[t];
        m->free_pages(*p, n);
        // Refusals from many threads are all counted.
        if (m->dma(m->size(), 1)) ++bad[t];
      }
    });
  }
  for (auto& th : threads) th.join();
  for (int b : bad) EXPECT_EQ(b, 0);
  EXPECT_EQ(m->free_pages_count(), 1023u);
  EXPECT_EQ(m->refused_dma(), 8u * 200u);
}

}  // namespace
