#include "cli/guest_run.h"

#include <fmt/format.h>

#include <cstring>
#include <filesystem>

#include "cli/checksum.h"

namespace cli {

hv::VmConfig vm_config(const std::string& name, const hv::RamBacking& ram, const VmSpec& spec,
                       const VmRunOptions& opt) {
  hv::VmConfig vc;
  vc.name = name;
  vc.ram = ram;
  const std::string& test = self_test(spec, opt);
  vc.cmdline = !test.empty()        ? test
               : spec.seconds > 0 ? fmt::format("workload={} seconds={}", spec.workload, spec.seconds)
                                  : fmt::format("workload={} frames={}", spec.workload, spec.frames);
  vc.timeout_s = opt.timeout_s + spec.seconds;
  vc.log_path = (std::filesystem::path(opt.log_dir) / (name + ".log")).string();
  return vc;
}

const std::string& self_test(const VmSpec& spec, const VmRunOptions& opt) {
  return spec.guest_cmdline.empty() ? opt.guest_cmdline : spec.guest_cmdline;
}

void watch_frames(hv::Vm& vm, FrameWindow& w, std::function<void(uint64_t mark)> at_mark,
                  std::function<tl::expected<hw::Frame, std::string>()> scan) {
  vm.set_mark_handler([&vm, &w, at_mark = std::move(at_mark), scan = std::move(scan)](uint64_t mark,
                                                                                      uint64_t ns) {
    if (mark == vmm_abi::kMarkFramesStart) {
      w.t0 = ns;
      w.exits0 = vm.exits();
      at_mark(mark);
    } else if (mark == vmm_abi::kMarkFramesDone) {
      w.t1 = ns;
      w.exits1 = vm.exits();
      at_mark(mark);
      w.frame = scan();
    }
  });
}

vmm_abi::GuestResult collect_result(RunResult& r, const hv::Vm& vm, const hv::VmStatus& st,
                                    const FrameWindow& w, bool self_test) {
  using namespace vmm_abi;
  GuestResult gr;
  std::memcpy(&gr, vm.ram() + kResult, sizeof gr);
  r.frames = gr.magic == kResultMagic ? gr.frames : 0;
  r.guest_checksum = fmt::format("{:016x}", gr.guest_checksum);
  r.submissions = gr.submissions;
  r.interrupts = gr.interrupts;
  r.workload_cpu_ms = gr.workload_cpu_ns / 1e6;
  if (gr.latency_count)
    r.latency = LatencyStats{gr.latency_count, gr.latency_mean_ns / 1e3, gr.latency_p50_ns / 1e3,
                             gr.latency_p99_ns / 1e3, gr.latency_max_ns / 1e3};
  if (w.t1 > w.t0) {
    r.seconds = (w.t1 - w.t0) / 1e9;
    r.fps = r.frames / r.seconds;
  }
  hv::ExitCounters e = w.exits1 - w.exits0;
  r.exits = ExitCounts{e.mmio, e.pio, e.wait, e.ro_memslot, e.total};
  r.console_log = vm.log_path();
  if (w.frame && *w.frame) {
    r.frame_checksum = frame_checksum(**w.frame);
    r.frame = **w.frame;
  }
  if (!st.ok || self_test)
    r.status = st.text;
  else if (gr.magic != kResultMagic || gr.status != 0)
    r.status = fmt::format("error: {}", gr.magic == kResultMagic ? gr.error : "no guest result");
  else if (!w.frame || !*w.frame)
    r.status = fmt::format("error: {}", w.frame ? w.frame->error() : "no frame was shown");
  else
    r.status = "ok";
  return gr;
}

}  // namespace cli
