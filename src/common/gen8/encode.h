// Command encoders built from the command table: every header is the table's
// header with the length field filled in. Used by the driver, the tests and
// the model's self-check. Freestanding.
#pragma once

#include <cstdint>

#include "common/gen8/cmds.h"
#include "common/gen8/render3d.h"

namespace gen8 {

constexpr uint32_t header(Op op, uint32_t len) {
  const CmdDesc& c = cmd(op);
  return c.header | (c.len.field_bits ? (len - 2) : 0);
}

// Appends dwords to a caller-owned buffer; overflow is sticky and checked once.
class CmdWriter {
 public:
  constexpr CmdWriter(uint32_t* buf, uint32_t capacity_dwords) : buf_(buf), cap_(capacity_dwords) {}

  constexpr void dw(uint32_t v) {
    if (n_ < cap_)
      buf_[n_++] = v;
    else
      overflow_ = true;
  }
  constexpr void addr64(uint64_t a) {
    dw(static_cast<uint32_t>(a));
    dw(static_cast<uint32_t>(a >> 32));
  }

  constexpr void noop() { dw(header(Op::MI_NOOP, 1)); }
  constexpr void user_interrupt() { dw(header(Op::MI_USER_INTERRUPT, 1)); }
  constexpr void arb_check() { dw(header(Op::MI_ARB_CHECK, 1)); }
  constexpr void bb_end() { dw(header(Op::MI_BATCH_BUFFER_END, 1)); }
  constexpr void bb_start(uint64_t addr, bool ppgtt, bool second_level = false) {
    dw(header(Op::MI_BATCH_BUFFER_START, 3) | (ppgtt ? kBbPpgtt : 0) |
       (second_level ? kBbSecondLevel : 0));
    addr64(addr);
  }
  constexpr void store_dword(uint64_t addr, uint32_t v, bool ggtt) {
    dw(header(Op::MI_STORE_DATA_IMM, 4) | (ggtt ? kGgttBit22 : 0));
    addr64(addr);
    dw(v);
  }
  constexpr void store_qword(uint64_t addr, uint64_t v, bool ggtt) {
    dw(header(Op::MI_STORE_DATA_IMM, 5) | (ggtt ? kGgttBit22 : 0));
    addr64(addr);
    addr64(v);
  }
  constexpr void store_data_index(uint32_t byte_offset, uint32_t v) {
    dw(header(Op::MI_STORE_DATA_INDEX, 3));
    dw(byte_offset);
    dw(v);
  }
  constexpr void lri(uint32_t reg, uint32_t v) {
    dw(header(Op::MI_LOAD_REGISTER_IMM, 3));
    dw(reg);
    dw(v);
  }
  constexpr void srm(uint32_t reg, uint64_t addr, bool ggtt) {
    dw(header(Op::MI_STORE_REGISTER_MEM, 4) | (ggtt ? kGgttBit22 : 0));
    dw(reg);
    addr64(addr);
  }
  constexpr void lrm(uint32_t reg, uint64_t addr, bool ggtt) {
    dw(header(Op::MI_LOAD_REGISTER_MEM, 4) | (ggtt ? kGgttBit22 : 0));
    dw(reg);
    addr64(addr);
  }
  // Writes `v` at `addr` after prior blits complete (BCS).
  constexpr void flush_dw(uint64_t addr, uint32_t v, bool ggtt, bool notify) {
    dw(header(Op::MI_FLUSH_DW, 4) | kFlushDwOpWriteImm | (notify ? kFlushDwNotify : 0));
    addr64(addr | (ggtt ? kFlushDwGgtt : 0));
    dw(v);
  }
  // Writes the qword `v` at `addr` after prior rendering completes (RCS).
  constexpr void pipe_control(uint64_t addr, uint64_t v, bool ggtt, bool notify) {
    dw(header(Op::PIPE_CONTROL, 6));
    dw(kPcCsStall | kPcOpWriteImm | (ggtt ? kPcGgtt : 0) | (notify ? kPcNotify : 0));
    addr64(addr);
    addr64(v);
  }
  constexpr void semaphore_wait(uint64_t addr, uint32_t v, SemOp op, bool ggtt) {
    dw(header(Op::MI_SEMAPHORE_WAIT, 4) | kSemPoll | (static_cast<uint32_t>(op) << kSemOpShift) |
       (ggtt ? kGgttBit22 : 0));
    dw(v);
    addr64(addr);
  }
  constexpr void display_flip(uint32_t plane, uint32_t stride, uint32_t surface, bool async) {
    dw(header(Op::MI_DISPLAY_FLIP, 3) | (plane << kFlipPlaneShift));
    dw(stride);
    dw(surface | (async ? kFlipAsync : 0));
  }
  // One GGTT entry at entry index `index`.
  constexpr void update_gtt(uint32_t index, uint64_t pte) {
    dw(header(Op::MI_UPDATE_GTT, 4));
    dw(index * 8);
    addr64(pte);
  }
  constexpr void color_blt(uint64_t dst, uint32_t pitch, uint32_t x1, uint32_t y1, uint32_t x2,
                           uint32_t y2, uint32_t color) {
    dw(header(Op::XY_COLOR_BLT, 7) | kBltWriteRgba);
    dw(kBltDepth32 | kRopPatCopy | (pitch & 0xFFFF));
    dw((y1 << 16) | x1);
    dw((y2 << 16) | x2);
    addr64(dst);
    dw(color);
  }
  constexpr void src_copy_blt(uint64_t dst, uint32_t dst_pitch, uint32_t x1, uint32_t y1,
                              uint32_t x2, uint32_t y2, uint64_t src, uint32_t src_pitch,
                              uint32_t sx, uint32_t sy) {
    dw(header(Op::XY_SRC_COPY_BLT, 10) | kBltWriteRgba);
    dw(kBltDepth32 | kRopSrcCopy | (dst_pitch & 0xFFFF));
    dw((y1 << 16) | x1);
    dw((y2 << 16) | x2);
    addr64(dst);
    dw((sy << 16) | sx);
    dw(src_pitch & 0xFFFF);
    addr64(src);
  }

  // ---- the render engine's 3D pipeline (RCS; common/gen8/render3d.h) ----
  // A B8G8R8A8 render target, D32F depth buffer or B8G8R8A8 texture.
  constexpr void render_target(uint64_t addr, uint32_t pitch, uint32_t w, uint32_t h) {
    surface(Op::_3DSTATE_RENDER_TARGET, addr, pitch, w, h, r3d::kFmtBgra8);
  }
  constexpr void depth_buffer(uint64_t addr, uint32_t pitch, uint32_t w, uint32_t h) {
    surface(Op::_3DSTATE_DEPTH_BUFFER, addr, pitch, w, h, r3d::kFmtD32F);
  }
  // `flags`: r3d::kTexBilinear, r3d::kTexClamp.
  constexpr void texture(uint64_t addr, uint32_t pitch, uint32_t w, uint32_t h, uint32_t flags) {
    surface(Op::_3DSTATE_TEXTURE, addr, pitch, w, h, r3d::kTexEnable | flags | r3d::kFmtBgra8);
  }
  constexpr void texture_off() { surface(Op::_3DSTATE_TEXTURE, 0, 4, 1, 1, r3d::kFmtBgra8); }
  // Clears the render target and/or the depth buffer inside the scissor.
  constexpr void clear(uint32_t flags, uint32_t color, float depth) {
    dw(header(Op::_3DSTATE_CLEAR_PARAMS, 4));
    dw(flags);
    dw(color);
    dw(__builtin_bit_cast(uint32_t, depth));
  }
  constexpr void viewport(float x, float y, float w, float h, float min_z, float max_z) {
    dw(header(Op::_3DSTATE_VIEWPORT, 7));
    for (float f : {x, y, w, h, min_z, max_z}) dw(__builtin_bit_cast(uint32_t, f));
  }
  // Pixels [x1, x2) x [y1, y2).
  constexpr void scissor(uint32_t x1, uint32_t y1, uint32_t x2, uint32_t y2) {
    dw(header(Op::_3DSTATE_SCISSOR, 3));
    dw(y1 << 16 | x1);
    dw(y2 << 16 | x2);
  }
  constexpr void vertex_buffer(uint32_t index, uint64_t addr, uint32_t pitch, uint32_t bytes) {
    dw(header(Op::_3DSTATE_VERTEX_BUFFERS, 5));
    dw(index << r3d::kVbIndexShift | (pitch & r3d::kVbPitchMask));
    addr64(addr);
    dw(bytes);
  }
  // `elems`: r3d::vertex_element() values.
  constexpr void vertex_elements(const uint32_t* elems, uint32_t n) {
    dw(header(Op::_3DSTATE_VERTEX_ELEMENTS, n + 1));
    for (uint32_t i = 0; i < n; ++i) dw(elems[i]);
  }
  // `format`: r3d::kIndex16 or r3d::kIndex32.
  constexpr void index_buffer(uint64_t addr, uint32_t bytes, uint32_t format) {
    dw(header(Op::_3DSTATE_INDEX_BUFFER, 5));
    dw(format);
    addr64(addr);
    dw(bytes);
  }
  constexpr void constants(uint64_t addr, uint32_t bytes) {
    dw(header(Op::_3DSTATE_CONSTANT, 4));
    addr64(addr);
    dw(bytes);
  }
  constexpr void depth_stencil(bool test, bool write, r3d::DepthFunc f) {
    state1(Op::_3DSTATE_DEPTH_STENCIL, (test ? r3d::kDepthTest : 0) | (write ? r3d::kDepthWrite : 0) |
                                           static_cast<uint32_t>(f) << r3d::kDepthFuncShift);
  }
  // `flags`: r3d::kFrontCw, r3d::kFlatShading, r3d::kLighting.
  constexpr void raster(r3d::Cull cull, uint32_t flags) {
    state1(Op::_3DSTATE_RASTER, static_cast<uint32_t>(cull) | flags);
  }
  constexpr void blend(r3d::Blend b) { state1(Op::_3DSTATE_BLEND, static_cast<uint32_t>(b)); }
  constexpr void primitive(uint32_t topology, uint32_t count, uint32_t start, bool indexed = false,
                           int32_t base_vertex = 0) {
    dw(header(Op::_3DPRIMITIVE, 7));
    dw(topology | (indexed ? r3d::kPrimIndexed : 0));
    dw(count);
    dw(start);
    dw(1);  // instance count
    dw(0);  // start instance
    dw(static_cast<uint32_t>(base_vertex));
  }

  constexpr uint32_t size() const { return n_; }
  constexpr uint32_t bytes() const { return n_ * 4; }
  constexpr bool overflow() const { return overflow_; }
  constexpr uint32_t* data() const { return buf_; }

 private:
  constexpr void surface(Op op, uint64_t addr, uint32_t pitch, uint32_t w, uint32_t h, uint32_t dw5) {
    dw(header(op, 6));
    addr64(addr);
    dw(pitch);
    dw(h << 16 | w);
    dw(dw5);
  }
  constexpr void state1(Op op, uint32_t v) {
    dw(header(op, 2));
    dw(v);
  }

  uint32_t* buf_;
  uint32_t cap_;
  uint32_t n_ = 0;
  bool overflow_ = false;
};

}  // namespace gen8
