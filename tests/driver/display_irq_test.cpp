// drv::Display (modeset, MMIO and ring flips) and the interrupt bottom half
// (flip done, engine faults) on the real model.
#include <atomic>
#include <chrono>
#include <thread>

#include "driver_fixture.h"

namespace drv::test {
namespace {

using namespace gen8;
using namespace std::chrono_literals;

class DisplayIrq : public DriverTest {
 protected:
  uint32_t rd(uint32_t reg, int pipe = 0) {
    return static_cast<uint32_t>(gpu->mmio_read(reg + pipe * kPipeStride, 4));
  }
  Bo framebuffer(const Mode& m = {}) {
    auto fb = dev.create_bo(uint64_t{m.width} * 4 * m.height, kBoGgtt);
    EXPECT_TRUE(fb);
    return fb ? *fb : Bo{};
  }
  void fault_engine(int e);
};

TEST_F(DisplayIrq, ModesetProgramsPipeA) {
  Bo fb = framebuffer();
  ASSERT_NE(fb.gm, 0u);
  for (uint32_t i = 0; i < 1024 * 768; ++i) fb.dwords()[i] = 0x00010203u * (i % 61);
  Display d;
  ASSERT_TRUE(d.modeset(dev, 0, Mode{}, fb, true));
  EXPECT_EQ(rd(reg::PIPESRC), pipesrc(1024, 768));
  EXPECT_EQ(rd(reg::DSPSTRIDE), 1024u * 4);
  const uint32_t cntr = rd(reg::DSPCNTR);
  EXPECT_TRUE(cntr & kDspEnable);
  EXPECT_EQ(cntr & kDspFormatMask, kDspFormatXrgb8888);
  EXPECT_TRUE(cntr & kDspAsyncFlip);
  EXPECT_FALSE(cntr & kDspTiled);
  EXPECT_TRUE(rd(reg::PIPECONF) & kPipeconfEnable);
  EXPECT_TRUE(rd(reg::PIPECONF) & kPipeconfState);
  EXPECT_EQ(rd(reg::HTOTAL) & 0xFFFF, 1023u);
  EXPECT_EQ(rd(reg::VTOTAL) & 0xFFFF, 767u);
  EXPECT_EQ(rd(reg::DSPSURF), static_cast<uint32_t>(fb.gm));
  EXPECT_EQ(rd(reg::DSPSURFLIVE), static_cast<uint32_t>(fb.gm));
  // Pipe B was left alone.
  EXPECT_FALSE(rd(reg::PIPECONF, 1) & kPipeconfEnable);
  // The display engine scans out exactly the framebuffer.
  auto frame = gpu->scanout(0);
  ASSERT_TRUE(frame) << frame.error();
  EXPECT_EQ(frame->width, 1024u);
  EXPECT_EQ(frame->height, 768u);
  bool same = true;
  for (uint32_t i = 0; i < 1024 * 768 && same; ++i) same = frame->pixels[i] == fb.dwords()[i];
  EXPECT_TRUE(same);
  EXPECT_TRUE(d.async());
  EXPECT_EQ(d.stride(), 4096u);
  dev.destroy_bo(fb);
}

TEST_F(DisplayIrq, ModesetOtherPipeAndSyncModeEnablesFlipDone) {
  const Mode m{640, 480};
  Bo fb = framebuffer(m);
  Display d;
  ASSERT_TRUE(d.modeset(dev, 1, m, fb, false));
  EXPECT_EQ(rd(reg::PIPESRC, 1), pipesrc(640, 480));
  EXPECT_EQ(rd(reg::DSPSTRIDE, 1), 640u * 4);
  EXPECT_TRUE(rd(reg::DSPCNTR, 1) & kDspEnable);
  EXPECT_FALSE(rd(reg::DSPCNTR, 1) & kDspAsyncFlip);
  EXPECT_TRUE(rd(reg::PIPECONF, 1) & kPipeconfEnable);
  EXPECT_EQ(rd(reg::DSPSURFLIVE, 1), static_cast<uint32_t>(fb.gm));
  EXPECT_FALSE(rd(reg::PIPECONF, 0) & kPipeconfEnable);
  // Sync flips need the flip-done interrupt of that pipe: unmasked and enabled.
  const uint32_t o = 1 * reg::kDePipeStride;
  EXPECT_TRUE(static_cast<uint32_t>(gpu->mmio_read(reg::GEN8_DE_PIPE_IER + o, 4)) & kDePipeFlipDone);
  EXPECT_FALSE(static_cast<uint32_t>(gpu->mmio_read(reg::GEN8_DE_PIPE_IMR + o, 4)) & kDePipeFlipDone);
  EXPECT_FALSE(static_cast<uint32_t>(gpu->mmio_read(reg::GEN8_DE_PIPE_IER, 4)) & kDePipeFlipDone);
  auto frame = gpu->scanout(1);
  ASSERT_TRUE(frame) << frame.error();
  EXPECT_EQ(frame->width, 640u);
  EXPECT_EQ(frame->height, 480u);
  // The ring flip for pipe B names plane code 1.
  FlipRequest fr = d.flip_request(fb);
  EXPECT_EQ(fr.plane, 1u);
  EXPECT_EQ(fr.stride, 640u * 4);
  EXPECT_EQ(fr.surface, static_cast<uint32_t>(fb.gm));
  EXPECT_FALSE(fr.async);
  dev.destroy_bo(fb);
}

TEST_F(DisplayIrq, ModesetRejectsBadArguments) {
  Bo fb = framebuffer();
  auto small = dev.create_bo(4096, kBoGgtt);
  auto unbound = dev.create_bo(1024 * 768 * 4, 0);
  ASSERT_TRUE(small && unbound);
  Display d;
  for (int pipe : {-1, kNumPipes}) {
    auto r = d.modeset(dev, pipe, Mode{}, fb, true);
    ASSERT_FALSE(r) << pipe;
    EXPECT_EQ(r.error(), Error::BadArgument);
  }
  auto r = d.modeset(dev, 0, Mode{}, *small, true);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), Error::BadArgument);
  r = d.modeset(dev, 0, Mode{}, *unbound, true);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), Error::BadArgument);
  // Nothing was programmed, and a flip before any modeset is refused.
  EXPECT_FALSE(rd(reg::PIPECONF) & kPipeconfEnable);
  auto f = d.flip(fb);
  ASSERT_FALSE(f);
  EXPECT_EQ(f.error(), Error::BadArgument);
  dev.destroy_bo(fb);
  dev.destroy_bo(*small);
  dev.destroy_bo(*unbound);
}

TEST_F(DisplayIrq, AsyncFlipUpdatesTheLiveSurfaceAtOnce) {
  Bo fb0 = framebuffer(), fb1 = framebuffer();
  Display d;
  ASSERT_TRUE(d.modeset(dev, 0, Mode{}, fb0, true));
  EXPECT_EQ(rd(reg::DSPSURFLIVE), static_cast<uint32_t>(fb0.gm));
  const uint32_t frames = rd(reg::PIPE_FRMCOUNT);
  ASSERT_TRUE(d.flip(fb1));
  EXPECT_EQ(rd(reg::DSPSURFLIVE), static_cast<uint32_t>(fb1.gm));
  ASSERT_TRUE(d.flip(fb0));
  EXPECT_EQ(rd(reg::DSPSURFLIVE), static_cast<uint32_t>(fb0.gm));
  // No vblank was needed.
  EXPECT_EQ(rd(reg::PIPE_FRMCOUNT), frames);
  dev.destroy_bo(fb0);
  dev.destroy_bo(fb1);
}

TEST_F(DisplayIrq, SyncFlipReturnsAfterVblankFlipDone) {
  Bo fb0 = framebuffer(), fb1 = framebuffer();
  Display d;
  ASSERT_TRUE(d.modeset(dev, 0, Mode{}, fb0, false));
  EXPECT_EQ(rd(reg::DSPSURFLIVE), static_cast<uint32_t>(fb0.gm));
  const uint32_t flips = dev.flip_done_count(0);
  const uint64_t irqs = dev.stats().interrupts;
  {
    VblankPump pump(*gpu);
    auto r = d.flip(fb1);
    ASSERT_TRUE(r) << error_name(r.error());
    EXPECT_EQ(rd(reg::DSPSURFLIVE), static_cast<uint32_t>(fb1.gm));
    EXPECT_EQ(dev.flip_done_count(0), flips + 1);
    EXPECT_GT(dev.stats().interrupts, irqs);
    EXPECT_GE(dev.stats().flips_done, 1u);
    EXPECT_GE(rd(reg::PIPE_FRMCOUNT), 1u);
    // And back again.
    r = d.flip(fb0);
    ASSERT_TRUE(r) << error_name(r.error());
    EXPECT_EQ(rd(reg::DSPSURFLIVE), static_cast<uint32_t>(fb0.gm));
    EXPECT_EQ(dev.flip_done_count(0), flips + 2);
  }
  EXPECT_EQ(dev.flip_done_count(1), 0u);
  // The bottom half acknowledged what it handled.
  EXPECT_EQ(static_cast<uint32_t>(gpu->mmio_read(reg::GEN8_DE_PIPE_IIR, 4)) & kDePipeFlipDone, 0u);
  dev.destroy_bo(fb0);
  dev.destroy_bo(fb1);
}

// Without a vblank a sync flip cannot complete: it times out (after the
// driver's 1 s limit) with the old surface still live; the next vblank
// latches it.
TEST_F(DisplayIrq, SyncFlipWithoutVblankTimesOut) {
  Bo fb0 = framebuffer(), fb1 = framebuffer();
  Display d;
  ASSERT_TRUE(d.modeset(dev, 0, Mode{}, fb0, false));
  auto r = d.flip(fb1);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), Error::Timeout);
  EXPECT_EQ(rd(reg::DSPSURFLIVE), static_cast<uint32_t>(fb0.gm));
  EXPECT_EQ(rd(reg::DSPSURF), static_cast<uint32_t>(fb1.gm));
  EXPECT_EQ(dev.flip_done_count(0), 0u);
  gpu->vblank();
  EXPECT_EQ(rd(reg::DSPSURFLIVE), static_cast<uint32_t>(fb1.gm));
  dev.service_interrupts();  // the MSI was delivered during vblank()
  EXPECT_EQ(dev.flip_done_count(0), 1u);
  dev.destroy_bo(fb0);
  dev.destroy_bo(fb1);
}

// MI_DISPLAY_FLIP in the ring, after a batch held back by a semaphore: the
// flip does not happen before the batch is done, and has happened once the
// seqno has passed.
TEST_F(DisplayIrq, RingFlipHappensAfterTheBatch) {
  for (int e = 0; e < kNumEngines; ++e) {
    SCOPED_TRACE(testing::Message() << "engine " << e);
    Bo fb0 = framebuffer(), fb1 = framebuffer();
    Display d;
    ASSERT_TRUE(d.modeset(dev, 0, Mode{}, fb0, true));
    Context ctx;
    ASSERT_TRUE(ctx.init(dev, e));
    auto sem = dev.create_bo(4096, 0);
    ASSERT_TRUE(sem);
    auto sem_va = ctx.bind(*sem);
    ASSERT_TRUE(sem_va);
    Batch b;
    ASSERT_TRUE(b.init(ctx, 4096));
    ASSERT_TRUE(b.begin());
    b.cmds().semaphore_wait(*sem_va, 1, SemOp::GreaterEq, false);
    b.cmds().store_dword(*sem_va + 4, 0x600D, false);
    FlipRequest fr = d.flip_request(fb1);
    EXPECT_EQ(fr.plane, 0u);
    EXPECT_TRUE(fr.async);
    auto s = b.submit(&fr);
    ASSERT_TRUE(s) << error_name(s.error());
    // Give the engine time to run ahead if it were going to.
    std::this_thread::sleep_for(20ms);
    EXPECT_FALSE(dev.seqno_passed(e, *s));
    EXPECT_EQ(rd(reg::DSPSURFLIVE), static_cast<uint32_t>(fb0.gm));
    std::atomic_ref<uint32_t>(sem->dwords()[0]).store(1);
    auto w = ctx.wait(*s, 5'000'000'000ull);
    ASSERT_TRUE(w) << error_name(w.error());
    EXPECT_EQ(sem->dwords()[1], 0x600Du);
    EXPECT_EQ(rd(reg::DSPSURFLIVE), static_cast<uint32_t>(fb1.gm));
    EXPECT_EQ(rd(reg::DSPSURF), static_cast<uint32_t>(fb1.gm));
    EXPECT_EQ(rd(reg::DSPSTRIDE), 4096u);
    EXPECT_EQ(gpu->last_fault(e).code, Fault::None);
    b.fini();
    ctx.unbind(*sem, *sem_va);
    ctx.fini();
    dev.destroy_bo(*sem);
    dev.destroy_bo(fb0);
    dev.destroy_bo(fb1);
  }
}

// A sync flip from the ring is latched by the next vblank, which the bottom
// half then counts as flip done.
TEST_F(DisplayIrq, SyncRingFlipIsLatchedAtVblank) {
  Bo fb0 = framebuffer(), fb1 = framebuffer();
  Display d;
  ASSERT_TRUE(d.modeset(dev, 0, Mode{}, fb0, false));
  Context ctx;
  ASSERT_TRUE(ctx.init(dev, 1));
  Batch b;
  ASSERT_TRUE(b.init(ctx, 4096));
  ASSERT_TRUE(b.begin());
  FlipRequest fr = d.flip_request(fb1);
  EXPECT_FALSE(fr.async);
  auto s = b.submit(&fr);
  ASSERT_TRUE(s);
  ASSERT_TRUE(ctx.wait(*s, 5'000'000'000ull));
  EXPECT_EQ(rd(reg::DSPSURF), static_cast<uint32_t>(fb1.gm));
  EXPECT_EQ(rd(reg::DSPSURFLIVE), static_cast<uint32_t>(fb0.gm));
  gpu->vblank();
  EXPECT_EQ(rd(reg::DSPSURFLIVE), static_cast<uint32_t>(fb1.gm));
  dev.service_interrupts();
  EXPECT_EQ(dev.flip_done_count(0), 1u);
  b.fini();
  ctx.fini();
  dev.destroy_bo(fb0);
  dev.destroy_bo(fb1);
}

// A batch with an unknown opcode on engine `e`: the error MSI reaches the
// bottom half, which marks the engine faulted, and wait() reports GpuFault.
void DisplayIrq::fault_engine(int e) {
  {
    Context ctx;
    ASSERT_TRUE(ctx.init(dev, e));
    auto dst = dev.create_bo(4096, 0);
    ASSERT_TRUE(dst);
    auto va = ctx.bind(*dst);
    ASSERT_TRUE(va);
    Batch b;
    ASSERT_TRUE(b.init(ctx, 4096));
    ASSERT_TRUE(b.begin());
    b.cmds().store_dword(*va, 1, false);
    b.cmds().dw(0x0C000000u);  // not in the command table
    b.cmds().store_dword(*va + 4, 2, false);
    const uint64_t irqs = dev.stats().interrupts;
    EXPECT_FALSE(dev.engine_faulted(e));
    auto s = b.submit();
    ASSERT_TRUE(s);
    auto w = ctx.wait(*s, 5'000'000'000ull);
    ASSERT_FALSE(w);
    EXPECT_EQ(w.error(), Error::GpuFault);
    EXPECT_TRUE(dev.engine_faulted(e));
    EXPECT_FALSE(dev.engine_faulted(1 - e));
    EXPECT_GT(dev.stats().interrupts, irqs);
    EXPECT_FALSE(dev.seqno_passed(e, *s));
    // The model stopped on the bad dword; the commands before it ran.
    EXPECT_EQ(gpu->last_fault(e).code, Fault::UnknownCommand);
    EXPECT_EQ(gpu->last_fault(e).header, 0x0C000000u);
    EXPECT_EQ(rd(kEngineBase[e] + reg::RING_IPEIR), static_cast<uint32_t>(Fault::UnknownCommand));
    EXPECT_EQ(dst->dwords()[0], 1u);
    EXPECT_EQ(dst->dwords()[1], 0u);
    // The bottom half acknowledged the error interrupt.
    EXPECT_EQ(static_cast<uint32_t>(gpu->mmio_read(reg::GEN8_GT_IIR0, 4)) & (kGtError << gt_shift(e)), 0u);
    // Later waits on that engine fail at once instead of timing out.
    w = ctx.wait(*s, 60'000'000'000ull);
    ASSERT_FALSE(w);
    EXPECT_EQ(w.error(), Error::GpuFault);

    // The other engine is unaffected.
    Context other;
    ASSERT_TRUE(other.init(dev, 1 - e));
    auto ova = other.bind(*dst);
    ASSERT_TRUE(ova);
    Batch ob;
    ASSERT_TRUE(ob.init(other, 4096));
    ASSERT_TRUE(ob.begin());
    ob.cmds().store_dword(*ova + 8, 3, false);
    auto os = ob.submit();
    ASSERT_TRUE(os);
    auto ow = other.wait(*os, 5'000'000'000ull);
    ASSERT_TRUE(ow) << error_name(ow.error());
    EXPECT_EQ(dst->dwords()[2], 3u);
    EXPECT_FALSE(dev.engine_faulted(1 - e));

    ob.fini();
    other.fini();
    b.fini();
    ctx.fini();
    dev.destroy_bo(*dst);
  }
}

TEST_F(DisplayIrq, BatchFaultOnBcsMarksTheEngineFaulted) { fault_engine(1); }
TEST_F(DisplayIrq, BatchFaultOnRcsMarksTheEngineFaulted) { fault_engine(0); }

}  // namespace
}  // namespace drv::test
