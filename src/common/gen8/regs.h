// The register table: one constexpr description of every MMIO register the
// Gen8-class GPU model implements. The model decodes MMIO from it, the driver
// takes its offsets from it, and the mediator's scanner takes its "writable
// from a command buffer" policy from it. Freestanding: no library runtime.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

namespace gen8 {

// Engine bases (Intel Gen8 offsets).
inline constexpr uint32_t kRcsBase = 0x2000;
inline constexpr uint32_t kBcsBase = 0x22000;
inline constexpr int kNumEngines = 2;  // index 0 = RCS, 1 = BCS
inline constexpr uint32_t kEngineBase[kNumEngines] = {kRcsBase, kBcsBase};
inline constexpr uint8_t kEngineBit[kNumEngines] = {1, 2};
inline constexpr const char* kEngineNames[kNumEngines] = {"rcs", "bcs"};
inline constexpr int kNumPipes = 3;
inline constexpr uint32_t kPipeStride = 0x1000;
inline constexpr int kNumFences = 32;
inline constexpr int kCsbEntries = 6;
inline constexpr int kNumGprs = 16;
inline constexpr uint32_t kMmioRegSpace = 0x200000;  // registers: first 2 MiB of BAR0

// Register offsets. Engine registers are relative to the engine base;
// display registers are those of pipe A (pipe p adds p * kPipeStride).
namespace reg {
inline constexpr uint32_t RING_TAIL = 0x30;
inline constexpr uint32_t RING_HEAD = 0x34;
inline constexpr uint32_t RING_START = 0x38;
inline constexpr uint32_t RING_CTL = 0x3C;
inline constexpr uint32_t RING_IPEIR = 0x64;  // error code of the last fault
inline constexpr uint32_t RING_IPEHR = 0x68;  // header dword of the faulting command
inline constexpr uint32_t RING_ACTHD = 0x74;
inline constexpr uint32_t RING_HWS_PGA = 0x80;
inline constexpr uint32_t RING_MI_MODE = 0x9C;
inline constexpr uint32_t RING_EIR = 0xB0;  // error identity, W1C
inline constexpr uint32_t RING_INSTPM = 0xC0;
inline constexpr uint32_t RING_RESET_CTL = 0xD0;
inline constexpr uint32_t RING_BBADDR = 0x140;
inline constexpr uint32_t RING_ELSP = 0x230;
inline constexpr uint32_t RING_EXECLIST_STATUS = 0x234;
inline constexpr uint32_t RING_PDP_LDW0 = 0x270;  // + 8 * n; UDW at + 4
inline constexpr uint32_t RING_MODE_GEN7 = 0x29C;
inline constexpr uint32_t RING_TIMESTAMP = 0x358;
inline constexpr uint32_t RING_CONTEXT_STATUS_BUF = 0x370;  // + 8 * i
inline constexpr uint32_t RING_CONTEXT_STATUS_PTR = 0x3A0;
inline constexpr uint32_t RING_CTX_TIMESTAMP = 0x3A8;
inline constexpr uint32_t CS_GPR0 = 0x600;  // + 8 * n

inline constexpr uint32_t GEN8_RING_FAULT_REG = 0x4094;
inline constexpr uint32_t GEN8_FAULT_TLB_DATA0 = 0x4B10;
inline constexpr uint32_t GEN8_FAULT_TLB_DATA1 = 0x4B14;
inline constexpr uint32_t GEN6_GDRST = 0x941C;
inline constexpr uint32_t GEN8_MASTER_IRQ = 0x44200;
inline constexpr uint32_t GEN8_GT_ISR0 = 0x44300;
inline constexpr uint32_t GEN8_GT_IMR0 = 0x44304;
inline constexpr uint32_t GEN8_GT_IIR0 = 0x44308;
inline constexpr uint32_t GEN8_GT_IER0 = 0x4430C;
inline constexpr uint32_t GEN8_DE_PIPE_ISR = 0x44400;  // + 0x10 * pipe
inline constexpr uint32_t GEN8_DE_PIPE_IMR = 0x44404;
inline constexpr uint32_t GEN8_DE_PIPE_IIR = 0x44408;
inline constexpr uint32_t GEN8_DE_PIPE_IER = 0x4440C;
inline constexpr uint32_t kDePipeStride = 0x10;
inline constexpr uint32_t FENCE_REG_GEN6 = 0x100000;  // + 8 * i
inline constexpr uint32_t GFX_FLSH_CNTL_GEN6 = 0x101008;

inline constexpr uint32_t HTOTAL = 0x60000;
inline constexpr uint32_t HBLANK = 0x60004;
inline constexpr uint32_t HSYNC = 0x60008;
inline constexpr uint32_t VTOTAL = 0x6000C;
inline constexpr uint32_t VBLANK = 0x60010;
inline constexpr uint32_t VSYNC = 0x60014;
inline constexpr uint32_t PIPESRC = 0x6001C;
inline constexpr uint32_t CURCNTR = 0x70080;
inline constexpr uint32_t CURBASE = 0x70084;
inline constexpr uint32_t CURPOS = 0x70088;
inline constexpr uint32_t PIPECONF = 0x70008;
inline constexpr uint32_t PIPE_FRMCOUNT = 0x70040;
inline constexpr uint32_t DSPCNTR = 0x70180;
inline constexpr uint32_t DSPSTRIDE = 0x70188;
inline constexpr uint32_t DSPSURF = 0x7019C;
inline constexpr uint32_t DSPSURFLIVE = 0x701AC;
}  // namespace reg

// Access policy flags.
enum RegFlag : uint32_t {
  kMasked = 1u << 0,    // bits 31:16 enable writes of bits 15:0
  kCmd = 1u << 1,       // writable from a privileged command buffer (LRI/LRM/SRM target)
  kNonPriv = 1u << 2,   // also writable from an unprivileged (PPGTT) batch
  kInCtx = 1u << 3,     // lives in the logical context image
  kPtRoot = 1u << 4,    // a page-table root (PDP/PML4)
  kLive = 1u << 5,      // read returns live engine/display state, not a stored value
  kSide = 1u << 6,      // a write has a side effect beyond storing the value
  kWriteOnly = 1u << 7  // reads return 0
};

enum class Scope : uint8_t { Global, Engine, Pipe };

struct RegDesc {
  const char* name;  // Intel i915 name
  uint32_t offset;   // absolute MMIO offset in BAR0
  uint8_t width;     // bytes: 4 or 8 (an 8-byte register is two dwords)
  Scope scope;
  uint8_t instance;  // engine index, pipe, or array index
  uint32_t reset;    // power-on value (per dword)
  uint32_t ro_mask;  // read-only bits (per dword)
  uint32_t w1c_mask; // write-1-to-clear bits
  uint32_t flags;
};

struct RegTemplate {
  const char* name;
  uint32_t offset;
  uint8_t width;
  uint8_t count;    // array registers (fences, CSB, GPRs)
  uint32_t stride;  // between array elements
  uint32_t reset;
  uint32_t ro_mask;
  uint32_t w1c_mask;
  uint32_t flags;
};

inline constexpr uint32_t kAll = 0xFFFFFFFFu;

inline constexpr RegTemplate kEngineRegs[] = {
    {"RING_TAIL", reg::RING_TAIL, 4, 1, 0, 0, kAll, 0, kInCtx | kLive},
    {"RING_HEAD", reg::RING_HEAD, 4, 1, 0, 0, kAll, 0, kInCtx | kLive},
    {"RING_START", reg::RING_START, 4, 1, 0, 0, kAll, 0, kInCtx | kLive},
    {"RING_CTL", reg::RING_CTL, 4, 1, 0, 0, kAll, 0, kInCtx | kLive},
    {"RING_IPEIR", reg::RING_IPEIR, 4, 1, 0, 0, kAll, 0, 0},
    {"RING_IPEHR", reg::RING_IPEHR, 4, 1, 0, 0, kAll, 0, 0},
    {"RING_ACTHD", reg::RING_ACTHD, 4, 1, 0, 0, kAll, 0, kLive},
    {"RING_HWS_PGA", reg::RING_HWS_PGA, 4, 1, 0, 0, 0xFFFu, 0, 0},
    {"RING_MI_MODE", reg::RING_MI_MODE, 4, 1, 0, 0, 0, 0, kMasked},
    {"RING_EIR", reg::RING_EIR, 4, 1, 0, 0, 0, kAll, 0},
    {"RING_INSTPM", reg::RING_INSTPM, 4, 1, 0, 0, 0, 0, kMasked | kCmd | kInCtx | kLive},
    {"RING_RESET_CTL", reg::RING_RESET_CTL, 4, 1, 0, 0, 0x2u, 0, kMasked | kSide},
    {"RING_BBADDR", reg::RING_BBADDR, 4, 1, 0, 0, kAll, 0, kLive},
    {"RING_ELSP", reg::RING_ELSP, 4, 1, 0, 0, 0, 0, kSide | kWriteOnly},
    {"RING_EXECLIST_STATUS", reg::RING_EXECLIST_STATUS, 8, 1, 0, 0, kAll, 0, kLive},
    {"GEN8_RING_PDP_LDW", reg::RING_PDP_LDW0, 4, 4, 8, 0, 0, 0, kCmd | kInCtx | kPtRoot | kLive},
    {"GEN8_RING_PDP_UDW", reg::RING_PDP_LDW0 + 4, 4, 4, 8, 0, 0, 0, kCmd | kInCtx | kPtRoot | kLive},
    {"RING_MODE_GEN7", reg::RING_MODE_GEN7, 4, 1, 0, 0, 0, 0, kMasked},
    {"RING_TIMESTAMP", reg::RING_TIMESTAMP, 8, 1, 0, 0, kAll, 0, kLive},
    {"RING_CONTEXT_STATUS_BUF", reg::RING_CONTEXT_STATUS_BUF, 8, kCsbEntries, 8, 0, kAll, 0, kLive},
    {"RING_CONTEXT_STATUS_PTR", reg::RING_CONTEXT_STATUS_PTR, 4, 1, 0, 0x0707, 0x7, 0,
     kMasked | kLive | kSide},
    {"RING_CTX_TIMESTAMP", reg::RING_CTX_TIMESTAMP, 4, 1, 0, 0, kAll, 0, kInCtx | kLive},
    {"CS_GPR", reg::CS_GPR0, 8, kNumGprs, 8, 0, 0, 0, kCmd | kNonPriv | kInCtx | kLive},
};

inline constexpr RegTemplate kGlobalRegs[] = {
    {"GEN8_RING_FAULT_REG", reg::GEN8_RING_FAULT_REG, 4, 1, 0, 0, 0xFFFFFFFEu, 0x1u, 0},
    {"GEN8_FAULT_TLB_DATA0", reg::GEN8_FAULT_TLB_DATA0, 4, 1, 0, 0, kAll, 0, 0},
    {"GEN8_FAULT_TLB_DATA1", reg::GEN8_FAULT_TLB_DATA1, 4, 1, 0, 0, kAll, 0, 0},
    {"GEN6_GDRST", reg::GEN6_GDRST, 4, 1, 0, 0, 0, 0, kSide | kLive},
    {"GEN8_MASTER_IRQ", reg::GEN8_MASTER_IRQ, 4, 1, 0, 0, 0x7FFFFFFFu, 0, kSide | kLive},
    {"GEN8_GT_ISR", reg::GEN8_GT_ISR0, 4, 1, 0, 0, kAll, 0, 0},
    {"GEN8_GT_IMR", reg::GEN8_GT_IMR0, 4, 1, 0, kAll, 0, 0, kSide},
    {"GEN8_GT_IIR", reg::GEN8_GT_IIR0, 4, 1, 0, 0, 0, kAll, kSide},
    {"GEN8_GT_IER", reg::GEN8_GT_IER0, 4, 1, 0, 0, 0, 0, kSide},
    {"GEN8_DE_PIPE_ISR", reg::GEN8_DE_PIPE_ISR, 4, kNumPipes, reg::kDePipeStride, 0, kAll, 0, 0},
    {"GEN8_DE_PIPE_IMR", reg::GEN8_DE_PIPE_IMR, 4, kNumPipes, reg::kDePipeStride, kAll, 0, 0, kSide},
    {"GEN8_DE_PIPE_IIR", reg::GEN8_DE_PIPE_IIR, 4, kNumPipes, reg::kDePipeStride, 0, 0, kAll, kSide},
    {"GEN8_DE_PIPE_IER", reg::GEN8_DE_PIPE_IER, 4, kNumPipes, reg::kDePipeStride, 0, 0, 0, kSide},
    {"FENCE_REG_GEN6", reg::FENCE_REG_GEN6, 8, kNumFences, 8, 0, 0, 0, 0},
    {"GFX_FLSH_CNTL_GEN6", reg::GFX_FLSH_CNTL_GEN6, 4, 1, 0, 0, 0, 0, kSide | kWriteOnly},
};

inline constexpr RegTemplate kPipeRegs[] = {
    {"HTOTAL", reg::HTOTAL, 4, 1, 0, 0x053F03FFu, 0, 0, 0},
    {"HBLANK", reg::HBLANK, 4, 1, 0, 0x053F03FFu, 0, 0, 0},
    {"HSYNC", reg::HSYNC, 4, 1, 0, 0x048F0417u, 0, 0, 0},
    {"VTOTAL", reg::VTOTAL, 4, 1, 0, 0x032502FFu, 0, 0, 0},
    {"VBLANK", reg::VBLANK, 4, 1, 0, 0x032502FFu, 0, 0, 0},
    {"VSYNC", reg::VSYNC, 4, 1, 0, 0x03080302u, 0, 0, 0},
    {"PIPESRC", reg::PIPESRC, 4, 1, 0, 0x03FF02FFu, 0, 0, 0},
    {"PIPECONF", reg::PIPECONF, 4, 1, 0, 0, 0x40000000u, 0, kLive | kSide},
    {"PIPE_FRMCOUNT_G4X", reg::PIPE_FRMCOUNT, 4, 1, 0, 0, kAll, 0, kLive},
    {"CURCNTR", reg::CURCNTR, 4, 1, 0, 0, 0, 0, 0},
    {"CURBASE", reg::CURBASE, 4, 1, 0, 0, 0xFFFu, 0, 0},
    {"CURPOS", reg::CURPOS, 4, 1, 0, 0, 0, 0, 0},
    {"DSPCNTR", reg::DSPCNTR, 4, 1, 0, 0x18000000u, 0, 0, 0},
    {"DSPSTRIDE", reg::DSPSTRIDE, 4, 1, 0, 0, 0x3Fu, 0, 0},
    {"DSPSURF", reg::DSPSURF, 4, 1, 0, 0, 0xFFFu, 0, kSide},
    {"DSPSURFLIVE", reg::DSPSURFLIVE, 4, 1, 0, 0, kAll, 0, kLive},
};

namespace detail {
template <size_t N>
constexpr size_t count_regs(const RegTemplate (&t)[N]) {
  size_t n = 0;
  for (const auto& r : t) n += r.count;
  return n;
}
}  // namespace detail

inline constexpr size_t kNumRegs = detail::count_regs(kGlobalRegs) +
                                   kNumEngines * detail::count_regs(kEngineRegs) +
                                   kNumPipes * detail::count_regs(kPipeRegs);

namespace detail {
template <size_t N>
constexpr void expand(std::array<RegDesc, kNumRegs>& out, size_t& n, const RegTemplate (&t)[N],
                      Scope scope, uint8_t instance, uint32_t base) {
  for (const auto& r : t)
    for (uint8_t i = 0; i < r.count; ++i)
      out[n++] = RegDesc{r.name,     base + r.offset + i * r.stride,
                         r.width,    scope,
                         scope == Scope::Global ? i : instance,
                         r.reset,    r.ro_mask,
                         r.w1c_mask, r.flags};
}

constexpr std::array<RegDesc, kNumRegs> build_regs() {
  std::array<RegDesc, kNumRegs> out{};
  size_t n = 0;
  expand(out, n, kGlobalRegs, Scope::Global, 0, 0);
  for (int e = 0; e < kNumEngines; ++e)
    expand(out, n, kEngineRegs, Scope::Engine, static_cast<uint8_t>(e), kEngineBase[e]);
  for (int p = 0; p < kNumPipes; ++p)
    expand(out, n, kPipeRegs, Scope::Pipe, static_cast<uint8_t>(p), p * kPipeStride);
  // Sorted by offset so that lookup is a binary search.
  for (size_t i = 1; i < n; ++i)
    for (size_t j = i; j > 0 && out[j - 1].offset > out[j].offset; --j) {
      RegDesc t = out[j];
      out[j] = out[j - 1];
      out[j - 1] = t;
    }
  return out;
}
}  // namespace detail

inline constexpr std::array<RegDesc, kNumRegs> kRegs = detail::build_regs();

constexpr bool regs_valid() {
  for (size_t i = 0; i < kRegs.size(); ++i) {
    const auto& r = kRegs[i];
    if (r.offset % 4 != 0 || (r.width != 4 && r.width != 8)) return false;
    if (r.offset + r.width > kMmioRegSpace) return false;
    if (i > 0 && kRegs[i - 1].offset + kRegs[i - 1].width > r.offset) return false;
    if ((r.flags & kMasked) && (r.width != 4)) return false;
    if ((r.flags & kNonPriv) && !(r.flags & kCmd)) return false;
  }
  return true;
}
static_assert(regs_valid(), "register table: misaligned, overlapping or inconsistent entry");

// Index of the register covering `offset` (either dword of an 8-byte
// register), or -1 when the offset is not in the table (the unknown path).
constexpr int find_reg(uint32_t offset) {
  size_t lo = 0, hi = kRegs.size();
  while (lo < hi) {
    size_t mid = (lo + hi) / 2;
    if (kRegs[mid].offset + kRegs[mid].width <= offset)
      lo = mid + 1;
    else
      hi = mid;
  }
  if (lo < kRegs.size() && kRegs[lo].offset <= offset) return static_cast<int>(lo);
  return -1;
}

static_assert(find_reg(kRcsBase + reg::RING_TAIL) >= 0);
static_assert(find_reg(kBcsBase + reg::RING_ELSP + 4) >= 0);
static_assert(find_reg(0x4) < 0);

// Value a policy-checked write leaves in a dword register.
constexpr uint32_t apply_write(const RegDesc& r, uint32_t old, uint32_t v) {
  if (r.flags & kMasked) {
    uint32_t mask = (v >> 16) & ~r.ro_mask & 0xFFFFu;
    return (old & ~mask) | (v & mask);
  }
  uint32_t keep = old & (r.ro_mask | r.w1c_mask) & ~(v & r.w1c_mask);
  return keep | (v & ~r.ro_mask & ~r.w1c_mask);
}

}  // namespace gen8
