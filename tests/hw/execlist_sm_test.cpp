#include "common/gen8/execlist_sm.h"

#include <gtest/gtest.h>

using namespace gen8;

namespace {

ElspElement el(uint32_t lrca, uint32_t id) {
  return {lrca | kDescValid | kDescAddrModeLegacy64 | kDescPrivilege, id};
}

ExeclistSm::Submit submit(ExeclistSm& sm, ElspElement e0, ElspElement e1 = {}) {
  sm.port_write(e1.hi);
  sm.port_write(e1.lo);
  sm.port_write(e0.hi);
  return sm.port_write(e0.lo);
}

TEST(ExeclistSm, FourthDwordSubmits) {
  ExeclistSm sm;
  EXPECT_FALSE(sm.port_write(0).complete);
  EXPECT_FALSE(sm.port_write(0).complete);
  EXPECT_FALSE(sm.port_write(7).complete);
  auto r = sm.port_write(el(0x1000, 7).lo);
  ASSERT_TRUE(r.complete && r.accepted);
  ASSERT_EQ(r.n_events, 1);
  EXPECT_EQ(r.events[0].status, kCsbIdleToActive);
  EXPECT_EQ(r.events[0].ctx_id, 7u);
  ASSERT_NE(sm.current(), nullptr);
  EXPECT_EQ(sm.current()->lrca(), 0x1000u);
}

TEST(ExeclistSm, SingleCompletes) {
  ExeclistSm sm;
  submit(sm, el(0x1000, 1));
  CsbEvent ev[2];
  ASSERT_EQ(sm.complete(ev), 1);
  EXPECT_EQ(ev[0].status, kCsbComplete | kCsbActiveToIdle);
  EXPECT_EQ(sm.current(), nullptr);
  EXPECT_EQ(sm.complete(ev), 0);
}

TEST(ExeclistSm, PairSwitchesElements) {
  ExeclistSm sm;
  submit(sm, el(0x1000, 1), el(0x2000, 2));
  EXPECT_TRUE(sm.status() & kElStatEl1Valid);
  CsbEvent ev[2];
  ASSERT_EQ(sm.complete(ev), 1);
  EXPECT_EQ(ev[0].status, kCsbElementSwitch | kCsbComplete);
  EXPECT_EQ(ev[0].ctx_id, 1u);
  EXPECT_EQ(sm.current()->ctx_id(), 2u);
  EXPECT_TRUE(sm.status() & kElStatCurrentPtr);
  ASSERT_EQ(sm.complete(ev), 1);
  EXPECT_EQ(ev[0].status, kCsbComplete | kCsbActiveToIdle);
  EXPECT_EQ(ev[0].ctx_id, 2u);
}

TEST(ExeclistSm, LiteRestoreOfRunningContext) {
  ExeclistSm sm;
  submit(sm, el(0x1000, 1));
  auto r = submit(sm, el(0x1000, 1));
  ASSERT_TRUE(r.accepted);
  EXPECT_TRUE(r.lite_restore);
  ASSERT_EQ(r.n_events, 1);
  EXPECT_EQ(r.events[0].status, kCsbPreempted | kCsbLiteRestore);
}

TEST(ExeclistSm, QueueFullThenRefused) {
  ExeclistSm sm;
  submit(sm, el(0x1000, 1));
  auto pend = submit(sm, el(0x2000, 2));
  EXPECT_TRUE(pend.accepted);
  EXPECT_EQ(pend.n_events, 0);
  EXPECT_TRUE(sm.status() & kElStatQueueFull);
  auto third = submit(sm, el(0x3000, 3));
  EXPECT_TRUE(third.complete);
  EXPECT_FALSE(third.accepted);
  CsbEvent ev[2];
  ASSERT_EQ(sm.complete(ev), 2);
  EXPECT_EQ(ev[0].status, kCsbComplete | kCsbActiveToIdle);
  EXPECT_EQ(ev[1].status, kCsbIdleToActive);
  EXPECT_EQ(ev[1].ctx_id, 2u);
  EXPECT_FALSE(sm.status() & kElStatQueueFull);
}

TEST(ExeclistSm, InvalidElementZeroIsRefused) {
  ExeclistSm sm;
  auto r = submit(sm, ElspElement{0x1000, 1});
  EXPECT_TRUE(r.complete);
  EXPECT_FALSE(r.accepted);
  EXPECT_EQ(sm.current(), nullptr);
}

TEST(ExeclistSm, CsbPointerWraps) {
  uint32_t wp = kCsbPtrEmpty;
  for (uint32_t i = 0; i < 14; ++i) {
    wp = csb_next(wp);
    EXPECT_EQ(wp, i % kCsbEntries);
  }
}

}  // namespace
