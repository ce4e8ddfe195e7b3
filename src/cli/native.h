// `gvirt native`: a workload on the host build of the driver, on the GPU
// model with no VM. This is the baseline every ratio is measured against.
// Results are measured by the host: wall time, the checksum of the frame the
// display engine scans out, and the model's own counters.
#pragma once

#include <cstdint>
#include <functional>
#include <vector>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>
#include <tl/expected.hpp>

#include "driver/device.h"
#include "hw/gpu.h"

namespace cli {

struct LatencyStats {
  uint64_t count = 0;
  double mean_us = 0, p50_us = 0, p99_us = 0, max_us = 0;
};

// VM exits by kind, as the VMM sees them.
struct ExitCounts {
  uint64_t mmio = 0, pio = 0, wait = 0, ro_memslot = 0, total = 0;
};

struct RunResult {
  std::string workload;
  std::string status;  // "ok" or "error: ..."
  uint32_t frames = 0;
  double seconds = 0, fps = 0;
  std::string frame_checksum, guest_checksum;  // 16-digit lowercase hex
  bool vblank_limited = false;
  uint64_t commands_executed = 0, pixels_written = 0;
  hw::MmioStats mmio;  // accesses during the run, counted by the model
  uint64_t submissions = 0, interrupts = 0;
  double workload_cpu_ms = 0;  // CPU time in the workload's own code during the frames
  std::optional<LatencyStats> latency;  // ELSP -> completion
  std::optional<hw::Frame> frame;       // the last scanned-out frame
  std::optional<ExitCounts> exits;      // VM runs only, during the frames
  std::string console_log;              // VM runs only
  nlohmann::json vgpu;                  // mediated runs only: the vGPU and its counters
  std::vector<uint32_t> contexts;       // the driver's contexts (LRCAs), natively and for the host tenant
  nlohmann::json sched;                 // mediated runs only: what the scheduler and the GPU measured
};

struct NativeOptions {
  std::string workload;
  uint32_t frames = 200;
  double seconds = 0;  // > 0: run for this long instead of a frame count
};

// Fails (with one sentence) only when the model cannot be set up; a workload
// failure is reported in RunResult::status.
tl::expected<RunResult, std::string> run_native(const NativeOptions& opt);

// Runs a workload on an initialised driver and measures it as the host does:
// wall time from the first frame to the last, the model's MMIO counts
// (`gpu`, when the driver reaches the model directly), and the screen `scan`
// takes once the last frame is up. Fills everything but the GPU's per-context
// counters, which depend on whose contexts ran the work.
// `at_start` runs at the first frame, with the clocks.
RunResult measure_workload(drv::Device& dev, const NativeOptions& opt, hw::Gpu* gpu,
                           const std::function<tl::expected<hw::Frame, std::string>()>& scan,
                           const std::function<void()>& at_start = {});
nlohmann::json to_json(const RunResult& r);

}  // namespace cli
