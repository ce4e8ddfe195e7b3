// Runs of the real workloads for the mediator's tests: natively (the
// baseline), as a guest on a vGPU (test_support::GuestVm), and what each
// must match.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "common/gen8/cmds.h"
#include "driver/device.h"
#include "gvt/fb_decoder.h"
#include "host/hw_platform.h"
#include "hw/gpu.h"
#include "support/mediated_host.h"
#include "workloads/workload.h"

namespace test_support {

// Few frames: each still submits set-up and frame batches with flips, and
// `submit` makes 64 ELSP round trips per frame.
inline constexpr uint32_t kFrames = 6;

struct Screen {
  uint32_t width = 0, height = 0;
  std::vector<uint32_t> pixels;
  bool operator==(const Screen&) const = default;
};

struct Outcome {
  static Outcome failed(std::string why) {
    Outcome o;
    o.error = std::move(why);
    return o;
  }
  std::string error;  // empty: the workload ran
  uint32_t frames = 0;
  uint64_t guest_checksum = 0;
  Screen screen;  // natively the scanout, mediated the decoded vGPU plane
  uint64_t commands = 0, pixels = 0;
};

inline std::string describe(const Screen& a, const Screen& b) {
  if (a.width != b.width || a.height != b.height)
    return std::to_string(a.width) + "x" + std::to_string(a.height) + " vs " + std::to_string(b.width) + "x" +
           std::to_string(b.height);
  for (size_t i = 0; i < a.pixels.size(); ++i)
    if (a.pixels[i] != b.pixels[i])
      return "first difference at pixel " + std::to_string(i) + ": " + std::to_string(a.pixels[i]) + " vs " +
             std::to_string(b.pixels[i]);
  return "equal";
}

// `name` on an initialised driver; `screen` takes the screen when the last
// frame is up. The GPU's counters are the caller's to add.
inline Outcome run_workload(drv::Device& dev, const std::string& name, uint32_t frames,
                            std::function<tl::expected<Screen, std::string>()> screen, wl::Result* res_out) {
  Outcome out;
  struct Ctx {
    std::function<tl::expected<Screen, std::string>()>* screen;
    Outcome* out;
  } ctx{&screen, &out};
  wl::Params p;
  p.frames = frames;
  p.user = &ctx;
  p.on_done = [](void* u) {
    auto* c = static_cast<Ctx*>(u);
    auto s = (*c->screen)();
    if (!s)
      c->out->error = s.error();
    else
      c->out->screen = std::move(*s);
  };
  wl::Result res = wl::run(dev, name.c_str(), p, nullptr);
  if (!res.ok && out.error.empty()) out.error = res.error ? res.error : "workload failed";
  out.frames = res.frames;
  out.guest_checksum = res.guest_checksum;
  if (res_out) *res_out = res;
  return out;
}

inline tl::expected<Screen, std::string> scanout(hw::Gpu& gpu) {
  auto f = gpu.scanout(0);
  if (!f) return tl::unexpected("scanout: " + f.error());
  return Screen{f->width, f->height, std::move(f->pixels)};
}

// The work a driver's contexts did, as the GPU counted it.
inline void add_counters(hw::Gpu& gpu, const wl::Result& res, Outcome& out) {
  for (int i = 0; i < res.n_contexts; ++i) {
    auto c = gpu.counters(res.contexts[i]);
    out.commands += c.commands;
    out.pixels += c.pixels;
  }
}

// As `gvirt native`: the host build of the driver owning its own GPU model.
inline Outcome run_native(const std::string& name, uint32_t frames) {
  auto g = hw::Gpu::create(hw::GpuConfig{1ull << 30, false});
  if (!g) return Outcome::failed(g.error());
  hw::Gpu& gpu = **g;
  host::HwPlatform plat(gpu);
  drv::Device dev;
  if (auto r = dev.init(plat); !r) return Outcome::failed(drv::error_name(r.error()));
  wl::Result res;
  Outcome out = run_workload(dev, name, frames, [&] { return scanout(gpu); }, &res);
  add_counters(gpu, res, out);
  dev.fini();
  return out;
}

// Cached per workload; fill it on the main thread only.
inline const Outcome& native(const std::string& name) {
  static std::map<std::string, Outcome> cache;
  auto it = cache.find(name);
  if (it == cache.end()) it = cache.emplace(name, run_native(name, kFrames)).first;
  return it->second;
}

// The guest's run: its driver on the vGPU, the screen decoded by the host
// from the vGPU's plane when the last frame is up (as `gvirt run` does), and
// the GPU's counters of the shadow contexts that ran its work. `at_done`
// sees the guest's driver while its objects are alive.
inline Outcome run_guest(MediatedHost& h, GuestVm& vm, const std::string& name, uint32_t frames,
                         const std::function<void(drv::Device&)>& at_done = {}) {
  drv::Device dev;
  if (auto r = dev.init(vm.guest()); !r)
    return Outcome::failed(std::string("guest driver: ") + drv::error_name(r.error()));
  Outcome out = run_workload(
      dev, name, frames,
      [&]() -> tl::expected<Screen, std::string> {
        auto fb = gvt::decode_fb(vm.vgpu(), h.host(), 0);
        if (!fb) return tl::unexpected("decode_fb: " + fb.error());
        if (at_done) at_done(dev);
        return Screen{fb->width, fb->height, std::move(fb->pixels)};
      },
      nullptr);
  for (uint32_t lrca : vm.vgpu().shadow_contexts()) {
    auto c = h.gpu().counters(lrca);
    out.commands += c.commands;
    out.pixels += c.pixels;
  }
  // An emulated ring flip runs as the NOOPs that replaced it (cli does the same).
  const uint64_t flips = vm.vgpu().traps().flips_emulated;
  out.commands -= std::min(out.commands, flips * (gen8::cmd(gen8::Op::MI_DISPLAY_FLIP).len.min - 1));
  dev.fini();
  return out;
}

// `counters`: the GPU's per-context counters are cumulative, so they are
// compared only for a VM's first run.
inline void expect_native(const Outcome& got, const std::string& name, bool counters = true) {
  SCOPED_TRACE(name);
  const Outcome& want = native(name);
  ASSERT_EQ(want.error, "");
  ASSERT_EQ(want.frames, kFrames);
  EXPECT_EQ(got.error, "");
  EXPECT_EQ(got.frames, kFrames);
  EXPECT_EQ(got.guest_checksum, want.guest_checksum);
  EXPECT_TRUE(got.screen == want.screen) << describe(got.screen, want.screen);
  if (!counters) return;
  EXPECT_EQ(got.commands, want.commands);
  EXPECT_EQ(got.pixels, want.pixels);
}

}  // namespace test_support
