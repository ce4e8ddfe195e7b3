#include "gvt/ggtt_shadow.h"

#include <gtest/gtest.h>

#include <map>

#include "common/gen8/layout.h"
#include "hv/fake_mpt.h"

namespace gvt {
namespace {

using gen8::kPageSize;
using gen8::kPtePresent;

constexpr uint64_t kMiB = 1ull << 20;
constexpr uint64_t kScratch = 0x7000000000ull;

class GgttShadowTest : public ::testing::Test {
 protected:
  GmSlice slice{64 * kMiB, 64 * kMiB, 1024 * kMiB, 384 * kMiB, 4, 4};
  hv::FakeMpt mpt{64 * kMiB};
  std::map<uint64_t, uint64_t> host;  // the physical GGTT
  GgttShadow gg{mpt, slice, kScratch, [this](uint64_t i, uint64_t pte) { host[i] = pte; }};
  static uint64_t off(uint64_t gm) { return gm / kPageSize * 8; }
  uint64_t hpa_of(uint64_t gfn) { return *mpt.pin_gfn(gfn); }
};

TEST_F(GgttShadowTest, StartsWithTheWholeSliceOnScratch) {
  EXPECT_EQ(host.size(), (64 + 384) * kMiB / kPageSize);
  for (const auto& [i, pte] : host) EXPECT_EQ(pte, kScratch | kPtePresent);
}

TEST_F(GgttShadowTest, InRangeEntryIsTranslatedAndTheGuestKeepsItsView) {
  uint64_t gm = 64 * kMiB + 5 * kPageSize, gpa = 0x123000;
  gg.write(off(gm), 8, gpa | kPtePresent);
  uint64_t expect = hpa_of(gpa / kPageSize);
  mpt.unpin_gfn(gpa / kPageSize);
  EXPECT_EQ(host[gm / kPageSize], expect | kPtePresent);
  EXPECT_EQ(gg.read(off(gm), 8), gpa | kPtePresent);
  EXPECT_EQ(mpt.pin_count(gpa / kPageSize), 1u);
  // Replacing it unpins the old frame once the new entry is in place.
  gg.write(off(gm), 8, 0x200000 | kPtePresent);
  EXPECT_EQ(mpt.pin_count(gpa / kPageSize), 0u);
}

TEST_F(GgttShadowTest, EntriesOutsideTheSlicesAreRefusedAndCounted) {
  size_t before = host.size();
  gg.write(off(0), 8, 0x1000 | kPtePresent);               // the host's slice
  gg.write(off(512 * kMiB), 8, 0x1000 | kPtePresent);      // another vGPU's hidden GM
  gg.write(off(128 * kMiB), 8, 0x1000 | kPtePresent);      // just past the aperture slice
  EXPECT_EQ(gg.stats().refused_range, 3u);
  EXPECT_EQ(host.size(), before);
  EXPECT_EQ(host.count(0), 0u);
  EXPECT_EQ(gg.read(off(0), 8), 0u);
}

TEST_F(GgttShadowTest, FrameOutsideRamPointsAtScratch) {
  uint64_t gm = 1024 * kMiB;
  gg.write(off(gm), 8, (64 * kMiB) | kPtePresent);  // one page past the RAM
  EXPECT_EQ(host[gm / kPageSize], kScratch | kPtePresent);
  EXPECT_EQ(gg.stats().refused_frame, 1u);
}

TEST_F(GgttShadowTest, HalfWritesAreBufferedUntilTheEntryIsWhole) {
  uint64_t gm = 64 * kMiB, gpa = 0x345000;
  host.clear();
  gg.write(off(gm) + 4, 4, 0);  // high half first
  EXPECT_TRUE(host.empty());
  EXPECT_EQ(gg.read(off(gm) + 4, 4), 0u);
  gg.write(off(gm), 4, gpa | kPtePresent);
  ASSERT_EQ(host.size(), 1u);
  uint64_t expect = hpa_of(gpa / kPageSize);
  EXPECT_EQ(host[gm / kPageSize], expect | kPtePresent);
  EXPECT_EQ(gg.stats().half_writes, 2u);
}

TEST_F(GgttShadowTest, NonPresentAndResetGoToScratch) {
  uint64_t gm = 64 * kMiB + kPageSize;
  gg.write(off(gm), 8, 0x5000 | kPtePresent);
  gg.write(off(gm), 8, 0);
  EXPECT_EQ(host[gm / kPageSize], kScratch | kPtePresent);
  EXPECT_EQ(mpt.pin_count(5), 0u);
  gg.write(off(gm), 8, 0x6000 | kPtePresent);
  gg.reset();
  EXPECT_EQ(host[gm / kPageSize], kScratch | kPtePresent);
  EXPECT_EQ(gg.read(off(gm), 8), 0u);
  EXPECT_EQ(mpt.pin_count(6), 0u);
}

TEST_F(GgttShadowTest, BadAccessSizesAreRefused) {
  gg.write(off(64 * kMiB) + 2, 4, 1);
  gg.write(off(64 * kMiB), 2, 1);
  EXPECT_EQ(gg.stats().refused_range, 2u);
}

}  // namespace
}  // namespace gvt
