#include "cli/selftest.h"

#include <fmt/format.h>

#include <array>
#include <chrono>
#include <cstring>
#include <span>

#include "cli/checksum.h"
#include "cli/png.h"
#include "common/gen8/encode.h"
#include "hw/harness.h"

namespace cli {

namespace {

namespace r = gen8::reg;

constexpr int kRcsEngine = 0, kBcsEngine = 1;  // indices into gen8::kEngineBase
constexpr uint32_t kWidth = 1024, kHeight = 768, kPitch = kWidth * 4;
constexpr uint32_t kGradWidth = 256, kGradHeight = 128, kGradPitch = kGradWidth * 4;
// High in the 48-bit PPGTT, so that the walks use all four levels with
// indices other than those of the framebuffer's alias at its GGTT address.
constexpr uint64_t kBatchVa = 0x7F0000000000ull;
constexpr uint64_t kGradVa = 0x7F0000100000ull;
constexpr uint32_t kBatchBytes = 2 * gen8::kPageSize;
constexpr uint32_t kSeqnoDword = 0x30;  // i915's I915_GEM_HWS_INDEX: clear of the CSB mirror
constexpr uint32_t kSeqno = 0x5E1F7E57;
constexpr uint64_t kPcValue = 0x0123456789ABCDEFull;
constexpr uint32_t kBackground = 0x00182848;
constexpr uint32_t kTileColor = 0x00E8E8E8;
constexpr uint32_t kTile = 64;

struct Rect {
  uint32_t x1, y1, x2, y2;
  uint64_t area() const { return uint64_t{x2 - x1} * (y2 - y1); }
};

enum class Source { None, Framebuffer, Gradient };

// One blit of the pattern: a fill with `color`, or a copy from (sx, sy) of `src`.
struct Blit {
  Rect dst;
  uint32_t color = 0;
  Source src = Source::None;
  uint32_t sx = 0, sy = 0;
};

// Colour bars at 75%: white, yellow, cyan, green, magenta, red, blue, black.
uint32_t bar_color(uint32_t i) {
  uint32_t v = 7 - i;
  auto level = [](uint32_t on) { return on ? 0xC0u : 0u; };
  return level(v & 2) << 16 | level(v & 4) << 8 | level(v & 1);
}

// The copy source: red grows to the right, green downwards, blue to the left.
uint32_t gradient(uint32_t x, uint32_t y) { return x << 16 | (2 * y) << 8 | (255 - x); }

// Top to bottom: bars, a checker, the gradient, and a copy of the bars' top
// strip, which reads what earlier blits of the same batch wrote.
std::vector<Blit> pattern() {
  std::vector<Blit> p;
  p.push_back({.dst = {0, 0, kWidth, kHeight}, .color = kBackground});
  for (uint32_t i = 0; i < 8; ++i)
    p.push_back({.dst = {i * 128, 0, (i + 1) * 128, 128}, .color = bar_color(i)});
  for (uint32_t y = 160; y < 544; y += kTile)
    for (uint32_t x = 0; x < kWidth; x += kTile)
      if ((x / kTile + y / kTile) % 2)
        p.push_back({.dst = {x, y, x + kTile, y + kTile}, .color = kTileColor});
  p.push_back({.dst = {384, 576, 384 + kGradWidth, 576 + kGradHeight}, .src = Source::Gradient});
  p.push_back({.dst = {0, kHeight - 32, kWidth, kHeight}, .src = Source::Framebuffer});
  return p;
}

std::vector<uint32_t> draw_on_cpu(const std::vector<Blit>& blits) {
  std::vector<uint32_t> fb(size_t{kWidth} * kHeight);
  for (const Blit& b : blits)
    for (uint32_t y = b.dst.y1; y < b.dst.y2; ++y)
      for (uint32_t x = b.dst.x1; x < b.dst.x2; ++x) {
        uint32_t sx = b.sx + x - b.dst.x1, sy = b.sy + y - b.dst.y1;
        fb[size_t{y} * kWidth + x] = b.src == Source::None       ? b.color
                                     : b.src == Source::Gradient ? gradient(sx, sy)
                                                                 : fb[size_t{sy} * kWidth + sx];
      }
  return fb;
}

void encode(gen8::CmdWriter& w, const std::vector<Blit>& blits, uint64_t fb) {
  for (const Blit& b : blits) {
    const Rect& d = b.dst;
    if (b.src == Source::None) {
      w.color_blt(fb, kPitch, d.x1, d.y1, d.x2, d.y2, b.color);
    } else {
      bool grad = b.src == Source::Gradient;
      w.src_copy_blt(fb, kPitch, d.x1, d.y1, d.x2, d.y2, grad ? kGradVa : fb,
                     grad ? kGradPitch : kPitch, b.sx, b.sy);
    }
  }
  w.bb_end();
}

// Commands in a well-formed stream, decoded with the command table.
uint64_t count_commands(std::span<const uint32_t> s) {
  uint64_t n = 0;
  for (size_t i = 0; i < s.size(); ++n) {
    const gen8::CmdDesc* c = gen8::decode(s[i]);
    uint32_t len = c ? gen8::cmd_length(*c, s[i]) : 0;
    if (!len) break;
    i += len;
  }
  return n;
}

// The ring advances in qwords; padding here keeps the command count exact.
void pad_to_qword(gen8::CmdWriter& w) {
  if (w.size() % 2) w.noop();
}

std::string describe(const hw::EngineFault& f) {
  if (f.code == gen8::Fault::None) return "it timed out";
  return fmt::format("it faulted with code {} on header 0x{:08x} at 0x{:x} (detail 0x{:x})",
                     static_cast<uint32_t>(f.code), f.header, f.address, f.detail);
}

// 1024x768 at 60 Hz (VESA DMT) on pipe A, linear XRGB8888 with a 4 KiB stride.
void modeset_pipe_a(hw::Gpu& gpu) {
  gpu.mmio_write(r::HTOTAL, 4, gen8::timing(kWidth, 1344));
  gpu.mmio_write(r::HBLANK, 4, gen8::timing(kWidth, 1344));
  gpu.mmio_write(r::HSYNC, 4, gen8::timing(1048, 1184));
  gpu.mmio_write(r::VTOTAL, 4, gen8::timing(kHeight, 806));
  gpu.mmio_write(r::VBLANK, 4, gen8::timing(kHeight, 806));
  gpu.mmio_write(r::VSYNC, 4, gen8::timing(771, 777));
  gpu.mmio_write(r::PIPESRC, 4, gen8::pipesrc(kWidth, kHeight));
  gpu.mmio_write(r::DSPSTRIDE, 4, kPitch);
  gpu.mmio_write(r::DSPCNTR, 4, gen8::kDspEnable | gen8::kDspFormatXrgb8888);
  gpu.mmio_write(r::PIPECONF, 4, gen8::kPipeconfEnable);
}

class Checks {
 public:
  explicit Checks(SelftestReport& report) : report_(report) {}
  // `failure` is the sentence reported when `ok` is false.
  void expect(bool ok, std::string failure) {
    report_.checks++;
    if (!ok) report_.failures.push_back(std::move(failure));
  }

 private:
  SelftestReport& report_;
};

}  // namespace

tl::expected<SelftestReport, std::string> run_selftest(const std::string& png_path) {
  auto t0 = std::chrono::steady_clock::now();
  auto created = hw::Gpu::create({.host_mem_bytes = 1ull << 30});
  if (!created) return tl::unexpected("cannot create the GPU model: " + created.error());
  hw::Gpu& gpu = **created;
  hw::Harness h(gpu);

  hw::Harness::Buffer fb = h.alloc_ggtt(uint64_t{kPitch} * kHeight);
  hw::Harness::Buffer grad = h.alloc_host(uint64_t{kGradPitch} * kGradHeight);
  hw::Harness::Buffer batch = h.alloc_host(kBatchBytes);
  hw::Harness::Buffer pc = h.alloc_ggtt(gen8::kPageSize);
  if (!fb.cpu || !grad.cpu || !batch.cpu || !pc.cpu)
    return tl::unexpected(std::string("cannot allocate the self-check's buffers in host memory"));
  // The unprivileged batch reaches the framebuffer through the PPGTT, at the
  // framebuffer's GGTT address; the gradient and the batch are PPGTT-only.
  h.ppgtt_map(fb.gm, fb.hpa, fb.size);
  h.ppgtt_map(kGradVa, grad.hpa, grad.size);
  h.ppgtt_map(kBatchVa, batch.hpa, batch.size);
  auto* g = reinterpret_cast<uint32_t*>(grad.cpu);
  for (uint32_t y = 0; y < kGradHeight; ++y)
    for (uint32_t x = 0; x < kGradWidth; ++x) g[y * kGradWidth + x] = gradient(x, y);

  const std::vector<Blit> blits = pattern();
  gen8::CmdWriter bb(reinterpret_cast<uint32_t*>(batch.cpu), kBatchBytes / 4);
  encode(bb, blits, fb.gm);
  // The seqno goes to the GGTT HWSP from the ring: an unprivileged batch may not select the GGTT.
  std::array<uint32_t, 16> bcs_cmds;
  gen8::CmdWriter bcs_ring(bcs_cmds.data(), bcs_cmds.size());
  bcs_ring.bb_start(kBatchVa, /*ppgtt=*/true);
  bcs_ring.flush_dw(h.hwsp_gm(kBcsEngine) + kSeqnoDword * 4, kSeqno, /*ggtt=*/true,
                    /*notify=*/false);
  bcs_ring.user_interrupt();
  pad_to_qword(bcs_ring);
  std::array<uint32_t, 8> rcs_cmds;
  gen8::CmdWriter rcs_ring(rcs_cmds.data(), rcs_cmds.size());
  rcs_ring.pipe_control(pc.gm, kPcValue, /*ggtt=*/true, /*notify=*/true);
  pad_to_qword(rcs_ring);
  if (bb.overflow() || bcs_ring.overflow() || rcs_ring.overflow())
    return tl::unexpected(std::string("the self-check's command buffers are too small"));

  hw::Harness::Context bcs = h.make_context(kBcsEngine), rcs = h.make_context(kRcsEngine);
  const uint64_t msis_before = h.msis();
  h.run(bcs, {bcs_ring.data(), bcs_ring.size()});
  h.run(rcs, {rcs_ring.data(), rcs_ring.size()});
  const bool bcs_done = h.wait_idle(kBcsEngine), rcs_done = h.wait_idle(kRcsEngine);

  modeset_pipe_a(gpu);
  gpu.mmio_write(r::DSPSURF, 4, fb.gm);  // a sync flip: pending until the vblank
  const uint64_t live_before = gpu.mmio_read(r::DSPSURFLIVE, 4);
  gpu.vblank();
  const uint64_t live_after = gpu.mmio_read(r::DSPSURFLIVE, 4);
  const uint64_t de_iir = gpu.mmio_read(r::GEN8_DE_PIPE_IIR, 4);

  SelftestReport report;
  Checks check(report);
  check.expect(bcs_done, "The blitter did not finish its context: " +
                             describe(gpu.last_fault(kBcsEngine)) + ".");
  check.expect(rcs_done, "The render engine did not finish its context: " +
                             describe(gpu.last_fault(kRcsEngine)) + ".");
  const uint32_t seqno = h.hwsp(kBcsEngine)[kSeqnoDword];
  check.expect(seqno == kSeqno,
               fmt::format("The HWSP seqno is 0x{:08x}, not 0x{:08x}.", seqno, kSeqno));
  uint64_t pc_value;
  std::memcpy(&pc_value, pc.cpu, sizeof pc_value);
  check.expect(pc_value == kPcValue,
               fmt::format("The PIPE_CONTROL wrote 0x{:016x}, not 0x{:016x}.", pc_value, kPcValue));
  check.expect(h.msis() > msis_before, "No MSI was sent.");
  const uint32_t gt_want =
      gen8::kGtUser << gen8::gt_shift(kBcsEngine) | gen8::kGtNotify << gen8::gt_shift(kRcsEngine);
  const uint64_t gt_iir = gpu.mmio_read(r::GEN8_GT_IIR0, 4);
  check.expect(
      (gt_iir & gt_want) == gt_want,
      fmt::format("GT IIR is 0x{:08x}, missing the blitter's user interrupt or the render notify.",
                  gt_iir));
  check.expect(
      live_before != fb.gm && live_after == fb.gm && (de_iir & gen8::kDePipeFlipDone),
      fmt::format("The DSPSURF flip did not take effect at the vblank (live surface 0x{:x} "
                  "before, 0x{:x} after, pipe IIR 0x{:x}).",
                  live_before, live_after, de_iir));

  const hw::ContextCounters bc = gpu.counters(bcs.lrca()), rc = gpu.counters(rcs.lrca());
  uint64_t want_commands =
      count_commands({bb.data(), bb.size()}) + count_commands({bcs_ring.data(), bcs_ring.size()});
  uint64_t want_pixels = 0;
  for (const Blit& b : blits) want_pixels += b.dst.area();
  check.expect(
      bc.commands == want_commands && bc.pixels == want_pixels && bc.faults == 0,
      fmt::format(
          "The blitter context counted {} commands, {} pixels and {} faults, not {}, {} and 0.",
          bc.commands, bc.pixels, bc.faults, want_commands, want_pixels));
  uint64_t want_rcs = count_commands({rcs_ring.data(), rcs_ring.size()});
  check.expect(rc.commands == want_rcs && rc.faults == 0,
               fmt::format("The render context counted {} commands and {} faults, not {} and 0.",
                           rc.commands, rc.faults, want_rcs));
  report.commands = bc.commands + rc.commands;
  report.pixels = bc.pixels + rc.pixels;

  auto frame = gpu.scanout(0);
  if (!frame) {
    check.expect(false, "Pipe A cannot be scanned out: " + frame.error());
  } else {
    const std::vector<uint32_t> want = draw_on_cpu(blits);
    size_t bad = 0, first = 0;
    for (size_t i = 0; i < want.size() && i < frame->pixels.size(); ++i)
      if (frame->pixels[i] != want[i] && bad++ == 0) first = i;
    bool size_ok = frame->width == kWidth && frame->height == kHeight;
    check.expect(
        size_ok && bad == 0,
        size_ok
            ? fmt::format("{} pixels differ from the CPU's pattern, the first at ({}, {}): "
                          "0x{:08x} instead of 0x{:08x}.",
                          bad, first % kWidth, first / kWidth, frame->pixels[first], want[first])
            : fmt::format("The scanned-out frame is {}x{}, not {}x{}.", frame->width, frame->height,
                          kWidth, kHeight));
    report.checksum = frame_checksum(*frame);
  }
  report.elapsed_ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  if (frame) {
    if (auto w = write_png(*frame, png_path); !w) return tl::unexpected(w.error());
    report.png = png_path;
  }
  return report;
}

}  // namespace cli
