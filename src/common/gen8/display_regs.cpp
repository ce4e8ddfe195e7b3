#include "common/gen8/display_regs.h"

#include <fmt/format.h>

namespace gen8 {

namespace r = gen8::reg;

namespace {

constexpr uint32_t kPageMask = static_cast<uint32_t>(gen8::kPageSize - 1);

constexpr uint32_t at(uint32_t reg, int pipe) {
  return reg + static_cast<uint32_t>(pipe) * gen8::kPipeStride;
}

// Pipe whose copy of `reg` is at `offset`, or -1.
constexpr int pipe_of(uint32_t offset, uint32_t reg) {
  for (int p = 0; p < gen8::kNumPipes; ++p)
    if (offset == at(reg, p)) return p;
  return -1;
}

constexpr bool valid_pipe(int pipe) { return pipe >= 0 && pipe < gen8::kNumPipes; }

// flip() indexes the register table with DSPSTRIDE of any pipe.
static_assert(gen8::find_reg(at(r::DSPSTRIDE, 0)) >= 0 &&
              gen8::find_reg(at(r::DSPSTRIDE, gen8::kNumPipes - 1)) >= 0);

}  // namespace

bool Display::owns(uint32_t offset) const {
  for (uint32_t reg : {r::PIPECONF, r::PIPE_FRMCOUNT, r::DSPSURF, r::DSPSURFLIVE})
    if (pipe_of(offset, reg) >= 0) return true;
  return false;
}

bool Display::pipe_enabled(int pipe) const {
  return regs_.get(at(r::PIPECONF, pipe)) & gen8::kPipeconfEnable;
}

uint32_t Display::read(uint32_t offset) const {
  if (pipe_of(offset, r::PIPECONF) >= 0) {
    const uint32_t v = regs_.get(offset);
    return v | ((v & gen8::kPipeconfEnable) ? gen8::kPipeconfState : 0);
  }
  if (int p = pipe_of(offset, r::PIPE_FRMCOUNT); p >= 0) return pipes_[p].frames;
  if (pipe_of(offset, r::DSPSURF) >= 0) return regs_.get(offset);
  if (int p = pipe_of(offset, r::DSPSURFLIVE); p >= 0) return pipes_[p].live;
  return 0;
}

Display::Events Display::write(uint32_t offset, uint32_t v) {
  Events ev;
  if (pipe_of(offset, r::PIPECONF) >= 0) {
    regs_.set(offset, v & ~gen8::kPipeconfState);
  } else if (int p = pipe_of(offset, r::DSPSURF); p >= 0) {
    surface_write(p, v, regs_.get(at(r::DSPCNTR, p)) & gen8::kDspAsyncFlip, ev);
  }
  // PIPE_FRMCOUNT and DSPSURFLIVE are read-only.
  return ev;
}

Display::Events Display::flip(int pipe, uint32_t stride, uint32_t surface, bool async) {
  Events ev;
  if (!valid_pipe(pipe)) return ev;
  // Same policy as a DSPSTRIDE MMIO write (its low bits are read-only).
  const uint32_t off = at(r::DSPSTRIDE, pipe);
  regs_.set(off, gen8::apply_write(gen8::kRegs[gen8::find_reg(off)], regs_.get(off), stride));
  surface_write(pipe, surface, async, ev);
  return ev;
}

void Display::surface_write(int pipe, uint32_t v, bool async, Events& ev) {
  const uint32_t surface = v & ~kPageMask;
  regs_.set(at(r::DSPSURF, pipe), surface);
  if (async) {
    complete(pipe, surface);
    ev.de[pipe] |= gen8::kDePipeFlipDone;
  } else if (pipe_enabled(pipe)) {
    pipes_[pipe].pending = surface;
  } else {
    complete(pipe, surface);
  }
}

void Display::complete(int pipe, uint32_t surface) {
  Pipe& s = pipes_[pipe];
  s.live = surface;
  s.pending.reset();
  ++s.flips;
}

Display::Events Display::vblank() {
  Events ev;
  for (int p = 0; p < gen8::kNumPipes; ++p) {
    if (!pipe_enabled(p)) continue;
    ++pipes_[p].frames;
    if (pipes_[p].pending) {
      complete(p, *pipes_[p].pending);
      ev.de[p] |= gen8::kDePipeFlipDone;
    }
    ev.de[p] |= gen8::kDePipeVblank;
  }
  return ev;
}

tl::expected<Display::Scanout, std::string> Display::scanout(int pipe) const {
  using tl::unexpected;
  if (!valid_pipe(pipe)) return unexpected(fmt::format("pipe {} does not exist.", pipe));
  if (!pipe_enabled(pipe)) return unexpected(fmt::format("pipe {} is disabled.", pipe));
  const uint32_t cntr = regs_.get(at(r::DSPCNTR, pipe));
  if (!(cntr & gen8::kDspEnable))
    return unexpected(fmt::format("primary plane of pipe {} is disabled.", pipe));
  if ((cntr & gen8::kDspFormatMask) != gen8::kDspFormatXrgb8888)
    return unexpected(fmt::format("pipe {} plane format {:#x} is not XRGB8888.", pipe,
                                  (cntr & gen8::kDspFormatMask) >> 26));
  if (cntr & gen8::kDspTiled)
    return unexpected(fmt::format("pipe {} plane is tiled; only linear is supported.", pipe));

  const uint32_t src = regs_.get(at(r::PIPESRC, pipe));
  Scanout s{pipe, (src >> 16) + 1, (src & 0xFFFFu) + 1, regs_.get(at(r::DSPSTRIDE, pipe)),
            pipes_[pipe].live};
  if (uint64_t{s.stride} < uint64_t{s.width} * 4 || s.stride % 64 != 0)
    return unexpected(
        fmt::format("pipe {} stride {} is below {} bytes per line or not a multiple of 64.", pipe,
                    s.stride, uint64_t{s.width} * 4));
  if (s.surface + uint64_t{s.stride} * s.height > gen8::kGmSize)
    return unexpected(fmt::format("pipe {} surface {:#x} + {} x {} bytes exceeds 4 GiB.", pipe,
                                  s.surface, s.stride, s.height));
  return s;
}

uint64_t Display::flips(int pipe) const { return valid_pipe(pipe) ? pipes_[pipe].flips : 0; }

void Display::reset() { pipes_.fill(Pipe{}); }

}  // namespace gen8
