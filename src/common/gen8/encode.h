// Command encoders built from the command table: every header is the table's
// header with the length field filled in. Used by the driver, the tests and
// the model's self-check. Freestanding.
#pragma once

#include <cstdint>

#include "common/gen8/cmds.h"

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

  constexpr uint32_t size() const { return n_; }
  constexpr uint32_t bytes() const { return n_ * 4; }
  constexpr bool overflow() const { return overflow_; }
  constexpr uint32_t* data() const { return buf_; }

 private:
  uint32_t* buf_;
  uint32_t cap_;
  uint32_t n_ = 0;
  bool overflow_ = false;
};

}  // namespace gen8
