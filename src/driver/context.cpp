#include "driver/context.h"

#include "driver/pv.h"

namespace drv {

using namespace gen8;

Result<void> Context::init(Device& dev, int engine, uint32_t ring_bytes) {
  dev_ = &dev;
  engine_ = engine;
  id_ = dev.new_ctx_id();
  ring_size_ = ring_bytes;
  if (auto r = ppgtt_.init(dev.platform()); !r) return r;
  pv_notify_ppgtt(dev.platform(), dev.pv(), ppgtt_.root(), true);
  auto img = dev.create_bo((engine == 0 ? kCtxRcsPages : kCtxBcsPages) * kPageSize, kBoGgtt);
  if (!img) return tl::unexpected(img.error());
  image_ = *img;
  auto ring = dev.create_bo(ring_bytes, kBoGgtt);
  if (!ring) return tl::unexpected(ring.error());
  ring_ = *ring;
  va_.init(kGmSize, kPpgttSize);
  uint32_t* r = regs();
  r[ctx::CONTEXT_CONTROL] = kCtxCtrlRestoreInhibit;
  r[ctx::RING_START] = static_cast<uint32_t>(ring_.gm);
  r[ctx::RING_CTL] = ring_ctl(ring_bytes);
  r[ctx::PDP0_UDW] = static_cast<uint32_t>(ppgtt_.root() >> 32);
  r[ctx::PDP0_LDW] = static_cast<uint32_t>(ppgtt_.root());
  return {};
}

void Context::fini() {
  if (!dev_) return;
  dev_->destroy_bo(ring_);
  dev_->destroy_bo(image_);
  if (ppgtt_.root()) pv_notify_ppgtt(dev_->platform(), dev_->pv(), ppgtt_.root(), false);
  ppgtt_.destroy();
  dev_ = nullptr;
}

Result<uint64_t> Context::bind(const Bo& bo) {
  uint64_t va = bo.gm;
  if (!va) {
    auto a = va_.alloc(bo.size, kPageSize, kGmSize, kPpgttSize);
    if (!a) return tl::unexpected(a.error());
    va = *a;
  }
  if (auto r = ppgtt_.map(va, bo.pages.phys, bo.size); !r) return tl::unexpected(r.error());
  return va;
}

void Context::unbind(const Bo& bo, uint64_t va) {
  ppgtt_.unmap(va, bo.size);
  if (!bo.gm) va_.free(va, bo.size);
}

// Frees ring space up to the newest completed submission, waiting when full.
Result<void> Context::make_room(uint32_t bytes) {
  for (;;) {
    while (in_count_ && dev_->seqno_passed(engine_, inflight_[in_first_].seqno)) {
      head_ = inflight_[in_first_].tail;
      in_first_ = (in_first_ + 1) % kMaxInflight;
      --in_count_;
    }
    uint32_t used = (tail_ + ring_size_ - head_) % ring_size_;
    if (used + bytes + 8 <= ring_size_ && in_count_ < kMaxInflight) return {};
    if (!in_count_) return tl::unexpected(Error::RingFull);
    if (auto w = wait(inflight_[in_first_].seqno); !w) return w;
  }
}

Result<uint32_t> Context::submit(uint64_t batch_va, const FlipRequest* flip) {
  uint32_t cmds[16];
  CmdWriter w(cmds, 16);
  uint32_t seqno = dev_->alloc_seqno(engine_);
  w.bb_start(batch_va, true);
  // A flip is privileged: it goes in the ring, ordered after the batch.
  if (flip) w.display_flip(flip->plane, flip->stride, flip->surface, flip->async);
  if (engine_ == 0)
    w.pipe_control(dev_->seqno_gm(engine_), seqno, true, false);
  else
    w.flush_dw(dev_->seqno_gm(engine_), seqno, true, false);
  if (w.size() & 1) w.noop();
  if (auto r = make_room(w.bytes()); !r) return tl::unexpected(r.error());
  // Wait for the port before touching the ring tail in the image.
  if (auto r = dev_->wait_port(engine_); !r) return tl::unexpected(r.error());
  auto* ring = ring_.dwords();
  for (uint32_t i = 0; i < w.size(); ++i) {
    ring[tail_ / 4] = cmds[i];
    tail_ = (tail_ + 4) % ring_size_;
  }
  dev_->observe(engine_, true, cmds, w.size());
  inflight_[(in_first_ + in_count_) % kMaxInflight] = {seqno, tail_};
  ++in_count_;
  published(regs()[ctx::RING_TAIL], tail_);
  uint64_t desc = uint64_t{id_} << 32 | lrca() | kDescValid | kDescAddrModeLegacy64 | kDescPrivilege;
  dev_->elsp_submit(engine_, id_, desc);
  return seqno;
}

Result<void> Batch::init(Context& ctx, uint32_t bytes) {
  ctx_ = &ctx;
  auto bo = ctx.device().create_bo(bytes, 0);
  if (!bo) return tl::unexpected(bo.error());
  bo_ = *bo;
  auto va = ctx.bind(bo_);
  if (!va) return tl::unexpected(va.error());
  va_ = *va;
  w_ = CmdWriter(bo_.dwords(), static_cast<uint32_t>(bo_.size / 4));
  return {};
}

void Batch::fini() {
  if (!ctx_) return;
  ctx_->unbind(bo_, va_);
  ctx_->device().destroy_bo(bo_);
  ctx_ = nullptr;
}

Result<void> Batch::begin() {
  if (used_)
    if (auto r = ctx_->wait(seqno_); !r) return r;
  w_ = CmdWriter(bo_.dwords(), static_cast<uint32_t>(bo_.size / 4));
  return {};
}

Result<uint32_t> Batch::submit(const FlipRequest* flip) {
  w_.bb_end();
  if (w_.overflow()) return tl::unexpected(Error::BadArgument);
  ctx_->device().observe(ctx_->engine(), false, bo_.dwords(), w_.size());
  auto s = ctx_->submit(va_, flip);
  if (!s) return s;
  seqno_ = *s;
  used_ = true;
  return s;
}

}  // namespace drv
