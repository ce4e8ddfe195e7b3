// The PV info page ("vgt_if") at MMIO 0x78000, in upstream GVT-g's layout
// (i915_pvinfo.h). The mediator emulates it for each vGPU; the bare hardware
// has none. The driver's pv.cpp reads it to balloon its GM. Freestanding.
#pragma once

#include <cstdint>

namespace gen8::pvinfo {

inline constexpr uint32_t kBase = 0x78000;
inline constexpr uint32_t kSize = 0x1000;
inline constexpr uint64_t kMagic = 0x4776544776544776ull;  // "vGTvGTvG"
inline constexpr uint16_t kVersionMajor = 1, kVersionMinor = 0;

// Absolute MMIO offsets of the fields.
inline constexpr uint32_t MAGIC = kBase + 0x00;          // u64
inline constexpr uint32_t VERSION_MAJOR = kBase + 0x08;  // u16
inline constexpr uint32_t VERSION_MINOR = kBase + 0x0A;  // u16
inline constexpr uint32_t VGT_ID = kBase + 0x0C;
inline constexpr uint32_t VGT_CAPS = kBase + 0x10;
inline constexpr uint32_t MAPPABLE_BASE = kBase + 0x40;    // avail_rs.mappable_gmadr.base
inline constexpr uint32_t MAPPABLE_SIZE = kBase + 0x44;
inline constexpr uint32_t NONMAPPABLE_BASE = kBase + 0x48;
inline constexpr uint32_t NONMAPPABLE_SIZE = kBase + 0x4C;
inline constexpr uint32_t FENCE_NUM = kBase + 0x50;
inline constexpr uint32_t DISPLAY_READY = kBase + 0x804;
inline constexpr uint32_t G2V_NOTIFY = kBase + 0x818;
inline constexpr uint32_t CURSOR_X_HOT = kBase + 0x830;
inline constexpr uint32_t CURSOR_Y_HOT = kBase + 0x834;
// pdp[4] {lo, hi}: the root(s) a g2v PPGTT notification names; for a
// 4-level PPGTT pdp[0] is the PML4's address. The guest writes them, then
// g2v_notify.
inline constexpr uint32_t PDP0_LO = kBase + 0x838;
inline constexpr uint32_t PDP0_HI = kBase + 0x83C;
inline constexpr uint32_t pdp_lo(int i) { return PDP0_LO + 8 * i; }
inline constexpr uint32_t pdp_hi(int i) { return PDP0_HI + 8 * i; }
inline constexpr uint32_t EXECLIST_CTX_DESC_LO = kBase + 0x858;

// vgt_caps bits.
inline constexpr uint32_t kCapFullPpgtt = 1u << 2;
inline constexpr uint32_t kCapHwspEmulation = 1u << 3;
inline constexpr uint32_t kCapHugeGtt = 1u << 4;

// g2v_notify values (upstream VGT_G2V_*): kG2vPpgttL4Create and Destroy are
// VGT_G2V_PPGTT_L4_PAGE_TABLE_CREATE and _DESTROY. A guest sends them when
// vgt_caps has kCapFullPpgtt.
enum G2v : uint32_t {
  kG2vPpgttL3Create = 2,
  kG2vPpgttL3Destroy = 3,
  kG2vPpgttL4Create = 4,
  kG2vPpgttL4Destroy = 5,
  kG2vExeclistCtxCreate = 6,
  kG2vExeclistCtxDestroy = 7,
};

}  // namespace gen8::pvinfo
