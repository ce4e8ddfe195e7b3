// GPU workloads, written on the driver only. Each renders 1024x768
// XRGB8888 frames and flips them to pipe A. Animation is a function of the
// frame index alone, so every run of a workload draws the same frames.
#pragma once

#include <cstdint>

#include "driver/context.h"
#include "driver/device.h"
#include "driver/display.h"

namespace wl {

struct Params {
  uint32_t frames = 200;
  uint64_t max_ns = 0;  // stop after this long instead (0: run all frames)
  bool async_flips = true;
  // Called once set-up is done, just before the first frame (the host starts
  // its clocks and counters there).
  void (*on_start)(void* user) = nullptr;
  // Called once the last frame has completed and is on screen, before
  // teardown (the host stops its clocks and scans out there).
  void (*on_done)(void* user) = nullptr;
  void* user = nullptr;
};

struct Latency {
  static constexpr uint32_t kSamples = 8192;
  uint64_t samples[kSamples];
  uint32_t n = 0;
  uint64_t total = 0, count = 0, max = 0;
  void add(uint64_t ns);
  uint64_t percentile(uint32_t pct);  // reorders the samples
};

struct Result {
  bool ok = false;
  const char* error = nullptr;
  uint32_t frames = 0;
  uint64_t guest_checksum = 0;  // XXH3 of the last front buffer, read through the aperture
  uint32_t contexts[4] = {};    // LRCAs the workload used (the host sums model counters)
  int n_contexts = 0;
  Latency* latency = nullptr;   // ELSP -> completion, for submission-bound workloads
  uint64_t cpu_ns = 0;          // frame time not spent waiting for the GPU or in MMIO
};

struct Info {
  const char* name;
  const char* description;
  // Made to be stopped (a batch that never ends): no native checksum, and
  // runs that expect every workload to finish leave it out.
  bool hostile = false;
};

int workload_count();
const Info& workload_info(int i);
const Info* find_workload(const char* name);
// Runs `name` on an initialised device. `latency` may be null.
Result run(drv::Device& dev, const char* name, const Params& params, Latency* latency);

// ---- shared by the workloads ----

// Two scanout buffers (mappable, GGTT), a context on the workload's engine
// (the blitter, or the render engine for 3D) and two batches used
// alternately, so the CPU fills one while the GPU runs the other.
class Frame2d {
 public:
  static constexpr uint32_t kWidth = 1024, kHeight = 768, kPitch = kWidth * 4;
  drv::Result<void> init(drv::Device& dev, bool async, int engine = 1);
  void fini();
  // The buffer to draw frame `i` into, and its PPGTT address.
  const drv::Bo& back(uint32_t i) const { return fb_[i & 1]; }
  uint64_t back_va(uint32_t i) const { return fb_va_[i & 1]; }
  drv::Batch& batch(uint32_t i) { return batch_[i & 1]; }
  drv::Context& ctx() { return ctx_; }
  // Submits `b` followed, in the ring, by the flip to frame `i`.
  drv::Result<uint32_t> submit(uint32_t i, drv::Batch& b) {
    drv::FlipRequest flip = display_.flip_request(back(i));
    return b.submit(&flip);
  }
  // Flips to frame `i` by MMIO now: for frames the CPU drew, with no submission.
  drv::Result<void> flip_now(uint32_t i) { return display_.flip(back(i)); }
  // Waits for the GPU and hashes the front buffer of frame `i`.
  drv::Result<uint64_t> checksum(uint32_t i);
  // An off-screen surface (PPGTT only) bound in the frame's context.
  drv::Result<uint64_t> surface(drv::Bo& bo, uint64_t bytes);
  void release(drv::Bo& bo) { dev_->destroy_bo(bo); }
  // Runs the commands `build` writes, now, and waits for them.
  template <class Build>
  drv::Result<void> draw_now(Build&& build) {
    drv::Batch& b = batch(0);
    if (auto r = b.begin(); !r) return r;
    build(b.cmds());
    auto s = b.submit();
    if (!s) return tl::unexpected(s.error());
    return ctx_.wait(*s);
  }

 private:
  drv::Device* dev_ = nullptr;
  drv::Bo fb_[2];
  uint64_t fb_va_[2] = {};
  drv::Context ctx_;
  drv::Batch batch_[2];
  drv::Display display_;
};

// Submits `b` (begun) as a batch that never ends: MI_BATCH_BUFFER_START to
// itself, or, with a `sem_va`, an MI_SEMAPHORE_WAIT for 1 there (where
// nobody writes). Every command is legal and the batch is PPGTT, so no
// scanner stops it: only an engine reset does.
drv::Result<uint32_t> submit_endless(drv::Batch& b, uint64_t sem_va = 0);

// Small integer helpers for deterministic animation.
inline uint32_t hash32(uint32_t x) {
  x ^= x >> 16;
  x *= 0x7FEB352Du;
  x ^= x >> 15;
  x *= 0x846CA68Bu;
  x ^= x >> 16;
  return x;
}
inline uint32_t tri(uint32_t t, uint32_t range) {  // 0..range..0 triangle wave
  uint32_t p = t % (2 * range);
  return p < range ? p : 2 * range - p;
}

}  // namespace wl
