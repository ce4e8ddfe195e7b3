#include "cli/passthrough.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <mutex>

#include "cli/guest_run.h"
#include "common/gen8/layout.h"
#include "common/vmm_abi.h"
#include "hv/elf_loader.h"
#include "hv/vm.h"
#include "hw/gpu.h"

namespace cli {

namespace {

using namespace vmm_abi;

// The physical GPU as the VM's own device: config space and BAR0 go straight
// to the model. The BARs stay where the VMM placed them.
class PassthroughGpu final : public hv::BusDevice, public hv::PciFunction {
 public:
  explicit PassthroughGpu(hw::Gpu& gpu) : gpu_(gpu) {}
  void read(uint64_t off, uint8_t* data, uint32_t len) override {
    uint64_t v = gpu_.mmio_read(off, len);
    std::memcpy(data, &v, len);
  }
  void write(uint64_t off, const uint8_t* data, uint32_t len) override {
    uint64_t v = 0;
    std::memcpy(&v, data, len);
    gpu_.mmio_write(off, len, v);
  }
  uint32_t cfg_read(uint32_t off, unsigned size) override { return gpu_.cfg_read(off, size); }
  void cfg_write(uint32_t off, unsigned size, uint32_t v) override {
    if (off >= gen8::pci::BAR0 && off < gen8::pci::BAR2 + 8) {
      spdlog::debug("passthrough: BAR relocation refused (0x{:x})", off);
      return;
    }
    gpu_.cfg_write(off, size, v);
  }

 private:
  hw::Gpu& gpu_;
};

}  // namespace

std::string guest_image_path() {
  std::error_code ec;
  auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  return (exe.parent_path() / "guest" / "gvirt-guest.elf").string();
}

tl::expected<RunResult, std::string> run_passthrough(const VmSpec& spec, const VmRunOptions& opt) {
  auto elf = hv::read_file(guest_image_path());
  if (!elf) return tl::unexpected(elf.error());
  uint64_t ram = spec.ram_mib << 20;
  auto gpu = hw::Gpu::create(hw::GpuConfig{ram + (512ull << 20), true});
  if (!gpu) return tl::unexpected(gpu.error());
  hw::Gpu& g = **gpu;
  auto hpa = g.memory().alloc_pages(ram / gen8::kPageSize);
  if (!hpa) return tl::unexpected("cannot allocate guest RAM: " + hpa.error());

  // Every DMA of the device is translated by the VM's domain, as behind an IOMMU.
  auto dom = std::make_shared<hw::Domain>(ram);
  dom->map(0, *hpa, ram);
  g.set_device_domain(g.add_domain(dom));
  // As firmware would: the BARs at their fixed guest-physical homes.
  g.cfg_write(gen8::pci::BAR0, 4, static_cast<uint32_t>(kBar0Base));
  g.cfg_write(gen8::pci::BAR0 + 4, 4, 0);
  g.cfg_write(gen8::pci::BAR2, 4, static_cast<uint32_t>(kApertureBase));
  g.cfg_write(gen8::pci::BAR2 + 4, 4, 0);

  std::filesystem::create_directories(opt.log_dir);
  auto vm = hv::Vm::create(
      vm_config("vm0", hv::RamBacking{g.memory().fd(), *hpa, ram, g.memory().base() + *hpa}, spec, opt));
  if (!vm) return tl::unexpected(vm.error());
  hv::Vm& v = **vm;
  if (auto l = v.load(*elf); !l) return tl::unexpected("guest image: " + l.error());

  PassthroughGpu dev(g);
  v.attach_pci(kGpuDevfn, &dev);
  if (!v.trap_mmio(kBar0Base, gen8::kBar0Size, &dev))
    return tl::unexpected(std::string("cannot trap the GPU's BAR0"));
  if (!v.map_gpa(kApertureBase, gen8::kApertureSize, g.aperture()))
    return tl::unexpected(std::string("cannot map the aperture into the VM"));
  g.set_msi_handler([&v](uint64_t addr, uint32_t data) { v.inject_msi(addr, data); });

  RunResult r;
  r.workload = spec.workload;
  FrameWindow win;
  hw::MmioStats mmio0, mmio1;
  watch_frames(
      v, win, [&](uint64_t mark) { (mark == kMarkFramesStart ? mmio0 : mmio1) = g.mmio_stats(); },
      [&g] { return g.scanout(0); });
  v.start();
  hv::VmStatus st = v.wait();
  g.set_msi_handler(nullptr);

  GuestResult gr = collect_result(r, v, st, win, !self_test(spec, opt).empty());
  for (uint32_t i = 0; i < gr.n_contexts && i < 4; ++i) {
    auto c = g.counters(gr.contexts[i]);
    r.commands_executed += c.commands;
    r.pixels_written += c.pixels;
  }
  if (win.t1 > win.t0) r.mmio = mmio1 - mmio0;
  return r;
}

}  // namespace cli
