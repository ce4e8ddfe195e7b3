// What the many-VM tests check, for soft VMs (tests/scale) and KVM VMs
// (tests/kvm) alike: 7 VMs run one workload at once, all in one PPGTT mode,
// and each draws exactly its native frames with the model's native counts.
// In shadow mode each vGPU shadowed its contexts' PPGTTs, and ppgtt-churn's
// table writes trapped every frame.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "cli/mediated.h"
#include "cli/native.h"
#include "workloads/workload.h"

namespace test_support {

inline constexpr size_t kSevenVms = 7;

struct ManyVmsCase {
  std::string workload, ppgtt;
};

// Every workload with a native twin (not the self-test, which checks the
// device it runs on, nor a hostile one), in both PPGTT modes.
inline std::vector<ManyVmsCase> every_workload_both_modes() {
  std::vector<ManyVmsCase> v;
  for (int i = 0; i < wl::workload_count(); ++i) {
    const wl::Info& info = wl::workload_info(i);
    const std::string name = info.name;
    if (name == "selftest" || info.hostile) continue;
    for (const char* mode : {"2stage", "shadow"}) v.push_back({name, mode});
  }
  return v;
}

inline std::string case_name(const ::testing::TestParamInfo<ManyVmsCase>& info) {
  std::string n = info.param.workload + "_" + info.param.ppgtt;
  std::replace(n.begin(), n.end(), '-', '_');  // gtest names: no '-'
  return n;
}

inline void expect_seven_vms_native(const ManyVmsCase& c, const cli::VmRunOptions& opt, uint32_t frames,
                                    uint64_t ram_mib) {
  cli::NativeOptions nat;
  nat.workload = c.workload;
  nat.frames = frames;
  auto native = cli::run_native(nat);
  ASSERT_TRUE(native) << native.error();
  ASSERT_EQ(native->status, "ok");
  std::vector<cli::VmSpec> specs(kSevenVms);
  for (auto& s : specs) {
    s.workload = c.workload;
    s.frames = frames;
    s.ppgtt = c.ppgtt;
    s.ram_mib = ram_mib;
  }
  auto run = cli::run_mediated(specs, opt);
  ASSERT_TRUE(run) << run.error();
  ASSERT_EQ(run->results.size(), kSevenVms);
  for (size_t i = 0; i < kSevenVms; ++i) {
    const cli::RunResult& r = run->results[i];
    SCOPED_TRACE("vm" + std::to_string(i) + " " + r.console_log);
    EXPECT_EQ(r.status, "ok");
    EXPECT_EQ(r.frames, frames);
    EXPECT_EQ(r.frame_checksum, native->frame_checksum);
    EXPECT_EQ(r.guest_checksum, native->guest_checksum);
    EXPECT_EQ(r.commands_executed, native->commands_executed);
    EXPECT_EQ(r.pixels_written, native->pixels_written);
    ASSERT_FALSE(r.vgpu.is_null());
    const auto& pp = r.vgpu["ppgtt"];
    EXPECT_EQ(pp["mode"], c.ppgtt);
    if (c.ppgtt == "shadow") {
      EXPECT_GT(pp["ppgtt_contexts"].get<uint64_t>(), 0u);
      EXPECT_GT(pp["shadow_pages"].get<uint64_t>(), 0u);
      if (c.workload == "ppgtt-churn") {
        EXPECT_GT(r.vgpu["traps"]["pagetable"].get<uint64_t>(), frames);
      }
    }
    EXPECT_EQ(r.vgpu["refused"]["submission"].get<uint64_t>(), 0u);
    EXPECT_EQ(r.sched["hangs"].get<uint64_t>(), 0u);
    EXPECT_GT(r.sched["gpu_busy_ms"].get<double>(), 0.0);
  }
}

}  // namespace test_support
