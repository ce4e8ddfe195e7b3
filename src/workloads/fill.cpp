// `fill`: GPU-bound. Each frame clears the screen, fills large rectangles and
// makes large copies, about 6 MiB of blitter writes per frame.
#include "workloads/registry.h"

namespace wl {

namespace {

constexpr uint32_t kPatW = 512, kPatH = 384, kPatPitch = kPatW * 4;

class Fill final : public Registered<Fill> {
 public:
  const Info& info() const override { return info_; }

  drv::Result<void> init(drv::Device&, Frame2d& frame, Latency*) override {
    fr_ = &frame;
    auto va = frame.surface(pattern_, uint64_t{kPatPitch} * kPatH);
    if (!va) return tl::unexpected(va.error());
    pattern_va_ = *va;
    // The source pattern is drawn by the GPU too: a grid of 32x32 tiles.
    return frame.draw_now([&](gen8::CmdWriter& w) {
      for (uint32_t ty = 0; ty < kPatH / 32; ++ty)
        for (uint32_t tx = 0; tx < kPatW / 32; ++tx)
          w.color_blt(pattern_va_, kPatPitch, tx * 32, ty * 32, tx * 32 + 32, ty * 32 + 32,
                      hash32(ty * 64 + tx) & 0xFFFFFF);
    });
  }

  drv::Result<void> frame(uint32_t i) override {
    drv::Batch& b = fr_->batch(i);
    if (auto r = b.begin(); !r) return r;
    gen8::CmdWriter& w = b.cmds();
    const uint64_t dst = fr_->back_va(i);
    const uint32_t W = Frame2d::kWidth, H = Frame2d::kHeight, P = Frame2d::kPitch;
    w.color_blt(dst, P, 0, 0, W, H, 0x00203040u + (i % 64) * 0x010101u);
    for (uint32_t k = 0; k < 8; ++k) {
      uint32_t x = tri(i * 7 + k * 97, W - 256), y = tri(i * 5 + k * 61, H - 192);
      w.color_blt(dst, P, x, y, x + 256, y + 192, hash32(i * 8 + k) & 0xFFFFFF);
    }
    uint32_t px = tri(i * 9, W - kPatW), py = tri(i * 4, H - kPatH);
    w.src_copy_blt(dst, P, px, py, px + kPatW, py + kPatH, pattern_va_, kPatPitch, 0, 0);
    // An overlapping copy within the frame (blitter copies handle overlap).
    uint32_t ox = 32 + tri(i, 64);
    w.src_copy_blt(dst, P, ox, 16, ox + 384, 16 + 256, dst, P, 0, 0);
    auto s = fr_->submit(i, b);
    if (!s) return tl::unexpected(s.error());
    return {};
  }

  void fini() override {
    if (fr_) fr_->release(pattern_);
    fr_ = nullptr;
  }

 private:
  Info info_{"fill", "GPU-bound: full-screen fills, large rectangles and large copies"};
  Frame2d* fr_ = nullptr;
  drv::Bo pattern_;
  uint64_t pattern_va_ = 0;
};

Fill g_fill;

}  // namespace

Workload& fill_workload() { return g_fill; }

}  // namespace wl
