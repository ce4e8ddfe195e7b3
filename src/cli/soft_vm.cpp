#include "cli/soft_vm.h"

#include "common/gen8/layout.h"
#include "common/vmm_abi.h"
#include "hw/domain.h"

namespace cli {

tl::expected<std::unique_ptr<SoftVm>, std::string> SoftVm::create(hw::Gpu& gpu, gvt::Gvt& gvt, uint64_t ram,
                                                                  const gvt::VgpuType* type, bool scan_nonpriv,
                                                                  std::FILE* trace, bool ppgtt_shadow,
                                                                  std::FILE* ppgtt_trace) {
  std::unique_ptr<SoftVm> vm(new SoftVm(gpu, gvt));
  auto hpa = gpu.memory().alloc_pages(ram / gen8::kPageSize);
  if (!hpa) return tl::unexpected(hpa.error());
  vm->ram_hpa_ = *hpa;
  vm->ram_size_ = ram;
  vm->mpt_ = std::make_unique<hv::FakeMpt>(ram, 4096, *hpa, gpu.memory().base() + *hpa);
  auto dom = std::make_shared<hw::Domain>(ram);
  if (!dom->map(0, *hpa, ram)) return tl::unexpected(std::string("cannot map the VM's domain"));
  vm->domain_ = gpu.add_domain(dom);
  auto v = gvt.create_vgpu({type, vm->mpt_.get(), ram, vmm_abi::kBar0Base, vmm_abi::kApertureBase, vm->domain_,
                            scan_nonpriv, trace, ppgtt_shadow, ppgtt_trace});
  if (!v) return tl::unexpected(v.error());
  vm->vgpu_ = *v;
  vm->guest_ = std::make_unique<VgpuGuest>(*vm->mpt_, *vm->vgpu_);
  vm->vgpu_->set_failsafe_handler([g = vm->guest_.get()](const std::string&) { g->stop(); });
  return vm;
}

SoftVm::~SoftVm() {
  destroy_vgpu();
  if (domain_) gpu_.remove_domain(domain_);
  if (ram_size_) gpu_.memory().free_pages(ram_hpa_, ram_size_ / gen8::kPageSize);
}

void SoftVm::destroy_vgpu() {
  if (vgpu_) gvt_.destroy_vgpu(vgpu_);
  vgpu_ = nullptr;
}

}  // namespace cli
