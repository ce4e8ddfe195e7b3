// `gvirt selftest`: the GPU model's self-check. It drives a fresh hw::Gpu
// only through its BARs (via hw::Harness): an unprivileged PPGTT batch on the
// blitter draws a test pattern into a GGTT framebuffer, the ring posts a seqno
// to the HWSP and raises an interrupt, the render engine does a PIPE_CONTROL
// write, pipe A flips to the framebuffer at a vblank, and the scanned-out
// frame is compared pixel by pixel with the same pattern drawn on the CPU.
#pragma once

#include <cstdint>
#include <string>
#include <tl/expected.hpp>
#include <vector>

namespace cli {

struct SelftestReport {
  int checks = 0;
  std::vector<std::string> failures;  // one sentence per failed check
  std::string checksum;               // of the scanned-out frame (cli/checksum.h)
  std::string png;                    // the PNG written; both empty without a frame
  uint64_t commands = 0;              // executed, as the model's per-context counters say
  uint64_t pixels = 0;
  double elapsed_ms = 0;
  bool passed() const { return failures.empty(); }
};

// Runs the self-check and writes the scanned-out frame to `png_path`. An
// error is a failure to set up or to write the PNG, not a failed check.
tl::expected<SelftestReport, std::string> run_selftest(const std::string& png_path);

}  // namespace cli
