// The workload runner and the pieces the 2D workloads share.
#include <algorithm>

#include "common/frame_hash.h"
#include "workloads/registry.h"
#include "workloads/workload.h"

namespace wl {

void Latency::add(uint64_t ns) {
  if (n < kSamples) samples[n++] = ns;
  total += ns;
  ++count;
  if (ns > max) max = ns;
}

uint64_t Latency::percentile(uint32_t pct) {
  if (!n) return 0;
  uint32_t k = static_cast<uint32_t>((uint64_t{n} - 1) * pct / 100);
  std::nth_element(samples, samples + k, samples + n);
  return samples[k];
}

drv::Result<void> Frame2d::init(drv::Device& dev, bool async, int engine) {
  dev_ = &dev;
  for (auto& fb : fb_) {
    auto b = dev.create_bo(uint64_t{kPitch} * kHeight, drv::kBoGgtt | drv::kBoMappable);
    if (!b) return tl::unexpected(b.error());
    fb = *b;
  }
  if (auto r = ctx_.init(dev, engine); !r) return r;
  for (int i = 0; i < 2; ++i) {
    auto va = ctx_.bind(fb_[i]);
    if (!va) return tl::unexpected(va.error());
    fb_va_[i] = *va;
    if (auto r = batch_[i].init(ctx_, 256 * 1024); !r) return r;
  }
  return display_.modeset(dev, 0, drv::Mode{kWidth, kHeight}, fb_[1], async);
}

void Frame2d::fini() {
  for (auto& b : batch_) b.fini();
  ctx_.fini();
  for (auto& fb : fb_) dev_->destroy_bo(fb);
}

drv::Result<uint64_t> Frame2d::checksum(uint32_t i) {
  for (auto& b : batch_)
    if (auto r = ctx_.wait(b.last_seqno()); b.last_seqno() && !r) return tl::unexpected(r.error());
  return common::frame_hash(dev_->aperture_ptr(back(i)), uint64_t{kPitch} * kHeight);
}

drv::Result<uint64_t> Frame2d::surface(drv::Bo& bo, uint64_t bytes) {
  auto b = dev_->create_bo(bytes, 0);
  if (!b) return tl::unexpected(b.error());
  bo = *b;
  return ctx_.bind(bo);
}

int workload_count() { return registry_size(); }
const Info& workload_info(int i) { return registry()[i]->info(); }

const Info* find_workload(const char* name) {
  for (int i = 0; i < registry_size(); ++i) {
    const char* a = registry()[i]->info().name;
    const char* b = name;
    while (*a && *a == *b) ++a, ++b;
    if (*a == *b) return &registry()[i]->info();
  }
  return nullptr;
}

Result run(drv::Device& dev, const char* name, const Params& params, Latency* latency) {
  Result r;
  r.latency = latency;
  const Info* info = find_workload(name);
  if (!info) {
    r.error = "unknown workload";
    return r;
  }
  alignas(64) unsigned char storage[kMaxWorkloadBytes];
  Workload* w = nullptr;
  for (int i = 0; i < registry_size(); ++i)
    if (&registry()[i]->info() == info) w = registry()[i]->construct(storage);
  Frame2d frame;
  auto fail = [&](drv::Error e) {
    const char* why = w->failure();
    r.error = why ? why : drv::error_name(e);
    w->fini();  // its buffers live in the frame's context
    frame.fini();
    w->destroy();
    return r;
  };
  if (auto s = frame.init(dev, params.async_flips, w->engine()); !s) return fail(s.error());
  if (auto s = w->init(dev, frame, latency); !s) return fail(s.error());
  r.contexts[r.n_contexts++] = frame.ctx().lrca();
  if (params.on_start) params.on_start(params.user);
  uint64_t t0 = dev.platform().now_ns();
  const drv::DriverStats s0 = dev.stats();
  uint32_t i = 0;
  for (; i < params.frames; ++i) {
    if (params.max_ns && dev.platform().now_ns() - t0 >= params.max_ns) break;
    if (auto s = w->frame(i); !s) return fail(s.error());
  }
  r.frames = i;
  const drv::DriverStats& s1 = dev.stats();
  r.cpu_ns = dev.platform().now_ns() - t0 - (s1.wait_ns - s0.wait_ns) - (s1.mmio_ns - s0.mmio_ns);
  if (i) {
    auto sum = frame.checksum(i - 1);
    if (!sum) return fail(sum.error());
    r.guest_checksum = *sum;
  }
  if (params.on_done) params.on_done(params.user);
  w->fini();
  frame.fini();
  w->destroy();
  r.ok = true;
  return r;
}

}  // namespace wl
