#include "driver/display.h"

namespace drv {

using namespace gen8;

Result<void> Display::modeset(Device& dev, int pipe, const Mode& mode, const Bo& fb, bool async) {
  if (pipe < 0 || pipe >= kNumPipes || !fb.gm || fb.size < uint64_t{mode.width} * 4 * mode.height)
    return tl::unexpected(Error::BadArgument);
  dev_ = &dev;
  pipe_ = pipe;
  mode_ = mode;
  async_ = async;
  Platform& p = dev.platform();
  uint32_t o = pipe * kPipeStride;
  // CEA-style blanking around the active area; the model only checks sizes.
  p.mmio_write32(reg::HTOTAL + o, timing(mode.width, mode.width + 320));
  p.mmio_write32(reg::HBLANK + o, timing(mode.width, mode.width + 320));
  p.mmio_write32(reg::HSYNC + o, timing(mode.width + 24, mode.width + 160));
  p.mmio_write32(reg::VTOTAL + o, timing(mode.height, mode.height + 38));
  p.mmio_write32(reg::VBLANK + o, timing(mode.height, mode.height + 38));
  p.mmio_write32(reg::VSYNC + o, timing(mode.height + 3, mode.height + 9));
  p.mmio_write32(reg::PIPESRC + o, pipesrc(mode.width, mode.height));
  p.mmio_write32(reg::DSPSTRIDE + o, stride());
  p.mmio_write32(reg::DSPCNTR + o, kDspEnable | kDspFormatXrgb8888 | (async ? kDspAsyncFlip : 0));
  p.mmio_write32(reg::DSPSURF + o, static_cast<uint32_t>(fb.gm));
  p.mmio_write32(reg::PIPECONF + o, kPipeconfEnable);
  if (!async) dev.enable_display_irq(pipe, kDePipeFlipDone);
  return {};
}

Result<void> Display::flip(const Bo& fb) {
  if (!dev_) return tl::unexpected(Error::BadArgument);
  Platform& p = dev_->platform();
  uint32_t before = dev_->flip_done_count(pipe_);
  p.mmio_write32(reg::DSPSURF + pipe_ * kPipeStride, static_cast<uint32_t>(fb.gm));
  if (async_) return {};
  uint64_t deadline = p.now_ns() + 1'000'000'000ull;  // a vblank is 16.7 ms
  while (dev_->flip_done_count(pipe_) == before) {
    if (p.now_ns() >= deadline) return tl::unexpected(Error::Timeout);
    static const volatile uint32_t never_changes = 0;
    p.wait(&never_changes, 0, deadline);
    dev_->service_interrupts();
  }
  return {};
}

FlipRequest Display::flip_request(const Bo& fb) const {
  static constexpr uint32_t kPlaneCode[kNumPipes] = {0, 1, 4};  // MI_DISPLAY_FLIP plane select
  return {kPlaneCode[pipe_], stride(), static_cast<uint32_t>(fb.gm), async_};
}

}  // namespace drv
