// The command scanner (upstream cmd_parser.c), driven by the shared command
// table (common/gen8/cmds.h) and register table (common/gen8/regs.h). It walks
// a shadow copy of a guest ring slice and every privileged (GGTT) batch that
// slice starts, and refuses anything that could reach outside the vGPU: an
// opcode or length the table does not know, a command the engine or the
// buffer's privilege does not allow, a register operand the table does not
// make writable from a command buffer, or a GGTT extent outside the vGPU's GM.
// Privileged batches are copied into host-owned shadow buffers, scanned there,
// and the BB_START that named them is patched to the copy, so the guest cannot
// change a batch after it was scanned.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <tl/expected.hpp>
#include <vector>

#include "common/gen8/cmds.h"
#include "gvt/aperture_gm.h"

namespace gvt {

struct ScanViolation {
  int engine;
  uint64_t gm;         // GM address (PPGTT address in a PPGTT batch) of the offending command
  uint32_t offset;     // dword index inside the buffer being scanned
  uint32_t dword;      // the offending dword (the header, or 0 when it could not be read)
  std::string reason;  // one sentence naming the command and the rule
};

struct ShadowBuffer {
  uint64_t gm;  // in the host's GM
  uint32_t* cpu;
  uint32_t dwords;
};

struct ScanEnv {
  int engine;     // 0 RCS, 1 BCS
  GmSlice slice;  // every GGTT extent must lie wholly inside the low or the high range
  // Copies guest GM through the vGPU's GGTT view; false if any byte is outside
  // the vGPU's GM or unmapped.
  std::function<bool(uint64_t gm, void* dst, size_t bytes)> read_ggtt;
  // Reads the context's PPGTT (used only with scan_nonpriv).
  std::function<bool(uint64_t va, void* dst, size_t bytes)> read_ppgtt;
  // A host-owned buffer for a privileged batch copy; the mediator frees it
  // once the workload completes.
  std::function<tl::expected<ShadowBuffer, std::string>(uint32_t dwords)> alloc_shadow;
  bool scan_nonpriv = false;             // also scan PPGTT batches (--scan-nonpriv)
  uint32_t max_batch_dwords = 1u << 20;  // bound on any single batch
  uint64_t max_scan_dwords = 16u << 20;  // bound on one ring slice, batches included
  // Called for each command that passed its checks, before any patching
  // (the per-vGPU command trace, --trace-commands).
  std::function<void(uint64_t gm, const gen8::CmdDesc& c, const uint32_t* d, uint32_t len)> trace;
};

// An MI_DISPLAY_FLIP taken out of the command stream: the mediator emulates it.
struct FlipCmd {
  uint32_t plane;    // dw0 bits 21:19 as encoded
  uint32_t stride;   // dw1
  uint32_t surface;  // dw2, page-aligned GGTT address
  bool async;
  int pipe;  // the pipe the plane encoding names
};

struct ScanStats {
  uint64_t dwords = 0;  // of every command scanned, ring and batches
  uint32_t commands = 0, batches_copied = 0, batches_unscanned = 0;
  std::vector<FlipCmd> flips;  // in command-stream order
};

class CmdScanner {
 public:
  // Scans the ring slice `ring[0, n_dwords)` (the host's copy; `ring_gm` is
  // the guest GM address of ring[0], for messages) on env.engine.
  // - A GGTT BB_START is followed: the batch is read until its
  //   MI_BATCH_BUFFER_END or chained BB_START, copied into a shadow buffer,
  //   scanned there, and the BB_START is patched to the copy. Second-level
  //   batches likewise, patched inside the first-level copy; a chained
  //   BB_START is patched in the copy it ends.
  // - A PPGTT BB_START is counted and left alone, or with scan_nonpriv its
  //   batch is read through read_ppgtt and scanned as unprivileged (not copied).
  // - MI_DISPLAY_FLIP is recorded in stats.flips and replaced by MI_NOOPs.
  // On a violation the ring copy may be partly patched and must not run.
  static tl::expected<ScanStats, ScanViolation> scan_ring(const ScanEnv& env, uint32_t* ring,
                                                          uint32_t n_dwords, uint64_t ring_gm);
};

}  // namespace gvt
