#include "common/gen8/irq_regs.h"

namespace gen8 {

namespace r = gen8::reg;

namespace {

// Groups are decoded as base + 4 * index with 16-byte aligned bases.
enum Index : uint32_t { kIsr = 0, kImr = 1, kIir = 2, kIer = 3 };
static_assert(r::GEN8_GT_ISR0 % 16 == 0 && r::GEN8_DE_PIPE_ISR % 16 == 0);
static_assert(r::GEN8_GT_IMR0 == r::GEN8_GT_ISR0 + 4 * kImr &&
              r::GEN8_GT_IIR0 == r::GEN8_GT_ISR0 + 4 * kIir &&
              r::GEN8_GT_IER0 == r::GEN8_GT_ISR0 + 4 * kIer);
static_assert(r::GEN8_DE_PIPE_IMR == r::GEN8_DE_PIPE_ISR + 4 * kImr &&
              r::GEN8_DE_PIPE_IIR == r::GEN8_DE_PIPE_ISR + 4 * kIir &&
              r::GEN8_DE_PIPE_IER == r::GEN8_DE_PIPE_ISR + 4 * kIer && r::kDePipeStride == 16);

}  // namespace

int InterruptController::group_of(uint32_t offset) {
  if (offset % 4 != 0) return -1;
  const uint32_t base = offset & ~0xFu;
  if (base == r::GEN8_GT_ISR0) return kGt;
  if (base >= r::GEN8_DE_PIPE_ISR &&
      base < r::GEN8_DE_PIPE_ISR + gen8::kNumPipes * r::kDePipeStride)
    return 1 + static_cast<int>((base - r::GEN8_DE_PIPE_ISR) / r::kDePipeStride);
  return -1;
}

bool InterruptController::owns(uint32_t offset) const {
  return offset == r::GEN8_MASTER_IRQ || group_of(offset) >= 0;
}

bool InterruptController::pending() const {
  if (!master_enabled()) return false;
  for (const Group& g : groups_)
    if (g.iir & g.ier) return true;
  return false;
}

uint32_t InterruptController::read(uint32_t offset) const {
  if (offset == r::GEN8_MASTER_IRQ) {
    uint32_t v = master_ & gen8::kMasterEnable;
    const uint32_t gt = groups_[kGt].iir & groups_[kGt].ier;
    if (gt & 0xFFFFu) v |= gen8::kMasterGtRcs;
    if (gt & 0xFFFF0000u) v |= gen8::kMasterGtBcs;
    for (int p = 0; p < gen8::kNumPipes; ++p)
      if (groups_[1 + p].iir & groups_[1 + p].ier) v |= gen8::master_de_pipe(p);
    return v;
  }
  const int gi = group_of(offset);
  if (gi < 0) return 0;
  const Group& g = groups_[gi];
  switch ((offset & 0xFu) / 4) {
    case kIsr:
      return g.isr;
    case kImr:
      return g.imr;
    case kIir:
      return g.iir;
    default:
      return g.ier;
  }
}

bool InterruptController::write(uint32_t offset, uint32_t v) {
  if (offset == r::GEN8_MASTER_IRQ) {
    const bool was = master_enabled();
    master_ = v & gen8::kMasterEnable;
    return !was && pending();
  }
  const int gi = group_of(offset);
  if (gi < 0) return false;
  Group& g = groups_[gi];
  switch ((offset & 0xFu) / 4) {
    case kIsr:
      return false;
    case kImr:
      g.imr = v;
      return false;
    case kIir:
      g.iir &= ~v;
      return pending();
    default: {
      const uint32_t newly = v & ~g.ier;
      g.ier = v;
      return master_enabled() && (newly & g.iir) != 0;
    }
  }
}

bool InterruptController::raise(Group& g, uint32_t bits) {
  g.isr = bits;
  const uint32_t latched = bits & ~g.imr;
  g.iir |= latched;
  return master_enabled() && (latched & g.ier) != 0;
}

bool InterruptController::raise_gt(uint32_t bits) { return raise(groups_[kGt], bits); }

bool InterruptController::raise_de(int pipe, uint32_t bits) {
  if (pipe < 0 || pipe >= gen8::kNumPipes) return false;
  return raise(groups_[1 + pipe], bits);
}

void InterruptController::reset_gt() { groups_[kGt] = Group{}; }

void InterruptController::reset() {
  groups_.fill(Group{});
  master_ = 0;
}

}  // namespace gen8
