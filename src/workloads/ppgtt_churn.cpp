// `ppgtt-churn`: page-table-bound. Every frame moves each of a few buffers
// to another address of its PPGTT (its old mapping is removed, a new one
// written, one 8-byte store per page) and draws by copying from those
// addresses: the page-table write path, which PPGTT shadowing traps, is
// exercised on purpose, and a stale or wrong translation shows on screen.
#include "workloads/registry.h"

namespace wl {

namespace {

constexpr uint32_t kBuffers = 4;
constexpr uint32_t kBufW = 128, kBufH = 128, kBufPitch = kBufW * 4;
constexpr uint64_t kBufBytes = uint64_t{kBufPitch} * kBufH;  // 16 pages
constexpr uint32_t kRowsPerPage = gen8::kPageSize / kBufPitch;
constexpr uint32_t kSlots = 8;  // per batch parity, each under its own PDP entry
// Far above what the context's own address allocator hands out.
constexpr uint64_t kSlotBase = 0x7000'0000'0000ull, kSlotStride = 1ull << 30;

class PpgttChurn final : public Registered<PpgttChurn> {
 public:
  const Info& info() const override { return info_; }

  drv::Result<void> init(drv::Device&, Frame2d& frame, Latency*) override {
    fr_ = &frame;
    for (uint32_t k = 0; k < kBuffers; ++k) {
      auto va = frame.surface(bufs_[k], kBufBytes);
      if (!va) return tl::unexpected(va.error());
      // Every page of every buffer has its own colour.
      const uint64_t at = *va;
      auto r = frame.draw_now([&](gen8::CmdWriter& w) {
        for (uint32_t y = 0; y < kBufH; y += kRowsPerPage)
          w.color_blt(at, kBufPitch, 0, y, kBufW, y + kRowsPerPage, hash32(k * 64 + y) & 0xFFFFFF);
      });
      if (!r) return r;
    }
    return {};
  }

  drv::Result<void> frame(uint32_t i) override {
    drv::Batch& b = fr_->batch(i);
    // Once the batch is free, the GPU is done with the frame that last used
    // this parity's mappings: they may move.
    if (auto r = b.begin(); !r) return r;
    drv::Ppgtt& pt = fr_->ctx().ppgtt();
    uint64_t* mapped = mapped_[i & 1];
    // All old mappings go before any new one: a buffer's new slot may be
    // where another one was.
    for (uint32_t k = 0; k < kBuffers; ++k)
      if (mapped[k]) pt.unmap(mapped[k], kBufBytes);
    for (uint32_t k = 0; k < kBuffers; ++k) {
      mapped[k] = kSlotBase + ((i & 1) * kSlots + (k + i / 2) % kSlots) * kSlotStride;
      if (auto r = pt.map(mapped[k], bufs_[k].pages.phys, kBufBytes); !r) return r;
    }
    gen8::CmdWriter& w = b.cmds();
    const uint64_t dst = fr_->back_va(i);
    const uint32_t W = Frame2d::kWidth, H = Frame2d::kHeight, P = Frame2d::kPitch;
    w.color_blt(dst, P, 0, 0, W, H, 0x00181818u + (i % 32) * 0x000102u);
    for (uint32_t k = 0; k < kBuffers; ++k)
      for (uint32_t n = 0; n < 6; ++n) {
        const uint32_t x = tri(i * 3 + k * 211 + n * 97, W - kBufW), y = tri(i * 2 + k * 89 + n * 53, H - kBufH);
        w.src_copy_blt(dst, P, x, y, x + kBufW, y + kBufH, mapped[k], kBufPitch, 0, 0);
      }
    auto s = fr_->submit(i, b);
    if (!s) return tl::unexpected(s.error());
    return {};
  }

  void fini() override {
    if (!fr_) return;
    for (auto& parity : mapped_)
      for (uint64_t& va : parity) {
        if (va) fr_->ctx().ppgtt().unmap(va, kBufBytes);
        va = 0;
      }
    for (drv::Bo& bo : bufs_) fr_->release(bo);
    fr_ = nullptr;
  }

 private:
  Info info_{"ppgtt-churn", "page-table-bound: buffers move in the PPGTT every frame, 128 PTE writes per frame"};
  Frame2d* fr_ = nullptr;
  drv::Bo bufs_[kBuffers];
  uint64_t mapped_[2][kBuffers] = {};
};

PpgttChurn g_ppgtt_churn;

}  // namespace

Workload& ppgtt_churn_workload() { return g_ppgtt_churn; }

}  // namespace wl
