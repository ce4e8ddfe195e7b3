// `submit`: submission-bound. Each frame is 64 tiny batches, each waited on
// before the next is built: the cost of a submission round trip (ELSP write to
// seqno in memory) dominates, which is where mediation shows.
#include "workloads/registry.h"

namespace wl {

namespace {

constexpr uint32_t kBatchesPerFrame = 64, kSquare = 16;

class Submit final : public Registered<Submit> {
 public:
  const Info& info() const override { return info_; }

  drv::Result<void> init(drv::Device& dev, Frame2d& frame, Latency* latency) override {
    dev_ = &dev;
    fr_ = &frame;
    latency_ = latency;
    return {};
  }

  drv::Result<void> frame(uint32_t i) override {
    const uint64_t dst = fr_->back_va(i);
    const uint32_t P = Frame2d::kPitch;
    for (uint32_t k = 0; k < kBatchesPerFrame; ++k) {
      drv::Batch& b = fr_->batch(k);
      if (auto r = b.begin(); !r) return r;
      if (k == 0) {
        b.cmds().color_blt(dst, P, 0, 0, Frame2d::kWidth, Frame2d::kHeight, 0x00101820u);
      } else {
        uint32_t h = hash32(i * kBatchesPerFrame + k);
        uint32_t x = (k % 32) * 32 + tri(i, 16), y = (k / 32) * 384 + h % 360;
        b.cmds().color_blt(dst, P, x, y, x + kSquare, y + kSquare, h & 0xFFFFFF);
      }
      uint64_t t0 = dev_->platform().now_ns();
      auto s = k + 1 == kBatchesPerFrame ? fr_->submit(i, b) : b.submit();
      if (!s) return tl::unexpected(s.error());
      if (auto r = fr_->ctx().wait(*s); !r) return r;
      if (latency_) latency_->add(dev_->platform().now_ns() - t0);
    }
    return {};
  }

 private:
  Info info_{"submit", "submission-bound: 64 tiny batches per frame, each waited on"};
  drv::Device* dev_ = nullptr;
  Frame2d* fr_ = nullptr;
  Latency* latency_ = nullptr;
};

Submit g_submit;

}  // namespace

Workload& submit_workload() { return g_submit; }

}  // namespace wl
