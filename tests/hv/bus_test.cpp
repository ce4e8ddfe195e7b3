#include "hv/bus.h"

#include <gtest/gtest.h>

#include <limits>

namespace hv {
namespace {

constexpr uint64_t kMax = std::numeric_limits<uint64_t>::max();

struct Dummy : BusDevice {
  void read(uint64_t, uint8_t*, uint32_t) override {}
  void write(uint64_t, const uint8_t*, uint32_t) override {}
};

// An existing range [0x1000, 0x2000) and the ways a second one can meet it.
class BusTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(bus.insert(0x1000, 0x1000, &a)); }
  Bus bus;
  Dummy a, b;
};

TEST_F(BusTest, RefusesEmptyOverflowingAndNullDevice) {
  EXPECT_FALSE(bus.insert(0x8000, 0, &b));
  EXPECT_FALSE(bus.insert(kMax - 0xF, 0x20, &b));
  EXPECT_FALSE(bus.insert(kMax, kMax, &b));
  EXPECT_FALSE(bus.insert(0x8000, 0x10, nullptr));
}

TEST_F(BusTest, RefusesEveryOverlap) {
  EXPECT_FALSE(bus.insert(0x800, 0x801, &b));    // overlaps the left edge by one byte
  EXPECT_FALSE(bus.insert(0x1FFF, 0x1000, &b));  // overlaps the right edge by one byte
  EXPECT_FALSE(bus.insert(0x800, 0x2000, &b));   // contains it
  EXPECT_FALSE(bus.insert(0x1400, 0x400, &b));   // is contained
  EXPECT_FALSE(bus.insert(0x1000, 0x1000, &b));  // identical
  EXPECT_FALSE(bus.insert(0x1000, 1, &b));       // same base, shorter
  uint64_t off = 0;
  EXPECT_EQ(bus.find(0x1000, &off), &a);
  EXPECT_EQ(bus.find(0x800, &off), nullptr);
}

TEST_F(BusTest, AcceptsAdjacentRanges) {
  EXPECT_TRUE(bus.insert(0x800, 0x800, &b));
  Dummy c;
  EXPECT_TRUE(bus.insert(0x2000, 0x10, &c));
  uint64_t off = 0;
  EXPECT_EQ(bus.find(0xFFF, &off), &b);
  EXPECT_EQ(off, 0x7FFu);
  EXPECT_EQ(bus.find(0x1000, &off), &a);
  EXPECT_EQ(off, 0u);
  EXPECT_EQ(bus.find(0x1FFF, &off), &a);
  EXPECT_EQ(off, 0xFFFu);
  EXPECT_EQ(bus.find(0x2000, &off), &c);
  EXPECT_EQ(off, 0u);
}

TEST_F(BusTest, FindAtExactBoundaries) {
  uint64_t off = 0xAA;
  EXPECT_EQ(bus.find(0xFFF, &off), nullptr);
  EXPECT_EQ(bus.find(0x2000, &off), nullptr);
  EXPECT_EQ(bus.find(0, &off), nullptr);
  EXPECT_EQ(bus.find(kMax, &off), nullptr);
  EXPECT_EQ(off, 0xAAu) << "a miss must not write the offset";
  EXPECT_EQ(bus.find(0x1000, &off), &a);
  EXPECT_EQ(off, 0u);
  EXPECT_EQ(bus.find(0x1FFF, &off), &a);
  EXPECT_EQ(off, 0xFFFu);
}

TEST_F(BusTest, RangeReachingTheTopOfTheAddressSpace) {
  // [kMax - 0xFF, kMax): the last byte below 2^64 - 1.
  ASSERT_TRUE(bus.insert(kMax - 0xFF, 0xFF, &b));
  uint64_t off = 0;
  EXPECT_EQ(bus.find(kMax - 1, &off), &b);
  EXPECT_EQ(off, 0xFEu);
  EXPECT_EQ(bus.find(kMax, &off), nullptr);
  EXPECT_EQ(bus.find(kMax - 0x100, &off), nullptr);
}

TEST_F(BusTest, RemoveByBaseOnly) {
  EXPECT_FALSE(bus.remove(0x1800));  // inside, but not the base
  uint64_t off = 0;
  EXPECT_EQ(bus.find(0x1800, &off), &a);
  EXPECT_TRUE(bus.remove(0x1000));
  EXPECT_FALSE(bus.remove(0x1000));
  EXPECT_EQ(bus.find(0x1000, &off), nullptr);
  EXPECT_EQ(bus.find(0x1800, &off), nullptr);
  // The space is free again, in any shape.
  EXPECT_TRUE(bus.insert(0x1800, 0x1000, &b));
  EXPECT_EQ(bus.find(0x2000, &off), &b);
  EXPECT_EQ(off, 0x800u);
}

}  // namespace
}  // namespace hv
