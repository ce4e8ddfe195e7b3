#include "hw/gtt_walk.h"

#include "hw/gpu.h"

namespace hw {

using gen8::Fault;

AddressSpace AddressSpace::ggtt(Gpu& gpu) {
  AddressSpace s(gpu, true);
  s.dev_domain_ = gpu.device_domain();
  return s;
}

AddressSpace AddressSpace::ppgtt(Gpu& gpu, uint64_t pml4, std::shared_ptr<const Domain> ctx) {
  AddressSpace s(gpu, false);
  s.pml4_ = pml4 & gen8::kPteAddrMask;
  s.ctx_domain_ = std::move(ctx);
  s.dev_domain_ = gpu.device_domain();
  return s;
}

tl::expected<uint64_t, Fault> AddressSpace::phys_to_host(uint64_t phys, bool ctx_stage) const {
  if (ctx_stage && ctx_domain_) {
    auto t = ctx_domain_->translate(phys);
    if (!t) return tl::unexpected(Fault::DmaRefused);
    phys = *t;
  }
  if (dev_domain_) {
    auto t = dev_domain_->translate(phys);
    if (!t) return tl::unexpected(Fault::DmaRefused);
    phys = *t;
  }
  if (!gpu_->memory().dma(phys & ~(gen8::kPageSize - 1), gen8::kPageSize))
    return tl::unexpected(Fault::DmaRefused);
  return phys;
}

tl::expected<uint64_t, WalkFault> AddressSpace::walk(uint64_t addr) const {
  if (ggtt_) {
    if (addr >= gen8::kGmSize) return tl::unexpected(WalkFault{Fault::PageFault, addr});
    uint64_t pte = gpu_->ggtt_entry(addr / gen8::kPageSize);
    if (!(pte & gen8::kPtePresent)) return tl::unexpected(WalkFault{Fault::PageFault, addr});
    auto host = phys_to_host(pte & gen8::kPteAddrMask, false);
    if (!host) return tl::unexpected(WalkFault{host.error(), addr});
    return *host;
  }
  if (addr >= gen8::kPpgttSize) return tl::unexpected(WalkFault{Fault::PageFault, addr});
  uint64_t table = pml4_;
  for (int level = 3; level >= 0; --level) {
    auto host = phys_to_host(table, true);
    if (!host) return tl::unexpected(WalkFault{host.error(), addr});
    uint64_t idx = (addr >> (12 + 9 * level)) & 511;
    // One whole 8-byte load, as hardware reads an entry: a mediator may be
    // rewriting shadow entries while an engine walks them.
    const auto* slot = reinterpret_cast<const uint64_t*>(gpu_->memory().base() + *host + idx * 8);
    const uint64_t pte = __atomic_load_n(slot, __ATOMIC_ACQUIRE);
    if (!(pte & gen8::kPtePresent)) return tl::unexpected(WalkFault{Fault::PageFault, addr});
    if (level > 0 && level < 3 && (pte & gen8::kPtePs))
      return tl::unexpected(WalkFault{Fault::LargePage, addr});
    table = pte & gen8::kPteAddrMask;
  }
  auto host = phys_to_host(table, true);
  if (!host) return tl::unexpected(WalkFault{host.error(), addr});
  return *host;
}

tl::expected<uint64_t, WalkFault> AddressSpace::page(uint64_t addr) {
  uint64_t va = addr & ~(gen8::kPageSize - 1);
  Tlb& t = tlb_[(va / gen8::kPageSize) % kTlbEntries];
  if (t.va == va) return t.hpa;
  auto r = walk(va);
  if (!r) return r;
  t = Tlb{va, *r};
  return *r;
}

void AddressSpace::flush() {
  for (auto& t : tlb_) t.va = ~0ull;
}

}  // namespace hw
