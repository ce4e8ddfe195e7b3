// `hang`: hostile on purpose, for containment runs
// (`gvirt run --vm desktop2d --vm hang`). It draws plain frames for its
// first second, so co-runners are measuring by then, and then submits a
// batch that never ends. On a vGPU the scheduler resets the engine at its
// drain timeout and the vGPU goes to failsafe ("<engine>: the GPU hung ..."),
// and only that VM stops; natively nothing resets the engine and the
// driver's wait times out.
#include "workloads/registry.h"

namespace wl {

drv::Result<uint32_t> submit_endless(drv::Batch& b, uint64_t sem_va) {
  if (sem_va)
    b.cmds().semaphore_wait(sem_va, 1, gen8::SemOp::Equal, false);
  else
    b.cmds().bb_start(b.va(), true);
  return b.submit();
}

namespace {

class Hang final : public Registered<Hang> {
 public:
  const Info& info() const override { return info_; }

  drv::Result<void> init(drv::Device& dev, Frame2d& frame, Latency*) override {
    dev_ = &dev;
    fr_ = &frame;
    start_ns_ = dev.platform().now_ns();
    return {};
  }

  drv::Result<void> frame(uint32_t i) override {
    drv::Batch& b = fr_->batch(i);
    if (auto r = b.begin(); !r) return r;
    if (dev_->platform().now_ns() - start_ns_ < kPlainNs) {
      b.cmds().color_blt(fr_->back_va(i), Frame2d::kPitch, 0, 0, Frame2d::kWidth, Frame2d::kHeight,
                         hash32(i) & 0xFFFFFF);
      auto s = fr_->submit(i, b);
      return s ? drv::Result<void>{} : tl::unexpected(s.error());
    }
    auto s = submit_endless(b);
    if (!s) return tl::unexpected(s.error());
    return fr_->ctx().wait(*s);
  }

 private:
  Info info_{"hang", "hostile: after 1 s of plain frames, a batch that jumps to itself forever",
             true};
  static constexpr uint64_t kPlainNs = 1'000'000'000;
  drv::Device* dev_ = nullptr;
  Frame2d* fr_ = nullptr;
  uint64_t start_ns_ = 0;
};

Hang g_hang;

}  // namespace

Workload& hang_workload() { return g_hang; }

}  // namespace wl
