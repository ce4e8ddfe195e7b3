#include "gvt/ggtt_shadow.h"

#include <spdlog/spdlog.h>

#include "common/gen8/layout.h"

namespace gvt {

namespace {
constexpr uint64_t kPage = gen8::kPageSize;
}

GgttShadow::GgttShadow(hv::Mpt& mpt, const GmSlice& slice, uint64_t scratch_hpa,
                       HostWrite write_host)
    : mpt_(mpt),
      slice_(slice),
      scratch_pte_(scratch_hpa | gen8::kPtePresent),
      write_host_(std::move(write_host)),
      guest_((slice.low_size + slice.high_size) / kPage, 0),
      pinned_(guest_.size(), 0),
      halves_(guest_.size(), 0) {
  reset();
}

GgttShadow::~GgttShadow() {
  for (uint64_t p : pinned_)
    if (p) mpt_.unpin_gfn(p - 1);
}

bool GgttShadow::owns(uint64_t index, size_t* slot) const {
  uint64_t gm = index * kPage;
  if (gm >= slice_.low_base && gm - slice_.low_base < slice_.low_size) {
    *slot = (gm - slice_.low_base) / kPage;
    return true;
  }
  if (gm >= slice_.high_base && gm - slice_.high_base < slice_.high_size) {
    *slot = (slice_.low_size + gm - slice_.high_base) / kPage;
    return true;
  }
  return false;
}

void GgttShadow::write(uint64_t offset, unsigned size, uint64_t value) {
  stats_.writes++;
  uint64_t index = offset / 8;
  size_t slot;
  if ((size != 4 && size != 8) || offset % size || !owns(index, &slot)) {
    // The guest's ballooned ranges: upstream ignores these silently; we count.
    stats_.refused_range++;
    return;
  }
  if (size == 8) {
    guest_[slot] = value;
    halves_[slot] = 0;
    shadow(slot, index);
    return;
  }
  stats_.half_writes++;
  bool high = offset % 8;
  uint64_t& g = guest_[slot];
  g = high ? (g & 0xFFFFFFFFull) | (value << 32) : (g & ~0xFFFFFFFFull) | (value & 0xFFFFFFFFull);
  halves_[slot] |= high ? 2 : 1;
  if (halves_[slot] == 3) {
    halves_[slot] = 0;
    shadow(slot, index);
  }
}

uint64_t GgttShadow::read(uint64_t offset, unsigned size) const {
  size_t slot;
  if ((size != 4 && size != 8) || offset % size || !owns(offset / 8, &slot)) return 0;
  uint64_t v = guest_[slot];
  return size == 8 ? v : (offset % 8 ? v >> 32 : v & 0xFFFFFFFFull);
}

std::optional<uint64_t> GgttShadow::gpa(uint64_t gm) const {
  size_t slot;
  if (!owns(gm / kPage, &slot) || !(guest_[slot] & gen8::kPtePresent)) return std::nullopt;
  return (guest_[slot] & gen8::kPteAddrMask) + gm % kPage;
}

// Install the new mapping before dropping the old pin.
void GgttShadow::shadow(size_t slot, uint64_t index) {
  uint64_t g = guest_[slot], host = scratch_pte_, pin = 0;
  if (g & gen8::kPtePresent) {
    uint64_t gfn = (g & gen8::kPteAddrMask) / kPage;
    if (auto hpa = mpt_.pin_gfn(gfn)) {
      host = *hpa | gen8::kPtePresent;
      pin = gfn + 1;
    } else {
      stats_.refused_frame++;
      spdlog::info("vgpu: GGTT entry 0x{:x} names frame 0x{:x} outside the VM's RAM: scratch",
                   index, gfn);
    }
  }
  write_host_(index, host);
  stats_.shadowed++;
  if (pinned_[slot]) mpt_.unpin_gfn(pinned_[slot] - 1);
  pinned_[slot] = pin;
}

void GgttShadow::reset() {
  for (size_t slot = 0; slot < guest_.size(); ++slot) {
    uint64_t gm = slot * kPage < slice_.low_size ? slice_.low_base + slot * kPage
                                                 : slice_.high_base + slot * kPage - slice_.low_size;
    guest_[slot] = 0;
    halves_[slot] = 0;
    write_host_(gm / kPage, scratch_pte_);
    if (pinned_[slot]) mpt_.unpin_gfn(pinned_[slot] - 1);
    pinned_[slot] = 0;
  }
}

}  // namespace gvt
