// `gvirt run --vmm soft` end to end: soft VMs on vGPUs and the host's own
// workload share the GPU under the scheduler; each gets exactly its native
// frames, and the JSON carries what the scheduler and the GPU measured.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "cli/mediated.h"
#include "cli/native.h"

namespace cli {
namespace {

constexpr uint32_t kFrames = 12;

RunResult native(const std::string& w, uint32_t frames = kFrames) {
  NativeOptions o;
  o.workload = w;
  o.frames = frames;
  auto r = run_native(o);
  EXPECT_TRUE(r) << r.error();
  return r ? *r : RunResult{};
}

VmSpec spec(const std::string& w, const std::string& type) {
  VmSpec s;
  s.workload = w;
  s.type = type;
  s.frames = kFrames;
  s.ram_mib = 64;
  return s;
}

VmRunOptions soft(const std::string& host_workload = "") {
  VmRunOptions o;
  o.vmm = "soft";
  o.log_dir = ::testing::TempDir();
  o.host_workload = host_workload;
  o.sched.drain_timeout_ns = 60'000'000'000;  // sanitizer builds run batches slowly
  return o;
}

TEST(SoftRun, VmsAndTheHostWorkloadGetTheirNativeFrames) {
  const std::vector<std::string> names = {"fill", "desktop2d", "submit"};
  std::vector<RunResult> want;
  for (const auto& n : names) want.push_back(native(n));
  auto run = run_mediated({spec("fill", "A"), spec("desktop2d", "B"), spec("submit", "")}, soft("desktop2d"));
  ASSERT_TRUE(run) << run.error();
  ASSERT_EQ(run->results.size(), 4u);  // the host's comes last
  double share = 0;
  for (size_t i = 0; i < 4; ++i) {
    const RunResult& r = run->results[i];
    const RunResult& n = i < 3 ? want[i] : want[1];
    SCOPED_TRACE(r.workload);
    EXPECT_EQ(r.status, "ok");
    EXPECT_EQ(r.frames, kFrames);
    EXPECT_EQ(r.frame_checksum, n.frame_checksum);
    EXPECT_EQ(r.guest_checksum, n.guest_checksum);
    EXPECT_EQ(r.commands_executed, n.commands_executed);
    EXPECT_EQ(r.pixels_written, n.pixels_written);
    ASSERT_FALSE(r.sched.is_null());
    EXPECT_GT(r.sched["gpu_busy_ms"].get<double>(), 0.0);
    EXPECT_GE(r.sched["switches_in"].get<uint64_t>(), 1u);
    EXPECT_EQ(r.sched["hangs"].get<uint64_t>(), 0u);
    share += r.sched["gpu_share"].get<double>();
    EXPECT_EQ(r.vgpu.is_null(), i == 3);
  }
  EXPECT_NEAR(share, 1.0, 1e-9);
  EXPECT_EQ(run->results[1].sched["weight"], 4);
  EXPECT_EQ(run->results[0].vgpu["type"], "A");
  EXPECT_FALSE(run->results[0].vgpu.contains("vm_mmio_exits"));  // a soft VM has no exits
  EXPECT_GE(run->scheduler["switches"].get<uint64_t>(), 3u);
  EXPECT_GT(run->scheduler["switch_latency_us"]["max"].get<double>(), 0.0);
}

// The host's workload alone (no VM: the baseline its share beside VMs is
// compared with) still goes through the scheduler, and gets its native frames.
TEST(SoftRun, TheHostWorkloadRunsAlone) {
  const RunResult want = native("fill", 200);
  auto run = run_mediated({}, soft("fill"));
  ASSERT_TRUE(run) << run.error();
  ASSERT_EQ(run->results.size(), 1u);
  const RunResult& r = run->results[0];
  EXPECT_EQ(r.status, "ok");
  EXPECT_EQ(r.frames, 200u);
  EXPECT_EQ(r.frame_checksum, want.frame_checksum);
  EXPECT_GE(r.sched["workloads"].get<uint64_t>(), 200u);
  EXPECT_NEAR(r.sched["gpu_share"].get<double>(), 1.0, 1e-9);
}

// The hostile `hang` workload, after its second of plain frames, holds the
// engine until the drain timeout: the scheduler resets it, only its vGPU
// goes to failsafe, and the other VM, drawing all along, gets exactly its
// native frames.
TEST(SoftRun, AHangingVmStopsAloneAndTheOtherKeepsItsFrames) {
  constexpr uint32_t kLong = 400;  // still drawing when the hang starts
  const RunResult want = native("desktop2d", kLong);
  VmRunOptions o = soft();
  o.sched.drain_timeout_ns = 2'000'000'000;  // above a sanitizer build's slowest batch
  VmSpec hang = spec("hang", ""), draw = spec("desktop2d", "");
  hang.seconds = 60;  // ends at its failsafe
  draw.frames = kLong;
  auto run = run_mediated({hang, draw}, o);
  ASSERT_TRUE(run) << run.error();
  const RunResult& bad = run->results[0];
  EXPECT_EQ(bad.status.rfind("failsafe: bcs", 0), 0u) << bad.status;
  EXPECT_THAT(bad.status, ::testing::HasSubstr("hung"));
  EXPECT_EQ(bad.sched["hangs"].get<uint64_t>(), 1u);
  EXPECT_GT(bad.sched["hang_reset_late_ms"].get<double>(), 0.0);
  const RunResult& good = run->results[1];
  EXPECT_EQ(good.status, "ok");
  EXPECT_EQ(good.frames, kLong);
  EXPECT_EQ(good.frame_checksum, want.frame_checksum);
  EXPECT_EQ(good.guest_checksum, want.guest_checksum);
  EXPECT_EQ(good.sched["hangs"].get<uint64_t>(), 0u);
}

TEST(SoftRun, RefusesSelfTestsWhichNeedCpuIsolation) {
  auto run = run_mediated({spec("selftest", "")}, soft());
  ASSERT_FALSE(run);
  EXPECT_THAT(run.error(), ::testing::HasSubstr("CPU isolation"));
}

}  // namespace
}  // namespace cli
