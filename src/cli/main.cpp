// The `gvirt` command. Every error ends as one sentence on stderr and a
// non-zero exit code: 2 for bad usage, 1 for anything else.
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <fcntl.h>
#include <unistd.h>

#include <cctype>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include "cli/hw_spec.h"
#include "cli/mediated.h"
#include "cli/native.h"
#include "cli/passthrough.h"
#include "cli/png.h"
#include "cli/selftest.h"
#include "gvt/aperture_gm.h"
#include "workloads/workload.h"

namespace {

constexpr int kExitFailure = 1;
constexpr int kExitUsage = 2;

int hw_spec(bool json) {
  if (json)
    std::cout << cli::hw_spec_json().dump(2) << '\n';
  else
    std::cout << cli::hw_spec_markdown();
  return 0;
}

int selftest(const std::string& png) {
  auto report = cli::run_selftest(png);
  if (!report) {
    fmt::print(stderr, "gvirt selftest: {}\n", report.error());
    return kExitFailure;
  }
  for (const auto& failure : report->failures) fmt::print(stderr, "gvirt selftest: {}\n", failure);
  fmt::print(
      "selftest {}: {}/{} checks passed, frame checksum {}, {} commands, {} pixels, {:.1f} ms{}\n",
      report->passed() ? "ok" : "FAILED", report->checks - report->failures.size(), report->checks,
      report->checksum.empty() ? "none" : report->checksum, report->commands, report->pixels,
      report->elapsed_ms, report->png.empty() ? "" : ", wrote " + report->png);
  return report->passed() ? 0 : kExitFailure;
}

// vGPU types with their resources and how many more fit beside the host.
int list_types(bool json) {
  gvt::GmResources free = gvt::GmPartition().free();
  nlohmann::json j = nlohmann::json::array();
  if (!json)
    fmt::print("{:<5} {:<10} {:>9} {:>10} {:>6} {:>6} {:>10} {:>9}\n", "type", "upstream",
               "aperture", "hidden GM", "fences", "weight", "resolution", "available");
  for (const auto& ty : gvt::vgpu_types()) {
    uint32_t n = gvt::instances_that_fit(ty, free);
    if (json)
      j.push_back({{"name", ty.name}, {"upstream", ty.upstream}, {"aperture_bytes", ty.low_gm},
                   {"hidden_gm_bytes", ty.high_gm}, {"fences", ty.fences}, {"weight", ty.weight},
                   {"width", ty.width}, {"height", ty.height}, {"available", n},
                   {"default", &ty == &gvt::default_type()}});
    else
      fmt::print("{:<5} {:<10} {:>6} MiB {:>6} MiB {:>6} {:>6} {:>10} {:>9}\n", ty.name, ty.upstream,
                 ty.low_gm >> 20, ty.high_gm >> 20, ty.fences, ty.weight,
                 fmt::format("{}x{}", ty.width, ty.height), n);
  }
  if (json)
    std::cout << nlohmann::json{{"host_reserve",
                                 {{"aperture_bytes", gvt::kHostReserve.low_gm},
                                  {"hidden_gm_bytes", gvt::kHostReserve.high_gm},
                                  {"fences", gvt::kHostReserve.fences}}},
                                {"types", j}}
                     .dump(2)
              << '\n';
  return 0;
}

int list_workloads() {
  for (int i = 0; i < wl::workload_count(); ++i)
    fmt::print("{:<12} {}\n", wl::workload_info(i).name, wl::workload_info(i).description);
  return 0;
}

int write_json(const std::string& path, const nlohmann::json& j) {
  std::ofstream out(path);
  out << j.dump(2) << '\n';
  if (!out) {
    fmt::print(stderr, "gvirt: cannot write {}\n", path);
    return kExitFailure;
  }
  return 0;
}

int usage_error(std::string msg);

// On a vGPU the guest's accesses are the vGPU's traps (of every kind, over
// the frames); natively and in pass-through, the model counts MMIO.
void print_result(const cli::RunResult& r) {
  double per_frame = r.frames ? double(r.mmio.total()) / r.frames : 0.0;
  const char* what = "MMIO";
  if (r.vgpu.contains("traps_per_s")) {
    double per_s = 0;
    for (const auto& v : r.vgpu["traps_per_s"]) per_s += v.get<double>();
    per_frame = r.frames ? per_s * r.seconds / r.frames : 0.0;
    what = "traps";
  }
  fmt::print("{}: {}, {} frames in {:.2f} s, {:.1f} fps, frame {} guest {}, {:.1f} {}/frame\n",
             r.workload, r.status, r.frames, r.seconds, r.fps, r.frame_checksum, r.guest_checksum,
             per_frame, what);
  if (r.exits)
    fmt::print("exits: {} mmio, {} pio, {} wait, {} ro_memslot ({:.1f} per frame); console log {}\n",
               r.exits->mmio, r.exits->pio, r.exits->wait, r.exits->ro_memslot,
               r.frames ? double(r.exits->total) / r.frames : 0.0, r.console_log);
  if (r.latency)
    fmt::print("ELSP->completion: mean {:.1f} us, p50 {:.1f} us, p99 {:.1f} us ({} submissions)\n",
               r.latency->mean_us, r.latency->p50_us, r.latency->p99_us, r.latency->count);
}

int native(const cli::NativeOptions& opt, const std::string& json, const std::string& shot) {
  auto r = cli::run_native(opt);
  if (!r) {
    fmt::print(stderr, "gvirt native: {}\n", r.error());
    return kExitFailure;
  }
  print_result(*r);
  if (!json.empty()) {
    nlohmann::json doc = {{"mode", "native"}, {"results", {cli::to_json(*r)}}};
    if (int rc = write_json(json, doc)) return rc;
  }
  if (!shot.empty() && r->frame) {
    if (auto w = cli::write_png(*r->frame, shot); !w) {
      fmt::print(stderr, "gvirt native: {}\n", w.error());
      return kExitFailure;
    }
  }
  return r->status == "ok" ? 0 : kExitFailure;
}

struct RunArgs {
  bool passthrough = false;
  bool scan_nonpriv = false, trace_commands = false, trace_ppgtt = false;
  std::vector<std::string> vms;
  double seconds = 0;
  std::string json, screenshots;
  std::string vmm = "kvm", host_workload;
  double tick_ms = 1, balance_ms = 100, drain_timeout_ms = 1000;
  bool summary = false;  // the per-tenant table (demo)
};

// One line per tenant: what it ran and what the scheduler and the GPU saw.
void print_summary(const std::vector<nlohmann::json>& rows, const nlohmann::json& sched) {
  fmt::print("\n{:<6} {:<10} {:>6} {:>8} {:>7} {:>9} {:>9} {:>10} {:>10}  {}\n", "tenant", "workload", "weight",
             "fps", "share", "switches", "drain.max", "mmio/s", "ggtt/s", "status");
  for (const auto& j : rows) {
    const auto& sc = j.value("sched", nlohmann::json::object());
    const auto& tps = j.contains("vgpu") ? j["vgpu"]["traps_per_s"] : nlohmann::json::object();
    fmt::print("{:<6} {:<10} {:>6} {:>8.1f} {:>6.1f}% {:>9} {:>7.2f}ms {:>10.0f} {:>10.0f}  {}\n",
               j.value("vm", ""), j.value("workload", ""), sc.value("weight", 0), j.value("fps", 0.0),
               100 * sc.value("gpu_share", 0.0), sc.value("switches_in", 0), sc.value("drain_max_ms", 0.0),
               tps.value("mmio", 0.0), tps.value("ggtt", 0.0), j.value("status", ""));
  }
  fmt::print("vGPU switches: {}, latency p50 {:.1f} us, p99 {:.1f} us; drain max {:.1f} us\n",
             sched.value("switches", 0), sched["switch_latency_us"].value("p50", 0.0),
             sched["switch_latency_us"].value("p99", 0.0), sched["drain_us"].value("max", 0.0));
}

int run(const RunArgs& a) {
  std::vector<cli::VmSpec> specs;
  for (const auto& text : a.vms) {
    auto s = cli::parse_vm_spec(text);
    if (!s) return usage_error(s.error());
    if (a.seconds > 0) s->seconds = a.seconds;
    specs.push_back(*s);
  }
  cli::VmRunOptions opt;
  opt.log_dir = a.screenshots.empty() ? "." : a.screenshots;
  opt.scan_nonpriv = a.scan_nonpriv;
  opt.trace_commands = a.trace_commands;
  opt.trace_ppgtt = a.trace_ppgtt;
  opt.vmm = a.vmm;
  opt.host_workload = a.host_workload;
  opt.host_seconds = a.seconds;
  opt.sched.tick_ns = static_cast<uint64_t>(a.tick_ms * 1e6);
  opt.sched.balance_ns = static_cast<uint64_t>(a.balance_ms * 1e6);
  opt.sched.drain_timeout_ns = static_cast<uint64_t>(a.drain_timeout_ms * 1e6);
  if (a.passthrough &&
      (a.scan_nonpriv || a.trace_commands || a.trace_ppgtt || !a.host_workload.empty() || a.vmm != "kvm"))
    return usage_error(
        "--scan-nonpriv, --trace-commands, --trace-ppgtt, --host-workload and --vmm need vGPUs, not --passthrough");
  if (specs.empty() && (a.passthrough || a.host_workload.empty()))
    return usage_error(
        "give a VM to run: --vm W (or only --host-workload W, the host's workload alone)");
  if (!a.host_workload.empty() && !wl::find_workload(a.host_workload.c_str()))
    return usage_error(fmt::format("unknown host workload '{}'; see 'gvirt workloads'", a.host_workload));
  if (a.balance_ms < a.tick_ms)
    return usage_error("--balance-ms must be at least --tick-ms");
  std::vector<cli::RunResult> results;
  nlohmann::json scheduler;
  if (a.passthrough) {
    if (specs.size() != 1) return usage_error("--passthrough gives the whole GPU to exactly one --vm");
    auto r = cli::run_passthrough(specs[0], opt);
    if (!r) {
      fmt::print(stderr, "gvirt run: {}\n", r.error());
      return kExitFailure;
    }
    results.push_back(std::move(*r));
  } else {
    auto r = cli::run_mediated(specs, opt);
    if (!r) {
      fmt::print(stderr, "gvirt run: {}\n", r.error());
      return kExitFailure;
    }
    results = std::move(r->results);
    scheduler = std::move(r->scheduler);
  }
  nlohmann::json doc = {{"mode", a.passthrough ? "passthrough" : "mediated"},
                        {"results", nlohmann::json::array()}};
  if (!a.passthrough) {
    doc["vmm"] = a.vmm;
    doc["scheduler"] = scheduler;
  }
  std::vector<nlohmann::json> rows;
  bool ok = true;
  for (size_t i = 0; i < results.size(); ++i) {
    const cli::RunResult& r = results[i];
    // The host's own workload comes last.
    const std::string name = i < specs.size() ? fmt::format("vm{}", i) : "host";
    if (results.size() > 1 || specs.empty()) fmt::print("{} ", name);
    print_result(r);
    nlohmann::json j = cli::to_json(r);
    j["vm"] = name;
    rows.push_back(j);
    doc["results"].push_back(std::move(j));
    ok = ok && r.status == "ok";
    if (!a.screenshots.empty() && r.frame) {
      auto path = fmt::format("{}/{}.png", a.screenshots, name);
      if (auto w = cli::write_png(*r.frame, path); !w) {
        fmt::print(stderr, "gvirt run: {}\n", w.error());
        return kExitFailure;
      }
    }
  }
  if (!a.passthrough && (a.summary || results.size() > 1)) print_summary(rows, scheduler);
  if (!a.json.empty())
    if (int rc = write_json(a.json, doc)) return rc;
  return ok ? 0 : kExitFailure;
}

bool kvm_usable() {
  int fd = ::open("/dev/kvm", O_RDWR | O_CLOEXEC);
  if (fd < 0) return false;
  ::close(fd);
  return true;
}

// The default scenario: VMs with different workloads and weights share the
// GPU beside the host's own workload, each screen to DIR/<tenant>.png.
int demo(double seconds, std::string vmm, const std::string& dir) {
  if (vmm == "auto") {
    vmm = kvm_usable() ? "kvm" : "soft";
    if (vmm == "soft")
      fmt::print(stderr,
                 "gvirt demo: NO USABLE /dev/kvm: the VMs are soft VMs (the same guest driver and vGPUs, "
                 "on host threads instead of KVM vCPUs; see docs/cli.md)\n");
  }
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) {
    fmt::print(stderr, "gvirt demo: cannot create {}: {}\n", dir, ec.message());
    return kExitFailure;
  }
  RunArgs a;
  a.vms = {"desktop2d,type=A", "fill,type=A", "submit,type=A", "desktop2d,type=B"};
  a.host_workload = "fill";
  a.seconds = seconds;
  a.vmm = vmm;
  a.json = dir + "/demo.json";
  a.screenshots = dir;
  a.summary = true;
  int rc = run(a);
  if (rc == 0) fmt::print("demo: screens in {}/vm0..3.png and {}/host.png, results in {}\n", dir, dir, a.json);
  return rc;
}

int usage_error(std::string msg) {
  // CLI11 reports phrases, some over several lines: make one sentence of them.
  for (char& c : msg)
    if (c == '\n') c = ' ';
  while (!msg.empty() && (msg.back() == ' ' || msg.back() == '.')) msg.pop_back();
  if (msg.size() > 1 && std::isupper(static_cast<unsigned char>(msg[0])) &&
      std::islower(static_cast<unsigned char>(msg[1])))
    msg[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(msg[0])));
  std::cerr << fmt::format("gvirt: {} (see 'gvirt --help').", msg) << '\n';
  return kExitUsage;
}

std::string subcommand_names(const CLI::App& app) {
  std::vector<std::string> names;
  for (const CLI::App* sub : app.get_subcommands([](const CLI::App*) { return true; }))
    names.push_back(sub->get_name());
  return fmt::format("{}", fmt::join(names, ", "));
}

}  // namespace

int main(int argc, char** argv) {
  // stdout carries the command's output (JSON, tables): logs go to stderr.
  spdlog::set_default_logger(spdlog::stderr_color_st("gvirt"));
  spdlog::set_level(spdlog::level::warn);

  CLI::App app{"gvirt: full GPU virtualization with mediated pass-through", "gvirt"};
  // At most one here; "none" is reported after parsing, so that an unknown
  // flag or subcommand is named instead of "a subcommand is required".
  app.require_subcommand(0, 1);
  bool json = false;
  CLI::App* spec = app.add_subcommand("hw-spec", "Print the register and command tables.");
  spec->add_flag("--json", json, "As JSON (schema in docs/hw-spec.md) instead of markdown tables");
  std::string png = "selftest.png";
  CLI::App* self = app.add_subcommand("selftest", "Run the GPU model's self-check.");
  self->add_option("--png", png, "Where to write the scanned-out frame")->capture_default_str();

  app.add_subcommand("workloads", "List the workloads.");
  bool types_json = false;
  CLI::App* typesc = app.add_subcommand("types", "List the vGPU types and how many more fit.");
  typesc->add_flag("--json", types_json, "As JSON");
  cli::NativeOptions nopt;
  std::string json_path, shot_path;
  CLI::App* nat = app.add_subcommand("native", "Run a workload natively on the GPU model (no VM).");
  nat->add_option("--workload", nopt.workload, "Workload to run (see 'gvirt workloads')")->required();
  auto* frames = nat->add_option("--frames", nopt.frames, "Frames to render")->capture_default_str();
  auto* secs = nat->add_option("--seconds", nopt.seconds, "Run for this many seconds instead");
  frames->excludes(secs);
  frames->check(CLI::Range(1u, 10000000u));
  secs->check(CLI::PositiveNumber);
  nat->add_option("--json", json_path, "Write the results as JSON (schema in docs/cli.md)");
  nat->add_option("--screenshot", shot_path, "Write the last scanned-out frame as PNG");

  RunArgs rargs;
  CLI::App* runc = app.add_subcommand("run", "Run workloads in VMs.");
  runc->add_flag("--passthrough", rargs.passthrough, "Give the whole GPU to one VM (direct pass-through)");
  runc->add_option("--vm", rargs.vms,
                   "W[,frames=N][,seconds=S][,ram=MiB][,type=T][,ppgtt=shadow|2stage]");
  runc->add_option("--seconds", rargs.seconds, "Run every VM for this long")->check(CLI::PositiveNumber);
  runc->add_option("--json", rargs.json, "Write the results as JSON (schema in docs/cli.md)");
  runc->add_option("--screenshots", rargs.screenshots, "Directory for one PNG (and console log) per VM");
  runc->add_flag("--scan-nonpriv", rargs.scan_nonpriv, "Also scan PPGTT batches (debug: measures what skipping them saves)");
  runc->add_flag("--trace-commands", rargs.trace_commands,
                 "Write every scanned command to vmN.cmds.log beside the console log (debug)");
  runc->add_flag("--trace-ppgtt", rargs.trace_ppgtt,
                 "Write every shadow PPGTT entry written, per vGPU, to vmN.ppgtt.log (debug)");
  runc->add_option("--vmm", rargs.vmm, "kvm, or soft: VMs without KVM (see docs/cli.md)")
      ->check(CLI::IsMember({"kvm", "soft"}))
      ->capture_default_str();
  runc->add_option("--host-workload", rargs.host_workload, "Run this workload on the host beside the VMs");
  runc->add_option("--tick-ms", rargs.tick_ms, "Scheduler tick")->check(CLI::Range(0.01, 1000.0))->capture_default_str();
  runc->add_option("--balance-ms", rargs.balance_ms, "Scheduler balance window")
      ->check(CLI::Range(0.01, 100000.0))
      ->capture_default_str();
  runc->add_option("--drain-timeout-ms", rargs.drain_timeout_ms, "A workload running longer is reset")
      ->check(CLI::Range(1.0, 600000.0))
      ->capture_default_str();

  double demo_seconds = 5;
  std::string demo_vmm = "auto", demo_dir = "demo";
  CLI::App* democ = app.add_subcommand("demo", "The default scenario: several VMs share the GPU.");
  democ->add_option("--seconds", demo_seconds, "How long every tenant runs")
      ->check(CLI::Range(0.5, 3600.0))
      ->capture_default_str();
  democ->add_option("--vmm", demo_vmm, "auto (KVM when /dev/kvm is usable), kvm or soft")
      ->check(CLI::IsMember({"auto", "kvm", "soft"}))
      ->capture_default_str();
  democ->add_option("--out", demo_dir, "Directory for the screens and demo.json")->capture_default_str();

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e);  // --help
    const auto extras = app.remaining();
    if (app.get_subcommands().empty() && !extras.empty() && extras[0].rfind('-', 0) != 0)
      return usage_error(fmt::format("unknown subcommand '{}'; the subcommands are {}", extras[0],
                                     subcommand_names(app)));
    return usage_error(e.what());
  }
  if (*spec) return hw_spec(json);
  if (*self) return selftest(png);
  if (app.got_subcommand("workloads")) return list_workloads();
  if (*typesc) return list_types(types_json);
  if (*runc) return run(rargs);
  if (*democ) return demo(demo_seconds, demo_vmm, demo_dir);
  if (*nat) {
    if (!wl::find_workload(nopt.workload.c_str()))
      return usage_error(fmt::format("unknown workload '{}'; see 'gvirt workloads'", nopt.workload));
    return native(nopt, json_path, shot_path);
  }
  return usage_error("a subcommand is required: one of " + subcommand_names(app));
}
