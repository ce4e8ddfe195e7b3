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

nlohmann::json vgpu_json(const gvt::Vgpu& v, const gvt::VgpuType& type, const hv::Vm& vm) {
  const gvt::GmSlice& s = v.slice();
  const gvt::Traps t = v.traps();
  const gvt::GgttStats gs = v.ggtt_stats();
  return {{"id", v.id()},
          {"type", type.name},
          {"aperture", {{"base", s.low_base}, {"size", s.low_size}}},
          {"hidden_gm", {{"base", s.high_base}, {"size", s.high_size}}},
          {"fences", {{"base", s.fence_base}, {"count", s.fences}}},
          {"traps", {{"mmio", t.mmio}, {"ggtt", t.ggtt}, {"pvinfo", t.pvinfo}, {"aperture", t.aperture}}},
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
          {"msis", v.msis_injected()},
          {"vm_mmio_exits", vm.exits().mmio},
          {"bar2_exits_in_slice", vm.watched_exits()}};
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
  auto elf = hv::read_file(guest_image_path());
  if (!elf) return tl::unexpected(elf.error());
  h->elf_ = std::move(*elf);
  auto gpu = hw::Gpu::create(hw::GpuConfig{host_mem, false});
  if (!gpu) return tl::unexpected(gpu.error());
  h->gpu_ = std::move(*gpu);
  // The host's driver owns the physical GPU and only its own GM slice.
  h->platform_ = std::make_unique<host::HwPlatform>(*h->gpu_);
  drv::PvInfo own = gvt::host_ranges();
  if (auto r = h->host_.init(*h->platform_, &own); !r)
    return tl::unexpected(fmt::format("host driver: {}", drv::error_name(r.error())));
  auto mediator = gvt::Gvt::create(h->host_, true);
  if (!mediator) return tl::unexpected(mediator.error());
  h->gvt_ = std::move(*mediator);
  std::filesystem::create_directories(opt.log_dir);
  return h;
}

MediatedHost::~MediatedHost() {
  for (size_t i = 0; i < guests_.size(); ++i) destroy(i);
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
  if (opt_.trace_commands) {
    auto path = std::filesystem::path(opt_.log_dir) / (name + ".cmds.log");
    gu.trace = std::fopen(path.c_str(), "w");
    if (!gu.trace) return fail(fmt::format("cannot write {}", path.string()));
  }
  auto v = gvt_->create_vgpu(
      {gu.type, gu.vm.get(), bytes, kBar0Base, kApertureBase, gu.domain, opt_.scan_nonpriv, gu.trace});
  if (!v) return fail(v.error());
  gu.vgpu = *v;
  hv::Vm* vmp = gu.vm.get();
  gu.vgpu->set_failsafe_handler([vmp](const std::string& why) { vmp->stop(why); });
  gu.vm->attach_pci(kGpuDevfn, gu.vgpu);
  const gvt::GmSlice& s = gu.vgpu->slice();
  gu.vm->watch_exits(kApertureBase + s.low_base, s.low_size);
  watch_frames(
      *gu.vm, gu.win, [](uint64_t) {},
      [&gu, this]() -> tl::expected<hw::Frame, std::string> {
        auto fb = gvt::decode_fb(*gu.vgpu, host_, 0);
        if (!fb) return tl::unexpected(fb.error());
        return hw::Frame{fb->width, fb->height, std::move(fb->pixels)};
      });
  return i;
}

void MediatedHost::start(size_t i) { guests_[i]->vm->start(); }

RunResult MediatedHost::wait(size_t i) {
  Guest& gu = *guests_[i];
  hv::VmStatus st = gu.vm->wait();
  RunResult r;
  r.workload = gu.spec.workload;
  const bool test = !self_test(gu.spec, opt_).empty();
  collect_result(r, *gu.vm, st, gu.win, test);
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
  r.vgpu = vgpu_json(*gu.vgpu, *gu.type, *gu.vm);
  return r;
}

void MediatedHost::destroy(size_t i) {
  Guest& gu = *guests_[i];
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
  gu.vm.reset();
  if (gu.ram.count) platform_->free_pages(gu.ram);  // zeroed as it is freed
  gu.ram = {};
}

tl::expected<std::vector<RunResult>, std::string> run_mediated(const std::vector<VmSpec>& specs,
                                                               const VmRunOptions& opt) {
  uint64_t total_ram = 0;
  for (const auto& s : specs) total_ram += s.ram_mib << 20;
  auto host = MediatedHost::create(total_ram + (1ull << 30), opt);
  if (!host) return tl::unexpected(host.error());
  MediatedHost& h = **host;
  for (const auto& s : specs)
    if (auto i = h.add_vm(s); !i) return tl::unexpected(i.error());
  for (size_t i = 0; i < specs.size(); ++i) h.start(i);
  std::vector<RunResult> results;
  for (size_t i = 0; i < specs.size(); ++i) results.push_back(h.wait(i));
  return results;
}

}  // namespace cli
