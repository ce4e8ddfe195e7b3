// The privilege rules of docs/hw-spec.md, one hostile stream per rule, and the
// malformed-command paths. Each fault must stop only its own engine.
#include "gpu_fixture.h"

namespace hw::test {
namespace {

using namespace gen8;

class GpuPrivilege : public GpuTest {
 protected:
  // Runs `cmds` in an unprivileged batch on RCS and expects `want`; BCS must
  // keep working meanwhile.
  void expect_batch_fault(std::span<const uint32_t> cmds, Fault want) {
    run_ppgtt_batch(kRcs, cmds);
    ASSERT_TRUE(h->wait_fault(kRcs));
    EXPECT_EQ(fault_of(kRcs), want);
    EXPECT_TRUE(reg(kRcsBase + reg::RING_EIR) & (1u << static_cast<uint32_t>(want)));
    EXPECT_TRUE(reg(reg::GEN8_GT_IIR0) & kGtError);
    expect_other_engine_runs();
  }
  void expect_ring_fault(int engine, std::span<const uint32_t> cmds, Fault want) {
    auto ctx = h->make_context(engine);
    h->run(ctx, cmds);
    ASSERT_TRUE(h->wait_fault(engine));
    EXPECT_EQ(fault_of(engine), want);
  }
  void expect_other_engine_runs() {
    auto dst = h->alloc_ggtt(4096);
    auto ctx = h->make_context(kBcs);
    Cmds c;
    c->store_dword(dst.gm, 0x600D, true);
    h->run(ctx, c.span());
    ASSERT_TRUE(h->wait_idle(kBcs));
    EXPECT_EQ(reinterpret_cast<uint32_t*>(dst.cpu)[0], 0x600Du);
  }
};

// Rule (2): LRI outside the non-privileged whitelist.
TEST_F(GpuPrivilege, UnprivilegedLriToAPrivilegedRegisterFaults) {
  auto dst = h->alloc_ggtt(4096);
  Cmds b;
  b->lri(kRcsBase + reg::RING_INSTPM, 0xFFFF0001);
  b->bb_end();
  expect_batch_fault(b.span(), Fault::Register);
  // The execution log counts what reached the engine, the refused LRI too:
  // the mediator's tests read it to show a forbidden LRI never got there.
  EXPECT_EQ(gpu->lri_count(kRcs, kRcsBase + reg::RING_INSTPM), 1u);
  // The ring (privileged) may write the same register.
  h->reset_engine(kRcs);
  auto ctx = h->make_context(kRcs);
  Cmds r;
  r->lri(kRcsBase + reg::RING_INSTPM, 0x00010001);
  r->srm(kRcsBase + reg::RING_INSTPM, dst.gm, true);
  h->run(ctx, r.span());
  ASSERT_TRUE(h->wait_idle(kRcs));
  EXPECT_EQ(reinterpret_cast<uint32_t*>(dst.cpu)[0], 1u);
  EXPECT_EQ(gpu->lri_count(kRcs, kRcsBase + reg::RING_INSTPM), 2u);
  EXPECT_EQ(gpu->lri_count(kBcs, kRcsBase + reg::RING_INSTPM), 0u);  // per engine
  EXPECT_EQ(gpu->lri_count(kRcs, kRcsBase + reg::CS_GPR0), 0u);      // per register
}

TEST_F(GpuPrivilege, UnprivilegedLriToAGprIsAllowed) {
  Cmds b;
  b->lri(kRcsBase + reg::CS_GPR0, 1);
  b->bb_end();
  run_ppgtt_batch(kRcs, b.span());
  EXPECT_TRUE(h->wait_idle(kRcs));
}

TEST_F(GpuPrivilege, LriToAnotherEnginesRegisterFaults) {
  Cmds c;
  c->lri(kBcsBase + reg::CS_GPR0, 1);
  expect_ring_fault(kRcs, c.span(), Fault::Register);
}

TEST_F(GpuPrivilege, LriToAnUnknownRegisterFaults) {
  Cmds c;
  c->lri(0x4, 1);
  expect_ring_fault(kRcs, c.span(), Fault::Register);
}

// Rule (2): post-syncs that select the GGTT.
TEST_F(GpuPrivilege, UnprivilegedGgttStoreDataImmFaults) {
  auto dst = h->alloc_ggtt(4096);
  Cmds b;
  b->store_dword(dst.gm, 1, true);
  b->bb_end();
  expect_batch_fault(b.span(), Fault::GgttSelect);
  EXPECT_EQ(reinterpret_cast<uint32_t*>(dst.cpu)[0], 0u);
}

TEST_F(GpuPrivilege, UnprivilegedGgttPipeControlFaults) {
  Cmds b;
  b->pipe_control(h->hwsp_gm(kRcs), 1, true, false);
  b->bb_end();
  expect_batch_fault(b.span(), Fault::GgttSelect);
}

TEST_F(GpuPrivilege, UnprivilegedGgttSrmFaults) {
  Cmds b;
  b->srm(kRcsBase + reg::CS_GPR0, h->hwsp_gm(kRcs), true);
  b->bb_end();
  expect_batch_fault(b.span(), Fault::GgttSelect);
}

TEST_F(GpuPrivilege, UnprivilegedIndexModeFaults) {
  Cmds b;
  b->store_data_index(0x40, 1);
  b->bb_end();
  expect_batch_fault(b.span(), Fault::GgttSelect);
}

TEST_F(GpuPrivilege, UnprivilegedGgttFlushDwFaults) {
  Cmds b;
  b->flush_dw(h->hwsp_gm(kBcs), 1, true, false);
  b->bb_end();
  run_ppgtt_batch(kBcs, b.span());
  ASSERT_TRUE(h->wait_fault(kBcs));
  EXPECT_EQ(fault_of(kBcs), Fault::GgttSelect);
}

// Rule (1): privilege is monotonic.
TEST_F(GpuPrivilege, UnprivilegedBatchStartingAGgttBatchFaults) {
  auto ggtt_batch = h->alloc_ggtt(4096);
  Cmds inner;
  inner->lri(kRcsBase + reg::RING_INSTPM, 0xFFFF0001);
  inner->bb_end();
  std::memcpy(ggtt_batch.cpu, inner.buf.data(), inner.w.bytes());
  Cmds b;
  b->bb_start(ggtt_batch.gm, false, true);
  b->bb_end();
  expect_batch_fault(b.span(), Fault::GgttSelect);
}

TEST_F(GpuPrivilege, PrivilegedOnlyCommandsFaultInUnprivilegedBatches) {
  Cmds flip;
  flip->display_flip(0, 4096, 0x100000, true);
  flip->bb_end();
  expect_batch_fault(flip.span(), Fault::Privileged);
  h->reset_engine(kRcs);
  Cmds gtt;
  gtt->update_gtt(0, 0);
  gtt->bb_end();
  expect_batch_fault(gtt.span(), Fault::Privileged);
}

// Blits in an unprivileged batch go through the PPGTT: a GGTT address that is
// not mapped in the PPGTT faults instead of reaching GGTT memory.
TEST_F(GpuPrivilege, UnprivilegedBlitCannotReachTheGgtt) {
  auto victim = h->alloc_ggtt(4096);
  Cmds b;
  b->color_blt(victim.gm, 256, 0, 0, 8, 8, 0xFFFFFFFF);
  b->bb_end();
  run_ppgtt_batch(kBcs, b.span());
  ASSERT_TRUE(h->wait_fault(kBcs));
  EXPECT_EQ(fault_of(kBcs), Fault::PageFault);
  EXPECT_EQ(reinterpret_cast<uint32_t*>(victim.cpu)[0], 0u);
}

// ---- malformed commands ----

TEST_F(GpuPrivilege, BadLengthFaults) {
  const uint32_t even_lri[] = {header(Op::MI_LOAD_REGISTER_IMM, 4), kRcsBase + reg::CS_GPR0, 1, 0};
  expect_ring_fault(kRcs, even_lri, Fault::BadLength);
}

TEST_F(GpuPrivilege, CommandRunningPastTheTailFaults) {
  auto ctx = h->make_context(kRcs);
  // Claims 4 dwords, but the tail ends after 2.
  const uint32_t cut[] = {header(Op::MI_STORE_DATA_IMM, 4), 0};
  h->run(ctx, cut);
  ASSERT_TRUE(h->wait_fault(kRcs));
  EXPECT_EQ(fault_of(kRcs), Fault::BadLength);
}

TEST_F(GpuPrivilege, BatchEndInTheRingFaults) {
  Cmds c;
  c->bb_end();
  expect_ring_fault(kRcs, c.span(), Fault::BadBatchEnd);
}

TEST_F(GpuPrivilege, SecondLevelBatchFromTheRingFaults) {
  Cmds c;
  c->bb_start(0x100000, true, true);
  expect_ring_fault(kRcs, c.span(), Fault::BatchDepth);
}

TEST_F(GpuPrivilege, ThirdLevelBatchFaults) {
  auto l2 = ppgtt_buf(kVa + 0x10000, 4096);
  Cmds second;
  second->bb_start(kVa + 0x10000, true, true);  // calls itself a level deeper
  std::memcpy(l2.cpu, second.buf.data(), second.w.bytes());
  Cmds first;
  first->bb_start(kVa + 0x10000, true, true);
  expect_batch_fault(first.span(), Fault::BatchDepth);
}

TEST_F(GpuPrivilege, UnsupportedBlitsFault) {
  ppgtt_buf(kVa, 4096);
  Cmds tiled;
  tiled->color_blt(kVa, 256, 0, 0, 4, 4, 1);
  tiled.buf[0] |= kBltDstTiled;
  tiled->bb_end();
  run_ppgtt_batch(kBcs, tiled.span());
  ASSERT_TRUE(h->wait_fault(kBcs));
  EXPECT_EQ(fault_of(kBcs), Fault::BadBlit);
  h->reset_engine(kBcs);
  Cmds rop;
  rop->color_blt(kVa, 256, 0, 0, 4, 4, 1);
  rop.buf[1] = (rop.buf[1] & ~kRopMask) | (0x5Au << 16);
  rop->bb_end();
  run_ppgtt_batch(kBcs, rop.span());
  ASSERT_TRUE(h->wait_fault(kBcs));
  EXPECT_EQ(fault_of(kBcs), Fault::BadBlit);
}

TEST_F(GpuPrivilege, ExtentOutsideTheGttFaults) {
  Cmds c;
  c->store_qword(kGmSize - 4, 1, true);  // the last 4 bytes lie beyond 4 GiB
  expect_ring_fault(kBcs, c.span(), Fault::PageFault);
}

TEST_F(GpuPrivilege, UnmappedAddressPageFaultsWithTheAddressRecorded) {
  Cmds b;
  b->store_dword(kVa + 0x123000, 1, false);
  b->bb_end();
  expect_batch_fault(b.span(), Fault::PageFault);
  EXPECT_EQ(reg(reg::GEN8_FAULT_TLB_DATA0), (kVa + 0x123000) >> 12);
  EXPECT_EQ(gpu->last_fault(kRcs).detail, kVa + 0x123000);
}

TEST_F(GpuPrivilege, DmaOutsideHostMemoryIsRefusedAndCounted) {
  uint64_t beyond = gpu->memory().size() + 0x10000;
  uint64_t index = 0x2000;
  gpu->mmio_write(kGgttOffset + index * 8, 8, beyond | kPtePresent);
  uint64_t refused = gpu->memory().refused_dma();
  Cmds c;
  c->store_dword(index * kPageSize, 1, true);
  expect_ring_fault(kBcs, c.span(), Fault::DmaRefused);
  EXPECT_GT(gpu->memory().refused_dma(), refused);
}

TEST_F(GpuPrivilege, BadDescriptorIsRefused) {
  auto ctx = h->make_context(kRcs);
  Cmds c;
  c->noop();
  h->emit(ctx, c.span());
  // Legacy 32-bit addressing (3-level) is not modelled.
  uint64_t desc = uint64_t{1} << 32 | (ctx.lrca() | kDescValid | kDescPrivilege | (1u << kDescAddrModeShift));
  gpu->mmio_write(kRcsBase + reg::RING_ELSP, 8, 0);
  gpu->mmio_write(kRcsBase + reg::RING_ELSP, 8, desc);
  ASSERT_TRUE(h->wait_fault(kRcs));
  EXPECT_EQ(fault_of(kRcs), Fault::BadContext);
}

TEST_F(GpuPrivilege, BadRingIsRefused) {
  auto ctx = h->make_context(kRcs);
  ctx.regs()[ctx::RING_TAIL] = 0x10000;  // beyond the 16 KiB ring
  h->submit(ctx);
  ASSERT_TRUE(h->wait_fault(kRcs));
  EXPECT_EQ(fault_of(kRcs), Fault::BadRing);
}

}  // namespace
}  // namespace hw::test
