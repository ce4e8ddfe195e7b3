// Display engine: 3 pipes, each with a primary plane and a cursor.
//
// Plain registers (timings, PIPESRC, DSPCNTR, DSPSTRIDE, CURCNTR/CURBASE/
// CURPOS) live in the gen8::RegFile and are written by the device's generic path.
// This class handles the registers with live state or side effects:
//  - PIPECONF: stored in the gen8::RegFile; the state bit (kPipeconfState) is
//    read-only and mirrors the enable bit.
//  - PIPE_FRMCOUNT_G4X: read-only frame counter, advanced by vblank() on
//    enabled pipes only.
//  - DSPSURF: reads the last value written (page aligned, stored in the
//    gen8::RegFile). A write is a flip: with DSPCNTR's async bit it is immediate and
//    signals flip-done at once; otherwise it is latched at the pipe's next
//    vblank, which signals flip-done. A later write before that vblank
//    replaces the pending one. A disabled pipe has no vblank, so there a sync
//    flip takes effect at once, without flip-done (as on hardware, the
//    double buffering only applies to a running pipe).
//  - DSPSURFLIVE: read-only, the surface currently scanned out.
// flips(pipe) counts flips that took effect, not superseded ones.
//
// Not thread-safe: the device holds its lock around every call.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <tl/expected.hpp>

#include "common/gen8/layout.h"
#include "common/gen8/reg_file.h"

namespace gen8 {

class Display {
 public:
  // DE pipe interrupt bits to raise (kDePipeVblank, kDePipeFlipDone).
  struct Events {
    uint32_t de[gen8::kNumPipes] = {};
  };

  struct Scanout {
    int pipe;
    uint32_t width, height, stride;
    uint64_t surface;
  };

  explicit Display(gen8::RegFile& regs) : regs_(regs) {}

  // PIPECONF, PIPE_FRMCOUNT_G4X, DSPSURF and DSPSURFLIVE of any pipe.
  bool owns(uint32_t offset) const;
  // Offsets not owned read 0 and ignore writes.
  uint32_t read(uint32_t offset) const;
  Events write(uint32_t offset, uint32_t v);

  // MI_DISPLAY_FLIP: sets DSPSTRIDE, then flips like a DSPSURF write whose
  // async-ness is the command's, not DSPCNTR's. An invalid pipe is ignored.
  Events flip(int pipe, uint32_t stride, uint32_t surface, bool async);

  // One vblank on every enabled pipe.
  Events vblank();

  // The primary plane of `pipe` as something we can read out, or why not.
  tl::expected<Scanout, std::string> scanout(int pipe) const;

  uint64_t flips(int pipe) const;

  // Power-on of the live state; the gen8::RegFile is reset by its owner.
  void reset();

 private:
  struct Pipe {
    uint32_t frames = 0;
    uint32_t live = 0;  // DSPSURFLIVE
    std::optional<uint32_t> pending;
    uint64_t flips = 0;
  };

  bool pipe_enabled(int pipe) const;
  void surface_write(int pipe, uint32_t v, bool async, Events& ev);
  void complete(int pipe, uint32_t surface);

  gen8::RegFile& regs_;
  std::array<Pipe, gen8::kNumPipes> pipes_{};
};

}  // namespace gen8
