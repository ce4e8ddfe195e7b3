// The command table: one constexpr description of every command the GPU
// model executes (Intel Gen8 encodings). Each entry gives the header, the
// length rule, the engines, the privilege, every address field with the
// extent it covers, and the register operands. The model's command streamer,
// the driver's validator and the mediator's scanner all decode from it.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

#include "common/gen8/regs.h"

namespace gen8 {

enum class Op : uint8_t {
  MI_NOOP,
  MI_USER_INTERRUPT,
  MI_ARB_CHECK,
  MI_BATCH_BUFFER_END,
  MI_DISPLAY_FLIP,
  MI_SEMAPHORE_WAIT,
  MI_STORE_DATA_IMM,
  MI_STORE_DATA_INDEX,
  MI_LOAD_REGISTER_IMM,
  MI_UPDATE_GTT,
  MI_STORE_REGISTER_MEM,
  MI_FLUSH_DW,
  MI_LOAD_REGISTER_MEM,
  MI_BATCH_BUFFER_START,
  PIPE_CONTROL,
  XY_COLOR_BLT,
  XY_SRC_COPY_BLT,
  // The render engine's fixed-function 3D pipeline (common/gen8/render3d.h).
  _3DSTATE_CLEAR_PARAMS,
  _3DSTATE_DEPTH_BUFFER,
  _3DSTATE_VERTEX_BUFFERS,
  _3DSTATE_VERTEX_ELEMENTS,
  _3DSTATE_INDEX_BUFFER,
  _3DSTATE_SCISSOR,
  _3DSTATE_CONSTANT,
  _3DSTATE_VIEWPORT,
  _3DSTATE_TEXTURE,
  _3DSTATE_BLEND,
  _3DSTATE_DEPTH_STENCIL,
  _3DSTATE_RASTER,
  _3DSTATE_RENDER_TARGET,
  _3DPRIMITIVE,
  kCount
};
inline constexpr size_t kNumOps = static_cast<size_t>(Op::kCount);

enum CmdType : uint8_t { kTypeMi = 0, kType2d = 2, kType3d = 3 };

inline constexpr uint8_t kRcs = 1, kBcs = 2, kAllEngines = 3;

// Length in dwords. With field_bits == 0 the command has no length field and
// is always `min` long; otherwise len = (dw0 & field mask) + 2 and must lie in
// [min, max] with (len - min) % step == 0.
struct LenRule {
  uint8_t field_bits;
  uint16_t min;
  uint16_t max;
  uint8_t step;
};

// Which address space an address field names.
enum class Space : uint8_t {
  Batch,   // the buffer's own: GGTT in the ring or a privileged batch, else PPGTT
  GttBit,    // GGTT when (dw[sel_dw] & sel_mask) != 0, else PPGTT
  PpgttBit,  // PPGTT when (dw[sel_dw] & sel_mask) != 0, else GGTT (BB_START bit 8)
  Ggtt,    // always the GGTT
};

// How many bytes an address field covers.
enum class Extent : uint8_t {
  Fixed,    // `size` bytes
  DataLen,  // `size` bytes plus 4 per dword of length above the minimum
  BltDst,   // the destination rectangle of an XY blit (dw1 pitch, dw2/dw3 corners)
  BltSrc,   // the source rectangle (dw6 origin, dw7 pitch, size of the destination)
  SizeDw,   // the byte count in dw[size]
  Surface,  // a 4-byte-per-pixel surface: pitch in dw[size], height << 16 | width in dw[size + 1]
};

struct AddrField {
  const char* name;
  uint8_t dw;          // first dword of the address
  bool qword;          // a 48-bit address in dw, dw + 1
  uint32_t lo_mask;    // address bits of the low dword
  Space space;
  uint8_t sel_dw;      // Space::GttBit / PpgttBit selector
  uint32_t sel_mask;
  uint8_t cond_dw;     // the field is used only when (dw[cond_dw] & cond_mask) != 0
  uint32_t cond_mask;  // 0: always used
  uint8_t index_dw;    // index mode: the address is a dword offset into the
  uint32_t index_mask; // context's per-process HWSP (GGTT); kAll = always
  Extent extent;
  uint32_t size;    // Fixed/DataLen: bytes; SizeDw/Surface: a dword index
};

// Register operands (LRI pairs, LRM/SRM register, PIPE_CONTROL MMIO write).
enum class RegOps : uint8_t { None, Pairs, Single, PostSync };
struct RegOperand {
  RegOps kind;
  uint8_t dw;  // first register dword
  uint8_t cond_dw;
  uint32_t cond_mask;
};
inline constexpr uint32_t kRegOffsetMask = 0x007FFFFCu;

enum CmdFlag : uint32_t {
  kPrivOnly = 1u << 0,  // faults in an unprivileged batch
  kEndsBatch = 1u << 1,
  kStartsBatch = 1u << 2,
  kGuestRefused = 1u << 3,  // the driver never emits it and the mediator refuses it
  kNotInRing = 1u << 4,     // the mediator refuses it in a ring (may block the engine)
};

struct CmdDesc {
  Op op;
  const char* name;
  uint32_t header;  // dw0 with the length field zero
  uint8_t type;
  LenRule len;
  uint8_t engines;
  uint32_t flags;
  uint8_t n_addr;
  AddrField addr[2];
  RegOperand regs;
};

// Bit positions used by more than one consumer.
inline constexpr uint32_t kGgttBit22 = 1u << 22;        // SDI/SRM/LRM/SEMAPHORE_WAIT dw0
inline constexpr uint32_t kBbPpgtt = 1u << 8;           // BB_START dw0: PPGTT (unprivileged)
inline constexpr uint32_t kBbSecondLevel = 1u << 22;    // BB_START dw0
inline constexpr uint32_t kFlushDwOpMask = 3u << 14;    // MI_FLUSH_DW dw0 post-sync op
inline constexpr uint32_t kFlushDwOpWriteImm = 1u << 14;
inline constexpr uint32_t kFlushDwOpTimestamp = 3u << 14;
inline constexpr uint32_t kFlushDwStoreIndex = 1u << 21;
inline constexpr uint32_t kFlushDwNotify = 1u << 8;
inline constexpr uint32_t kFlushDwGgtt = 1u << 2;       // MI_FLUSH_DW dw1
inline constexpr uint32_t kPcOpMask = 3u << 14;         // PIPE_CONTROL dw1 post-sync op
inline constexpr uint32_t kPcOpWriteImm = 1u << 14;
inline constexpr uint32_t kPcOpTimestamp = 3u << 14;
inline constexpr uint32_t kPcNotify = 1u << 8;
inline constexpr uint32_t kPcCsStall = 1u << 20;
inline constexpr uint32_t kPcStoreIndex = 1u << 21;
inline constexpr uint32_t kPcLriPostSync = 1u << 23;
inline constexpr uint32_t kPcGgtt = 1u << 24;
inline constexpr uint32_t kSemPoll = 1u << 15;          // MI_SEMAPHORE_WAIT dw0
inline constexpr uint32_t kSemOpShift = 12;              // compare op, dw0 bits 14:12
enum class SemOp : uint32_t { Greater = 0, GreaterEq = 1, Less = 2, LessEq = 3, Equal = 4, NotEqual = 5 };
inline constexpr uint32_t kFlipPlaneShift = 19;         // MI_DISPLAY_FLIP dw0 bits 21:19
inline constexpr uint32_t kFlipAsync = 1u << 0;         // MI_DISPLAY_FLIP dw2 flip type
// MI_DISPLAY_FLIP's plane field and the pipe it names (A, B, C); -1: none.
constexpr uint32_t flip_plane(const uint32_t* d) { return (d[0] >> kFlipPlaneShift) & 7; }
constexpr int flip_pipe(uint32_t plane) { return plane == 0 ? 0 : plane == 1 ? 1 : plane == 4 ? 2 : -1; }
inline constexpr uint32_t kBltWriteRgba = 3u << 20;     // XY_* dw0
inline constexpr uint32_t kBltDstTiled = 1u << 11;
inline constexpr uint32_t kBltSrcTiled = 1u << 15;
inline constexpr uint32_t kBltDepth32 = 3u << 24;       // BR13 color depth
inline constexpr uint32_t kBltDepthMask = 3u << 24;
inline constexpr uint32_t kRopPatCopy = 0xF0u << 16;    // BR13 raster operation
inline constexpr uint32_t kRopSrcCopy = 0xCCu << 16;
inline constexpr uint32_t kRopMask = 0xFFu << 16;
inline constexpr uint32_t kMaxBltCoord = 0x7FFF;       // x and y are 16-bit; we use 15
inline constexpr uint32_t kMaxSurfaceDim = 16384;      // 3D surfaces: width and height

namespace detail {
inline constexpr uint32_t mi(uint32_t opcode) { return opcode << 23; }
inline constexpr uint32_t blt(uint32_t opcode) { return (2u << 29) | (opcode << 22); }
inline constexpr uint32_t gfx(uint32_t sub, uint32_t opc, uint32_t subopc) {
  return (3u << 29) | (sub << 27) | (opc << 24) | (subopc << 16);
}
inline constexpr LenRule fixed1{0, 1, 1, 1};
inline constexpr LenRule var(uint8_t bits, uint16_t mn, uint16_t mx, uint8_t step = 1) {
  return {bits, mn, mx, step};
}
inline constexpr AddrField no_addr{};
inline constexpr RegOperand no_regs{RegOps::None, 0, 0, 0};
inline constexpr uint32_t kAddrLo = 0xFFFFFFFCu;
// A 3D buffer or surface address: a qword in the batch's own space (so the
// PPGTT in an unprivileged batch), used when dw[cond_dw] & cond_mask (or always).
inline constexpr AddrField addr3d(const char* name, uint8_t dw, Extent e, uint32_t size,
                                  uint8_t cond_dw = 0, uint32_t cond_mask = 0) {
  return {name, dw, true, kAddrLo, Space::Batch, 0, 0, cond_dw, cond_mask, 0, 0, e, size};
}
inline constexpr uint32_t gfx3d(uint32_t opc, uint32_t subopc) { return gfx(3, opc, subopc); }
inline constexpr LenRule len3d(uint16_t n) { return var(8, n, n); }
}  // namespace detail

using detail::fixed1;
using detail::no_addr;
using detail::no_regs;

inline constexpr std::array<CmdDesc, kNumOps> kCmds = {{
    {Op::MI_NOOP, "MI_NOOP", detail::mi(0x00), kTypeMi, fixed1, kAllEngines, 0, 0, {}, no_regs},
    {Op::MI_USER_INTERRUPT, "MI_USER_INTERRUPT", detail::mi(0x02), kTypeMi, fixed1, kAllEngines, 0,
     0, {}, no_regs},
    {Op::MI_ARB_CHECK, "MI_ARB_CHECK", detail::mi(0x05), kTypeMi, fixed1, kAllEngines, 0, 0, {},
     no_regs},
    {Op::MI_BATCH_BUFFER_END, "MI_BATCH_BUFFER_END", detail::mi(0x0A), kTypeMi, fixed1,
     kAllEngines, kEndsBatch, 0, {}, no_regs},
    {Op::MI_DISPLAY_FLIP, "MI_DISPLAY_FLIP", detail::mi(0x14), kTypeMi, detail::var(8, 3, 3),
     kAllEngines, kPrivOnly, 1,
     {{"surface", 2, false, 0xFFFFF000u, Space::Ggtt, 0, 0, 0, 0, 0, 0, Extent::Fixed, 4096}},
     no_regs},
    {Op::MI_SEMAPHORE_WAIT, "MI_SEMAPHORE_WAIT", detail::mi(0x1C), kTypeMi, detail::var(8, 4, 4),
     kAllEngines, kNotInRing, 1,
     {{"semaphore", 2, true, detail::kAddrLo, Space::GttBit, 0, kGgttBit22, 0, 0, 0, 0,
        Extent::Fixed, 4}},
     no_regs},
    {Op::MI_STORE_DATA_IMM, "MI_STORE_DATA_IMM", detail::mi(0x20), kTypeMi,
     detail::var(10, 4, 5), kAllEngines, 0, 1,
     {{"address", 1, true, detail::kAddrLo, Space::GttBit, 0, kGgttBit22, 0, 0, 0, 0,
        Extent::DataLen, 4}},
     no_regs},
    {Op::MI_STORE_DATA_INDEX, "MI_STORE_DATA_INDEX", detail::mi(0x21), kTypeMi,
     detail::var(8, 3, 4), kAllEngines, kGuestRefused, 1,
     {{"index", 1, false, 0xFFCu, Space::Ggtt, 0, 0, 0, 0, 0, kAll, Extent::DataLen, 4}},
     no_regs},
    {Op::MI_LOAD_REGISTER_IMM, "MI_LOAD_REGISTER_IMM", detail::mi(0x22), kTypeMi,
     detail::var(8, 3, 255, 2), kAllEngines, 0, 0, {}, {RegOps::Pairs, 1, 0, 0}},
    {Op::MI_UPDATE_GTT, "MI_UPDATE_GTT", detail::mi(0x23), kTypeMi, detail::var(10, 4, 1023, 2),
     kAllEngines, kPrivOnly | kGuestRefused, 0, {}, no_regs},
    {Op::MI_STORE_REGISTER_MEM, "MI_STORE_REGISTER_MEM", detail::mi(0x24), kTypeMi,
     detail::var(8, 4, 4), kAllEngines, 0, 1,
     {{"address", 2, true, detail::kAddrLo, Space::GttBit, 0, kGgttBit22, 0, 0, 0, 0,
        Extent::Fixed, 4}},
     {RegOps::Single, 1, 0, 0}},
    {Op::MI_FLUSH_DW, "MI_FLUSH_DW", detail::mi(0x26), kTypeMi, detail::var(6, 4, 5), kBcs, 0, 1,
     {{"post_sync", 1, true, 0xFFFFFFF8u, Space::GttBit, 1, kFlushDwGgtt, 0, kFlushDwOpMask, 0,
        kFlushDwStoreIndex, Extent::DataLen, 4}},
     no_regs},
    {Op::MI_LOAD_REGISTER_MEM, "MI_LOAD_REGISTER_MEM", detail::mi(0x29), kTypeMi,
     detail::var(8, 4, 4), kAllEngines, 0, 1,
     {{"address", 2, true, detail::kAddrLo, Space::GttBit, 0, kGgttBit22, 0, 0, 0, 0,
        Extent::Fixed, 4}},
     {RegOps::Single, 1, 0, 0}},
    {Op::MI_BATCH_BUFFER_START, "MI_BATCH_BUFFER_START", detail::mi(0x31), kTypeMi,
     detail::var(8, 3, 3), kAllEngines, kStartsBatch, 1,
     {{"batch", 1, true, detail::kAddrLo, Space::PpgttBit, 0, kBbPpgtt, 0, 0, 0, 0, Extent::Fixed,
       4}},
     no_regs},
    {Op::PIPE_CONTROL, "PIPE_CONTROL", detail::gfx(3, 2, 0), kType3d, detail::var(8, 6, 6), kRcs,
     0, 1,
     {{"post_sync", 2, true, detail::kAddrLo, Space::GttBit, 1, kPcGgtt, 1, kPcOpMask, 1,
        kPcStoreIndex, Extent::Fixed, 8}},
     {RegOps::PostSync, 2, 1, kPcLriPostSync}},
    {Op::XY_COLOR_BLT, "XY_COLOR_BLT", detail::blt(0x50), kType2d, detail::var(8, 7, 7), kBcs, 0,
     1, {{"destination", 4, true, 0xFFFFFFFFu, Space::Batch, 0, 0, 0, 0, 0, 0, Extent::BltDst,
          0}},
     no_regs},
    {Op::XY_SRC_COPY_BLT, "XY_SRC_COPY_BLT", detail::blt(0x53), kType2d, detail::var(8, 10, 10),
     kBcs, 0, 2,
     {{"destination", 4, true, 0xFFFFFFFFu, Space::Batch, 0, 0, 0, 0, 0, 0, Extent::BltDst, 0},
       {"source", 8, true, 0xFFFFFFFFu, Space::Batch, 0, 0, 0, 0, 0, 0, Extent::BltSrc, 0}},
     no_regs},
    {Op::_3DSTATE_CLEAR_PARAMS, "3DSTATE_CLEAR_PARAMS", detail::gfx3d(0, 0x04), kType3d,
     detail::len3d(4), kRcs, 0, 0, {}, no_regs},
    {Op::_3DSTATE_DEPTH_BUFFER, "3DSTATE_DEPTH_BUFFER", detail::gfx3d(0, 0x05), kType3d,
     detail::len3d(6), kRcs, 0, 1, {detail::addr3d("depth", 1, Extent::Surface, 3)}, no_regs},
    {Op::_3DSTATE_VERTEX_BUFFERS, "3DSTATE_VERTEX_BUFFERS", detail::gfx3d(0, 0x08), kType3d,
     detail::len3d(5), kRcs, 0, 1, {detail::addr3d("vertices", 2, Extent::SizeDw, 4)}, no_regs},
    {Op::_3DSTATE_VERTEX_ELEMENTS, "3DSTATE_VERTEX_ELEMENTS", detail::gfx3d(0, 0x09), kType3d,
     detail::var(8, 2, 9), kRcs, 0, 0, {}, no_regs},
    {Op::_3DSTATE_INDEX_BUFFER, "3DSTATE_INDEX_BUFFER", detail::gfx3d(0, 0x0A), kType3d,
     detail::len3d(5), kRcs, 0, 1, {detail::addr3d("indices", 2, Extent::SizeDw, 4)}, no_regs},
    {Op::_3DSTATE_SCISSOR, "3DSTATE_SCISSOR", detail::gfx3d(0, 0x0F), kType3d, detail::len3d(3),
     kRcs, 0, 0, {}, no_regs},
    {Op::_3DSTATE_CONSTANT, "3DSTATE_CONSTANT", detail::gfx3d(0, 0x15), kType3d,
     detail::len3d(4), kRcs, 0, 1, {detail::addr3d("constants", 1, Extent::SizeDw, 3)}, no_regs},
    {Op::_3DSTATE_VIEWPORT, "3DSTATE_VIEWPORT", detail::gfx3d(0, 0x21), kType3d,
     detail::len3d(7), kRcs, 0, 0, {}, no_regs},
    {Op::_3DSTATE_TEXTURE, "3DSTATE_TEXTURE", detail::gfx3d(0, 0x2D), kType3d, detail::len3d(6),
     kRcs, 0, 1, {detail::addr3d("texture", 1, Extent::Surface, 3, 5, 1u << 31)}, no_regs},
    {Op::_3DSTATE_BLEND, "3DSTATE_BLEND", detail::gfx3d(0, 0x4D), kType3d, detail::len3d(2), kRcs,
     0, 0, {}, no_regs},
    {Op::_3DSTATE_DEPTH_STENCIL, "3DSTATE_DEPTH_STENCIL", detail::gfx3d(0, 0x4E), kType3d,
     detail::len3d(2), kRcs, 0, 0, {}, no_regs},
    {Op::_3DSTATE_RASTER, "3DSTATE_RASTER", detail::gfx3d(0, 0x50), kType3d, detail::len3d(2),
     kRcs, 0, 0, {}, no_regs},
    {Op::_3DSTATE_RENDER_TARGET, "3DSTATE_RENDER_TARGET", detail::gfx3d(0, 0x60), kType3d,
     detail::len3d(6), kRcs, 0, 1, {detail::addr3d("render_target", 1, Extent::Surface, 3)},
     no_regs},
    {Op::_3DPRIMITIVE, "3DPRIMITIVE", detail::gfx3d(3, 0x00), kType3d, detail::len3d(7), kRcs, 0,
     0, {}, no_regs},
}};

constexpr const CmdDesc& cmd(Op op) { return kCmds[static_cast<size_t>(op)]; }

constexpr bool cmds_valid() {
  for (size_t i = 0; i < kCmds.size(); ++i) {
    const auto& c = kCmds[i];
    if (static_cast<size_t>(c.op) != i) return false;
    if (c.len.field_bits == 0 && c.len.min != c.len.max) return false;
    if (c.len.field_bits && (c.header & ((1u << c.len.field_bits) - 1)) != 0) return false;
    if (c.len.min < 1 || c.len.max < c.len.min || c.len.step == 0) return false;
    for (uint8_t a = 0; a < c.n_addr; ++a)
      if (c.addr[a].dw + (c.addr[a].qword ? 1 : 0) >= c.len.min) return false;
  }
  return true;
}
static_assert(cmds_valid(), "command table: inconsistent entry");

// Mask of dw0 bits that identify the command of a given type.
constexpr uint32_t opcode_mask(uint8_t type) {
  switch (type) {
    case kTypeMi: return 0xFF800000u;
    case kType2d: return 0xFFC00000u;
    default: return 0xFFFF0000u;
  }
}

// The table entry for a header dword, or nullptr: the unknown path.
constexpr const CmdDesc* decode(uint32_t dw0) {
  uint8_t type = static_cast<uint8_t>(dw0 >> 29);
  uint32_t key = dw0 & opcode_mask(type);
  for (const auto& c : kCmds)
    if (c.type == type && c.header == key) return &c;
  return nullptr;
}
static_assert(decode(0x18800101u) == &cmd(Op::MI_BATCH_BUFFER_START));
static_assert(decode(0x7A000004u) == &cmd(Op::PIPE_CONTROL));
static_assert(decode(0x7B000005u) == &cmd(Op::_3DPRIMITIVE));
static_assert(decode(0x0C000000u) == nullptr);  // MI_SET_CONTEXT-era opcode 0x18: unknown

// Length of a command from its header, or 0 when the length is malformed.
constexpr uint32_t cmd_length(const CmdDesc& c, uint32_t dw0) {
  if (c.len.field_bits == 0) return c.len.min;
  uint32_t len = (dw0 & ((1u << c.len.field_bits) - 1)) + 2;
  if (len < c.len.min || len > c.len.max || (len - c.len.min) % c.len.step) return 0;
  return len;
}

// What an address field of a decoded command touches.
struct Access {
  bool used;        // the field takes part in this instance of the command
  bool ggtt;        // GGTT, else PPGTT
  bool index_mode;  // addr is an offset into the context's PPHWSP
  bool ok;          // arithmetic did not overflow and coordinates are sane
  uint64_t addr;
  uint64_t size;    // bytes; 0 for an empty blit
};

constexpr uint64_t field_address(const AddrField& f, const uint32_t* d) {
  uint64_t a = d[f.dw] & f.lo_mask;
  if (f.qword) a |= static_cast<uint64_t>(d[f.dw + 1] & 0xFFFFu) << 32;
  return a;
}

constexpr Access field_access(const CmdDesc& c, const AddrField& f, const uint32_t* d,
                              uint32_t len, bool privileged) {
  Access r{true, false, false, true, field_address(f, d), 0};
  if (f.cond_mask && (d[f.cond_dw] & f.cond_mask) == 0) {
    r.used = false;
    return r;
  }
  switch (f.space) {
    case Space::Batch: r.ggtt = privileged; break;
    case Space::Ggtt: r.ggtt = true; break;
    case Space::GttBit: r.ggtt = (d[f.sel_dw] & f.sel_mask) != 0; break;
    case Space::PpgttBit: r.ggtt = (d[f.sel_dw] & f.sel_mask) == 0; break;
  }
  if (f.index_mask && (f.index_mask == kAll || (d[f.index_dw] & f.index_mask))) {
    r.index_mode = true;
    r.ggtt = true;
  }
  switch (f.extent) {
    case Extent::Fixed: r.size = f.size; break;
    case Extent::DataLen: r.size = f.size + 4ull * (len - c.len.min); break;
    case Extent::BltDst:
    case Extent::BltSrc: {
      uint32_t x1 = d[2] & 0xFFFF, y1 = d[2] >> 16, x2 = d[3] & 0xFFFF, y2 = d[3] >> 16;
      if (x1 > kMaxBltCoord || x2 > kMaxBltCoord || y1 > kMaxBltCoord || y2 > kMaxBltCoord) {
        r.ok = false;
        return r;
      }
      if (x2 <= x1 || y2 <= y1) return r;  // empty: touches nothing
      uint64_t w = x2 - x1, h = y2 - y1, pitch, x, y;
      if (f.extent == Extent::BltDst) {
        pitch = d[1] & 0xFFFF;
        x = x1;
        y = y1;
      } else {
        pitch = d[7] & 0xFFFF;
        x = d[6] & 0xFFFF;
        y = d[6] >> 16;
        if (x > kMaxBltCoord || y > kMaxBltCoord) {
          r.ok = false;
          return r;
        }
      }
      if (pitch < w * 4 && h > 1) {
        r.ok = false;  // overlapping rows
        return r;
      }
      r.addr += y * pitch + x * 4;
      r.size = (h - 1) * pitch + w * 4;
      break;
    }
    case Extent::SizeDw: r.size = d[f.size]; break;
    case Extent::Surface: {
      const uint64_t pitch = d[f.size], w = d[f.size + 1] & 0xFFFF, h = d[f.size + 1] >> 16;
      if (!w || !h || w > kMaxSurfaceDim || h > kMaxSurfaceDim || pitch % 4 || pitch < w * 4) {
        r.ok = false;
        return r;
      }
      r.size = (h - 1) * pitch + w * 4;
      break;
    }
  }
  return r;
}

// Register operand `i` (0-based) of a decoded command, or -1 past the end.
constexpr int64_t reg_operand(const CmdDesc& c, const uint32_t* d, uint32_t len, uint32_t i) {
  switch (c.regs.kind) {
    case RegOps::None: return -1;
    case RegOps::Single: return i == 0 ? int64_t{d[c.regs.dw] & kRegOffsetMask} : -1;
    case RegOps::Pairs: {
      uint32_t dw = c.regs.dw + 2 * i;
      return dw + 1 < len ? static_cast<int64_t>(d[dw] & kRegOffsetMask) : -1;
    }
    case RegOps::PostSync:
      return i == 0 && (d[c.regs.cond_dw] & c.regs.cond_mask)
                 ? int64_t{d[c.regs.dw] & kRegOffsetMask}
                 : -1;
  }
  return -1;
}

}  // namespace gen8
