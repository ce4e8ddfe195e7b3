// `desktop2d`: a 2D desktop the way cairo draws one: per frame, a background
// and a dozen moving windows made of many small fills and glyph copies from a
// glyph atlas, all batched into one batch buffer.
#include "workloads/registry.h"

namespace wl {

namespace {

constexpr uint32_t kGlyphW = 8, kGlyphH = 16, kAtlasCols = 32, kAtlasRows = 4;
constexpr uint32_t kAtlasW = kGlyphW * kAtlasCols, kAtlasH = kGlyphH * kAtlasRows;
constexpr uint32_t kAtlasPitch = kAtlasW * 4;
constexpr uint32_t kWinW = 300, kWinH = 200, kWindows = 12, kTextRows = 6, kTextCols = 32;

class Desktop2d final : public Registered<Desktop2d> {
 public:
  const Info& info() const override { return info_; }

  drv::Result<void> init(drv::Device&, Frame2d& frame, Latency*) override {
    fr_ = &frame;
    auto va = frame.surface(atlas_, uint64_t{kAtlasPitch} * kAtlasH);
    if (!va) return tl::unexpected(va.error());
    atlas_va_ = *va;
    // Glyphs: dark strokes on the window body colour, drawn by the GPU.
    return frame.draw_now([&](gen8::CmdWriter& w) {
      w.color_blt(atlas_va_, kAtlasPitch, 0, 0, kAtlasW, kAtlasH, kBody);
      for (uint32_t g = 0; g < kAtlasCols * kAtlasRows; ++g) {
        uint32_t gx = (g % kAtlasCols) * kGlyphW, gy = (g / kAtlasCols) * kGlyphH;
        for (uint32_t s = 0; s < 3; ++s) {
          uint32_t h = hash32(g * 3 + s);
          uint32_t x = gx + 1 + h % 5, y = gy + 2 + (h >> 8) % 11;
          uint32_t vertical = (h >> 16) & 1;
          w.color_blt(atlas_va_, kAtlasPitch, x, y, x + (vertical ? 1 : 3),
                      y + (vertical ? 4 : 1), 0x00101010u);
        }
      }
    });
  }

  drv::Result<void> frame(uint32_t i) override {
    drv::Batch& b = fr_->batch(i);
    if (auto r = b.begin(); !r) return r;
    gen8::CmdWriter& w = b.cmds();
    const uint64_t dst = fr_->back_va(i);
    const uint32_t P = Frame2d::kPitch;
    w.color_blt(dst, P, 0, 0, Frame2d::kWidth, Frame2d::kHeight, 0x00336699u);
    for (uint32_t n = 0; n < kWindows; ++n) {
      uint32_t x = tri(i * (n % 3 + 1) * 3 + n * 131, Frame2d::kWidth - kWinW);
      uint32_t y = tri(i * (n % 4 + 1) * 2 + n * 71, Frame2d::kHeight - kWinH);
      uint32_t frame_col = hash32(n) & 0x7F7F7F;
      w.color_blt(dst, P, x, y, x + kWinW, y + 2, frame_col);
      w.color_blt(dst, P, x, y + kWinH - 2, x + kWinW, y + kWinH, frame_col);
      w.color_blt(dst, P, x, y, x + 2, y + kWinH, frame_col);
      w.color_blt(dst, P, x + kWinW - 2, y, x + kWinW, y + kWinH, frame_col);
      w.color_blt(dst, P, x + 2, y + 2, x + kWinW - 2, y + 20, frame_col | 0x808080);
      w.color_blt(dst, P, x + 2, y + 20, x + kWinW - 2, y + kWinH - 2, kBody);
      w.color_blt(dst, P, x + kWinW - 18, y + 4, x + kWinW - 6, y + 16, 0x00CC3333u);
      for (uint32_t row = 0; row < kTextRows; ++row)
        for (uint32_t col = 0; col < kTextCols; ++col) {
          uint32_t g = hash32(n * 4096 + row * 64 + col + i / 8) % (kAtlasCols * kAtlasRows);
          uint32_t tx = x + 8 + col * kGlyphW, ty = y + 26 + row * (kGlyphH + 4);
          w.src_copy_blt(dst, P, tx, ty, tx + kGlyphW, ty + kGlyphH, atlas_va_, kAtlasPitch,
                         (g % kAtlasCols) * kGlyphW, (g / kAtlasCols) * kGlyphH);
        }
    }
    auto s = fr_->submit(i, b);
    if (!s) return tl::unexpected(s.error());
    return {};
  }

  void fini() override {
    if (fr_) fr_->release(atlas_);
    fr_ = nullptr;
  }

 private:
  static constexpr uint32_t kBody = 0x00E8E8E0u;
  Info info_{"desktop2d", "2D desktop: many small fills and glyph copies per frame, batched"};
  Frame2d* fr_ = nullptr;
  drv::Bo atlas_;
  uint64_t atlas_va_ = 0;
};

Desktop2d g_desktop2d;

}  // namespace

Workload& desktop2d_workload() { return g_desktop2d; }

}  // namespace wl
