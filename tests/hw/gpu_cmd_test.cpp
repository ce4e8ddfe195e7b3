// Each command of the table, executed by the model's command streamer.
#include <thread>

#include "gpu_fixture.h"

namespace hw::test {
namespace {

using namespace gen8;

class GpuCmd : public GpuTest {};

TEST_F(GpuCmd, StoreDataImmGgttFromRing) {
  auto dst = h->alloc_ggtt(4096);
  auto ctx = h->make_context(kBcs);
  Cmds c;
  c->store_dword(dst.gm + 8, 0xCAFE, true);
  c->store_qword(dst.gm + 16, 0x1122334455667788ull, true);
  h->run(ctx, c.span());
  ASSERT_TRUE(h->wait_idle(kBcs));
  EXPECT_EQ(reinterpret_cast<uint32_t*>(dst.cpu)[2], 0xCAFEu);
  EXPECT_EQ(reinterpret_cast<uint64_t*>(dst.cpu)[2], 0x1122334455667788ull);
  EXPECT_EQ(gpu->counters(ctx.lrca()).commands, 3u);  // and the MI_NOOP padding to a qword
}

TEST_F(GpuCmd, StoreDataImmPpgttFromUnprivilegedBatch) {
  auto dst = ppgtt_buf(kVa, 4096);
  Cmds b;
  b->store_dword(kVa + 4, 77, false);
  b->bb_end();
  run_ppgtt_batch(kRcs, b.span());
  ASSERT_TRUE(h->wait_idle(kRcs));
  EXPECT_EQ(reinterpret_cast<uint32_t*>(dst.cpu)[1], 77u);
}

TEST_F(GpuCmd, StoreDataIndexWritesThePerProcessHwsp) {
  auto ctx = h->make_context(kBcs);
  Cmds c;
  c->store_data_index(0x40, 0xABCD);
  h->run(ctx, c.span());
  ASSERT_TRUE(h->wait_idle(kBcs));
  EXPECT_EQ(reinterpret_cast<uint32_t*>(ctx.image.cpu)[0x10], 0xABCDu);
}

TEST_F(GpuCmd, LriThenSrmRoundTripsAGpr) {
  auto dst = h->alloc_ggtt(4096);
  auto ctx = h->make_context(kRcs);
  uint32_t gpr3 = kRcsBase + reg::CS_GPR0 + 3 * 8;
  Cmds c;
  c->lri(gpr3, 0x12345678);
  c->srm(gpr3, dst.gm, true);
  h->run(ctx, c.span());
  ASSERT_TRUE(h->wait_idle(kRcs));
  EXPECT_EQ(reinterpret_cast<uint32_t*>(dst.cpu)[0], 0x12345678u);
  // The value is saved in the context image.
  EXPECT_EQ(ctx.regs()[ctx::GPR0 + 6], 0x12345678u);
}

TEST_F(GpuCmd, LrmLoadsFromMemory) {
  auto src = h->alloc_ggtt(4096);
  reinterpret_cast<uint32_t*>(src.cpu)[5] = 0x5A5A;
  auto ctx = h->make_context(kBcs);
  uint32_t gpr0 = kBcsBase + reg::CS_GPR0;
  Cmds c;
  c->lrm(gpr0, src.gm + 20, true);
  c->srm(gpr0, src.gm + 40, true);
  h->run(ctx, c.span());
  ASSERT_TRUE(h->wait_idle(kBcs));
  EXPECT_EQ(reinterpret_cast<uint32_t*>(src.cpu)[10], 0x5A5Au);
}

TEST_F(GpuCmd, FlushDwWritesAndNotifies) {
  auto ctx = h->make_context(kBcs);
  uint64_t before = h->msis();
  Cmds c;
  c->flush_dw(h->hwsp_gm(kBcs) + 0x100, 42, true, true);
  h->run(ctx, c.span());
  ASSERT_TRUE(h->wait_idle(kBcs));
  EXPECT_EQ(h->hwsp(kBcs)[0x40], 42u);
  EXPECT_TRUE(reg(reg::GEN8_GT_IIR0) & (kGtNotify << 16));
  EXPECT_GT(h->msis(), before);
}

TEST_F(GpuCmd, PipeControlWritesQwordAndNotifies) {
  auto dst = h->alloc_ggtt(4096);
  auto ctx = h->make_context(kRcs);
  Cmds c;
  c->pipe_control(dst.gm + 64, 0xDEADBEEF00000001ull, true, true);
  h->run(ctx, c.span());
  ASSERT_TRUE(h->wait_idle(kRcs));
  EXPECT_EQ(reinterpret_cast<uint64_t*>(dst.cpu)[8], 0xDEADBEEF00000001ull);
  EXPECT_TRUE(reg(reg::GEN8_GT_IIR0) & kGtNotify);
}

TEST_F(GpuCmd, UserInterruptRaisesIirAndMsi) {
  auto ctx = h->make_context(kRcs);
  uint64_t before = h->msis();
  Cmds c;
  c->user_interrupt();
  h->run(ctx, c.span());
  ASSERT_TRUE(h->wait_idle(kRcs));
  EXPECT_TRUE(reg(reg::GEN8_GT_IIR0) & kGtUser);
  EXPECT_GE(h->msis(), before + 1);
}

TEST_F(GpuCmd, SemaphoreWaitBlocksUntilMemoryChanges) {
  auto sem = h->alloc_ggtt(4096);
  auto dst = h->alloc_ggtt(4096);
  auto ctx = h->make_context(kBcs);
  Cmds c;
  c->semaphore_wait(sem.gm, 5, SemOp::GreaterEq, true);
  c->store_dword(dst.gm, 1, true);
  h->run(ctx, c.span());
  EXPECT_FALSE(h->wait_idle(kBcs, std::chrono::milliseconds(30)));
  EXPECT_EQ(reinterpret_cast<volatile uint32_t*>(dst.cpu)[0], 0u);
  reinterpret_cast<volatile uint32_t*>(sem.cpu)[0] = 5;
  ASSERT_TRUE(h->wait_idle(kBcs));
  EXPECT_EQ(reinterpret_cast<uint32_t*>(dst.cpu)[0], 1u);
}

TEST_F(GpuCmd, ColorBltFillsTheRectangleOnly) {
  auto fb = ppgtt_buf(kVa, 64 * 64 * 4);
  Cmds b;
  b->color_blt(kVa, 256, 2, 3, 10, 7, 0x00FF00FF);
  b->bb_end();
  auto ctx = run_ppgtt_batch(kBcs, b.span());
  ASSERT_TRUE(h->wait_idle(kBcs));
  auto* px = reinterpret_cast<uint32_t*>(fb.cpu);
  for (uint32_t y = 0; y < 16; ++y)
    for (uint32_t x = 0; x < 64; ++x)
      EXPECT_EQ(px[y * 64 + x], (x >= 2 && x < 10 && y >= 3 && y < 7) ? 0x00FF00FFu : 0u)
          << x << "," << y;
  EXPECT_EQ(gpu->counters(ctx.lrca()).pixels, 32u);
}

TEST_F(GpuCmd, SrcCopyBltCopiesAndHandlesOverlap) {
  auto fb = ppgtt_buf(kVa, 64 * 64 * 4);
  auto* px = reinterpret_cast<uint32_t*>(fb.cpu);
  for (uint32_t i = 0; i < 64 * 64; ++i) px[i] = i;
  Cmds b;
  // Move rows 0..9 down by 2 rows within the same surface: overlapping.
  b->src_copy_blt(kVa, 256, 0, 2, 8, 12, kVa, 256, 0, 0);
  b->bb_end();
  run_ppgtt_batch(kBcs, b.span());
  ASSERT_TRUE(h->wait_idle(kBcs));
  for (uint32_t y = 2; y < 12; ++y)
    for (uint32_t x = 0; x < 8; ++x) EXPECT_EQ(px[y * 64 + x], (y - 2) * 64 + x);
}

TEST_F(GpuCmd, SecondLevelBatchReturnsToItsCaller) {
  auto dst = ppgtt_buf(kVa, 4096);
  auto l2 = ppgtt_buf(kVa + 0x10000, 4096);
  Cmds second;
  second->store_dword(kVa, 1, false);
  second->bb_end();
  std::memcpy(l2.cpu, second.buf.data(), second.w.bytes());
  Cmds first;
  first->bb_start(kVa + 0x10000, true, true);
  first->store_dword(kVa + 4, 2, false);
  first->bb_end();
  run_ppgtt_batch(kRcs, first.span());
  ASSERT_TRUE(h->wait_idle(kRcs));
  EXPECT_EQ(reinterpret_cast<uint32_t*>(dst.cpu)[0], 1u);
  EXPECT_EQ(reinterpret_cast<uint32_t*>(dst.cpu)[1], 2u);
}

TEST_F(GpuCmd, ChainedBatchDoesNotReturn) {
  auto dst = ppgtt_buf(kVa, 4096);
  auto next = ppgtt_buf(kVa + 0x10000, 4096);
  Cmds tail;
  tail->store_dword(kVa, 9, false);
  tail->bb_end();
  std::memcpy(next.cpu, tail.buf.data(), tail.w.bytes());
  Cmds first;
  first->bb_start(kVa + 0x10000, true);
  first->store_dword(kVa + 4, 8, false);  // skipped: the chain ends the first batch
  run_ppgtt_batch(kRcs, first.span());
  ASSERT_TRUE(h->wait_idle(kRcs));
  EXPECT_EQ(reinterpret_cast<uint32_t*>(dst.cpu)[0], 9u);
  EXPECT_EQ(reinterpret_cast<uint32_t*>(dst.cpu)[1], 0u);
}

TEST_F(GpuCmd, UpdateGttFromThePrivilegedRing) {
  auto page = h->alloc_host(4096);
  reinterpret_cast<uint32_t*>(page.cpu)[0] = 0x77;
  auto ctx = h->make_context(kBcs);
  uint32_t index = 0x1000;  // GM 16 MiB: inside the aperture
  Cmds c;
  c->update_gtt(index, page.hpa | kPtePresent);
  h->run(ctx, c.span());
  ASSERT_TRUE(h->wait_idle(kBcs));
  EXPECT_EQ(gpu->mmio_read(kGgttOffset + index * 8, 8), page.hpa | kPtePresent);
  EXPECT_EQ(reinterpret_cast<uint32_t*>(gpu->aperture() + uint64_t{index} * kPageSize)[0], 0x77u);
}

TEST_F(GpuCmd, DisplayFlipAsyncIsImmediateAndRaisesFlipDone) {
  auto fb = h->alloc_ggtt(4096);
  gpu->mmio_write(reg::PIPECONF, 4, kPipeconfEnable);
  auto ctx = h->make_context(kRcs);
  Cmds c;
  c->display_flip(0, 4096, static_cast<uint32_t>(fb.gm), true);
  h->run(ctx, c.span());
  ASSERT_TRUE(h->wait_idle(kRcs));
  EXPECT_EQ(reg(reg::DSPSURFLIVE), fb.gm);
  EXPECT_TRUE(reg(reg::GEN8_DE_PIPE_IIR) & kDePipeFlipDone);
}

TEST_F(GpuCmd, DisplayFlipSyncLatchesAtVblank) {
  auto fb = h->alloc_ggtt(4096);
  gpu->mmio_write(reg::PIPECONF, 4, kPipeconfEnable);
  auto ctx = h->make_context(kRcs);
  Cmds c;
  c->display_flip(0, 4096, static_cast<uint32_t>(fb.gm), false);
  h->run(ctx, c.span());
  ASSERT_TRUE(h->wait_idle(kRcs));
  EXPECT_EQ(reg(reg::DSPSURFLIVE), 0u);
  gpu->vblank();
  EXPECT_EQ(reg(reg::DSPSURFLIVE), fb.gm);
  EXPECT_TRUE(reg(reg::GEN8_DE_PIPE_IIR) & (kDePipeFlipDone | kDePipeVblank));
}

// The table-driven walk: every opcode runs on each engine it allows, and
// faults with WrongEngine on the others.
TEST_F(GpuCmd, EveryOpcodeRunsWhereTheTableAllowsIt) {
  auto mem = h->alloc_ggtt(4 * 4096);
  gpu->mmio_write(reg::PIPECONF, 4, kPipeconfEnable);
  for (const CmdDesc& d : kCmds) {
    for (int e = 0; e < kNumEngines; ++e) {
      SCOPED_TRACE(std::string(d.name) + (e ? " on bcs" : " on rcs"));
      Cmds c;
      switch (d.op) {
        case Op::MI_NOOP: c->noop(); break;
        case Op::MI_USER_INTERRUPT: c->user_interrupt(); break;
        case Op::MI_ARB_CHECK: c->arb_check(); break;
        case Op::MI_BATCH_BUFFER_END: {
          auto b = h->alloc_ggtt(4096);
          Cmds in;
          in->bb_end();
          c = batch_start(b, in.span(), false);
          break;
        }
        case Op::MI_BATCH_BUFFER_START: {
          auto b = h->alloc_ggtt(4096);
          Cmds in;
          in->noop();
          in->bb_end();
          c = batch_start(b, in.span(), false);
          break;
        }
        case Op::MI_DISPLAY_FLIP: c->display_flip(0, 4096, static_cast<uint32_t>(mem.gm), true); break;
        case Op::MI_SEMAPHORE_WAIT: c->semaphore_wait(mem.gm, 0, SemOp::Equal, true); break;
        case Op::MI_STORE_DATA_IMM: c->store_dword(mem.gm, 1, true); break;
        case Op::MI_STORE_DATA_INDEX: c->store_data_index(0x80, 1); break;
        case Op::MI_LOAD_REGISTER_IMM: c->lri(kEngineBase[e] + reg::CS_GPR0, 1); break;
        case Op::MI_UPDATE_GTT: c->update_gtt(static_cast<uint32_t>(mem.gm / kPageSize), gpu->mmio_read(kGgttOffset + mem.gm / kPageSize * 8, 8)); break;
        case Op::MI_STORE_REGISTER_MEM: c->srm(kEngineBase[e] + reg::CS_GPR0, mem.gm, true); break;
        case Op::MI_FLUSH_DW: c->flush_dw(mem.gm, 1, true, false); break;
        case Op::MI_LOAD_REGISTER_MEM: c->lrm(kEngineBase[e] + reg::CS_GPR0, mem.gm, true); break;
        case Op::PIPE_CONTROL: c->pipe_control(mem.gm, 1, true, false); break;
        case Op::XY_COLOR_BLT: c->color_blt(mem.gm, 256, 0, 0, 4, 4, 1); break;
        case Op::XY_SRC_COPY_BLT: c->src_copy_blt(mem.gm, 256, 0, 0, 4, 4, mem.gm + 8192, 256, 0, 0); break;
        case Op::_3DSTATE_RENDER_TARGET: c->render_target(mem.gm, 64, 16, 4); break;
        case Op::_3DSTATE_DEPTH_BUFFER: c->depth_buffer(mem.gm, 64, 16, 4); break;
        case Op::_3DSTATE_TEXTURE: c->texture(mem.gm, 64, 16, 4, r3d::kTexBilinear); break;
        case Op::_3DSTATE_VERTEX_BUFFERS: c->vertex_buffer(1, mem.gm, 12, 64); break;
        case Op::_3DSTATE_INDEX_BUFFER: c->index_buffer(mem.gm, 64, r3d::kIndex16); break;
        case Op::_3DSTATE_CONSTANT: c->constants(mem.gm, r3d::cb::bytes(0)); break;
        case Op::_3DSTATE_VIEWPORT: c->viewport(0, 0, 16, 4, 0, 1); break;
        case Op::_3DSTATE_SCISSOR: c->scissor(0, 0, 8, 8); break;
        case Op::_3DSTATE_BLEND: c->blend(r3d::Blend::Alpha); break;
        case Op::_3DSTATE_DEPTH_STENCIL: c->depth_stencil(true, true, r3d::DepthFunc::Less); break;
        case Op::_3DSTATE_RASTER: c->raster(r3d::Cull::Back, r3d::kLighting); break;
        case Op::_3DSTATE_VERTEX_ELEMENTS:
        case Op::_3DSTATE_CLEAR_PARAMS:
        case Op::_3DPRIMITIVE: {
          // A complete draw: zero constants put every vertex at w = 0, clipped away.
          const uint32_t pos = r3d::vertex_element(0, r3d::Semantic::Position, r3d::VeFormat::Float3, 0);
          c->render_target(mem.gm, 64, 16, 4);
          c->clear(r3d::kClearColor, 0xFF00FF00u, 1.0f);
          c->constants(mem.gm + 8192, r3d::cb::bytes(0));
          c->vertex_buffer(0, mem.gm + 4096, 12, 36);
          c->vertex_elements(&pos, 1);
          c->primitive(r3d::kTopoTriList, 3, 0);
          break;
        }
        case Op::kCount: break;
      }
      h->reset_engine(e);
      auto ctx = h->make_context(e);
      h->run(ctx, c.span());
      bool allowed = d.engines & kEngineBit[e];
      if (allowed) {
        EXPECT_TRUE(h->wait_idle(e)) << "fault " << static_cast<int>(fault_of(e));
        EXPECT_GE(gpu->counters(ctx.lrca()).commands, 1u);
      } else {
        ASSERT_TRUE(h->wait_fault(e));
        EXPECT_EQ(fault_of(e), Fault::WrongEngine);
      }
    }
  }
}

TEST_F(GpuCmd, UnknownOpcodeTakesTheUnknownPath) {
  auto ctx = h->make_context(kRcs);
  const uint32_t unknown[] = {0x0C000000u /* MI opcode 0x18 */, 0};
  ASSERT_EQ(decode(unknown[0]), nullptr);
  h->run(ctx, unknown);
  ASSERT_TRUE(h->wait_fault(kRcs));
  EXPECT_EQ(fault_of(kRcs), Fault::UnknownCommand);
  EXPECT_EQ(reg(kRcsBase + reg::RING_IPEHR), unknown[0]);
  EXPECT_EQ(reg(kRcsBase + reg::RING_IPEIR), static_cast<uint32_t>(Fault::UnknownCommand));
  EXPECT_TRUE(reg(reg::GEN8_GT_IIR0) & kGtError);
}

}  // namespace
}  // namespace hw::test
