// What every VM run shares, pass-through or mediated: the VM's configuration
// from its --vm spec, the measurement window between the guest's
// frames-start and frames-done marks, and the result read from the guest's
// result page.
#pragma once

#include <functional>
#include <optional>
#include <string>

#include <tl/expected.hpp>

#include "cli/native.h"
#include "cli/passthrough.h"
#include "cli/vm_spec.h"
#include "common/vmm_abi.h"
#include "hv/vm.h"

namespace cli {

hv::VmConfig vm_config(const std::string& name, const hv::RamBacking& ram, const VmSpec& spec,
                       const VmRunOptions& opt);
// The guest self-test a VM runs instead of its workload, if any.
const std::string& self_test(const VmSpec& spec, const VmRunOptions& opt);

// One VM's measurement window, filled on its vCPU thread by the MARK handler.
struct FrameWindow {
  uint64_t t0 = 0, t1 = 0;
  hv::ExitCounters exits0, exits1;
  std::optional<tl::expected<hw::Frame, std::string>> frame;
};

// `at_mark(mark)` snapshots the run's own counters; `scan()` takes the screen
// at frames-done, while the vCPU is paused in that exit.
void watch_frames(hv::Vm& vm, FrameWindow& w, std::function<void(uint64_t mark)> at_mark,
                  std::function<tl::expected<hw::Frame, std::string>()> scan);

// Fills `r` from the guest's result page and the window, and sets its status:
// "ok" only when the VM, the guest and the screen all are.
// For a self-test the VM's own status is the result.
vmm_abi::GuestResult collect_result(RunResult& r, const hv::Vm& vm, const hv::VmStatus& st,
                                    const FrameWindow& w, bool self_test);

}  // namespace cli
