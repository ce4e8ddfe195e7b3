// Memory and bit-field formats of the Gen8-class GPU: BARs, GTT entries,
// context descriptors, the value-only logical context image, the HWSP, the
// context status buffer, interrupt and display bits, PCI config space.
// Intel Gen8 encodings wherever our subset exists (docs/hw-spec.md).
#pragma once

#include <cstdint>

#include "common/gen8/regs.h"

namespace gen8 {

inline constexpr uint64_t kPageSize = 4096;
inline constexpr uint64_t kBar0Size = 16ull << 20;
inline constexpr uint64_t kGgttOffset = 8ull << 20;  // GGTT entries inside BAR0
inline constexpr uint64_t kGgttEntries = 1ull << 20;
inline constexpr uint64_t kGmSize = kGgttEntries * kPageSize;  // 4 GiB graphics memory
inline constexpr uint64_t kApertureSize = 512ull << 20;        // BAR2, the low GM
inline constexpr uint64_t kPpgttSize = 1ull << 48;

// GTT entries (GGTT and PPGTT alike).
inline constexpr uint64_t kPtePresent = 1ull << 0;
inline constexpr uint64_t kPteRw = 1ull << 1;
inline constexpr uint64_t kPtePs = 1ull << 7;  // large page in a PDE/PDPE: unsupported, faults
inline constexpr uint64_t kPteAddrMask = 0x0000FFFFFFFFF000ull;

// Context descriptor (ELSP element), low dword.
inline constexpr uint32_t kDescValid = 1u << 0;
inline constexpr uint32_t kDescForcePdRestore = 1u << 1;
inline constexpr uint32_t kDescForceRestore = 1u << 2;
inline constexpr uint32_t kDescAddrModeShift = 3;
inline constexpr uint32_t kDescAddrModeLegacy64 = 3u << kDescAddrModeShift;  // 4-level PPGTT
inline constexpr uint32_t kDescAddrModeMask = 3u << kDescAddrModeShift;
inline constexpr uint32_t kDescPrivilege = 1u << 8;  // "PPGTT enable": required
inline constexpr uint32_t kDescLrcaMask = 0xFFFFF000u;

// Logical ring context. Page 0 is the per-process HWSP, page 1 the register
// state, further pages engine state. The image holds values only: index i
// holds the value of the register whose LRI offset Gen8 keeps at i - 1.
inline constexpr uint32_t kCtxPpHwspPage = 0;
inline constexpr uint32_t kCtxRegStatePage = 1;
inline constexpr uint32_t kCtxRcsPages = 8;  // pages 2..7: render-engine (3D) state
inline constexpr uint32_t kCtxBcsPages = 2;
namespace ctx {
inline constexpr uint32_t CONTEXT_CONTROL = 0x03;
inline constexpr uint32_t RING_HEAD = 0x05;
inline constexpr uint32_t RING_TAIL = 0x07;
inline constexpr uint32_t RING_START = 0x09;
inline constexpr uint32_t RING_CTL = 0x0B;
inline constexpr uint32_t BB_ADDR_UDW = 0x0D;
inline constexpr uint32_t BB_ADDR = 0x0F;
inline constexpr uint32_t CTX_TIMESTAMP = 0x23;
inline constexpr uint32_t PDP3_UDW = 0x25;
inline constexpr uint32_t PDP3_LDW = 0x27;
inline constexpr uint32_t PDP2_UDW = 0x29;
inline constexpr uint32_t PDP2_LDW = 0x2B;
inline constexpr uint32_t PDP1_UDW = 0x2D;
inline constexpr uint32_t PDP1_LDW = 0x2F;
inline constexpr uint32_t PDP0_UDW = 0x31;  // PML4 in 4-level mode
inline constexpr uint32_t PDP0_LDW = 0x33;
inline constexpr uint32_t SECOND_STAGE = 0x40;  // second-stage domain id, 0 = none (deviation)
inline constexpr uint32_t INSTPM = 0x60;
inline constexpr uint32_t GPR0 = 0x80;  // 16 x (lo, hi)
}  // namespace ctx
inline constexpr uint32_t kCtxCtrlRestoreInhibit = 1u << 0;
// RING_CTL: bit 0 enable, bits 20:12 = pages - 1.
inline constexpr uint32_t kRingCtlEnable = 1u << 0;
inline constexpr uint32_t kRingCtlSizeMask = 0x1FF000u;
inline constexpr uint32_t ring_ctl(uint32_t bytes) { return ((bytes - 4096) & kRingCtlSizeMask) | 1; }
inline constexpr uint32_t ring_size(uint32_t ctl) { return (ctl & kRingCtlSizeMask) + 4096; }
inline constexpr uint32_t kRingHeadMask = 0x001FFFFCu;
inline constexpr uint32_t kRingTailMask = 0x001FFFF8u;

// Global HWSP (RING_HWS_PGA) dword indices.
inline constexpr uint32_t kHwspCsb0 = 0x10;       // 6 x (status, context id)
inline constexpr uint32_t kHwspCsbWritePtr = 0x1F;

// Context status buffer entry, low dword.
inline constexpr uint32_t kCsbIdleToActive = 1u << 0;
inline constexpr uint32_t kCsbPreempted = 1u << 1;
inline constexpr uint32_t kCsbElementSwitch = 1u << 2;
inline constexpr uint32_t kCsbActiveToIdle = 1u << 3;
inline constexpr uint32_t kCsbComplete = 1u << 4;
inline constexpr uint32_t kCsbLiteRestore = 1u << 15;
inline constexpr uint32_t kCsbPtrEmpty = 7;  // write pointer after reset: nothing written
inline constexpr uint32_t kCsbReadPtrMask = 0x0700;  // RING_CONTEXT_STATUS_PTR: the driver's read pointer
inline constexpr uint32_t csb_next(uint32_t wp) {
  return wp >= kCsbEntries ? 0 : (wp + 1) % kCsbEntries;
}

// RING_EXECLIST_STATUS, low dword.
inline constexpr uint32_t kElStatCurrentPtr = 1u << 0;
inline constexpr uint32_t kElStatQueueFull = 1u << 2;
inline constexpr uint32_t kElStatEl1Valid = 1u << 3;
inline constexpr uint32_t kElStatEl0Valid = 1u << 4;
inline constexpr uint32_t kElStatEl0Active = 1u << 14;
inline constexpr uint32_t kElStatEl1Active = 1u << 15;

// GT interrupt bits per engine (RCS at shift 0, BCS at 16 of GT IIR 0).
inline constexpr uint32_t kGtUser = 1u << 0;
inline constexpr uint32_t kGtError = 1u << 3;
inline constexpr uint32_t kGtNotify = 1u << 4;  // PIPE_CONTROL / MI_FLUSH_DW notify
inline constexpr uint32_t kGtCtxSwitch = 1u << 8;
inline constexpr uint32_t gt_shift(int engine) { return engine == 0 ? 0 : 16; }
// GEN8_MASTER_IRQ.
inline constexpr uint32_t kMasterEnable = 1u << 31;
inline constexpr uint32_t kMasterGtRcs = 1u << 0;
inline constexpr uint32_t kMasterGtBcs = 1u << 1;
inline constexpr uint32_t master_de_pipe(int pipe) { return 1u << (16 + pipe); }
// Display engine pipe interrupt bits.
inline constexpr uint32_t kDePipeVblank = 1u << 0;
inline constexpr uint32_t kDePipeFlipDone = 1u << 4;  // BDW primary flip done

// Resets.
inline constexpr uint32_t kGdrstFull = 1u << 0;
inline constexpr uint32_t kGdrstRender = 1u << 1;
inline constexpr uint32_t kGdrstBlt = 1u << 3;
inline constexpr uint32_t kResetCtlRequest = 1u << 0;
inline constexpr uint32_t kResetCtlReady = 1u << 1;

// Display.
inline constexpr uint32_t kPipeconfEnable = 1u << 31;
inline constexpr uint32_t kPipeconfState = 1u << 30;
inline constexpr uint32_t kDspEnable = 1u << 31;
inline constexpr uint32_t kDspFormatMask = 0xFu << 26;
inline constexpr uint32_t kDspFormatXrgb8888 = 6u << 26;
inline constexpr uint32_t kDspTiled = 1u << 10;
inline constexpr uint32_t kDspAsyncFlip = 1u << 9;
inline constexpr uint32_t kCurModeMask = 0x27u;
inline constexpr uint32_t kCurMode64Argb = 0x27u;
// Timings: (total - 1) << 16 | (active - 1).
inline constexpr uint32_t timing(uint32_t active, uint32_t total) {
  return ((total - 1) << 16) | (active - 1);
}
inline constexpr uint32_t pipesrc(uint32_t w, uint32_t h) { return ((w - 1) << 16) | (h - 1); }

// Fence register (64-bit): lo = start | Y-tiled | valid, hi = end page | pitch/128 - 1.
inline constexpr uint64_t kFenceValid = 1ull << 0;
inline constexpr uint64_t kFenceYTiled = 1ull << 1;

// Error identity (RING_EIR bit = 1 << code) and RING_IPEIR codes.
enum class Fault : uint32_t {
  None = 0,
  UnknownCommand = 1,
  BadLength = 2,
  WrongEngine = 3,
  Privileged = 4,     // privileged-only command in an unprivileged batch
  GgttSelect = 5,     // a field selecting the GGTT in an unprivileged batch
  Register = 6,       // LRI/LRM/SRM target not allowed
  PageFault = 7,      // GTT entry not present, or extent outside the address space
  DmaRefused = 8,     // translated address outside host memory / the domain
  BatchDepth = 9,     // second-level batch from a second-level batch
  BadBatchEnd = 10,   // MI_BATCH_BUFFER_END in the ring
  BadBlit = 11,       // unsupported depth, tiling or raster operation
  BadContext = 12,    // descriptor or context image refused
  LargePage = 13,     // PS bit in a PPGTT directory entry
  BadRing = 14,       // ring start/size/head/tail outside the GTT or not aligned
  BadState = 15,      // 3D state missing or malformed (no render target, index past its buffer)
};
inline constexpr uint32_t kNumFaults = 16;

// PCI configuration space.
namespace pci {
inline constexpr uint16_t kVendorIntel = 0x8086;
inline constexpr uint16_t kDeviceBdwGt2 = 0x1616;
inline constexpr uint8_t kRevision = 0x09;
inline constexpr uint32_t kClassVga = 0x030000;
inline constexpr uint32_t VENDOR = 0x00;
inline constexpr uint32_t DEVICE = 0x02;
inline constexpr uint32_t COMMAND = 0x04;
inline constexpr uint32_t STATUS = 0x06;
inline constexpr uint32_t REVISION = 0x08;
inline constexpr uint32_t BAR0 = 0x10;  // GTTMMADR, 64-bit
inline constexpr uint32_t BAR2 = 0x18;  // GMADR, 64-bit prefetchable
inline constexpr uint32_t SUBSYS = 0x2C;
inline constexpr uint32_t CAP_PTR = 0x34;
inline constexpr uint32_t GMCH_CTRL = 0x50;  // stolen memory size: always 0 here
inline constexpr uint32_t MSI_CAP = 0xD0;
inline constexpr uint32_t MSI_CTRL = MSI_CAP + 2;
inline constexpr uint32_t MSI_ADDR_LO = MSI_CAP + 4;
inline constexpr uint32_t MSI_ADDR_HI = MSI_CAP + 8;
inline constexpr uint32_t MSI_DATA = MSI_CAP + 12;
inline constexpr uint16_t kCmdMem = 1u << 1;
inline constexpr uint16_t kCmdMaster = 1u << 2;
inline constexpr uint16_t kMsiEnable = 1u << 0;
inline constexpr uint16_t kMsi64 = 1u << 7;
inline constexpr uint32_t kConfigSize = 256;
}  // namespace pci

}  // namespace gen8
