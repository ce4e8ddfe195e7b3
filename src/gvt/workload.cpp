#include "gvt/workload.h"

#include <algorithm>

#include "common/gen8/layout.h"

namespace gvt {

using namespace gen8;

// A host template (zeroes), the guest's *values*, and the host's addresses:
// the shadow ring, and either the vGPU's second-stage domain (the guest's
// PDPs are GPAs the domain confines) or the shadow PPGTT's root.
void fill_shadow_context(const Workload& w) {
  const ShadowContext& sc = *w.shadow;
  uint32_t* sp = reinterpret_cast<uint32_t*>(static_cast<uint8_t*>(sc.image.pages.cpu) +
                                             kCtxRegStatePage * kPageSize);
  const uint32_t* g = w.guest_image.data();
  std::fill(sp, sp + 1024, 0u);
  for (uint32_t i : {ctx::CONTEXT_CONTROL, ctx::CTX_TIMESTAMP, ctx::PDP0_UDW, ctx::PDP0_LDW, ctx::PDP1_UDW,
                     ctx::PDP1_LDW, ctx::PDP2_UDW, ctx::PDP2_LDW, ctx::PDP3_UDW, ctx::PDP3_LDW, ctx::INSTPM})
    sp[i] = g[i];
  std::copy(g + ctx::GPR0, g + ctx::GPR0 + 2 * kNumGprs, sp + ctx::GPR0);
  sp[ctx::RING_HEAD] = w.head;
  sp[ctx::RING_TAIL] = w.tail;
  sp[ctx::RING_START] = static_cast<uint32_t>(sc.ring.gm);
  sp[ctx::RING_CTL] = ring_ctl(static_cast<uint32_t>(sc.ring.size));
  sp[ctx::SECOND_STAGE] = w.domain;
  if (w.shadow_root) {
    // The shadow's root, never the guest's: PDP1-3 are unused by a 4-level
    // PPGTT and stay zero.
    for (uint32_t i : {ctx::PDP1_UDW, ctx::PDP1_LDW, ctx::PDP2_UDW, ctx::PDP2_LDW, ctx::PDP3_UDW, ctx::PDP3_LDW})
      sp[i] = 0;
    sp[ctx::PDP0_UDW] = static_cast<uint32_t>(w.shadow_root >> 32);
    sp[ctx::PDP0_LDW] = static_cast<uint32_t>(w.shadow_root);
  }
}

void save_shadow_context(Workload& w) {
  const auto* sp = reinterpret_cast<const uint32_t*>(static_cast<const uint8_t*>(w.shadow->image.pages.cpu) +
                                                     kCtxRegStatePage * kPageSize);
  std::copy(sp, sp + w.saved_image.size(), w.saved_image.begin());
}

}  // namespace gvt
