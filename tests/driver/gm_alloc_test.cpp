// drv::GmAllocator: first fit with alignment and a [lo, hi) window, reserved
// ranges, coalescing frees, accounting and errors. Pure data structure: no GPU.
#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <vector>

#include "driver/gm_alloc.h"

namespace drv::test {
namespace {

constexpr uint64_t P = 4096;  // one page: the allocator is unit-agnostic, the driver uses pages

TEST(GmAlloc, InitManagesOneRange) {
  GmAllocator a;
  a.init(P, 64 * P);
  EXPECT_EQ(a.ranges(), 1);
  EXPECT_EQ(a.free_bytes(), 63 * P);
  // An empty or inverted space has nothing to give.
  GmAllocator e;
  e.init(10 * P, 10 * P);
  EXPECT_EQ(e.ranges(), 0);
  EXPECT_EQ(e.free_bytes(), 0u);
  auto r = e.alloc(P, P, 0, ~0ull);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), Error::NoSpace);
  e.init(10 * P, 5 * P);
  EXPECT_EQ(e.ranges(), 0);
  // init() starts over.
  a.init(0, 8 * P);
  EXPECT_EQ(a.ranges(), 1);
  EXPECT_EQ(a.free_bytes(), 8 * P);
}

TEST(GmAlloc, FirstFitReturnsLowestAddresses) {
  GmAllocator a;
  a.init(P, 64 * P);
  for (uint64_t i = 1; i <= 5; ++i) {
    auto r = a.alloc(P, P, 0, 64 * P);
    ASSERT_TRUE(r);
    EXPECT_EQ(*r, i * P);
  }
  EXPECT_EQ(a.ranges(), 1);
  EXPECT_EQ(a.free_bytes(), 58 * P);
  // A hole at 2P is found before the tail.
  a.free(2 * P, P);
  EXPECT_EQ(a.ranges(), 2);
  auto r = a.alloc(P, P, 0, 64 * P);
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, 2 * P);
  // A request larger than the hole skips it.
  a.free(2 * P, P);
  r = a.alloc(2 * P, P, 0, 64 * P);
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, 6 * P);
}

TEST(GmAlloc, AlignmentSkipsToTheNextBoundaryAndSplits) {
  GmAllocator a;
  a.init(P, 64 * P);
  auto r = a.alloc(P, 16 * P, 0, 64 * P);
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, 16 * P);
  EXPECT_EQ(*r % (16 * P), 0u);
  // The allocation split the range: [P, 16P) and [17P, 64P) remain.
  EXPECT_EQ(a.ranges(), 2);
  EXPECT_EQ(a.free_bytes(), 62 * P);
  // The low leftover is still used by unaligned requests.
  r = a.alloc(15 * P, P, 0, 64 * P);
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, P);
  EXPECT_EQ(a.ranges(), 1);
  // Sub-page alignments work too (the allocator does not assume pages).
  GmAllocator b;
  b.init(3, 100);
  r = b.alloc(5, 8, 0, 100);
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, 8u);
  r = b.alloc(5, 1, 0, 100);
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, 3u);
}

TEST(GmAlloc, WindowBoundsEveryAllocation) {
  GmAllocator a;
  a.init(0, 64 * P);
  // [lo, hi): starts at lo, never crosses hi.
  auto r = a.alloc(4 * P, P, 10 * P, 20 * P);
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, 10 * P);
  r = a.alloc(6 * P, P, 10 * P, 20 * P);
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, 14 * P);
  EXPECT_EQ(*r + 6 * P, 20 * P);
  r = a.alloc(P, P, 10 * P, 20 * P);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), Error::NoSpace);
  // Space outside the window is untouched and still free.
  EXPECT_EQ(a.free_bytes(), 54 * P);
  r = a.alloc(P, P, 0, 64 * P);
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, 0u);
  // Alignment applies inside the window.
  r = a.alloc(P, 8 * P, 21 * P, 64 * P);
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, 24 * P);
  // A window smaller than the request, and one whose aligned start passes hi.
  r = a.alloc(4 * P, P, 30 * P, 33 * P);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), Error::NoSpace);
  r = a.alloc(P, 32 * P, 33 * P, 63 * P);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), Error::NoSpace);
  // lo above every range.
  r = a.alloc(P, P, 64 * P, 128 * P);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), Error::NoSpace);
}

TEST(GmAlloc, ReserveInTheMiddleSplitsTheRange) {
  GmAllocator a;
  a.init(0, 64 * P);
  ASSERT_TRUE(a.reserve(10 * P, 4 * P));
  EXPECT_EQ(a.ranges(), 2);
  EXPECT_EQ(a.free_bytes(), 60 * P);
  auto r = a.alloc(10 * P, P, 0, 64 * P);
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, 0u);
  // The next fit skips the reserved hole.
  r = a.alloc(P, P, 0, 64 * P);
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, 14 * P);
  // A request that would span the hole is placed after it.
  GmAllocator b;
  b.init(0, 64 * P);
  ASSERT_TRUE(b.reserve(10 * P, 4 * P));
  r = b.alloc(12 * P, P, 0, 64 * P);
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, 14 * P);
}

TEST(GmAlloc, ReserveAtTheEdgesTrims) {
  GmAllocator a;
  a.init(0, 64 * P);
  ASSERT_TRUE(a.reserve(0, 4 * P));  // left edge
  EXPECT_EQ(a.ranges(), 1);
  ASSERT_TRUE(a.reserve(60 * P, 4 * P));  // right edge
  EXPECT_EQ(a.ranges(), 1);
  EXPECT_EQ(a.free_bytes(), 56 * P);
  auto r = a.alloc(56 * P, P, 0, 64 * P);
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, 4 * P);
  EXPECT_EQ(a.ranges(), 0);
  // Reserving a whole range removes it; reserving beyond the space is a no-op.
  GmAllocator b;
  b.init(8 * P, 16 * P);
  ASSERT_TRUE(b.reserve(32 * P, 8 * P));
  EXPECT_EQ(b.free_bytes(), 8 * P);
  ASSERT_TRUE(b.reserve(0, 64 * P));
  EXPECT_EQ(b.ranges(), 0);
  EXPECT_EQ(b.free_bytes(), 0u);
  // Reserving the same space twice is harmless.
  GmAllocator c;
  c.init(0, 16 * P);
  ASSERT_TRUE(c.reserve(4 * P, 4 * P));
  ASSERT_TRUE(c.reserve(4 * P, 4 * P));
  EXPECT_EQ(c.free_bytes(), 12 * P);
  EXPECT_EQ(c.ranges(), 2);
}

TEST(GmAlloc, ReserveSpanningSeveralRanges) {
  GmAllocator a;
  a.init(0, 100 * P);
  // Free ranges [0,10) [20,30) [40,50) [60,100) (in pages).
  ASSERT_TRUE(a.reserve(10 * P, 10 * P));
  ASSERT_TRUE(a.reserve(30 * P, 10 * P));
  ASSERT_TRUE(a.reserve(50 * P, 10 * P));
  EXPECT_EQ(a.ranges(), 4);
  EXPECT_EQ(a.free_bytes(), 70 * P);
  // [5, 65): trims the first and last, removes the two in between.
  ASSERT_TRUE(a.reserve(5 * P, 60 * P));
  EXPECT_EQ(a.ranges(), 2);
  EXPECT_EQ(a.free_bytes(), 5 * P + 35 * P);
  auto r = a.alloc(5 * P, P, 0, 100 * P);
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, 0u);
  r = a.alloc(P, P, 0, 100 * P);
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, 65 * P);
  // A reservation that covers ranges exactly, back to back.
  GmAllocator b;
  b.init(0, 40 * P);
  ASSERT_TRUE(b.reserve(10 * P, 10 * P));
  ASSERT_TRUE(b.reserve(25 * P, 5 * P));
  ASSERT_TRUE(b.reserve(0, 40 * P));
  EXPECT_EQ(b.ranges(), 0);
  EXPECT_EQ(b.free_bytes(), 0u);
}

TEST(GmAlloc, ReserveRejectsWrappingRange) {
  GmAllocator a;
  a.init(0, 16 * P);
  auto r = a.reserve(8 * P, ~0ull);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), Error::BadArgument);
  EXPECT_EQ(a.free_bytes(), 16 * P);
}

// Every page of a small space, with reservations scattered over it: page-sized
// allocations hand out exactly the unreserved pages, once each; allocations of
// every size and alignment never touch a reserved page.
TEST(GmAlloc, AllocNeverReturnsReservedSpaceExhaustive) {
  constexpr uint64_t kPages = 96;
  const std::vector<std::pair<uint64_t, uint64_t>> reserved = {
      {0, 1}, {5, 3}, {16, 1}, {17, 4}, {40, 8}, {63, 2}, {70, 1}, {90, 6}};
  std::vector<bool> is_reserved(kPages, false);
  for (auto [s, n] : reserved)
    for (uint64_t i = s; i < s + n; ++i) is_reserved[i] = true;
  uint64_t unreserved = 0;
  for (bool b : is_reserved) unreserved += !b;

  auto fresh = [&] {
    GmAllocator a;
    a.init(0, kPages * P);
    for (auto [s, n] : reserved) EXPECT_TRUE(a.reserve(s * P, n * P));
    return a;
  };

  {
    GmAllocator a = fresh();
    EXPECT_EQ(a.free_bytes(), unreserved * P);
    std::vector<int> handed(kPages, 0);
    for (;;) {
      auto r = a.alloc(P, P, 0, kPages * P);
      if (!r) {
        EXPECT_EQ(r.error(), Error::NoSpace);
        break;
      }
      ASSERT_EQ(*r % P, 0u);
      ASSERT_LT(*r / P, kPages);
      handed[*r / P]++;
    }
    for (uint64_t i = 0; i < kPages; ++i) EXPECT_EQ(handed[i], is_reserved[i] ? 0 : 1) << "page " << i;
    EXPECT_EQ(a.free_bytes(), 0u);
  }

  for (uint64_t size = 1; size <= 12; ++size) {
    for (uint64_t align = 1; align <= 32; align *= 2) {
      GmAllocator a = fresh();
      std::vector<bool> used(kPages, false);
      for (;;) {
        auto r = a.alloc(size * P, align * P, 0, kPages * P);
        if (!r) {
          EXPECT_EQ(r.error(), Error::NoSpace);
          break;
        }
        ASSERT_EQ(*r % (align * P), 0u) << "size " << size << " align " << align;
        ASSERT_LE(*r / P + size, kPages);
        for (uint64_t i = *r / P; i < *r / P + size; ++i) {
          ASSERT_FALSE(is_reserved[i]) << "page " << i << " size " << size << " align " << align;
          ASSERT_FALSE(used[i]) << "page " << i << " handed out twice";
          used[i] = true;
        }
      }
      // NoSpace only when no aligned run of `size` unreserved, unused pages is left.
      for (uint64_t s = 0; s + size <= kPages; s += align) {
        bool fits = true;
        for (uint64_t i = s; i < s + size; ++i) fits &= !is_reserved[i] && !used[i];
        EXPECT_FALSE(fits) << "free run at page " << s << " size " << size << " align " << align;
      }
    }
  }
}

TEST(GmAlloc, FreeCoalescesLeftRightAndBoth) {
  GmAllocator a;
  a.init(0, 16 * P);
  for (uint64_t i = 0; i < 16; ++i) ASSERT_EQ(*a.alloc(P, P, 0, 16 * P), i * P);
  EXPECT_EQ(a.ranges(), 0);
  EXPECT_EQ(a.free_bytes(), 0u);

  a.free(4 * P, P);  // isolated
  EXPECT_EQ(a.ranges(), 1);
  a.free(5 * P, P);  // joins the range on its left
  EXPECT_EQ(a.ranges(), 1);
  a.free(10 * P, P);  // isolated
  EXPECT_EQ(a.ranges(), 2);
  a.free(9 * P, P);  // joins the range on its right
  EXPECT_EQ(a.ranges(), 2);
  EXPECT_EQ(a.free_bytes(), 4 * P);
  // Ranges are now [4,6) and [9,11): a 3-page request does not fit yet.
  EXPECT_FALSE(a.alloc(3 * P, P, 0, 16 * P));
  a.free(6 * P, 3 * P);  // joins both: one range [4, 11)
  EXPECT_EQ(a.ranges(), 1);
  EXPECT_EQ(a.free_bytes(), 7 * P);
  auto r = a.alloc(7 * P, P, 0, 16 * P);
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, 4 * P);
  EXPECT_EQ(a.ranges(), 0);

  // Frees at the very start and end of the space, then everything back.
  a.free(0, 4 * P);
  a.free(11 * P, 5 * P);
  EXPECT_EQ(a.ranges(), 2);
  a.free(4 * P, 7 * P);
  EXPECT_EQ(a.ranges(), 1);
  EXPECT_EQ(a.free_bytes(), 16 * P);
  r = a.alloc(16 * P, P, 0, 16 * P);
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, 0u);
}

TEST(GmAlloc, FreeNextToReservedSpaceDoesNotReclaimIt) {
  GmAllocator a;
  a.init(0, 32 * P);
  ASSERT_TRUE(a.reserve(8 * P, 8 * P));
  auto lo = a.alloc(8 * P, P, 0, 32 * P);
  auto hi = a.alloc(16 * P, P, 0, 32 * P);
  ASSERT_TRUE(lo);
  ASSERT_TRUE(hi);
  EXPECT_EQ(*lo, 0u);
  EXPECT_EQ(*hi, 16 * P);
  a.free(*lo, 8 * P);
  a.free(*hi, 16 * P);
  EXPECT_EQ(a.ranges(), 2);
  EXPECT_EQ(a.free_bytes(), 24 * P);
  auto r = a.alloc(17 * P, P, 0, 32 * P);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), Error::NoSpace);
}

TEST(GmAlloc, FreeBytesTracksEveryOperation) {
  GmAllocator a;
  a.init(P, 1024 * P);
  uint64_t expect = 1023 * P;
  EXPECT_EQ(a.free_bytes(), expect);
  ASSERT_TRUE(a.reserve(100 * P, 50 * P));
  expect -= 50 * P;
  EXPECT_EQ(a.free_bytes(), expect);
  std::vector<std::pair<uint64_t, uint64_t>> live;
  for (uint64_t n = 1; n <= 20; ++n) {
    auto r = a.alloc(n * P, (n % 3 == 0 ? 8 : 1) * P, 0, 1024 * P);
    ASSERT_TRUE(r);
    live.push_back({*r, n * P});
    expect -= n * P;
    EXPECT_EQ(a.free_bytes(), expect);
  }
  for (size_t i = 0; i < live.size(); i += 2) {
    a.free(live[i].first, live[i].second);
    expect += live[i].second;
    EXPECT_EQ(a.free_bytes(), expect);
  }
  for (size_t i = 1; i < live.size(); i += 2) {
    a.free(live[i].first, live[i].second);
    expect += live[i].second;
    EXPECT_EQ(a.free_bytes(), expect);
  }
  EXPECT_EQ(a.free_bytes(), 973 * P);
  EXPECT_EQ(a.ranges(), 2);  // [1, 100) and [150, 1024): fully coalesced again
}

TEST(GmAlloc, NoSpaceWhenFull) {
  GmAllocator a;
  a.init(0, 8 * P);
  auto all = a.alloc(8 * P, P, 0, 8 * P);
  ASSERT_TRUE(all);
  for (uint64_t size : {uint64_t{1}, P, 8 * P}) {
    auto r = a.alloc(size, 1, 0, ~0ull);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error(), Error::NoSpace);
  }
  // Bigger than the whole space, on a fresh allocator.
  GmAllocator b;
  b.init(0, 8 * P);
  auto r = b.alloc(9 * P, P, 0, 8 * P);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), Error::NoSpace);
  EXPECT_EQ(b.free_bytes(), 8 * P);
}

TEST(GmAlloc, BadArgumentForZeroSizeOrBadAlignment) {
  GmAllocator a;
  a.init(0, 64 * P);
  for (auto [size, align] : std::vector<std::pair<uint64_t, uint64_t>>{
           {0, P}, {P, 0}, {P, 3}, {P, 3 * P}, {P, P + 1}, {P, 0x6000}, {P, ~0ull}}) {
    auto r = a.alloc(size, align, 0, 64 * P);
    ASSERT_FALSE(r) << size << " " << align;
    EXPECT_EQ(r.error(), Error::BadArgument) << size << " " << align;
  }
  EXPECT_EQ(a.free_bytes(), 64 * P);
  EXPECT_EQ(a.ranges(), 1);
}

// Capacity is fixed: a split that needs a 257th range fails with NoSpace and
// leaves the allocator consistent.
TEST(GmAlloc, RangeTableFullIsNoSpace) {
  GmAllocator a;
  a.init(0, 1024 * P);
  int holes = 0;
  for (uint64_t pg = 1; pg < 1024; pg += 2) {
    auto r = a.reserve(pg * P, P);
    if (!r) {
      EXPECT_EQ(r.error(), Error::NoSpace);
      break;
    }
    ++holes;
  }
  EXPECT_EQ(a.ranges(), GmAllocator::kMaxRanges);
  EXPECT_EQ(holes, GmAllocator::kMaxRanges - 1);
  // 255 one-page holes reserved; the refused 256th left its page free.
  const uint64_t before = a.free_bytes();
  EXPECT_EQ(before, (1024 - 255) * P);
  // An allocation in the middle of the last range would need a split too.
  auto r = a.alloc(P, 8 * P, 1000 * P, 1024 * P);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), Error::NoSpace);
  EXPECT_EQ(a.free_bytes(), before);
  EXPECT_EQ(a.ranges(), GmAllocator::kMaxRanges);
  // One that consumes a whole range needs no split: page 0 is range [0, 1).
  r = a.alloc(P, 8 * P, 0, 1024 * P);
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, 0u);
  EXPECT_EQ(a.free_bytes(), before - P);
  // Now there is room for the split.
  r = a.alloc(P, 8 * P, 1000 * P, 1024 * P);
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, 1000 * P);
}

// Random operations against a page bitmap: first fit means the lowest aligned
// start in the window whose pages are all free; ranges are the maximal runs.
TEST(GmAlloc, MatchesABitmapModel) {
  constexpr uint64_t kPages = 200;
  std::mt19937 rng(12345);
  GmAllocator a;
  a.init(0, kPages * P);
  enum State : uint8_t { Free, Used, Reserved };
  std::vector<State> m(kPages, Free);
  for (int i = 0; i < 6; ++i) {
    uint64_t s = rng() % kPages, n = 1 + rng() % 6;
    if (s + n > kPages) n = kPages - s;
    ASSERT_TRUE(a.reserve(s * P, n * P));
    for (uint64_t j = s; j < s + n; ++j) m[j] = Reserved;
  }
  std::vector<std::pair<uint64_t, uint64_t>> live;
  for (int step = 0; step < 4000; ++step) {
    if (live.empty() || rng() % 3 != 0) {
      uint64_t size = 1 + rng() % 8, align = uint64_t{1} << (rng() % 4);
      uint64_t lo = rng() % 4 == 0 ? rng() % kPages : 0;
      uint64_t hi = rng() % 4 == 0 ? lo + rng() % (kPages - lo + 1) : kPages;
      int64_t want = -1;
      for (uint64_t s = (lo + align - 1) / align * align; s + size <= hi; s += align) {
        bool ok = true;
        for (uint64_t j = s; j < s + size && ok; ++j) ok = m[j] == Free;
        if (ok) {
          want = static_cast<int64_t>(s);
          break;
        }
      }
      auto r = a.alloc(size * P, align * P, lo * P, hi * P);
      if (want < 0) {
        ASSERT_FALSE(r) << "step " << step;
        ASSERT_EQ(r.error(), Error::NoSpace);
      } else {
        ASSERT_TRUE(r) << "step " << step << " expected page " << want;
        ASSERT_EQ(*r, static_cast<uint64_t>(want) * P) << "step " << step;
        for (uint64_t j = *r / P; j < *r / P + size; ++j) m[j] = Used;
        live.push_back({*r, size * P});
      }
    } else {
      size_t k = rng() % live.size();
      a.free(live[k].first, live[k].second);
      for (uint64_t j = live[k].first / P; j < (live[k].first + live[k].second) / P; ++j) m[j] = Free;
      live.erase(live.begin() + static_cast<std::ptrdiff_t>(k));
    }
    uint64_t free_pages = 0;
    int runs = 0;
    for (uint64_t j = 0; j < kPages; ++j) {
      free_pages += m[j] == Free;
      runs += m[j] == Free && (j == 0 || m[j - 1] != Free);
    }
    ASSERT_EQ(a.free_bytes(), free_pages * P) << "step " << step;
    ASSERT_EQ(a.ranges(), runs) << "step " << step;
  }
}

}  // namespace
}  // namespace drv::test
