#include "cli/mediated.h"

#include <fmt/format.h>

#include <filesystem>

#include "cli/checksum.h"
#include "cli/guest_run.h"
#include "common/gen8/layout.h"
#include "gvt/fb_decoder.h"
#include "gvt/gvt.h"
#include "host/hw_platform.h"
#include "hv/elf_loader.h"
#include "hw/gpu.h"
#include "workloads/selftest.h"
#include "workloads/workload.h"

namespace cli {

namespace {

using namespace vmm_abi;

double ms(uint64_t ns) { return ns / 1e6; }

// The PPGTT mode and, in shadow mode, what shadowing cost over the run.
nlohmann::json ppgtt_json(const gvt::Vgpu& v) {
  const gvt::PpgttShadow* sh = v.ppgtt_shadow();
  if (!sh) return {{"mode", "2stage"}};
  const gvt::PpgttStats s = sh->stats();
  return {{"mode", "shadow"},
          {"ppgtt_contexts", s.roots_shadowed},
          {"shadow_pages", s.peak_shadow_pages},
          {"protected_pages", s.peak_protected_pages},
          {"updates", s.updates},
          {"half_writes", s.half_writes},
          {"resyncs", s.resyncs},
          {"shadow_ms", ms(s.shadow_ns)},
          {"refused", {{"frame", s.refused_frame}, {"table", s.refused_table}, {"large", s.refused_large},
                       {"root", s.bad_roots}}}};
}

// `vm` is null for a soft VM (it has no exits).
// Traps per second come from the frames window [t0, t1].
nlohmann::json vgpu_json(const gvt::Vgpu& v, const gvt::VgpuType& type, const hv::Vm* vm, const gvt::Traps& t0,
                         const gvt::Traps& t1, double seconds) {
  const gvt::GmSlice& s = v.slice();
  const gvt::Traps t = v.traps();
  const gvt::GgttStats gs = v.ggtt_stats();
  auto per_s = [seconds](uint64_t now, uint64_t then) { return seconds > 0 ? (now - then) / seconds : 0.0; };
  nlohmann::json j = {{"id", v.id()},
          {"type", type.name},
          {"aperture", {{"base", s.low_base}, {"size", s.low_size}}},
          {"hidden_gm", {{"base", s.high_base}, {"size", s.high_size}}},
          {"fences", {{"base", s.fence_base}, {"count", s.fences}}},
          {"traps",
           {{"mmio", t.mmio},
            {"ggtt", t.ggtt},
            {"pvinfo", t.pvinfo},
            {"pagetable", t.pagetable},
            {"aperture", t.aperture}}},
          {"ppgtt", ppgtt_json(v)},
          {"ggtt", {{"writes", gs.writes}, {"shadowed", gs.shadowed}, {"half_writes", gs.half_writes}}},
          {"refused",
           {{"ggtt_range", gs.refused_range},
            {"ggtt_frame", gs.refused_frame},
            {"aperture", t.refused_aperture},
            {"fence", t.refused_fence},
            {"surface", t.refused_surface},
            {"submission", t.refused_submission},
            {"bar_relocation", v.config().refused_relocations()}}},
          {"submission",
           {{"elsp_writes", t.elsp},
            {"workloads", t.workloads},
            {"commands_scanned", t.commands_scanned},
            {"dwords_scanned", t.dwords_scanned},
            {"flips_emulated", t.flips_emulated}}},
          {"traps_per_s",
           {{"mmio", per_s(t1.mmio, t0.mmio)},
            {"ggtt", per_s(t1.ggtt, t0.ggtt)},
            {"pvinfo", per_s(t1.pvinfo, t0.pvinfo)},
            {"pagetable", per_s(t1.pagetable, t0.pagetable)}}},
          {"msis", v.msis_injected()}};
  if (vm) {
    j["vm_mmio_exits"] = vm->exits().mmio;
    j["bar2_exits_in_slice"] = vm->watched_exits();
  }
  return j;
}


// The selftest workload draws a pattern of its vGPU id: its screen must be
// exactly that.
std::string expected_screen(uint32_t vgt_id, uint32_t frames) {
  hw::Frame f{wl::Frame2d::kWidth, wl::Frame2d::kHeight,
              std::vector<uint32_t>(size_t{wl::Frame2d::kWidth} * wl::Frame2d::kHeight)};
  wl::selftest_draw(f.pixels.data(), vgt_id, frames - 1);
  return frame_checksum(f);
}

}  // namespace

tl::expected<std::unique_ptr<MediatedHost>, std::string> MediatedHost::create(uint64_t host_mem,
                                                                              const VmRunOptions& opt) {
  std::unique_ptr<MediatedHost> h(new MediatedHost());
  h->opt_ = opt;
  if (opt.vmm != "soft") {
    auto elf = hv::read_file(guest_image_path());
    if (!elf) return tl::unexpected(elf.error());
    h->elf_ = std::move(*elf);
  }
  auto gpu = hw::Gpu::create(hw::GpuConfig{host_mem, false});
  if (!gpu) return tl::unexpected(gpu.error());
  h->gpu_ = std::move(*gpu);
  // The host's driver owns the physical GPU and only its own GM slice.
  h->platform_ = std::make_unique<host::HwPlatform>(*h->gpu_);
  drv::PvInfo own = gvt::host_ranges();
  if (auto r = h->host_.init(*h->platform_, &own); !r)
    return tl::unexpected(fmt::format("host driver: {}", drv::error_name(r.error())));
  auto mediator = gvt::Gvt::create(h->host_, true, opt.sched);
  if (!mediator) return tl::unexpected(mediator.error());
  h->gvt_ = std::move(*mediator);
  std::filesystem::create_directories(opt.log_dir);
  return h;
}

MediatedHost::~MediatedHost() {
  for (size_t i = 0; i < guests_.size(); ++i) destroy(i);
  if (host_run_) {
    if (host_run_->thread.joinable()) host_run_->thread.join();
    if (host_run_->initialised) host_run_->dev.fini();
    host_run_.reset();
  }
  gvt_.reset();
  if (platform_) host_.fini();
}

tl::expected<size_t, std::string> MediatedHost::add_vm(const VmSpec& spec) {
  size_t i = guests_.size();
  guests_.push_back(std::make_unique<Guest>());
  Guest& gu = *guests_.back();
  gu.spec = spec;
  gu.type = spec.type.empty() ? &gvt::default_type() : gvt::find_type(spec.type);
  std::string name = fmt::format("vm{}", i);
  auto fail = [&](const std::string& why) {
    destroy(i);
    return tl::unexpected(fmt::format("{}: {}", name, why));
  };
  if (!gu.type) return fail(fmt::format("unknown vGPU type '{}'", spec.type));
  uint64_t bytes = spec.ram_mib << 20;
  if (opt_.trace_commands) {
    auto path = std::filesystem::path(opt_.log_dir) / (name + ".cmds.log");
    gu.trace = std::fopen(path.c_str(), "w");
    if (!gu.trace) return fail(fmt::format("cannot write {}", path.string()));
  }
  if (opt_.trace_ppgtt) {
    auto path = std::filesystem::path(opt_.log_dir) / (name + ".ppgtt.log");
    gu.ppgtt_trace = std::fopen(path.c_str(), "w");
    if (!gu.ppgtt_trace) return fail(fmt::format("cannot write {}", path.string()));
  }
  // The PPGTT mode each kind of VM runs faster in, as measured (docs/gvt.md,
  // "Which PPGTT mode"): soft VMs trap a table write for the cost of a call
  // and gain the GPU's one-stage walk; under KVM a protected page costs a
  // memslot split and each write ~35 us (docs/wp-cost.md).
  const bool shadow = spec.ppgtt.empty() ? opt_.vmm == "soft" : spec.ppgtt == "shadow";
  if (opt_.vmm == "soft") {
    if (spec.workload == "selftest" || !self_test(spec, opt_).empty())
      return fail("guest self-tests probe CPU isolation, which a soft VM does not have: run them under KVM");
    auto soft = SoftVm::create(*gpu_, *gvt_, bytes, gu.type, opt_.scan_nonpriv, gu.trace, shadow,
                               gu.ppgtt_trace);
    if (!soft) return fail(soft.error());
    gu.soft = std::move(*soft);
    gu.vgpu = &gu.soft->vgpu();
    return i;
  }
  if (!platform_->alloc_pages(bytes / gen8::kPageSize, false, &gu.ram))
    return fail(fmt::format("cannot allocate {} MiB of guest RAM", spec.ram_mib));
  auto vm = hv::Vm::create(vm_config(
      name, hv::RamBacking{gpu_->memory().fd(), gu.ram.phys, bytes, static_cast<uint8_t*>(gu.ram.cpu)},
      spec, opt_));
  if (!vm) return fail(vm.error());
  gu.vm = std::move(*vm);
  if (auto l = gu.vm->load(elf_); !l) return fail("guest image: " + l.error());
  // The VM's RAM as the GPU's second stage for its PPGTT contexts, as an
  // IOMMU would map it.
  auto dom = std::make_shared<hw::Domain>(bytes);
  dom->map(0, gu.ram.phys, bytes);
  gu.domain = gpu_->add_domain(dom);
  auto v = gvt_->create_vgpu({gu.type, gu.vm.get(), bytes, kBar0Base, kApertureBase, gu.domain,
                              opt_.scan_nonpriv, gu.trace, shadow, gu.ppgtt_trace});
  if (!v) return fail(v.error());
  gu.vgpu = *v;
  hv::Vm* vmp = gu.vm.get();
  gu.vgpu->set_failsafe_handler([vmp](const std::string& why) { vmp->stop(why); });
  gu.vm->set_reset_handler([this, &gu] {
    gvt_->reset_vgpu(gu.vgpu);
    gu.win = FrameWindow{};
  });
  gu.vm->attach_pci(kGpuDevfn, gu.vgpu);
  const gvt::GmSlice& s = gu.vgpu->slice();
  gu.vm->watch_exits(kApertureBase + s.low_base, s.low_size);
  watch_frames(
      *gu.vm, gu.win,
      [&gu](uint64_t mark) {
        if (mark == vmm_abi::kMarkFramesStart) gu.traps0 = gu.vgpu->traps();
        if (mark == vmm_abi::kMarkFramesDone) gu.traps1 = gu.vgpu->traps();
      },
      [&gu, this]() -> tl::expected<hw::Frame, std::string> {
        auto fb = gvt::decode_fb(*gu.vgpu, host_, 0);
        if (!fb) return tl::unexpected(fb.error());
        return hw::Frame{fb->width, fb->height, std::move(fb->pixels)};
      });
  return i;
}

void MediatedHost::start(size_t i) {
  Guest& gu = *guests_[i];
  if (gu.soft)
    gu.thread = std::thread([this, &gu] { run_soft(gu); });
  else
    gu.vm->start();
}

// The soft VM's CPU: the guest's driver and workload on this thread, measured
// as the host measures a KVM VM (host-timed frames, the screen decoded from
// the vGPU's plane).
void MediatedHost::run_soft(Guest& gu) {
  drv::Device dev;
  if (auto r = dev.init(gu.soft->guest()); !r) {
    gu.soft_result.workload = gu.spec.workload;
    gu.soft_result.status = fmt::format("error: guest driver: {}", drv::error_name(r.error()));
    return;
  }
  NativeOptions o{gu.spec.workload, gu.spec.frames, gu.spec.seconds};
  gu.soft_result = measure_workload(
      dev, o, nullptr,
      [&]() -> tl::expected<hw::Frame, std::string> {
        gu.traps1 = gu.vgpu->traps();
        auto fb = gvt::decode_fb(*gu.vgpu, host_, 0);
        if (!fb) return tl::unexpected(fb.error());
        return hw::Frame{fb->width, fb->height, std::move(fb->pixels)};
      },
      [&gu] { gu.traps0 = gu.vgpu->traps(); });
  dev.fini();
}

RunResult MediatedHost::wait(size_t i) {
  Guest& gu = *guests_[i];
  RunResult r;
  const bool test = !self_test(gu.spec, opt_).empty();
  if (gu.soft) {
    gu.thread.join();
    r = std::move(gu.soft_result);
  } else {
    hv::VmStatus st = gu.vm->wait();
    r.workload = gu.spec.workload;
    collect_result(r, *gu.vm, st, gu.win, test);
  }
  std::string failsafe = gu.vgpu->status();
  if (failsafe != "ok") r.status = failsafe;
  if (r.status == "ok" && gu.spec.workload == "selftest" && !test) {
    std::string want = expected_screen(gu.vgpu->id(), r.frames);
    if (r.frame_checksum != want || r.guest_checksum != want)
      r.status = fmt::format("error: the screen is {} (guest {}), not the pattern of vGPU {} ({})",
                             r.frame_checksum, r.guest_checksum, gu.vgpu->id(), want);
  }
  // The GPU accounts work by the shadow contexts that ran it. An emulated
  // ring flip runs as the NOOPs that replaced it (4 for the guest's 1).
  for (uint32_t lrca : gu.vgpu->shadow_contexts()) {
    auto c = gpu_->counters(lrca);
    r.commands_executed += c.commands;
    r.pixels_written += c.pixels;
  }
  const uint64_t flips = gu.vgpu->traps().flips_emulated;
  r.commands_executed -= std::min(r.commands_executed, flips * (gen8::cmd(gen8::Op::MI_DISPLAY_FLIP).len.min - 1));
  r.vgpu = vgpu_json(*gu.vgpu, *gu.type, gu.vm.get(), gu.traps0, gu.traps1, r.seconds);
  r.sched = sched_json(*gu.vgpu, gu.vgpu->shadow_contexts());
  return r;
}

tl::expected<void, std::string> MediatedHost::reboot(size_t i) {
  Guest& gu = *guests_[i];
  if (gu.soft)
    return tl::unexpected(
        std::string("a soft VM cannot reboot: its CPU is a host thread; use --vmm kvm"));
  return gu.vm->reboot();
}

void MediatedHost::destroy(size_t i) {
  Guest& gu = *guests_[i];
  if (gu.thread.joinable()) gu.thread.join();
  if (gu.soft) {
    gu.soft.reset();  // drains and destroys the vGPU, then frees the RAM
    gu.vgpu = nullptr;
  }
  if (gu.vm) {
    gu.vm->stop("destroyed");
    gu.vm->wait();
  }
  if (gu.vgpu) gvt_->destroy_vgpu(gu.vgpu);
  gu.vgpu = nullptr;
  if (gu.domain) gpu_->remove_domain(gu.domain);
  gu.domain = 0;
  if (gu.trace) std::fclose(gu.trace);
  gu.trace = nullptr;
  if (gu.ppgtt_trace) std::fclose(gu.ppgtt_trace);
  gu.ppgtt_trace = nullptr;
  gu.vm.reset();
  if (gu.ram.count) platform_->free_pages(gu.ram);  // zeroed as it is freed
  gu.ram = {};
}

tl::expected<void, std::string> MediatedHost::start_host(const VmSpec& spec) {
  host_run_ = std::make_unique<HostRun>();
  HostRun& hr = *host_run_;
  hr.spec = spec;
  hr.tenant = std::make_unique<gvt::HostTenant>(*gvt_, gvt::default_type().weight);
  const drv::PvInfo own = gvt::host_tenant_ranges();
  if (auto r = hr.dev.init(*platform_, &own, hr.tenant.get()); !r)
    return tl::unexpected(fmt::format("host workload: driver init: {}", drv::error_name(r.error())));
  hr.initialised = true;
  hr.thread = std::thread([this, &hr] {
    NativeOptions o{hr.spec.workload, hr.spec.frames, hr.spec.seconds};
    hr.result = measure_workload(hr.dev, o, nullptr, [this] { return gpu_->scanout(0); });
  });
  return {};
}

RunResult MediatedHost::wait_host() {
  HostRun& hr = *host_run_;
  hr.thread.join();
  RunResult r = std::move(hr.result);
  for (uint32_t lrca : r.contexts) {
    auto c = gpu_->counters(lrca);
    r.commands_executed += c.commands;
    r.pixels_written += c.pixels;
  }
  r.sched = sched_json(*hr.tenant, r.contexts);
  return r;
}

// GPU busy time comes from the model's own accounting of the contexts that
// ran the tenant's work, not from the scheduler's books.
nlohmann::json MediatedHost::sched_json(const gvt::SchedClient& c, const std::vector<uint32_t>& contexts) const {
  const gvt::SchedStats s = gvt_->sched_stats(&c);
  uint64_t busy = 0;
  for (uint32_t lrca : contexts) busy += gpu_->counters(lrca).busy_ns;
  return {{"weight", c.sched_weight()},
          {"gpu_busy_ms", ms(busy)},
          {"owned_ms", ms(s.owned_ns)},
          {"switches_in", s.switches_in},
          {"workloads", s.workloads},
          {"drain_max_ms", ms(s.drain_max_ns)},
          {"drain_p99_ms", ms(s.drain_p99_ns)},
          {"hangs", s.hangs},
          {"hang_reset_late_ms", ms(s.hang_late_max_ns)},
          {"preempted", s.preempted}};
}

nlohmann::json MediatedHost::scheduler_json() const {
  const gvt::SwitchStats s = gvt_->switch_stats();
  const gvt::SchedParams& p = gvt_->sched_params();
  return {{"tick_ms", ms(p.tick_ns)},
          {"balance_ms", ms(p.balance_ns)},
          {"drain_timeout_ms", ms(p.drain_timeout_ns)},
          {"switches", s.switches},
          {"switch_latency_us",
           {{"p50", s.latency_p50_ns / 1e3}, {"p99", s.latency_p99_ns / 1e3}, {"max", s.latency_max_ns / 1e3}}},
          {"drain_us", {{"p50", s.drain_p50_ns / 1e3}, {"p99", s.drain_p99_ns / 1e3}, {"max", s.drain_max_ns / 1e3}}}};
}

tl::expected<MediatedRun, std::string> run_mediated(const std::vector<VmSpec>& specs, const VmRunOptions& opt) {
  uint64_t total_ram = 0;
  for (const auto& s : specs) total_ram += s.ram_mib << 20;
  auto host = MediatedHost::create(total_ram + (1ull << 30), opt);
  if (!host) return tl::unexpected(host.error());
  MediatedHost& h = **host;
  for (const auto& s : specs)
    if (auto i = h.add_vm(s); !i) return tl::unexpected(i.error());
  for (size_t i = 0; i < specs.size(); ++i) h.start(i);
  if (!opt.host_workload.empty()) {
    VmSpec hs;
    hs.workload = opt.host_workload;
    hs.frames = specs.empty() ? 200 : specs[0].frames;
    hs.seconds = specs.empty() ? opt.host_seconds : specs[0].seconds;
    if (auto r = h.start_host(hs); !r) return tl::unexpected(r.error());
  }
  MediatedRun run;
  for (size_t i = 0; i < specs.size(); ++i) run.results.push_back(h.wait(i));
  if (!opt.host_workload.empty()) run.results.push_back(h.wait_host());
  // Shares of the GPU's busy time, over every tenant.
  double total = 0;
  for (const auto& r : run.results) total += r.sched.value("gpu_busy_ms", 0.0);
  for (auto& r : run.results)
    if (!r.sched.is_null()) r.sched["gpu_share"] = total > 0 ? r.sched.value("gpu_busy_ms", 0.0) / total : 0.0;
  run.scheduler = h.scheduler_json();
  return run;
}

}  // namespace cli
