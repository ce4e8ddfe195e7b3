#include "common/gen8/display_regs.h"

#include <gtest/gtest.h>

#include "common/gen8/layout.h"
#include "common/gen8/reg_file.h"

namespace {

namespace r = gen8::reg;
using gen8::Display;
using gen8::RegFile;

constexpr uint32_t at(uint32_t reg, int pipe) { return reg + pipe * gen8::kPipeStride; }

constexpr uint32_t kLinearXrgb = gen8::kDspEnable | gen8::kDspFormatXrgb8888;

class DisplayTest : public ::testing::Test {
 protected:
  // A valid 640x480 linear XRGB8888 mode on `pipe` (plain registers go
  // straight to the gen8::RegFile, as the device's generic path does).
  void modeset(int pipe, uint32_t cntr = kLinearXrgb) {
    regs.set(at(r::PIPESRC, pipe), gen8::pipesrc(640, 480));
    regs.set(at(r::DSPCNTR, pipe), cntr);
    regs.set(at(r::DSPSTRIDE, pipe), 640 * 4);
    disp.write(at(r::PIPECONF, pipe), gen8::kPipeconfEnable);
  }

  gen8::RegFile regs;
  Display disp{regs};
};

TEST_F(DisplayTest, Owns) {
  for (int p = 0; p < gen8::kNumPipes; ++p) {
    for (uint32_t reg : {r::PIPECONF, r::PIPE_FRMCOUNT, r::DSPSURF, r::DSPSURFLIVE})
      EXPECT_TRUE(disp.owns(at(reg, p)));
    for (uint32_t reg : {r::PIPESRC, r::HTOTAL, r::DSPCNTR, r::DSPSTRIDE, r::CURBASE})
      EXPECT_FALSE(disp.owns(at(reg, p)));
  }
  EXPECT_FALSE(disp.owns(at(r::PIPECONF, gen8::kNumPipes)));
  EXPECT_FALSE(disp.owns(r::DSPSURF + 4));
  EXPECT_FALSE(disp.owns(r::PIPECONF + 1));
}

TEST_F(DisplayTest, PipeconfStateMirrorsEnable) {
  EXPECT_EQ(disp.read(r::PIPECONF), 0u);
  // The state bit is read-only: writing it alone does not show it.
  disp.write(r::PIPECONF, gen8::kPipeconfState);
  EXPECT_EQ(disp.read(r::PIPECONF), 0u);
  disp.write(r::PIPECONF, gen8::kPipeconfEnable | 0x5u);
  EXPECT_EQ(disp.read(r::PIPECONF), gen8::kPipeconfEnable | gen8::kPipeconfState | 0x5u);
  disp.write(r::PIPECONF, 0x5u | gen8::kPipeconfState);
  EXPECT_EQ(disp.read(r::PIPECONF), 0x5u);
  // Pipes are independent.
  EXPECT_EQ(disp.read(at(r::PIPECONF, 1)), 0u);
}

TEST_F(DisplayTest, ReadOnlyRegistersIgnoreWrites) {
  modeset(0);
  disp.vblank();
  const auto ev = disp.write(r::PIPE_FRMCOUNT, 100);
  EXPECT_EQ(ev.de[0], 0u);
  EXPECT_EQ(disp.read(r::PIPE_FRMCOUNT), 1u);
  disp.write(r::DSPSURFLIVE, 0x1000);
  EXPECT_EQ(disp.read(r::DSPSURFLIVE), 0u);
  EXPECT_EQ(disp.flips(0), 0u);
}

TEST_F(DisplayTest, FrameCounterOnlyOnEnabledPipes) {
  modeset(1);
  for (int i = 0; i < 3; ++i) {
    const auto ev = disp.vblank();
    EXPECT_EQ(ev.de[0], 0u);
    EXPECT_EQ(ev.de[1], gen8::kDePipeVblank);
    EXPECT_EQ(ev.de[2], 0u);
  }
  EXPECT_EQ(disp.read(at(r::PIPE_FRMCOUNT, 0)), 0u);
  EXPECT_EQ(disp.read(at(r::PIPE_FRMCOUNT, 1)), 3u);
  EXPECT_EQ(disp.read(at(r::PIPE_FRMCOUNT, 2)), 0u);
  // Disabling stops the counter; it keeps its value.
  disp.write(at(r::PIPECONF, 1), 0);
  EXPECT_EQ(disp.vblank().de[1], 0u);
  EXPECT_EQ(disp.read(at(r::PIPE_FRMCOUNT, 1)), 3u);
}

TEST_F(DisplayTest, AsyncFlipIsImmediate) {
  modeset(0, kLinearXrgb | gen8::kDspAsyncFlip);
  const auto ev = disp.write(r::DSPSURF, 0x00200ABCu);
  EXPECT_EQ(ev.de[0], gen8::kDePipeFlipDone);
  EXPECT_EQ(ev.de[1], 0u);
  EXPECT_EQ(disp.read(r::DSPSURF), 0x00200000u);  // page aligned
  EXPECT_EQ(disp.read(r::DSPSURFLIVE), 0x00200000u);
  EXPECT_EQ(disp.flips(0), 1u);
  // The next vblank has no flip to complete.
  EXPECT_EQ(disp.vblank().de[0], gen8::kDePipeVblank);
  EXPECT_EQ(disp.flips(0), 1u);
}

TEST_F(DisplayTest, SyncFlipLatchesAtVblank) {
  modeset(2);
  auto ev = disp.write(at(r::DSPSURF, 2), 0x00100000u);
  EXPECT_EQ(ev.de[2], 0u);
  EXPECT_EQ(disp.read(at(r::DSPSURF, 2)), 0x00100000u);
  EXPECT_EQ(disp.read(at(r::DSPSURFLIVE, 2)), 0u);
  EXPECT_EQ(disp.flips(2), 0u);
  // A second write before the vblank replaces the pending flip.
  disp.write(at(r::DSPSURF, 2), 0x00300000u);
  ev = disp.vblank();
  EXPECT_EQ(ev.de[2], gen8::kDePipeVblank | gen8::kDePipeFlipDone);
  EXPECT_EQ(disp.read(at(r::DSPSURFLIVE, 2)), 0x00300000u);
  EXPECT_EQ(disp.flips(2), 1u);
  // Latched once only.
  ev = disp.vblank();
  EXPECT_EQ(ev.de[2], gen8::kDePipeVblank);
  EXPECT_EQ(disp.flips(2), 1u);
}

TEST_F(DisplayTest, SyncFlipOnDisabledPipe) {
  // No vblank on a disabled pipe: the surface takes effect at once, silently.
  const auto ev = disp.write(at(r::DSPSURF, 1), 0x00400000u);
  EXPECT_EQ(ev.de[1], 0u);
  EXPECT_EQ(disp.read(at(r::DSPSURFLIVE, 1)), 0x00400000u);
  EXPECT_EQ(disp.flips(1), 1u);
  EXPECT_EQ(disp.vblank().de[1], 0u);

  // A flip left pending when the pipe is turned off is superseded by a
  // write while it is off.
  modeset(0);
  disp.write(r::DSPSURF, 0x00500000u);
  disp.write(r::PIPECONF, 0);
  disp.write(r::DSPSURF, 0x00600000u);
  disp.write(r::PIPECONF, gen8::kPipeconfEnable);
  EXPECT_EQ(disp.vblank().de[0], gen8::kDePipeVblank);
  EXPECT_EQ(disp.read(r::DSPSURFLIVE), 0x00600000u);
}

TEST_F(DisplayTest, DisplayFlipCommandPath) {
  modeset(1, kLinearXrgb | gen8::kDspAsyncFlip);
  // Sync per the command, although DSPCNTR asks for async.
  auto ev = disp.flip(1, 1024 * 4, 0x00800123u, false);
  EXPECT_EQ(ev.de[1], 0u);
  EXPECT_EQ(regs.get(at(r::DSPSTRIDE, 1)), 4096u);
  EXPECT_EQ(disp.read(at(r::DSPSURF, 1)), 0x00800000u);
  EXPECT_EQ(disp.read(at(r::DSPSURFLIVE, 1)), 0u);
  ev = disp.vblank();
  EXPECT_EQ(ev.de[1], gen8::kDePipeVblank | gen8::kDePipeFlipDone);
  EXPECT_EQ(disp.read(at(r::DSPSURFLIVE, 1)), 0x00800000u);

  // Async per the command, although DSPCNTR asks for sync.
  modeset(0);
  ev = disp.flip(0, 2560 + 0x3F, 0x00900000u, true);
  EXPECT_EQ(ev.de[0], gen8::kDePipeFlipDone);
  EXPECT_EQ(disp.read(r::DSPSURFLIVE), 0x00900000u);
  EXPECT_EQ(regs.get(r::DSPSTRIDE), 2560u);  // low bits read-only, as over MMIO
  EXPECT_EQ(disp.flips(0), 1u);

  // Invalid pipes are ignored.
  for (int bad : {-1, gen8::kNumPipes}) {
    ev = disp.flip(bad, 4096, 0x1000, true);
    for (uint32_t bits : ev.de) EXPECT_EQ(bits, 0u);
  }
  EXPECT_EQ(disp.flips(-1), 0u);
  EXPECT_EQ(disp.flips(gen8::kNumPipes), 0u);
}

TEST_F(DisplayTest, ScanoutValid) {
  modeset(1);
  disp.write(at(r::DSPSURF, 1), 0x01000000u);
  disp.vblank();
  auto s = disp.scanout(1);
  ASSERT_TRUE(s.has_value()) << s.error();
  EXPECT_EQ(s->pipe, 1);
  EXPECT_EQ(s->width, 640u);
  EXPECT_EQ(s->height, 480u);
  EXPECT_EQ(s->stride, 2560u);
  EXPECT_EQ(s->surface, 0x01000000u);

  // Exactly at the end of graphics memory still fits.
  regs.set(at(r::DSPSTRIDE, 1), 4096);
  const uint64_t top = gen8::kGmSize - 4096ull * 480;
  disp.write(at(r::DSPSURF, 1), static_cast<uint32_t>(top));
  disp.vblank();
  s = disp.scanout(1);
  ASSERT_TRUE(s.has_value()) << s.error();
  EXPECT_EQ(s->surface, top);
  EXPECT_EQ(s->surface + uint64_t{s->stride} * s->height, gen8::kGmSize);
  // One more line does not.
  regs.set(at(r::PIPESRC, 1), gen8::pipesrc(640, 481));
  EXPECT_FALSE(disp.scanout(1).has_value());
}

TEST_F(DisplayTest, ScanoutRefusals) {
  auto refused = [&](int pipe) {
    auto s = disp.scanout(pipe);
    EXPECT_FALSE(s.has_value());
    return s.has_value() ? std::string() : s.error();
  };
  EXPECT_FALSE(refused(-1).empty());
  EXPECT_FALSE(refused(gen8::kNumPipes).empty());
  EXPECT_NE(refused(0).find("disabled"), std::string::npos);  // pipe disabled

  modeset(0, kLinearXrgb & ~gen8::kDspEnable);
  EXPECT_NE(refused(0).find("plane"), std::string::npos);

  modeset(0, gen8::kDspEnable | (5u << 26));
  EXPECT_NE(refused(0).find("XRGB8888"), std::string::npos);

  modeset(0, kLinearXrgb | gen8::kDspTiled);
  EXPECT_NE(refused(0).find("tiled"), std::string::npos);

  modeset(0);
  ASSERT_TRUE(disp.scanout(0).has_value());
  regs.set(r::DSPSTRIDE, 640 * 4 - 64);  // too small for the width
  EXPECT_NE(refused(0).find("stride"), std::string::npos);
  regs.set(r::DSPSTRIDE, 640 * 4 + 4);  // not a multiple of 64
  EXPECT_NE(refused(0).find("stride"), std::string::npos);
  regs.set(r::DSPSTRIDE, 640 * 4 + 64);  // padded is fine
  EXPECT_TRUE(disp.scanout(0).has_value());

  // Surface + stride * height past 4 GiB.
  modeset(0);
  disp.write(r::DSPSURF, 0xFFF00000u);
  disp.vblank();
  EXPECT_NE(refused(0).find("4 GiB"), std::string::npos);
  // A huge mode overflows even from surface 0.
  disp.write(r::DSPSURF, 0);
  disp.vblank();
  regs.set(r::PIPESRC, gen8::pipesrc(65536, 65536));
  regs.set(r::DSPSTRIDE, 65536u * 4);
  EXPECT_NE(refused(0).find("4 GiB"), std::string::npos);
}

TEST_F(DisplayTest, Reset) {
  modeset(0);
  disp.write(r::DSPSURF, 0x00100000u);
  disp.vblank();
  disp.write(r::DSPSURF, 0x00200000u);  // left pending
  disp.reset();
  EXPECT_EQ(disp.read(r::PIPE_FRMCOUNT), 0u);
  EXPECT_EQ(disp.read(r::DSPSURFLIVE), 0u);
  EXPECT_EQ(disp.flips(0), 0u);
  // The pending flip is gone: the next vblank completes nothing.
  EXPECT_EQ(disp.vblank().de[0], gen8::kDePipeVblank);
  EXPECT_EQ(disp.read(r::DSPSURFLIVE), 0u);
}

}  // namespace
