// The GPU's address translation: one walker for both GTT formats. A GM
// address goes through the GGTT (one level, in the device) or the context's
// 4-level PPGTT (tables in memory); every physical address the GPU emits,
// table pages included, then goes through the optional second-stage domains
// (per context for 2-stage PPGTT, device-wide for pass-through) and must land
// in host memory.
#pragma once

#include <cstdint>
#include <memory>

#include <tl/expected.hpp>

#include "common/gen8/layout.h"
#include "hw/domain.h"

namespace hw {

class Gpu;

struct WalkFault {
  gen8::Fault code = gen8::Fault::None;
  uint64_t address = 0;  // the GM address being translated
};

class AddressSpace {
 public:
  static AddressSpace ggtt(Gpu& gpu);
  // `pml4` is the root from the context (a physical address in the context's space).
  static AddressSpace ppgtt(Gpu& gpu, uint64_t pml4, std::shared_ptr<const Domain> ctx_domain);

  bool is_ggtt() const { return ggtt_; }
  // Forgets cached translations (a TLB invalidation).
  void flush();
  // Host physical address of the page holding `addr`, through a small TLB.
  tl::expected<uint64_t, WalkFault> page(uint64_t addr);
  // Splits [addr, addr + len) at page boundaries and calls
  // fn(hpa, offset_into_range, bytes) for each piece; fn returns false when
  // the host refuses the DMA.
  template <class Fn>
  tl::expected<void, WalkFault> pieces(uint64_t addr, uint64_t len, Fn&& fn) {
    for (uint64_t done = 0; done < len;) {
      auto hpa = page(addr + done);
      if (!hpa) return tl::unexpected(hpa.error());
      uint64_t off = (addr + done) & (gen8::kPageSize - 1);
      uint64_t n = len - done < gen8::kPageSize - off ? len - done : gen8::kPageSize - off;
      if (!fn(*hpa + off, done, n)) return tl::unexpected(WalkFault{gen8::Fault::DmaRefused, addr + done});
      done += n;
    }
    return {};
  }

 private:
  AddressSpace(Gpu& gpu, bool ggtt) : gpu_(&gpu), ggtt_(ggtt) {}
  tl::expected<uint64_t, gen8::Fault> phys_to_host(uint64_t phys, bool ctx_stage) const;
  tl::expected<uint64_t, WalkFault> walk(uint64_t addr) const;

  Gpu* gpu_;
  bool ggtt_;
  uint64_t pml4_ = 0;
  std::shared_ptr<const Domain> ctx_domain_;
  std::shared_ptr<const Domain> dev_domain_;
  struct Tlb {
    uint64_t va = ~0ull;
    uint64_t hpa = 0;
  };
  static constexpr uint64_t kTlbEntries = 64;
  Tlb tlb_[kTlbEntries];
};

}  // namespace hw
