// Execlist submission, the CSB event sequences, context isolation, resets.
#include <thread>

#include "gpu_fixture.h"

namespace hw::test {
namespace {

using namespace gen8;

class GpuExeclist : public GpuTest {
 protected:
  static uint32_t status(uint64_t e) { return static_cast<uint32_t>(e); }
  static uint32_t id(uint64_t e) { return static_cast<uint32_t>(e >> 32); }
  // A context blocked on a semaphore until `release` is called.
  struct Blocked {
    Harness::Context ctx;
    Harness::Buffer sem;
  };
  Blocked blocked(int engine) {
    Blocked b{h->make_context(engine), h->alloc_ggtt(4096)};
    Cmds c;
    c->semaphore_wait(b.sem.gm, 1, SemOp::Equal, true);
    h->emit(b.ctx, c.span());
    return b;
  }
  static void release(Blocked& b) { reinterpret_cast<volatile uint32_t*>(b.sem.cpu)[0] = 1; }
};

TEST_F(GpuExeclist, SingleContextCsbSequence) {
  auto ctx = h->make_context(kRcs);
  Cmds c;
  c->noop();
  h->run(ctx, c.span());
  ASSERT_TRUE(h->wait_idle(kRcs));
  auto csb = h->read_csb(kRcs);
  ASSERT_EQ(csb.size(), 2u);
  EXPECT_EQ(status(csb[0]), kCsbIdleToActive);
  EXPECT_EQ(id(csb[0]), ctx.ctx_id);
  EXPECT_EQ(status(csb[1]), kCsbComplete | kCsbActiveToIdle);
  EXPECT_EQ(id(csb[1]), ctx.ctx_id);
  // The register copy matches the HWSP mirror.
  EXPECT_EQ(reg(kRcsBase + reg::RING_CONTEXT_STATUS_PTR) & 7, 1u);
  EXPECT_EQ(reg(kRcsBase + reg::RING_CONTEXT_STATUS_BUF + 8), status(csb[1]));
  // The saved image has RING_HEAD at the tail.
  EXPECT_EQ(ctx.regs()[ctx::RING_HEAD], ctx.regs()[ctx::RING_TAIL]);
  EXPECT_FALSE(ctx.regs()[ctx::CONTEXT_CONTROL] & kCtxCtrlRestoreInhibit);
}

TEST_F(GpuExeclist, PairCsbSequence) {
  auto a = h->make_context(kBcs), b = h->make_context(kBcs);
  Cmds c;
  c->noop();
  h->emit(a, c.span());
  h->emit(b, c.span());
  h->submit(a, &b);
  ASSERT_TRUE(h->wait_idle(kBcs));
  auto csb = h->read_csb(kBcs);
  ASSERT_EQ(csb.size(), 3u);
  EXPECT_EQ(status(csb[0]), kCsbIdleToActive);
  EXPECT_EQ(status(csb[1]), kCsbElementSwitch | kCsbComplete);
  EXPECT_EQ(id(csb[1]), a.ctx_id);
  EXPECT_EQ(status(csb[2]), kCsbComplete | kCsbActiveToIdle);
  EXPECT_EQ(id(csb[2]), b.ctx_id);
}

TEST_F(GpuExeclist, LiteRestoreExtendsTheRunningContext) {
  auto b = blocked(kRcs);
  auto dst = h->alloc_ggtt(4096);
  h->submit(b.ctx);
  EXPECT_FALSE(h->wait_idle(kRcs, std::chrono::milliseconds(20)));
  Cmds more;
  more->store_dword(dst.gm, 5, true);
  h->emit(b.ctx, more.span());
  h->submit(b.ctx);  // same context: lite restore
  release(b);
  ASSERT_TRUE(h->wait_idle(kRcs));
  EXPECT_EQ(reinterpret_cast<uint32_t*>(dst.cpu)[0], 5u);
  auto csb = h->read_csb(kRcs);
  ASSERT_EQ(csb.size(), 3u);
  EXPECT_EQ(status(csb[0]), kCsbIdleToActive);
  EXPECT_EQ(status(csb[1]), kCsbPreempted | kCsbLiteRestore);
  EXPECT_EQ(status(csb[2]), kCsbComplete | kCsbActiveToIdle);
}

TEST_F(GpuExeclist, QueueFullThenThePendingPairRuns) {
  auto b = blocked(kRcs);
  auto other = h->make_context(kRcs), third = h->make_context(kRcs);
  Cmds c;
  c->noop();
  h->emit(other, c.span());
  h->emit(third, c.span());
  h->submit(b.ctx);
  h->submit(other);
  EXPECT_TRUE(reg(kRcsBase + reg::RING_EXECLIST_STATUS) & kElStatQueueFull);
  h->submit(third);  // both slots busy: refused
  release(b);
  ASSERT_TRUE(h->wait_idle(kRcs));
  auto csb = h->read_csb(kRcs);
  ASSERT_EQ(csb.size(), 4u);
  EXPECT_EQ(status(csb[1]), kCsbComplete | kCsbActiveToIdle);
  EXPECT_EQ(status(csb[2]), kCsbIdleToActive);
  EXPECT_EQ(id(csb[2]), other.ctx_id);
  EXPECT_EQ(id(csb[3]), other.ctx_id);
  EXPECT_EQ(gpu->counters(third.lrca()).commands, 0u);
}

TEST_F(GpuExeclist, CsbWrapsAroundSixEntries) {
  auto ctx = h->make_context(kBcs);
  std::vector<uint64_t> all;
  for (int i = 0; i < 5; ++i) {
    Cmds c;
    c->noop();
    h->run(ctx, c.span());
    ASSERT_TRUE(h->wait_idle(kBcs));
    for (auto e : h->read_csb(kBcs)) all.push_back(e);
  }
  ASSERT_EQ(all.size(), 10u);
  for (size_t i = 0; i < all.size(); i += 2) {
    EXPECT_EQ(status(all[i]), kCsbIdleToActive);
    EXPECT_EQ(status(all[i + 1]), kCsbComplete | kCsbActiveToIdle);
  }
  EXPECT_EQ(h->hwsp(kBcs)[kHwspCsbWritePtr], 9u % kCsbEntries);
}

TEST_F(GpuExeclist, NoEngineStateSurvivesIntoAContextThatDidNotSetIt) {
  auto dst = h->alloc_ggtt(4096);
  uint32_t gpr = kRcsBase + reg::CS_GPR0 + 5 * 8, instpm = kRcsBase + reg::RING_INSTPM;
  auto a = h->make_context(kRcs);
  Cmds set;
  set->lri(gpr, 0xA11CE);
  set->lri(instpm, 0x00FF00FF);
  h->run(a, set.span());
  ASSERT_TRUE(h->wait_idle(kRcs));
  auto b = h->make_context(kRcs);  // restore-inhibit: documented defaults
  Cmds get;
  get->srm(gpr, dst.gm, true);
  get->srm(instpm, dst.gm + 4, true);
  h->run(b, get.span());
  ASSERT_TRUE(h->wait_idle(kRcs));
  EXPECT_EQ(reinterpret_cast<uint32_t*>(dst.cpu)[0], 0u);
  EXPECT_EQ(reinterpret_cast<uint32_t*>(dst.cpu)[1], 0u);
  // A restores its own values from its image.
  Cmds again;
  again->srm(gpr, dst.gm + 8, true);
  h->run(a, again.span());
  ASSERT_TRUE(h->wait_idle(kRcs));
  EXPECT_EQ(reinterpret_cast<uint32_t*>(dst.cpu)[2], 0xA11CEu);
}

TEST_F(GpuExeclist, EngineResetStopsABlockedEngineOnly) {
  auto b = blocked(kRcs);
  h->submit(b.ctx);
  EXPECT_FALSE(h->wait_idle(kRcs, std::chrono::milliseconds(20)));
  auto dst = h->alloc_ggtt(4096);
  h->reset_engine(kRcs);  // returns only once the engine has stopped
  EXPECT_TRUE(gpu->engine_idle(kRcs));
  EXPECT_EQ(reg(kRcsBase + reg::RING_CONTEXT_STATUS_PTR) & 7, kCsbPtrEmpty);
  EXPECT_EQ(reg(kRcsBase + reg::RING_EXECLIST_STATUS), 0u);
  // Both engines still work.
  for (int e : {kRcs, kBcs}) {
    auto ctx = h->make_context(e);
    Cmds c;
    c->store_dword(dst.gm + 4 * e, 1, true);
    h->run(ctx, c.span());
    ASSERT_TRUE(h->wait_idle(e));
  }
  EXPECT_EQ(reinterpret_cast<uint32_t*>(dst.cpu)[0], 1u);
}

TEST_F(GpuExeclist, ResetClearsAFaultedEngine) {
  auto ctx = h->make_context(kBcs);
  Cmds bad;
  bad->bb_end();
  h->run(ctx, bad.span());
  ASSERT_TRUE(h->wait_fault(kBcs));
  EXPECT_FALSE(gpu->engine_idle(kBcs));
  h->reset_engine(kBcs);
  EXPECT_EQ(fault_of(kBcs), Fault::None);
  EXPECT_EQ(reg(kBcsBase + reg::RING_IPEIR), 0u);
  auto ok = h->make_context(kBcs);
  Cmds c;
  c->noop();
  h->run(ok, c.span());
  EXPECT_TRUE(h->wait_idle(kBcs));
}

TEST_F(GpuExeclist, FullResetStopsBothEnginesAndClearsGtInterrupts) {
  auto a = blocked(kRcs), b = blocked(kBcs);
  h->submit(a.ctx);
  h->submit(b.ctx);
  gpu->mmio_write(reg::FENCE_REG_GEN6, 8, 0x1000001);
  gpu->mmio_write(reg::GEN6_GDRST, 4, kGdrstFull);
  EXPECT_EQ(reg(reg::GEN6_GDRST), 0u);
  EXPECT_TRUE(gpu->engine_idle(kRcs));
  EXPECT_TRUE(gpu->engine_idle(kBcs));
  EXPECT_EQ(reg(reg::GEN8_GT_IIR0), 0u);
  EXPECT_EQ(gpu->mmio_read(reg::FENCE_REG_GEN6, 8), 0u);
  // The interrupt master and display state survive a GT reset.
  EXPECT_TRUE(reg(reg::GEN8_MASTER_IRQ) & kMasterEnable);
}

TEST_F(GpuExeclist, MaskedInterruptIsNotLatched) {
  gpu->mmio_write(reg::GEN8_GT_IIR0, 4, kAll);
  gpu->mmio_write(reg::GEN8_GT_IMR0, 4, kGtUser);
  auto ctx = h->make_context(kRcs);
  Cmds c;
  c->user_interrupt();
  h->run(ctx, c.span());
  ASSERT_TRUE(h->wait_idle(kRcs));
  EXPECT_FALSE(reg(reg::GEN8_GT_IIR0) & kGtUser);
  EXPECT_TRUE(reg(reg::GEN8_GT_IIR0) & kGtCtxSwitch);
}

TEST_F(GpuExeclist, ClearingIirWhileAnotherBitIsPendingReinjects) {
  auto ctx = h->make_context(kRcs);
  Cmds c;
  c->user_interrupt();
  h->run(ctx, c.span());
  ASSERT_TRUE(h->wait_idle(kRcs));
  ASSERT_TRUE(reg(reg::GEN8_GT_IIR0) & kGtUser);
  ASSERT_TRUE(reg(reg::GEN8_GT_IIR0) & kGtCtxSwitch);
  uint64_t before = h->msis();
  gpu->mmio_write(reg::GEN8_GT_IIR0, 4, kGtUser);
  EXPECT_EQ(h->msis(), before + 1);
  gpu->mmio_write(reg::GEN8_GT_IIR0, 4, kAll);
  EXPECT_EQ(h->msis(), before + 1);
}

}  // namespace
}  // namespace hw::test
