// The scheduling policy on a simulated clock: the mediator's scheduler calls
// pick() every tick and charges the owner the time it held the GPU; here a
// loop does the same with no threads and no real time.
#include "gvt/sched_policy.h"

#include <gtest/gtest.h>

#include <map>
#include <set>

namespace {

using gvt::SchedParams;
using gvt::SchedPolicy;

constexpr uint64_t kMs = 1'000'000;

// Runs `ns` of simulated time in ticks; `busy` says who has work. Returns the
// time each client owned the GPU. `switches` counts owner changes.
std::map<uint32_t, uint64_t> simulate(SchedPolicy& p, uint64_t ns, const std::set<uint32_t>& busy,
                                      uint64_t* switches = nullptr, uint64_t tick = kMs) {
  std::map<uint32_t, uint64_t> owned;
  std::optional<uint32_t> owner;
  for (uint64_t now = 0; now < ns; now += tick) {
    auto next = p.pick(owner, [&](uint32_t id) { return busy.count(id) > 0; });
    if (next != owner && switches) ++*switches;
    owner = next;
    if (owner) {
      p.charge(*owner, tick);
      owned[*owner] += tick;
    }
  }
  return owned;
}

TEST(SchedPolicy, EqualWeightsShareEqually) {
  SchedPolicy p;
  for (uint32_t id = 1; id <= 7; ++id) p.add(id, 4);
  auto owned = simulate(p, 10'000 * kMs, {1, 2, 3, 4, 5, 6, 7});
  for (uint32_t id = 1; id <= 7; ++id)
    EXPECT_NEAR(double(owned[id]) / (10'000 * kMs), 1.0 / 7, 0.01) << "client " << id;
}

TEST(SchedPolicy, WeightsOneTwoFour) {
  SchedPolicy p;
  p.add(1, 1);
  p.add(2, 2);
  p.add(3, 4);
  auto owned = simulate(p, 10'000 * kMs, {1, 2, 3});
  EXPECT_NEAR(double(owned[1]) / (10'000 * kMs), 1.0 / 7, 0.01);
  EXPECT_NEAR(double(owned[2]) / (10'000 * kMs), 2.0 / 7, 0.01);
  EXPECT_NEAR(double(owned[3]) / (10'000 * kMs), 4.0 / 7, 0.01);
}

TEST(SchedPolicy, WeightsHoldWithinEveryBalanceWindow) {
  SchedPolicy p;
  p.add(1, 1);
  p.add(2, 3);
  for (int window = 0; window < 5; ++window) {
    std::optional<uint32_t> owner;
    std::map<uint32_t, uint64_t> owned;
    for (uint64_t t = 0; t < 100 * kMs; t += kMs) {
      owner = p.pick(owner, [](uint32_t) { return true; });
      p.charge(*owner, kMs);
      owned[*owner] += kMs;
    }
    EXPECT_EQ(owned[1], 25 * kMs) << "window " << window;
    EXPECT_EQ(owned[2], 75 * kMs) << "window " << window;
  }
}

TEST(SchedPolicy, WorkConservingAnIdleClientLeavesItsShare) {
  SchedPolicy p;
  p.add(1, 1);
  p.add(2, 1);
  p.add(3, 1);
  auto owned = simulate(p, 1'000 * kMs, {1, 3});  // 2 never has work
  EXPECT_EQ(owned[2], 0u);
  EXPECT_EQ(owned[1] + owned[3], 1'000 * kMs);  // the GPU never idled
  EXPECT_NEAR(double(owned[1]) / owned[3], 1.0, 0.02);
}

TEST(SchedPolicy, NobodyWithWorkNobodyOwns) {
  SchedPolicy p;
  p.add(1, 1);
  EXPECT_EQ(p.pick(std::nullopt, [](uint32_t) { return false; }), std::nullopt);
  EXPECT_EQ(p.pick(1u, [](uint32_t) { return false; }), std::nullopt);
}

TEST(SchedPolicy, IdleTimeDoesNotPileUpIntoABurst) {
  SchedPolicy p;
  p.add(1, 1);
  p.add(2, 1);
  // Client 1 idles for a second while 2 runs alone.
  simulate(p, 1'000 * kMs, {2});
  EXPECT_LE(p.left_ns(1), int64_t(50 * kMs));  // at most one window's allocation
  // Then both run: 1 may not hold the GPU for more than its saved-up
  // allocation before 2 gets a turn.
  std::optional<uint32_t> owner;
  uint64_t longest = 0, run = 0;
  for (uint64_t now = 1'000 * kMs; now < 1'300 * kMs; now += kMs) {
    auto next = p.pick(owner, [](uint32_t) { return true; });
    run = next == owner ? run + kMs : kMs;
    owner = next;
    p.charge(*owner, kMs);
    if (*owner == 1) longest = std::max(longest, run);
  }
  EXPECT_LE(longest, 50 * kMs);
}

TEST(SchedPolicy, AnOverrunIsPaidBack) {
  SchedPolicy p;
  p.add(1, 1);
  p.add(2, 1);
  // 1 held the GPU for 80 ms of a 100 ms window (a long batch it could not
  // be switched away from): 2 gets the difference in the next window.
  std::optional<uint32_t> owner = p.pick(std::nullopt, [](uint32_t) { return true; });
  ASSERT_TRUE(owner);
  const uint32_t hog = *owner, other = 3 - hog;
  p.charge(hog, 80 * kMs);
  std::map<uint32_t, uint64_t> owned;
  owner.reset();
  for (uint64_t now = 80 * kMs; now < 300 * kMs; now += kMs) {
    owner = p.pick(owner, [](uint32_t) { return true; });
    p.charge(*owner, kMs);
    owned[*owner] += kMs;
  }
  // Over the 300 ms both end up with 150 ms (a tick of rounding).
  EXPECT_NEAR(double(owned[hog] + 80 * kMs), 150.0 * kMs, double(kMs));
  EXPECT_NEAR(double(owned[other]), 150.0 * kMs, double(kMs));
}

TEST(SchedPolicy, RemovedClientIsNeverPickedAndOthersShareItsTime) {
  SchedPolicy p;
  p.add(1, 1);
  p.add(2, 1);
  p.add(3, 2);
  p.remove(3);
  auto owned = simulate(p, 10'000 * kMs, {1, 2, 3});
  EXPECT_EQ(owned.count(3), 0u);
  EXPECT_NEAR(double(owned[1]) / owned[2], 1.0, 0.02);
}

TEST(SchedPolicy, SwitchesAtMostOncePerSliceNotEveryTick) {
  SchedPolicy p;
  for (uint32_t id = 1; id <= 4; ++id) p.add(id, 1);
  uint64_t switches = 0;
  simulate(p, 1'000 * kMs, {1, 2, 3, 4}, &switches);
  // Each client runs its 25 ms allocation in one go: 4 switches per window.
  EXPECT_LE(switches, 4u * 10 + 1);
  EXPECT_GE(switches, 4u * 10 - 1);
}

}  // namespace
