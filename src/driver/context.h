// A logical ring context with its own full PPGTT, its ring, and batch
// submission: the ring carries MI_BATCH_BUFFER_START into a PPGTT batch
// (unprivileged), then the seqno post-sync to the driver's HWSP through the
// GGTT (privileged, so it belongs in the ring), then one ELSP write sequence.
#pragma once

#include <cstdint>

#include "common/gen8/encode.h"
#include "driver/device.h"
#include "driver/display.h"
#include "driver/ppgtt.h"

namespace drv {

class Context {
 public:
  static constexpr uint32_t kDefaultRing = 16 * 1024;

  Result<void> init(Device& dev, int engine, uint32_t ring_bytes = kDefaultRing);
  void fini();
  int engine() const { return engine_; }
  uint32_t id() const { return id_; }
  uint32_t lrca() const { return static_cast<uint32_t>(image_.gm); }
  Ppgtt& ppgtt() { return ppgtt_; }
  Device& device() { return *dev_; }

  // Binds `bo` into this context's PPGTT: at its GGTT address when it has
  // one (one address for both views), else at a fresh address above 4 GiB.
  Result<uint64_t> bind(const Bo& bo);
  void unbind(const Bo& bo, uint64_t va);

  // Runs the batch at `batch_va` (ended by MI_BATCH_BUFFER_END), then the
  // optional flip, in GPU order. Returns the seqno that marks completion.
  Result<uint32_t> submit(uint64_t batch_va, const FlipRequest* flip = nullptr);
  Result<void> wait(uint32_t seqno, uint64_t timeout_ns = 5'000'000'000ull) {
    return dev_->wait_seqno(engine_, seqno, timeout_ns);
  }

 private:
  struct Inflight {
    uint32_t seqno, tail;
  };
  Result<void> make_room(uint32_t bytes);
  uint32_t* regs() { return reinterpret_cast<uint32_t*>(static_cast<uint8_t*>(image_.pages.cpu) + gen8::kPageSize); }

  Device* dev_ = nullptr;
  int engine_ = 0;
  uint32_t id_ = 0;
  Bo image_, ring_;
  Ppgtt ppgtt_;
  GmAllocator va_;  // PPGTT-only addresses
  uint32_t ring_size_ = 0, tail_ = 0, head_ = 0;
  static constexpr int kMaxInflight = 512;
  Inflight inflight_[kMaxInflight];
  int in_first_ = 0, in_count_ = 0;
};

// A batch buffer in a context's PPGTT, built with the table's encoders.
class Batch {
 public:
  Result<void> init(Context& ctx, uint32_t bytes);
  void fini();
  // Waits for the previous run of this buffer, then starts an empty batch.
  Result<void> begin();
  gen8::CmdWriter& cmds() { return w_; }
  // Ends the batch and submits it; returns the seqno.
  Result<uint32_t> submit(const FlipRequest* flip = nullptr);
  uint32_t last_seqno() const { return seqno_; }
  uint64_t va() const { return va_; }  // where the batch starts in the PPGTT

 private:
  Context* ctx_ = nullptr;
  Bo bo_;
  uint64_t va_ = 0;
  gen8::CmdWriter w_{nullptr, 0};
  uint32_t seqno_ = 0;
  bool used_ = false;
};

}  // namespace drv
