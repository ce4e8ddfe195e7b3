// `hang`: hostile on purpose, for containment runs
// (`gvirt run --vm desktop2d --vm hang`). Its first frame's batch never
// ends. On a vGPU the scheduler resets the engine at its drain timeout and
// the vGPU goes to failsafe ("<engine>: the GPU hung ..."), and only that VM
// stops; natively nothing resets the engine and the driver's wait times out.
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

  drv::Result<void> init(drv::Device&, Frame2d& frame, Latency*) override {
    fr_ = &frame;
    return {};
  }

  drv::Result<void> frame(uint32_t) override {
    drv::Batch& b = fr_->batch(0);
    if (auto r = b.begin(); !r) return r;
    auto s = submit_endless(b);
    if (!s) return tl::unexpected(s.error());
    return fr_->ctx().wait(*s);
  }

 private:
  Info info_{"hang", "hostile: its first batch jumps to itself forever; only an engine reset ends it", true};
  Frame2d* fr_ = nullptr;
};

Hang g_hang;

}  // namespace

Workload& hang_workload() { return g_hang; }

}  // namespace wl
