#include "hw/render_state.h"

#include <cstring>

#include "common/fmath.h"

namespace hw {

using gen8::Fault;
using gen8::Op;
namespace r3d = gen8::r3d;
namespace slot = gen8::r3d::slot;
namespace flag = gen8::r3d::flag;

namespace {

// Where each fixed-length state command keeps its payload (dw1 onward).
struct Slot {
  Op op;
  uint32_t at, flag;
};
constexpr Slot kSlots[] = {
    {Op::_3DSTATE_RENDER_TARGET, slot::RENDER_TARGET, flag::RENDER_TARGET},
    {Op::_3DSTATE_DEPTH_BUFFER, slot::DEPTH_BUFFER, flag::DEPTH_BUFFER},
    {Op::_3DSTATE_VIEWPORT, slot::VIEWPORT, flag::VIEWPORT},
    {Op::_3DSTATE_SCISSOR, slot::SCISSOR, flag::SCISSOR},
    {Op::_3DSTATE_CONSTANT, slot::CONSTANT, flag::CONSTANT},
    {Op::_3DSTATE_INDEX_BUFFER, slot::INDEX_BUFFER, flag::INDEX_BUFFER},
    {Op::_3DSTATE_TEXTURE, slot::TEXTURE, flag::TEXTURE},
    {Op::_3DSTATE_DEPTH_STENCIL, slot::DEPTH_STENCIL, 0},
    {Op::_3DSTATE_RASTER, slot::RASTER, 0},
    {Op::_3DSTATE_BLEND, slot::BLEND, 0},
};
constexpr uint32_t kAddressFlags = flag::RENDER_TARGET | flag::DEPTH_BUFFER | flag::CONSTANT |
                                   flag::INDEX_BUFFER | flag::TEXTURE | 0xF00;

constexpr uint64_t qword(const uint32_t* p) { return uint64_t{p[1]} << 32 | p[0]; }

}  // namespace

bool valid_element(uint32_t e) {
  using r3d::Semantic;
  using r3d::VeFormat;
  const VeFormat f = r3d::ve_format(e);
  if (r3d::ve_offset(e) % 4) return false;
  switch (r3d::ve_semantic(e)) {
    case Semantic::Position: return f >= VeFormat::Float2 && f <= VeFormat::Float4;
    case Semantic::Normal: return f == VeFormat::Float3;
    case Semantic::Color: return f == VeFormat::Float3 || f == VeFormat::Float4 || f == VeFormat::Unorm8x4;
    case Semantic::TexCoord: return f == VeFormat::Float2;
  }
  return false;
}

bool valid_surface(const Surface& s, uint32_t format) {
  return s.format == format && s.width && s.height && s.width <= gen8::kMaxSurfaceDim &&
         s.height <= gen8::kMaxSurfaceDim && s.pitch % 4 == 0 && s.pitch >= s.width * 4;
}

namespace {

bool viewport_ok(const uint32_t* d) {
  float v[6];
  std::memcpy(v, d, sizeof v);
  for (float f : v)
    if (!(fm::abs(f) <= 65536.0f)) return false;  // NaN fails too
  return v[2] > 0 && v[3] > 0 && v[4] >= 0 && v[5] <= 1 && v[4] <= v[5];
}

// Payload checks beyond what the command table says.
bool payload_ok(Op op, const uint32_t* d, uint32_t len) {
  switch (op) {
    case Op::_3DSTATE_RENDER_TARGET: return d[5] == r3d::kFmtBgra8;
    case Op::_3DSTATE_DEPTH_BUFFER: return d[5] == r3d::kFmtD32F;
    case Op::_3DSTATE_TEXTURE:
      return !(d[5] & r3d::kTexEnable) || (d[5] & 0xF) == r3d::kFmtBgra8;
    case Op::_3DSTATE_VERTEX_BUFFERS:
      return (d[1] >> r3d::kVbIndexShift) < r3d::kNumVertexBuffers && (d[1] & r3d::kVbPitchMask) % 4 == 0;
    case Op::_3DSTATE_VERTEX_ELEMENTS:
      for (uint32_t i = 1; i < len; ++i)
        if (!valid_element(d[i])) return false;
      return true;
    case Op::_3DSTATE_INDEX_BUFFER: return d[1] == r3d::kIndex16 || d[1] == r3d::kIndex32;
    case Op::_3DSTATE_VIEWPORT: return viewport_ok(d + 1);
    case Op::_3DSTATE_SCISSOR:
      return (d[1] & 0xFFFF) <= (d[2] & 0xFFFF) && (d[1] >> 16) <= (d[2] >> 16);
    case Op::_3DSTATE_RASTER: return (d[1] & r3d::kCullMask) <= static_cast<uint32_t>(r3d::Cull::Front);
    case Op::_3DSTATE_BLEND: return d[1] <= static_cast<uint32_t>(r3d::Blend::Additive);
    default: return true;
  }
}

}  // namespace

bool is_state_command(Op op) {
  if (op == Op::_3DSTATE_VERTEX_BUFFERS || op == Op::_3DSTATE_VERTEX_ELEMENTS) return true;
  for (const Slot& s : kSlots)
    if (s.op == op) return true;
  return false;
}

Fault apply_state(RenderState& s, const gen8::CmdDesc& c, const uint32_t* d, uint32_t len,
                  bool priv) {
  if (!payload_ok(c.op, d, len)) return Fault::BadState;
  uint32_t at = 0, set = 0;
  if (c.op == Op::_3DSTATE_VERTEX_ELEMENTS) {
    s.w[slot::VERTEX_ELEMENTS] = len - 1;
    std::memcpy(&s.w[slot::VERTEX_ELEMENTS + 1], d + 1, 4 * (len - 1));
    return Fault::None;
  }
  if (c.op == Op::_3DSTATE_VERTEX_BUFFERS) {
    const uint32_t i = d[1] >> r3d::kVbIndexShift;
    at = slot::VERTEX_BUFFERS + 4 * i;
    set = flag::VERTEX_BUFFER0 << i;
  } else {
    for (const Slot& sl : kSlots)
      if (sl.op == c.op) at = sl.at, set = sl.flag;
  }
  std::memcpy(&s.w[at], d + 1, 4 * (len - 1));
  s.w[slot::FLAGS] |= set;
  if (set & kAddressFlags) {
    // The address is in the space of the buffer that named it.
    s.w[slot::GGTT] = priv ? s.w[slot::GGTT] | set : s.w[slot::GGTT] & ~set;
  }
  return Fault::None;
}

Surface RenderState::surface(uint32_t at, uint32_t f) const {
  Surface s;
  if (!has(f)) return s;
  s.pitch = w[at + 2];
  s.width = w[at + 3] & 0xFFFF;
  s.height = w[at + 3] >> 16;
  s.format = w[at + 4] & 0xF;
  s.mem = {qword(&w[at]) & ~3ull & ((1ull << 48) - 1), uint64_t{s.height - 1} * s.pitch + s.width * 4ull,
           (w[slot::GGTT] & f) != 0};
  return s;
}

Binding RenderState::binding(uint32_t at, uint32_t f, uint32_t size_dw) const {
  if (!has(f)) return {};
  return {qword(&w[at]) & ~3ull & ((1ull << 48) - 1), w[at + size_dw], (w[slot::GGTT] & f) != 0};
}

Binding RenderState::vertex_buffer(uint32_t i, uint32_t* pitch) const {
  const uint32_t at = slot::VERTEX_BUFFERS + 4 * i;
  *pitch = w[at] & r3d::kVbPitchMask;
  return binding(at + 1, flag::VERTEX_BUFFER0 << i, 2);
}

Binding RenderState::index_buffer(uint32_t* format) const {
  *format = w[slot::INDEX_BUFFER];
  return binding(slot::INDEX_BUFFER + 1, flag::INDEX_BUFFER, 2);
}

Binding RenderState::constants() const { return binding(slot::CONSTANT, flag::CONSTANT, 2); }

float RenderState::viewport(uint32_t i) const {
  float f;
  std::memcpy(&f, &w[slot::VIEWPORT + i], 4);
  return f;
}

void RenderState::scissor(uint32_t* x1, uint32_t* y1, uint32_t* x2, uint32_t* y2) const {
  if (!has(flag::SCISSOR)) {
    *x1 = *y1 = 0;
    *x2 = *y2 = gen8::kMaxSurfaceDim;
    return;
  }
  *x1 = w[slot::SCISSOR] & 0xFFFF;
  *y1 = w[slot::SCISSOR] >> 16;
  *x2 = w[slot::SCISSOR + 1] & 0xFFFF;
  *y2 = w[slot::SCISSOR + 1] >> 16;
}

RenderState load_render_state(const uint32_t* page, bool restore_inhibit) {
  RenderState s;
  if (!restore_inhibit) std::memcpy(s.w, page, sizeof s.w);
  // A saved image is data the CPU can write: keep the counts in range.
  if (s.w[slot::VERTEX_ELEMENTS] > r3d::kMaxVertexElements) s.w[slot::VERTEX_ELEMENTS] = 0;
  return s;
}

void save_render_state(const RenderState& s, uint32_t* page) { std::memcpy(page, s.w, sizeof s.w); }

}  // namespace hw
