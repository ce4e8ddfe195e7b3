#include "cli/native.h"

#include <fmt/format.h>

#include <chrono>
#include <memory>

#include "cli/checksum.h"
#include "driver/device.h"
#include "host/hw_platform.h"
#include "workloads/workload.h"

namespace cli {

namespace {

std::string hex64(uint64_t v) { return fmt::format("{:016x}", v); }

}  // namespace

RunResult measure_workload(drv::Device& dev, const NativeOptions& opt, hw::Gpu* gpu,
                           const std::function<tl::expected<hw::Frame, std::string>()>& scan,
                           const std::function<void()>& at_start) {
  RunResult r;
  r.workload = opt.workload;
  auto latency = std::make_unique<wl::Latency>();
  wl::Params params;
  params.frames = opt.seconds > 0 ? UINT32_MAX : opt.frames;
  params.max_ns = static_cast<uint64_t>(opt.seconds * 1e9);
  // Clocks and counters cover the frames only, not set-up or teardown; the
  // last frame is scanned out before the workload frees it.
  struct Window {
    hw::Gpu* gpu;
    drv::Device* dev;
    RunResult* r;
    const std::function<tl::expected<hw::Frame, std::string>()>* scan;
    const std::function<void()>* at_start;
    hw::MmioStats mmio;
    std::chrono::steady_clock::time_point t0;
    uint64_t submissions = 0;
    std::optional<tl::expected<hw::Frame, std::string>> frame;
  } win{gpu, &dev, &r, &scan, &at_start, {}, std::chrono::steady_clock::now(), 0, std::nullopt};
  params.user = &win;
  params.on_start = [](void* u) {
    auto* w = static_cast<Window*>(u);
    if (w->gpu) w->mmio = w->gpu->mmio_stats();
    w->submissions = w->dev->stats().submissions;
    if (*w->at_start) (*w->at_start)();
    w->t0 = std::chrono::steady_clock::now();
  };
  params.on_done = [](void* u) {
    auto* w = static_cast<Window*>(u);
    w->r->seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - w->t0).count();
    if (w->gpu) w->r->mmio = w->gpu->mmio_stats() - w->mmio;
    w->r->submissions = w->dev->stats().submissions - w->submissions;
    w->frame = (*w->scan)();
  };
  wl::Result res = wl::run(dev, opt.workload.c_str(), params, latency.get());
  r.frames = res.frames;
  r.fps = r.seconds > 0 ? r.frames / r.seconds : 0;
  r.vblank_limited = !params.async_flips;
  r.guest_checksum = hex64(res.guest_checksum);
  r.workload_cpu_ms = res.cpu_ns / 1e6;
  r.interrupts = dev.stats().interrupts;
  r.contexts.assign(res.contexts, res.contexts + res.n_contexts);
  if (latency->count) {
    LatencyStats l;
    l.count = latency->count;
    l.mean_us = latency->total / 1e3 / latency->count;
    l.max_us = latency->max / 1e3;
    l.p50_us = latency->percentile(50) / 1e3;
    l.p99_us = latency->percentile(99) / 1e3;
    r.latency = l;
  }
  if (win.frame && *win.frame) {
    r.frame_checksum = frame_checksum(**win.frame);
    r.frame = std::move(**win.frame);
  }
  if (!res.ok)
    r.status = fmt::format("error: {}", res.error);
  else if (!win.frame || !*win.frame)
    r.status = fmt::format("error: {}", win.frame ? win.frame->error() : "no frame was shown");
  else
    r.status = "ok";
  return r;
}

tl::expected<RunResult, std::string> run_native(const NativeOptions& opt) {
  auto gpu = hw::Gpu::create(hw::GpuConfig{1ull << 30, true});
  if (!gpu) return tl::unexpected(gpu.error());
  host::HwPlatform platform(**gpu);
  drv::Device dev;
  if (auto s = dev.init(platform); !s) {
    RunResult r;
    r.workload = opt.workload;
    r.status = fmt::format("error: driver init: {}", drv::error_name(s.error()));
    return r;
  }
  hw::Gpu& g = **gpu;
  RunResult r = measure_workload(dev, opt, &g, [&g] { return g.scanout(0); });
  for (uint32_t lrca : r.contexts) {
    auto c = g.counters(lrca);
    r.commands_executed += c.commands;
    r.pixels_written += c.pixels;
  }
  dev.fini();
  return r;
}

nlohmann::json to_json(const RunResult& r) {
  nlohmann::json j = {
      {"workload", r.workload},
      {"status", r.status},
      {"frames", r.frames},
      {"seconds", r.seconds},
      {"fps", r.fps},
      {"frame_checksum", r.frame_checksum},
      {"guest_checksum", r.guest_checksum},
      {"vblank_limited", r.vblank_limited},
      {"commands_executed", r.commands_executed},
      {"pixels_written", r.pixels_written},
      {"submissions", r.submissions},
      {"interrupts", r.interrupts},
      {"workload_cpu_ms_per_frame", r.frames ? r.workload_cpu_ms / r.frames : 0.0},
      {"mmio",
       {{"reads", r.mmio.reads},
        {"writes", r.mmio.writes},
        {"ggtt_reads", r.mmio.ggtt_reads},
        {"ggtt_writes", r.mmio.ggtt_writes},
        {"unknown", r.mmio.unknown_reads + r.mmio.unknown_writes},
        {"per_frame", r.frames ? double(r.mmio.total()) / r.frames : 0.0}}}};
  if (r.exits)
    j["exits"] = {{"mmio", r.exits->mmio}, {"pio", r.exits->pio}, {"wait", r.exits->wait},
                  {"ro_memslot", r.exits->ro_memslot}, {"total", r.exits->total},
                  {"per_frame", r.frames ? double(r.exits->total) / r.frames : 0.0}};
  if (!r.console_log.empty()) j["console_log"] = r.console_log;
  if (!r.vgpu.is_null()) j["vgpu"] = r.vgpu;
  if (!r.sched.is_null()) j["sched"] = r.sched;
  if (r.latency)
    j["latency_us"] = {{"count", r.latency->count}, {"mean", r.latency->mean_us},
                       {"p50", r.latency->p50_us},  {"p99", r.latency->p99_us},
                       {"max", r.latency->max_us}};
  return j;
}

}  // namespace cli
