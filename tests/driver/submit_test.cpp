#include <vector>

#include "driver_fixture.h"

namespace drv::test {
namespace {

class Submit : public DriverTest {};

TEST_F(Submit, BatchRunsAndSeqnoLandsInTheHwsp) {
  Context ctx;
  ASSERT_TRUE(ctx.init(dev, 1));
  auto dst = dev.create_bo(4096, 0);
  ASSERT_TRUE(dst);
  auto va = ctx.bind(*dst);
  ASSERT_TRUE(va);
  Batch b;
  ASSERT_TRUE(b.init(ctx, 4096));
  for (uint32_t i = 0; i < 20; ++i) {
    ASSERT_TRUE(b.begin());
    b.cmds().store_dword(*va + 4 * i, 100 + i, false);
    auto s = b.submit();
    ASSERT_TRUE(s) << error_name(s.error());
    auto w = ctx.wait(*s, 1'000'000'000ull);
    ASSERT_TRUE(w) << error_name(w.error()) << " at " << i;
    EXPECT_EQ(dst->dwords()[i], 100 + i);
  }
  EXPECT_EQ(gpu->last_fault(1).code, gen8::Fault::None);
  b.fini();
  ctx.fini();
  dev.destroy_bo(*dst);
}


// Many batches in one buffer object, one 32-byte slot each: MI_STORE_DATA_IMM
// of a value to a PPGTT address, then MI_BATCH_BUFFER_END. Submitting slots
// with Context::submit needs no wait between submissions.
struct SlotBatches {
  static constexpr uint32_t kSlotDwords = 8;
  Bo bo;
  uint64_t va = 0;
  uint64_t slot_va(uint32_t i) const { return va + uint64_t{i} * kSlotDwords * 4; }
  void store(uint32_t i, uint64_t addr, uint32_t value) {
    gen8::CmdWriter w(bo.dwords() + i * kSlotDwords, kSlotDwords);
    w.store_dword(addr, value, false);
    w.bb_end();
  }
};

class SubmitMany : public DriverTest {
 protected:
  SlotBatches make_slots(Context& ctx, uint32_t n) {
    SlotBatches s;
    auto bo = dev.create_bo(uint64_t{n} * SlotBatches::kSlotDwords * 4, 0);
    EXPECT_TRUE(bo);
    if (!bo) return s;
    s.bo = *bo;
    auto va = ctx.bind(s.bo);
    EXPECT_TRUE(va);
    if (va) s.va = *va;
    return s;
  }
  // The driver's HWSP seqno dword, as the CPU sees it (found through the GGTT
  // entry the driver wrote).
  volatile uint32_t* hwsp_seqno(int e) {
    uint64_t gm = dev.seqno_gm(e);
    uint64_t pte = gpu->ggtt_entry(gm / gen8::kPageSize);
    EXPECT_TRUE(pte & gen8::kPtePresent);
    return reinterpret_cast<volatile uint32_t*>(gpu->memory().base() + (pte & gen8::kPteAddrMask) +
                                                (gm & (gen8::kPageSize - 1)));
  }
};

uint32_t pattern(int e, uint32_t i) { return (i * 2654435761u) ^ (0x5BD1E995u + e); }

TEST_F(SubmitMany, SeqnosAreOrderedAndOlderOnesHavePassed) {
  for (int e = 0; e < gen8::kNumEngines; ++e) {
    SCOPED_TRACE(testing::Message() << "engine " << e);
    Context ctx;
    ASSERT_TRUE(ctx.init(dev, e));
    auto dst = dev.create_bo(4096, 0);
    ASSERT_TRUE(dst);
    auto va = ctx.bind(*dst);
    ASSERT_TRUE(va);
    SlotBatches sb = make_slots(ctx, 16);
    std::vector<uint32_t> seqnos;
    for (uint32_t i = 0; i < 16; ++i) {
      sb.store(i, *va + 4 * i, pattern(e, i));
      auto s = ctx.submit(sb.slot_va(i));
      ASSERT_TRUE(s) << error_name(s.error());
      if (!seqnos.empty()) {
        EXPECT_EQ(*s, seqnos.back() + 1);
      }
      seqnos.push_back(*s);
    }
    // A seqno that was never emitted has not passed.
    EXPECT_FALSE(dev.seqno_passed(e, seqnos.back() + 1));
    ASSERT_TRUE(ctx.wait(seqnos.back(), 5'000'000'000ull));
    for (uint32_t s : seqnos) EXPECT_TRUE(dev.seqno_passed(e, s)) << s;
    EXPECT_FALSE(dev.seqno_passed(e, seqnos.back() + 1));
    // Waiting on an old seqno returns at once.
    EXPECT_TRUE(ctx.wait(seqnos.front(), 1'000'000'000ull));
    for (uint32_t i = 0; i < 16; ++i) EXPECT_EQ(dst->dwords()[i], pattern(e, i)) << i;
    // The other engine's seqnos are its own (it has run nothing yet).
    if (e == 0) {
      EXPECT_FALSE(dev.seqno_passed(1, 1));
    }

    // The comparison is wrap-safe: it orders by signed distance, so an old
    // seqno from before the 32-bit wrap still reads as passed. (The HWSP value
    // is set by hand here; the engine is idle.)
    volatile uint32_t* hw = hwsp_seqno(e);
    ASSERT_EQ(*hw, seqnos.back()) << "not the HWSP seqno";
    *hw = 0xFFFFFFF0u;
    EXPECT_TRUE(dev.seqno_passed(e, 0xFFFFFFE0u));
    EXPECT_TRUE(dev.seqno_passed(e, 0xFFFFFFF0u));
    EXPECT_FALSE(dev.seqno_passed(e, 0xFFFFFFF1u));
    EXPECT_FALSE(dev.seqno_passed(e, 5));  // after the wrap: newer
    *hw = 3;
    EXPECT_TRUE(dev.seqno_passed(e, 0xFFFFFFF0u));  // before the wrap: older
    EXPECT_TRUE(dev.seqno_passed(e, 0));
    EXPECT_TRUE(dev.seqno_passed(e, 3));
    EXPECT_FALSE(dev.seqno_passed(e, 4));
    *hw = seqnos.back();

    ctx.unbind(sb.bo, sb.va);
    dev.destroy_bo(sb.bo);
    ctx.fini();
    dev.destroy_bo(*dst);
  }
}

// 3000 submissions through a 4 KiB ring without waiting in between: the ring
// fills and wraps many times over (on RCS a submission is 40 bytes, so
// commands also straddle the end of the ring), and every batch completes.
TEST_F(SubmitMany, ThousandsOfBatchesThroughASmallRing) {
  constexpr uint32_t kBatches = 3000;
  for (int e = 0; e < gen8::kNumEngines; ++e) {
    SCOPED_TRACE(testing::Message() << "engine " << e);
    Context ctx;
    ASSERT_TRUE(ctx.init(dev, e, 4096));
    auto dst = dev.create_bo(kBatches * 4, 0);
    ASSERT_TRUE(dst);
    auto va = ctx.bind(*dst);
    ASSERT_TRUE(va);
    SlotBatches sb = make_slots(ctx, kBatches);
    for (uint32_t i = 0; i < kBatches; ++i) sb.store(i, *va + 4 * i, pattern(e, i));
    const uint64_t subs = dev.stats().submissions;
    uint32_t first = 0, last = 0;
    for (uint32_t i = 0; i < kBatches; ++i) {
      auto s = ctx.submit(sb.slot_va(i));
      ASSERT_TRUE(s) << error_name(s.error()) << " at " << i;
      if (i == 0) {
        first = *s;
      } else {
        ASSERT_EQ(*s, last + 1);
      }
      last = *s;
    }
    auto w = ctx.wait(last, 30'000'000'000ull);
    ASSERT_TRUE(w) << error_name(w.error());
    EXPECT_EQ(last - first, kBatches - 1);
    EXPECT_EQ(dev.stats().submissions - subs, kBatches);
    uint32_t wrong = 0;
    for (uint32_t i = 0; i < kBatches; ++i) wrong += dst->dwords()[i] != pattern(e, i);
    EXPECT_EQ(wrong, 0u);
    EXPECT_EQ(gpu->last_fault(e).code, gen8::Fault::None);
    EXPECT_FALSE(dev.engine_faulted(e));
    ctx.unbind(sb.bo, sb.va);
    dev.destroy_bo(sb.bo);
    ctx.fini();
    dev.destroy_bo(*dst);
  }
}

// Two contexts on one engine, submitting alternately without waiting: one
// runs while the other waits in the execlist's pending slot, and the driver
// must wait for that slot before each ELSP write. Both contexts share the
// engine's seqno, so this also checks that work completes in submission
// order (the HWSP seqno never goes backwards). Several passes, since an
// ordering race shows only now and then.
TEST_F(SubmitMany, TwoContextsAlternateOnOneEngine) {
  constexpr uint32_t kRounds = 500;
  constexpr uint32_t kPasses = 4;
  for (int e = 0; e < gen8::kNumEngines; ++e) {
    SCOPED_TRACE(testing::Message() << "engine " << e);
    Context ctx[2];
    Bo dst[2];
    uint64_t va[2];
    SlotBatches sb[2];
    for (int c = 0; c < 2; ++c) {
      ASSERT_TRUE(ctx[c].init(dev, e));
      auto bo = dev.create_bo(kRounds * 4, 0);
      ASSERT_TRUE(bo);
      dst[c] = *bo;
      auto v = ctx[c].bind(dst[c]);
      ASSERT_TRUE(v);
      va[c] = *v;
      sb[c] = make_slots(ctx[c], kRounds);
    }
    EXPECT_NE(ctx[0].id(), ctx[1].id());
    EXPECT_NE(ctx[0].lrca(), ctx[1].lrca());
    auto value = [e](int c, uint32_t i, uint32_t pass) { return pattern(c, i) + e + 7 * pass; };
    for (uint32_t pass = 0; pass < kPasses; ++pass) {
      SCOPED_TRACE(testing::Message() << "pass " << pass);
      for (int c = 0; c < 2; ++c)
        for (uint32_t i = 0; i < kRounds; ++i) sb[c].store(i, va[c] + 4 * i, value(c, i, pass));
      const uint64_t subs = dev.stats().submissions;
      uint32_t last[2] = {0, 0}, prev = 0;
      for (uint32_t i = 0; i < kRounds; ++i)
        for (int c = 0; c < 2; ++c) {
          auto s = ctx[c].submit(sb[c].slot_va(i));
          ASSERT_TRUE(s) << error_name(s.error()) << " round " << i << " ctx " << c;
          if (prev) {
            EXPECT_EQ(*s, prev + 1);  // one seqno sequence per engine
          }
          prev = last[c] = *s;
        }
      bool ok = true;
      for (int c = 0; c < 2; ++c) {
        auto w = ctx[c].wait(last[c], 10'000'000'000ull);
        EXPECT_TRUE(w) << error_name(w.error()) << " waiting for ctx " << c << " seqno " << last[c]
                       << "; HWSP seqno is " << *hwsp_seqno(e);
        ok &= w.has_value();
      }
      EXPECT_EQ(dev.stats().submissions - subs, 2 * kRounds);
      for (int c = 0; c < 2; ++c) {
        uint32_t wrong = 0;
        for (uint32_t i = 0; i < kRounds; ++i) wrong += dst[c].dwords()[i] != value(c, i, pass);
        EXPECT_EQ(wrong, 0u) << "ctx " << c << ": batches that did not run";
        ok &= wrong == 0;
      }
      EXPECT_EQ(gpu->last_fault(e).code, gen8::Fault::None);
      ASSERT_TRUE(ok);
    }
    // Each context's own commands were counted against its LRCA.
    for (int c = 0; c < 2; ++c) EXPECT_GT(gpu->counters(ctx[c].lrca()).commands, 0u);
    for (int c = 0; c < 2; ++c) {
      ctx[c].unbind(sb[c].bo, sb[c].va);
      dev.destroy_bo(sb[c].bo);
      ctx[c].fini();
      dev.destroy_bo(dst[c]);
    }
  }
}

// A context on each engine at once, interleaved: the engines run in parallel
// with independent seqnos and HWSPs.
TEST_F(SubmitMany, AContextOnEachEngineAtOnce) {
  constexpr uint32_t kRounds = 500;
  Context ctx[gen8::kNumEngines];
  Bo dst[gen8::kNumEngines];
  SlotBatches sb[gen8::kNumEngines];
  for (int e = 0; e < gen8::kNumEngines; ++e) {
    ASSERT_TRUE(ctx[e].init(dev, e));
    auto bo = dev.create_bo(kRounds * 4, 0);
    ASSERT_TRUE(bo);
    dst[e] = *bo;
    auto va = ctx[e].bind(dst[e]);
    ASSERT_TRUE(va);
    sb[e] = make_slots(ctx[e], kRounds);
    for (uint32_t i = 0; i < kRounds; ++i) sb[e].store(i, *va + 4 * i, pattern(e, i));
  }
  EXPECT_NE(dev.seqno_gm(0), dev.seqno_gm(1));
  uint32_t last[gen8::kNumEngines] = {};
  for (uint32_t i = 0; i < kRounds; ++i)
    for (int e = 0; e < gen8::kNumEngines; ++e) {
      auto s = ctx[e].submit(sb[e].slot_va(i));
      ASSERT_TRUE(s) << error_name(s.error()) << " round " << i << " engine " << e;
      EXPECT_EQ(*s, i + 1);  // each engine counts from 1
      last[e] = *s;
    }
  for (int e = 0; e < gen8::kNumEngines; ++e) {
    auto w = ctx[e].wait(last[e], 30'000'000'000ull);
    ASSERT_TRUE(w) << error_name(w.error()) << " engine " << e;
  }
  for (int e = 0; e < gen8::kNumEngines; ++e) {
    uint32_t wrong = 0;
    for (uint32_t i = 0; i < kRounds; ++i) wrong += dst[e].dwords()[i] != pattern(e, i);
    EXPECT_EQ(wrong, 0u) << "engine " << e;
    EXPECT_EQ(gpu->last_fault(e).code, gen8::Fault::None);
    EXPECT_TRUE(dev.seqno_passed(e, kRounds));
    EXPECT_FALSE(dev.seqno_passed(e, kRounds + 1));
  }
  for (int e = 0; e < gen8::kNumEngines; ++e) {
    ctx[e].unbind(sb[e].bo, sb[e].va);
    dev.destroy_bo(sb[e].bo);
    ctx[e].fini();
    dev.destroy_bo(dst[e]);
  }
}

}  // namespace
}  // namespace drv::test
