// The command scanner: boundary tests generated from the command table for
// every address field, one test per refusal class, copy-and-patch of
// privileged batches (TOCTOU), flips, and every ring and batch the native
// driver emits.
#include "gvt/cmd_scanner.h"

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "common/gen8/encode.h"
#include "common/gen8/layout.h"
#include "driver/driver_fixture.h"
#include "workloads/workload.h"

namespace gvt {
namespace {

using namespace gen8;
using ::testing::HasSubstr;

constexpr GmSlice kSlice{64ull << 20, 1ull << 20, 1ull << 30, 2ull << 20, 4, 4};
constexpr uint64_t kLowEnd = kSlice.low_base + kSlice.low_size;
constexpr uint64_t kHighEnd = kSlice.high_base + kSlice.high_size;
constexpr uint64_t kRingGm = kSlice.low_base;
constexpr uint64_t kData = kSlice.low_base + 0x8000;     // a GGTT target inside the slice
constexpr uint64_t kBatch = kSlice.high_base + 0x40000;  // guest batches
constexpr uint64_t kBatch2 = kSlice.high_base + 0x50000;
constexpr uint64_t kBatch3 = kSlice.high_base + 0x60000;
constexpr uint64_t kShadowBase = 0x20000000;  // host GM, outside the slice
constexpr uint64_t kPpgttBatch = 0x7f0000001000ull;
constexpr uint32_t kBbe = cmd(Op::MI_BATCH_BUFFER_END).header;
constexpr uint32_t kNoop = cmd(Op::MI_NOOP).header;
constexpr const AddrField& kBbField = cmd(Op::MI_BATCH_BUFFER_START).addr[0];

// Memory in 4 KiB pages; a page never written is unmapped.
class PagedMem {
 public:
  void write(uint64_t a, const void* src, size_t n) {
    for (size_t done = 0; done < n;) {
      const uint64_t off = (a + done) % kPageSize;
      const size_t k = std::min<size_t>(n - done, kPageSize - off);
      std::memcpy(pages_[(a + done) / kPageSize].data() + off,
                  static_cast<const uint8_t*>(src) + done, k);
      done += k;
    }
  }
  void write(uint64_t a, const std::vector<uint32_t>& d) { write(a, d.data(), 4 * d.size()); }
  bool read(uint64_t a, void* dst, size_t n) const {
    for (size_t done = 0; done < n;) {
      const uint64_t off = (a + done) % kPageSize;
      const size_t k = std::min<size_t>(n - done, kPageSize - off);
      auto p = pages_.find((a + done) / kPageSize);
      if (p == pages_.end()) return false;
      std::memcpy(static_cast<uint8_t*>(dst) + done, p->second.data() + off, k);
      done += k;
    }
    return true;
  }

 private:
  std::map<uint64_t, std::array<uint8_t, kPageSize>> pages_;
};

// Host-owned shadow buffers at increasing host GM addresses.
class ShadowPool {
 public:
  tl::expected<ShadowBuffer, std::string> alloc(uint32_t n) {
    if (exhausted) return tl::unexpected(std::string("pool exhausted"));
    auto& b = bufs_[next_];
    b.assign(n, 0xDEADBEEFu);
    ShadowBuffer s{next_, b.data(), n};
    next_ += (4ull * n + kPageSize - 1) / kPageSize * kPageSize;
    return s;
  }
  // The copy at `gm`, or null.
  const std::vector<uint32_t>* at(uint64_t gm) const {
    auto it = bufs_.find(gm);
    return it == bufs_.end() ? nullptr : &it->second;
  }
  size_t size() const { return bufs_.size(); }
  bool exhausted = false;

 private:
  uint64_t next_ = kShadowBase;
  std::map<uint64_t, std::vector<uint32_t>> bufs_;
};

bool in_test_slice(uint64_t a, size_t n) {
  return (a >= kSlice.low_base && a + n <= kLowEnd) || (a >= kSlice.high_base && a + n <= kHighEnd);
}

template <class F>
std::vector<uint32_t> cmds(F build) {
  std::vector<uint32_t> v(256);
  CmdWriter w(v.data(), static_cast<uint32_t>(v.size()));
  build(w);
  v.resize(w.size());
  return v;
}

std::string refusal(const tl::expected<ScanStats, ScanViolation>& r) {
  return r ? std::string("<accepted>") : r.error().reason;
}

// The first register of `engine` with every flag of `want` and none of `avoid`.
uint32_t reg_with(int engine, uint32_t want, uint32_t avoid) {
  for (const RegDesc& r : kRegs)
    if (r.scope == Scope::Engine && r.instance == engine && (r.flags & want) == want &&
        !(r.flags & avoid))
      return r.offset;
  ADD_FAILURE() << "no such register";
  return 0;
}

void set_field(const AddrField& f, uint32_t* d, uint64_t a) {
  d[f.dw] = (d[f.dw] & ~f.lo_mask) | (static_cast<uint32_t>(a) & f.lo_mask);
  if (f.qword) d[f.dw + 1] = static_cast<uint32_t>(a >> 32);
}

uint64_t bb_target(const uint32_t* d) { return field_address(kBbField, d); }

int engine_of(const CmdDesc& c) { return (c.engines & kEngineBit[0]) ? 0 : 1; }

// The instance's length: the minimum, or for a data-length extent the
// shortest whose size is a whole number of address units, so that the extent
// can end exactly on a range end.
uint32_t instance_len(const CmdDesc& c, const AddrField& f) {
  const uint64_t unit = uint64_t{~f.lo_mask} + 1;
  for (uint32_t len = c.len.min; len <= c.len.max; len += c.len.step)
    if (f.extent != Extent::DataLen || (f.size + 4ull * (len - c.len.min)) % unit == 0) return len;
  return c.len.min;
}

// A minimal instance of `c`: every address field selects the GGTT, is used,
// and lies inside the slice; register operands name a writable register.
std::vector<uint32_t> instance(const CmdDesc& c, uint32_t len, int engine) {
  std::vector<uint32_t> d(len, 0);
  d[0] = header(c.op, len);
  if (c.regs.kind == RegOps::Single || c.regs.kind == RegOps::Pairs)
    d[c.regs.dw] = reg_with(engine, kCmd, kPtRoot);
  for (uint8_t a = 0; a < c.n_addr; ++a) {
    const AddrField& f = c.addr[a];
    if (f.extent == Extent::BltDst || f.extent == Extent::BltSrc) {
      d[1] = kBltDepth32 | kRopSrcCopy | 256;  // pitch
      d[2] = (2u << 16) | 3;                   // (3, 2) ..
      d[3] = (6u << 16) | 9;                   // .. (9, 6)
      if (f.extent == Extent::BltSrc) {
        d[6] = (1u << 16) | 5;  // source origin
        d[7] = 512;             // source pitch
      }
    }
    if (f.extent == Extent::SizeDw) d[f.size] = 256;
    if (f.extent == Extent::Surface) {
      d[f.size] = 64;                 // pitch
      d[f.size + 1] = (3u << 16) | 16;  // 16 x 3 pixels
    }
    set_field(f, d.data(), kData);
    if (f.space == Space::GttBit) d[f.sel_dw] |= f.sel_mask;
    if (f.space == Space::PpgttBit) d[f.sel_dw] &= ~f.sel_mask;
    if (f.cond_mask) d[f.cond_dw] |= f.cond_mask & (~f.cond_mask + 1);  // its lowest bit
  }
  return d;
}

class CmdScannerTest : public ::testing::Test {
 protected:
  ScanEnv env(int engine) {
    ScanEnv e{};
    e.engine = engine;
    e.slice = kSlice;
    e.read_ggtt = [this](uint64_t a, void* d, size_t n) {
      return in_test_slice(a, n) && guest.read(a, d, n);
    };
    e.read_ppgtt = [this](uint64_t a, void* d, size_t n) { return ppgtt.read(a, d, n); };
    e.alloc_shadow = [this](uint32_t n) { return pool.alloc(n); };
    return e;
  }
  static tl::expected<ScanStats, ScanViolation> scan(const ScanEnv& e,
                                                     std::vector<uint32_t>& ring) {
    return CmdScanner::scan_ring(e, ring.data(), static_cast<uint32_t>(ring.size()), kRingGm);
  }
  tl::expected<ScanStats, ScanViolation> scan(int engine, std::vector<uint32_t>& ring) {
    return scan(env(engine), ring);
  }
  // A ring that starts the GGTT batch `batch`, written at kBatch.
  tl::expected<ScanStats, ScanViolation> scan_batch(int engine, std::vector<uint32_t> batch) {
    guest.write(kBatch, batch);
    auto ring = cmds([](CmdWriter& w) { w.bb_start(kBatch, false); });
    return scan(engine, ring);
  }
  // The same through the PPGTT, scanned as unprivileged.
  tl::expected<ScanStats, ScanViolation> scan_ppgtt_batch(int engine, std::vector<uint32_t> batch) {
    ppgtt.write(kPpgttBatch, batch);
    auto ring = cmds([](CmdWriter& w) { w.bb_start(kPpgttBatch, true); });
    ScanEnv e = env(engine);
    e.scan_nonpriv = true;
    return scan(e, ring);
  }

  PagedMem guest, ppgtt;
  ShadowPool pool;
};

// ---- Address fields at the edges of both GM ranges, generated from the table ----

struct FieldCase {
  Op op;
  uint8_t field;
  bool high;
};

void PrintTo(const FieldCase& c, std::ostream* os) {
  *os << cmd(c.op).name << " " << cmd(c.op).addr[c.field].name << (c.high ? " high" : " low");
}

std::vector<FieldCase> field_cases() {
  std::vector<FieldCase> v;
  for (const CmdDesc& c : kCmds)
    if (!(c.flags & kGuestRefused))
      for (uint8_t f = 0; f < c.n_addr; ++f)
        for (bool high : {false, true}) v.push_back({c.op, f, high});
  return v;
}

std::string field_case_name(const ::testing::TestParamInfo<FieldCase>& i) {
  const CmdDesc& c = cmd(i.param.op);
  return std::string(c.name) + "_" + c.addr[i.param.field].name + (i.param.high ? "_high" : "_low");
}

class AddressBoundary : public CmdScannerTest, public ::testing::WithParamInterface<FieldCase> {};

TEST_P(AddressBoundary, ExtentMustLieWhollyInsideTheRange) {
  const FieldCase& p = GetParam();
  const CmdDesc& c = cmd(p.op);
  const AddrField& f = c.addr[p.field];
  const int engine = engine_of(c);
  const uint32_t len = instance_len(c, f);
  const std::vector<uint32_t> base = instance(c, len, engine);
  // Where the extent starts relative to the field's address, and its size.
  std::vector<uint32_t> zero = base;
  set_field(f, zero.data(), 0);
  const Access z = field_access(c, f, zero.data(), len, true);
  ASSERT_TRUE(z.ok && z.used && z.ggtt && !z.index_mode && z.size > 0);
  const uint64_t unit = uint64_t{~f.lo_mask} + 1;
  const uint64_t lo = p.high ? kSlice.high_base : kSlice.low_base;
  const uint64_t hi = p.high ? kHighEnd : kLowEnd;
  ASSERT_EQ((hi - z.size - z.addr) % unit, 0u) << "the extent cannot end exactly on the range end";
  ASSERT_EQ((lo - z.addr) % unit, 0u);

  struct Case {
    const char* what;
    uint64_t field;
    bool accepted;
  } cases[] = {
      {"ends at the range end", hi - z.size - z.addr, true},
      {"ends one address unit past the range end", hi - z.size - z.addr + unit, false},
      {"starts at the range start", lo - z.addr, true},
      {"starts one address unit before the range start", lo - z.addr - unit, false},
  };
  for (const Case& k : cases) {
    SCOPED_TRACE(k.what);
    std::vector<uint32_t> d = base;
    set_field(f, d.data(), k.field);
    const Access a = field_access(c, f, d.data(), len, true);
    if (k.accepted) {
      EXPECT_TRUE(a.addr == lo || a.addr + a.size == hi);
    }
    if (c.flags & kStartsBatch) guest.write(a.addr, &kBbe, 4);
    std::vector<uint32_t> ring = d;
    if (c.flags & kNotInRing) {  // tested where it may appear: a privileged batch
      d.push_back(kBbe);
      guest.write(kBatch, d);
      ring = cmds([](CmdWriter& w) { w.bb_start(kBatch, false); });
    }
    auto r = scan(engine, ring);
    EXPECT_EQ(r.has_value(), k.accepted) << refusal(r);
    if (!k.accepted) {
      EXPECT_THAT(refusal(r), HasSubstr("outside the vGPU's GM"));
    }
  }
}

INSTANTIATE_TEST_SUITE_P(EveryAddressField, AddressBoundary, ::testing::ValuesIn(field_cases()),
                         field_case_name);

TEST_F(CmdScannerTest, CommandsRefusedWholesaleAreRefusedInRingsAndBatches) {
  int tested = 0;
  for (const CmdDesc& c : kCmds) {
    if (!(c.flags & (kGuestRefused | kNotInRing))) continue;
    SCOPED_TRACE(c.name);
    ++tested;
    const int engine = engine_of(c);
    std::vector<uint32_t> ring = instance(c, c.len.min, engine);
    EXPECT_THAT(
        refusal(scan(engine, ring)),
        HasSubstr(c.flags & kGuestRefused ? "refused for guests" : "not allowed in a ring"));
    if (c.flags & kGuestRefused) {
      std::vector<uint32_t> batch = instance(c, c.len.min, engine);
      batch.push_back(kBbe);
      EXPECT_THAT(refusal(scan_batch(engine, batch)), HasSubstr("refused for guests"));
    }
  }
  EXPECT_EQ(tested, 3);  // MI_SEMAPHORE_WAIT, MI_STORE_DATA_INDEX, MI_UPDATE_GTT
}

// ---- One test per refusal class ----

TEST_F(CmdScannerTest, TypicalRingPasses) {
  auto ring = cmds([](CmdWriter& w) {
    w.bb_start(kPpgttBatch, true);
    w.lri(kRcsBase + reg::RING_INSTPM, 0x10001);
    w.store_dword(kData, 7, true);
    w.pipe_control(kData + 8, 9, true, true);
    w.user_interrupt();
    w.arb_check();
    w.noop();
  });
  const auto before = ring;
  auto r = scan(0, ring);
  ASSERT_TRUE(r) << refusal(r);
  EXPECT_EQ(r->commands, 7u);
  EXPECT_EQ(r->dwords, ring.size());
  EXPECT_EQ(r->batches_unscanned, 1u);
  EXPECT_EQ(r->batches_copied, 0u);
  EXPECT_EQ(ring, before);
}

// A privileged batch of 3D state and draws, GGTT addresses inside the slice:
// accepted; the same render target one page past the slice: refused.
TEST_F(CmdScannerTest, Privileged3dBatch) {
  auto batch = [](uint64_t rt) {
    return cmds([rt](CmdWriter& w) {
      const uint32_t pos = r3d::vertex_element(0, r3d::Semantic::Position, r3d::VeFormat::Float3, 0);
      w.render_target(rt, 256, 64, 16);
      w.depth_buffer(kData + 0x4000, 256, 64, 16);
      w.texture(kData, 64, 16, 16, r3d::kTexBilinear);
      w.vertex_buffer(0, kData, 12, 36);
      w.vertex_elements(&pos, 1);
      w.index_buffer(kData, 6, r3d::kIndex16);
      w.constants(kData, r3d::cb::bytes(0));
      w.clear(r3d::kClearColor | r3d::kClearDepth, 0, 1.0f);
      w.primitive(r3d::kTopoTriList, 3, 0, true);
      w.bb_end();
    });
  };
  EXPECT_TRUE(scan_batch(0, batch(kData + 0x1000)).has_value());
  auto r = scan_batch(0, batch(kLowEnd - 0x800));  // 4 KiB extent
  EXPECT_THAT(refusal(r), HasSubstr("3DSTATE_RENDER_TARGET: render_target"));
  EXPECT_THAT(refusal(scan_batch(1, batch(kData))), HasSubstr("not allowed on bcs"));
}

TEST_F(CmdScannerTest, UnknownOpcode) {
  std::vector<uint32_t> ring = {kNoop, 0x0C000000u};
  auto r = scan(0, ring);
  EXPECT_THAT(refusal(r), HasSubstr("unknown opcode"));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().engine, 0);
  EXPECT_EQ(r.error().offset, 1u);
  EXPECT_EQ(r.error().gm, kRingGm + 4);
  EXPECT_EQ(r.error().dword, 0x0C000000u);
}

TEST_F(CmdScannerTest, BadLength) {
  // LRI takes register pairs: 4 dwords is no whole number of pairs.
  std::vector<uint32_t> ring = {header(Op::MI_LOAD_REGISTER_IMM, 4), kRcsBase + reg::RING_INSTPM, 1,
                                0};
  EXPECT_THAT(refusal(scan(0, ring)), HasSubstr("MI_LOAD_REGISTER_IMM: bad length field"));
  ring = {header(Op::MI_STORE_DATA_IMM, 6), 0, 0, 0, 0, 0};
  EXPECT_THAT(refusal(scan(0, ring)), HasSubstr("bad length field"));
}

TEST_F(CmdScannerTest, LengthOverrunningTheRing) {
  auto ring = cmds([](CmdWriter& w) { w.store_dword(kData, 1, true); });
  ring.resize(2);
  auto r = scan(0, ring);
  EXPECT_THAT(refusal(r), HasSubstr("overruns the buffer"));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().offset, 0u);
}

TEST_F(CmdScannerTest, CommandOnTheWrongEngine) {
  auto pc = cmds([](CmdWriter& w) { w.pipe_control(kData, 1, true, false); });
  EXPECT_THAT(refusal(scan(1, pc)), HasSubstr("PIPE_CONTROL not allowed on bcs"));
  auto blt = cmds([](CmdWriter& w) { w.color_blt(kData, 64, 0, 0, 4, 4, 1); });
  EXPECT_THAT(refusal(scan(0, blt)), HasSubstr("XY_COLOR_BLT not allowed on rcs"));
  auto flush = cmds([](CmdWriter& w) { w.flush_dw(kData, 1, true, false); });
  EXPECT_THAT(refusal(scan(0, flush)), HasSubstr("MI_FLUSH_DW not allowed on rcs"));
  EXPECT_TRUE(scan(1, blt));
  EXPECT_TRUE(scan(1, flush));
}

TEST_F(CmdScannerTest, BadEngineIndex) {
  std::vector<uint32_t> ring = {kNoop};
  EXPECT_THAT(refusal(scan(2, ring)), HasSubstr("bad engine index 2"));
}

TEST_F(CmdScannerTest, LriToARegisterNotWritableFromACommandBuffer) {
  const uint32_t tail = kRcsBase + reg::RING_TAIL;
  auto ring = cmds([&](CmdWriter& w) {
    w.lri(kRcsBase + reg::RING_INSTPM, 1);
    w.lri(tail, 0);
  });
  auto r = scan(0, ring);
  EXPECT_THAT(refusal(r), HasSubstr("not writable from a command buffer (RING_TAIL 0x2030)"));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().offset, 3u);
  // Every pair is checked, not only the first.
  std::vector<uint32_t> pairs = {header(Op::MI_LOAD_REGISTER_IMM, 5), kRcsBase + reg::RING_INSTPM,
                                 1, tail, 0};
  EXPECT_THAT(refusal(scan(0, pairs)), HasSubstr("RING_TAIL"));
  auto unknown = cmds([](CmdWriter& w) { w.lri(0x4, 0); });
  EXPECT_THAT(refusal(scan(0, unknown)), HasSubstr("not in the table (0x4)"));
  auto other = cmds([](CmdWriter& w) { w.lri(kBcsBase + reg::RING_INSTPM, 1); });
  EXPECT_THAT(refusal(scan(0, other)), HasSubstr("of another engine"));
  EXPECT_TRUE(scan(1, other));
}

TEST_F(CmdScannerTest, LriToAPageTableRootIsRefusedThoughCommandWritable) {
  for (uint32_t off : {reg::RING_PDP_LDW0, reg::RING_PDP_LDW0 + 4, reg::RING_PDP_LDW0 + 24}) {
    const int i = find_reg(kRcsBase + off);
    ASSERT_GE(i, 0);
    ASSERT_TRUE(kRegs[i].flags & kCmd) << "the table makes the PDPs command-writable";
    auto ring = cmds([&](CmdWriter& w) { w.lri(kRcsBase + off, 0x1000); });
    EXPECT_THAT(refusal(scan(0, ring)), HasSubstr("page-table root"));
  }
}

TEST_F(CmdScannerTest, LrmAndSrmRegisterOperands) {
  const uint32_t gpr = kRcsBase + reg::CS_GPR0, instpm = kRcsBase + reg::RING_INSTPM;
  auto ok = cmds([&](CmdWriter& w) {
    w.srm(gpr, kData, true);
    w.lrm(instpm, kData, true);
  });
  EXPECT_TRUE(scan(0, ok)) << refusal(scan(0, ok));
  auto srm = cmds([](CmdWriter& w) { w.srm(kRcsBase + reg::RING_HEAD, kData, true); });
  EXPECT_THAT(refusal(scan(0, srm)), HasSubstr("MI_STORE_REGISTER_MEM to a register not writable"));
  auto lrm = cmds([](CmdWriter& w) { w.lrm(kRcsBase + reg::RING_PDP_LDW0, kData, true); });
  EXPECT_THAT(refusal(scan(0, lrm)),
              HasSubstr("MI_LOAD_REGISTER_MEM to a register that is a page-table root"));
  auto srm_pdp = cmds([](CmdWriter& w) { w.srm(kRcsBase + reg::RING_PDP_LDW0, kData, true); });
  EXPECT_THAT(refusal(scan(0, srm_pdp)), HasSubstr("page-table root"));
}

TEST_F(CmdScannerTest, PipeControlPostSyncRegisterWrite) {
  auto pc = [](uint32_t reg) {
    return std::vector<uint32_t>{
        header(Op::PIPE_CONTROL, 6), kPcLriPostSync | kPcCsStall, reg, 0, 0, 0};
  };
  auto ok = pc(kRcsBase + reg::RING_INSTPM);
  EXPECT_TRUE(scan(0, ok));
  auto bad = pc(kRcsBase + reg::RING_TAIL);
  EXPECT_THAT(refusal(scan(0, bad)), HasSubstr("PIPE_CONTROL to a register not writable"));
  auto root = pc(kRcsBase + reg::RING_PDP_LDW0);
  EXPECT_THAT(refusal(scan(0, root)), HasSubstr("page-table root"));
}

TEST_F(CmdScannerTest, IndexModePostSync) {
  std::vector<uint32_t> pc = {header(Op::PIPE_CONTROL, 6),
                              kPcCsStall | kPcOpWriteImm | kPcStoreIndex | kPcGgtt,
                              0x40,
                              0,
                              1,
                              0};
  EXPECT_THAT(refusal(scan(0, pc)), HasSubstr("PIPE_CONTROL: index-mode post_sync"));
  std::vector<uint32_t> flush = {
      header(Op::MI_FLUSH_DW, 4) | kFlushDwOpWriteImm | kFlushDwStoreIndex, 0x40 | kFlushDwGgtt, 0,
      1};
  EXPECT_THAT(refusal(scan(1, flush)), HasSubstr("MI_FLUSH_DW: index-mode post_sync"));
  // The same post-syncs with an address instead of an index pass.
  pc[1] &= ~kPcStoreIndex;
  pc[2] = static_cast<uint32_t>(kData);
  EXPECT_TRUE(scan(0, pc)) << refusal(scan(0, pc));
}

TEST_F(CmdScannerTest, UpdateGttIsRefused) {
  auto ring = cmds([](CmdWriter& w) { w.update_gtt(0, 0x1003); });
  EXPECT_THAT(refusal(scan(0, ring)), HasSubstr("MI_UPDATE_GTT refused for guests"));
}

TEST_F(CmdScannerTest, BatchEndInTheRing) {
  auto ring = cmds([](CmdWriter& w) {
    w.noop();
    w.bb_end();
  });
  auto r = scan(0, ring);
  EXPECT_THAT(refusal(r), HasSubstr("MI_BATCH_BUFFER_END in a ring"));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().offset, 1u);
}

TEST_F(CmdScannerTest, FlipToAnUnknownPlane) {
  auto ring =
      cmds([](CmdWriter& w) { w.display_flip(2, 4096, static_cast<uint32_t>(kData), false); });
  EXPECT_THAT(refusal(scan(0, ring)), HasSubstr("unknown plane 2"));
}

TEST_F(CmdScannerTest, ExtentArithmeticCannotWrapPastTheRange) {
  // A blit whose rows run far past the end of the high range.
  auto ring =
      cmds([](CmdWriter& w) { w.color_blt(kHighEnd - 4, 0xFFFF, 0, 0, 1, kMaxBltCoord, 1); });
  EXPECT_THAT(refusal(scan(1, ring)), HasSubstr("outside the vGPU's GM"));
  // Coordinates beyond the model's range are refused before any arithmetic.
  auto bad = cmds([](CmdWriter& w) { w.color_blt(kData, 64, 0, 0, 4, kMaxBltCoord + 1, 1); });
  EXPECT_THAT(refusal(scan(1, bad)), HasSubstr("bad destination extent"));
  // An empty blit touches nothing, but its address must still be the vGPU's.
  auto empty = cmds([](CmdWriter& w) { w.color_blt(kData, 64, 4, 4, 4, 8, 1); });
  EXPECT_TRUE(scan(1, empty)) << refusal(scan(1, empty));
  auto empty_out = cmds([](CmdWriter& w) { w.color_blt(kLowEnd + 4096, 64, 4, 4, 4, 8, 1); });
  EXPECT_THAT(refusal(scan(1, empty_out)), HasSubstr("outside the vGPU's GM"));
}

// ---- Batches: chains, depth, loops, ends, readability ----

TEST_F(CmdScannerTest, SecondLevelBatchFromTheRing) {
  guest.write(kBatch, std::vector<uint32_t>{kBbe});
  auto ring = cmds([](CmdWriter& w) { w.bb_start(kBatch, false, true); });
  EXPECT_THAT(refusal(scan(0, ring)), HasSubstr("second-level batch started from the ring"));
}

TEST_F(CmdScannerTest, TwoLevelsAreAcceptedAndAThirdIsRefused) {
  guest.write(kBatch2, std::vector<uint32_t>{kBbe});
  auto first = cmds([](CmdWriter& w) {
    w.bb_start(kBatch2, false, true);
    w.store_dword(kData, 1, true);
    w.bb_start(kBatch2, false, true);  // called twice: no loop
    w.bb_end();
  });
  auto r = scan_batch(0, first);
  ASSERT_TRUE(r) << refusal(r);
  EXPECT_EQ(r->batches_copied, 3u);

  for (bool second_level : {true, false}) {
    SCOPED_TRACE(second_level ? "second-level start" : "chain");
    guest.write(kBatch2, cmds([&](CmdWriter& w) { w.bb_start(kBatch3, false, second_level); }));
    guest.write(kBatch3, std::vector<uint32_t>{kBbe});
    auto deep = scan_batch(0, first);
    EXPECT_THAT(refusal(deep), HasSubstr("nesting beyond two levels"));
    ASSERT_FALSE(deep);
    EXPECT_EQ(deep.error().gm, kBatch2);
  }
}

TEST_F(CmdScannerTest, ChainLoops) {
  // A chains to itself.
  auto self = scan_batch(0, cmds([](CmdWriter& w) { w.bb_start(kBatch, false); }));
  EXPECT_THAT(refusal(self), HasSubstr("already on this chain"));
  // A chains to B, B back to A.
  guest.write(kBatch2, cmds([](CmdWriter& w) { w.bb_start(kBatch, false); }));
  auto ab = scan_batch(0, cmds([](CmdWriter& w) { w.bb_start(kBatch2, false); }));
  EXPECT_THAT(refusal(ab), HasSubstr("already on this chain"));
  ASSERT_FALSE(ab);
  EXPECT_EQ(ab.error().gm, kBatch2);
  // A chains to B, which calls A as a second-level batch.
  guest.write(kBatch2, cmds([](CmdWriter& w) {
                w.bb_start(kBatch, false, true);
                w.bb_end();
              }));
  EXPECT_THAT(refusal(scan_batch(0, cmds([](CmdWriter& w) { w.bb_start(kBatch2, false); }))),
              HasSubstr("already on this chain"));
}

TEST_F(CmdScannerTest, ChainsAreFollowedAndEndTheirBuffer) {
  guest.write(kBatch2, cmds([](CmdWriter& w) {
                w.store_dword(kData, 2, true);
                w.bb_end();
              }));
  auto a = cmds([](CmdWriter& w) {
    w.store_dword(kData, 1, true);
    w.bb_start(kBatch2, false);
    w.dw(0x0C000000u);  // after a chain: never executed, never scanned or copied
  });
  auto r = scan_batch(0, a);
  ASSERT_TRUE(r) << refusal(r);
  EXPECT_EQ(r->batches_copied, 2u);
  EXPECT_EQ(r->commands, 1u + 2 + 2);
}

TEST_F(CmdScannerTest, BatchWithoutEnd) {
  ScanEnv e = env(0);
  e.max_batch_dwords = 256;
  guest.write(kBatch, std::vector<uint32_t>(64, kNoop));  // the rest of the page is zero: NOOPs
  auto ring = cmds([](CmdWriter& w) { w.bb_start(kBatch, false); });
  EXPECT_THAT(refusal(scan(e, ring)), HasSubstr("without MI_BATCH_BUFFER_END within 256 dwords"));
  // A batch may not run off the end of the GM range it starts in.
  guest.write(kLowEnd - 64, std::vector<uint32_t>(16, kNoop));
  ring = cmds([](CmdWriter& w) { w.bb_start(kLowEnd - 64, false); });
  EXPECT_THAT(refusal(scan(0, ring)), HasSubstr("runs past the end of its GM range"));
}

TEST_F(CmdScannerTest, BatchOutsideTheGuestsGm) {
  // In the slice, but not mapped.
  auto ring = cmds([](CmdWriter& w) { w.bb_start(kSlice.high_base + 0x100000, false); });
  auto r = scan(0, ring);
  EXPECT_THAT(refusal(r), HasSubstr("not readable at 0x40100000"));
  // A batch that runs from a mapped page into an unmapped one.
  guest.write(kBatch, std::vector<uint32_t>(1024, kNoop));
  auto cross = scan_batch(0, std::vector<uint32_t>(1024, kNoop));
  EXPECT_THAT(refusal(cross), HasSubstr(fmt::format("not readable at 0x{:x}", kBatch + 4096)));
  // Outside the slice: refused before anything is read.
  ring = cmds([](CmdWriter& w) { w.bb_start(kSlice.low_base - 4096, false); });
  EXPECT_THAT(refusal(scan(0, ring)),
              HasSubstr("MI_BATCH_BUFFER_START: batch [0x3fff000, +0x4) outside"));
}

TEST_F(CmdScannerTest, ShadowAllocationFailure) {
  pool.exhausted = true;
  EXPECT_THAT(refusal(scan_batch(0, {kBbe})), HasSubstr("shadow copy of 1 dwords: pool exhausted"));
}

TEST_F(CmdScannerTest, ScanBudgetBoundsTheWork) {
  EXPECT_EQ(ScanEnv{}.max_scan_dwords, 16u << 20);
  // A first-level batch calling one second-level batch again and again.
  guest.write(kBatch2, std::vector<uint32_t>{kNoop, kNoop, kNoop, kBbe});
  std::vector<uint32_t> first;
  for (int i = 0; i < 100; ++i) {
    auto call = cmds([](CmdWriter& w) { w.bb_start(kBatch2, false, true); });
    first.insert(first.end(), call.begin(), call.end());
  }
  first.push_back(kBbe);
  guest.write(kBatch, first);
  const auto ring = cmds([](CmdWriter& w) { w.bb_start(kBatch, false); });
  ScanEnv e = env(0);
  e.max_scan_dwords = 3 + 301 + 100 * 4;  // exactly the whole work
  auto copy = ring;  // a scan patches its ring
  auto whole = scan(e, copy);
  EXPECT_TRUE(whole) << refusal(whole);
  --e.max_scan_dwords;
  copy = ring;
  auto r = scan(e, copy);
  EXPECT_THAT(refusal(r), HasSubstr("scan budget of 703 dwords exceeded"));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().gm, kBatch + 4 * 300);  // the first-level batch's end, scanned last
}

// ---- Unprivileged (PPGTT) batches ----

TEST_F(CmdScannerTest, PpgttBatchesAreLeftAloneUnlessScanNonpriv) {
  auto ring = cmds([](CmdWriter& w) { w.bb_start(kPpgttBatch, true); });
  const auto before = ring;
  auto r = scan(1, ring);  // nothing mapped at kPpgttBatch: it is not read
  ASSERT_TRUE(r) << refusal(r);
  EXPECT_EQ(r->batches_unscanned, 1u);
  EXPECT_EQ(ring, before);

  auto batch = cmds([](CmdWriter& w) {
    w.color_blt(kPpgttBatch + 0x10000, 256, 0, 0, 64, 64, 1);
    w.store_dword(kPpgttBatch + 0x20000, 1, false);
    w.lri(kBcsBase + reg::CS_GPR0, 5);
    w.bb_end();
  });
  auto s = scan_ppgtt_batch(1, batch);
  ASSERT_TRUE(s) << refusal(s);
  EXPECT_EQ(s->batches_copied, 0u);
  EXPECT_EQ(s->batches_unscanned, 0u);
  EXPECT_EQ(s->dwords, 3u + batch.size());
  EXPECT_EQ(pool.size(), 0u);
}

TEST_F(CmdScannerTest, UnprivilegedBatchRefusals) {
  struct Case {
    const char* why;
    std::vector<uint32_t> batch;
  } cases[] = {
      {"MI_STORE_DATA_IMM: GGTT address from an unprivileged batch",
       cmds([](CmdWriter& w) { w.store_dword(kData, 1, true); })},
      {"MI_DISPLAY_FLIP: privileged-only command in an unprivileged batch",
       cmds([](CmdWriter& w) { w.display_flip(0, 4096, static_cast<uint32_t>(kData), true); })},
      {"not writable from an unprivileged batch (RING_INSTPM",
       cmds([](CmdWriter& w) { w.lri(kBcsBase + reg::RING_INSTPM, 1); })},
      {"MI_BATCH_BUFFER_START: GGTT batch from an unprivileged batch",
       cmds([](CmdWriter& w) { w.bb_start(kBatch, false); })},
  };
  for (auto& k : cases) {
    SCOPED_TRACE(k.why);
    k.batch.push_back(kBbe);
    auto r = scan_ppgtt_batch(1, k.batch);
    EXPECT_THAT(refusal(r), HasSubstr(k.why));
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().gm, kPpgttBatch);
  }
}

TEST_F(CmdScannerTest, PpgttSecondLevelAndChainsAreFollowedWithScanNonpriv) {
  ppgtt.write(kPpgttBatch + 0x3000, cmds([](CmdWriter& w) { w.dw(0x0C000000u); }));
  auto r = scan_ppgtt_batch(1, cmds([](CmdWriter& w) {
                              w.bb_start(kPpgttBatch + 0x3000, true, true);
                              w.bb_end();
                            }));
  EXPECT_THAT(refusal(r), HasSubstr("unknown opcode"));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().gm, kPpgttBatch + 0x3000);
}

// ---- Copy and patch ----

TEST_F(CmdScannerTest, PrivilegedBatchesRunFromScannedCopiesTheGuestCannotChange) {
  const auto second = cmds([](CmdWriter& w) {
    w.store_dword(kData + 4, 2, true);
    w.bb_end();
  });
  guest.write(kBatch2, second);
  const auto first = cmds([](CmdWriter& w) {
    w.store_dword(kData, 1, true);
    w.bb_start(kBatch2, false, true);
    w.bb_end();
  });
  guest.write(kBatch, first);
  auto ring = cmds([](CmdWriter& w) {
    w.bb_start(kBatch, false);
    w.noop();
  });
  auto r = scan(0, ring);
  ASSERT_TRUE(r) << refusal(r);
  EXPECT_EQ(r->batches_copied, 2u);

  // The ring names the first-level copy, which names the second-level copy.
  const std::vector<uint32_t>* c1 = pool.at(bb_target(ring.data()));
  ASSERT_NE(c1, nullptr);
  ASSERT_EQ(c1->size(), first.size());
  const std::vector<uint32_t>* c2 = pool.at(bb_target(c1->data() + 4));
  ASSERT_NE(c2, nullptr);
  EXPECT_EQ(*c2, second);
  std::vector<uint32_t> expect = first;
  std::copy(c1->begin() + 5, c1->begin() + 7, expect.begin() + 5);  // only the address differs
  EXPECT_EQ(*c1, expect);
  EXPECT_EQ((*c1)[4], first[4]);  // the header keeps its second-level, GGTT bits

  // The guest rewrites both batches after the scan: the copies do not change.
  const auto snap1 = *c1, snap2 = *c2;
  guest.write(kBatch, cmds([](CmdWriter& w) { w.update_gtt(0, 0x1003); }));
  guest.write(kBatch2, cmds([](CmdWriter& w) { w.lri(kRcsBase + reg::RING_PDP_LDW0, 0); }));
  EXPECT_EQ(*pool.at(bb_target(ring.data())), snap1);
  EXPECT_EQ(*pool.at(bb_target(c1->data() + 4)), snap2);
}

TEST_F(CmdScannerTest, AChainedBatchIsPatchedInTheCopyItEnds) {
  guest.write(kBatch2, std::vector<uint32_t>{kBbe});
  guest.write(kBatch, cmds([](CmdWriter& w) { w.bb_start(kBatch2, false); }));
  auto ring = cmds([](CmdWriter& w) { w.bb_start(kBatch, false); });
  ASSERT_TRUE(scan(0, ring));
  const std::vector<uint32_t>* a = pool.at(bb_target(ring.data()));
  ASSERT_NE(a, nullptr);
  ASSERT_EQ(a->size(), 3u);
  const std::vector<uint32_t>* b = pool.at(bb_target(a->data()));
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(*b, std::vector<uint32_t>{kBbe});
}

// ---- Flips ----

TEST_F(CmdScannerTest, FlipsAreRecordedAndNoopedInTheRing) {
  const uint32_t surface = static_cast<uint32_t>(kData + 0x10000);
  auto ring = cmds([&](CmdWriter& w) {
    w.bb_start(kPpgttBatch, true);
    w.display_flip(4, 8192, surface, true);
    w.pipe_control(kData, 1, true, false);
  });
  const auto before = ring;
  auto r = scan(0, ring);
  ASSERT_TRUE(r) << refusal(r);
  ASSERT_EQ(r->flips.size(), 1u);
  const FlipCmd& f = r->flips[0];
  EXPECT_EQ(f.plane, 4u);
  EXPECT_EQ(f.pipe, 2);
  EXPECT_EQ(f.stride, 8192u);
  EXPECT_EQ(f.surface, surface);
  EXPECT_TRUE(f.async);
  for (size_t i = 0; i < ring.size(); ++i)
    EXPECT_EQ(ring[i], i >= 3 && i < 6 ? kNoop : before[i]) << i;

  auto outside =
      cmds([](CmdWriter& w) { w.display_flip(0, 4096, static_cast<uint32_t>(kLowEnd), false); });
  EXPECT_THAT(refusal(scan(0, outside)), HasSubstr("MI_DISPLAY_FLIP: surface"));
}

TEST_F(CmdScannerTest, FlipsInAPrivilegedBatchAreNoopedInTheCopyOnly) {
  const auto batch = cmds([](CmdWriter& w) {
    w.display_flip(1, 4096, static_cast<uint32_t>(kData), false);
    w.bb_end();
  });
  guest.write(kBatch, batch);
  auto ring = cmds([](CmdWriter& w) { w.bb_start(kBatch, false); });
  auto r = scan(1, ring);
  ASSERT_TRUE(r) << refusal(r);
  ASSERT_EQ(r->flips.size(), 1u);
  EXPECT_EQ(r->flips[0].pipe, 1);
  EXPECT_FALSE(r->flips[0].async);
  EXPECT_EQ(*pool.at(bb_target(ring.data())), (std::vector<uint32_t>{kNoop, kNoop, kNoop, kBbe}));
  std::vector<uint32_t> original(batch.size());
  ASSERT_TRUE(guest.read(kBatch, original.data(), 4 * original.size()));
  EXPECT_EQ(original, batch);
}

// ---- Every ring and batch the native driver emits passes ----

struct Emitted {
  std::vector<uint32_t> batch[kNumEngines];  // the last batch each engine emitted
  int rings = 0, batches = 0, scanned_batches = 0;
  std::vector<std::string> violations;
};

// The driver emits a batch, then the ring slice that starts it through the PPGTT.
void scan_emitted(void* user, int engine, bool is_ring, const uint32_t* dw, uint32_t n) {
  auto* s = static_cast<Emitted*>(user);
  if (!is_ring) {
    ++s->batches;
    s->batch[engine].assign(dw, dw + n);
    return;
  }
  ++s->rings;
  std::vector<uint32_t> ring(dw, dw + n);
  PagedMem ppgtt;  // the context's PPGTT, as far as the scan needs it
  uint64_t batch_dwords = 0;
  for (uint32_t i = 0; i < n;) {
    const CmdDesc* c = decode(ring[i]);
    if (!c || !cmd_length(*c, ring[i])) break;  // the scan reports it
    if (c->op == Op::MI_BATCH_BUFFER_START) {
      ppgtt.write(bb_target(&ring[i]), s->batch[engine]);
      batch_dwords += s->batch[engine].size();
    }
    i += cmd_length(*c, ring[i]);
  }
  ScanEnv e{};
  e.engine = engine;
  e.slice = GmSlice{0, kGmSize, 0, 0, 0, 0};
  e.read_ggtt = [](uint64_t, void*, size_t) { return false; };  // the driver starts no GGTT batch
  e.read_ppgtt = [&](uint64_t a, void* d, size_t len) { return ppgtt.read(a, d, len); };
  e.alloc_shadow = [](uint32_t) {
    return tl::expected<ShadowBuffer, std::string>(tl::unexpect, "no GGTT batch expected");
  };
  e.scan_nonpriv = true;
  auto r = CmdScanner::scan_ring(e, ring.data(), n, 0);
  if (!r) {
    s->violations.push_back(fmt::format("{} ring: {} at dword {}", engine ? "bcs" : "rcs",
                                        r.error().reason, r.error().offset));
  } else if (r->dwords != n + batch_dwords) {
    s->violations.push_back(
        fmt::format("scanned {} dwords, emitted {}", r->dwords, n + batch_dwords));
  } else {
    s->scanned_batches += batch_dwords ? 1 : 0;
  }
}

class ScannerVocabulary : public drv::test::DriverTest {};

TEST_F(ScannerVocabulary, EveryRingAndBatchTheDriverEmitsPasses) {
  for (int i = 0; i < wl::workload_count(); ++i) {
    const char* name = wl::workload_info(i).name;
    if (wl::workload_info(i).hostile) continue;  // made to hang
    SCOPED_TRACE(name);
    Emitted seen;
    dev.set_emit_observer(scan_emitted, &seen);
    drv::test::VblankPump pump(*gpu);  // selftest waits for vblanks
    wl::Params p;
    p.frames = 3;
    wl::Result r = wl::run(dev, name, p, nullptr);
    ASSERT_TRUE(r.ok) << r.error;
    EXPECT_TRUE(seen.violations.empty()) << seen.violations.front();
    EXPECT_EQ(seen.scanned_batches, seen.batches);
    EXPECT_EQ(seen.rings, seen.batches);
    if (std::string(name) != "selftest") {
      EXPECT_GT(seen.rings, 0);
    }
  }
}

}  // namespace
}  // namespace gvt
