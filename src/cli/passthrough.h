// `gvirt run --passthrough`: one VM owns the whole GPU (direct pass-through,
// the design point gVirt compares against). BAR0 accesses trap straight to the
// model, the aperture is a memslot with no trap, and every DMA of the device
// goes through the VM's GPA->HPA domain, as behind an IOMMU.
#pragma once

#include <string>

#include <tl/expected.hpp>

#include "cli/native.h"
#include "cli/vm_spec.h"
#include "gvt/sched_policy.h"

namespace cli {

struct VmRunOptions {
  std::string log_dir = ".";  // console logs: <log_dir>/vm<N>.log
  double timeout_s = 120;
  std::string guest_cmdline;  // instead of the workload's (guest self-tests)
  // Mediated runs (debug): also scan PPGTT batches; trace every scanned
  // command to <log_dir>/vm<N>.cmds.log.
  bool scan_nonpriv = false;
  bool trace_commands = false;
  bool trace_ppgtt = false;  // one line per shadow PPGTT entry written, to <log_dir>/vm<N>.ppgtt.log
  // Mediated runs: "kvm" VMs, or "soft" VMs (no KVM needed; cli/soft_vm.h).
  std::string vmm = "kvm";
  gvt::SchedParams sched;
  std::string host_workload;  // the host's own workload beside the VMs, if any
  double host_seconds = 0;    // how long it runs when there is no VM to follow
};

// The guest image built beside the gvirt binary.
std::string guest_image_path();

// Fails (one sentence) when the VM cannot be set up; a failure inside the
// guest is reported in RunResult::status.
tl::expected<RunResult, std::string> run_passthrough(const VmSpec& spec, const VmRunOptions& opt);

}  // namespace cli
