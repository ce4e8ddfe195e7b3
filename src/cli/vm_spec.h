// `--vm W[,type=T][,frames=N][,seconds=S][,ram=MiB][,ppgtt=shadow|2stage]`.
#pragma once

#include <cstdint>
#include <string>

#include <tl/expected.hpp>

namespace cli {

struct VmSpec {
  std::string workload;
  std::string type;      // vGPU type (mediated runs)
  std::string ppgtt;     // shadow | 2stage (mediated runs); empty: the VMM's default
  uint32_t frames = 200;
  double seconds = 0;
  uint64_t ram_mib = 256;
  std::string guest_cmdline;  // tests: a guest self-test instead of the workload
};

// One clear sentence on error.
tl::expected<VmSpec, std::string> parse_vm_spec(const std::string& text);

}  // namespace cli
