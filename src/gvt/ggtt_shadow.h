// GGTT shadowing (upstream gtt.c, the GGTT half). A guest GGTT entry write
// traps; the mediator checks that the entry lies in the vGPU's own GM slices
// and that its frame is the VM's RAM, translates GFN->HPA through the MPT, and
// writes the shadow entry to the physical GGTT. The guest keeps reading its
// own view. Refused and non-present entries point at the vGPU's scratch page,
// so no access through them can reach another VM's memory. 4-byte writes of
// half an entry are buffered until the entry is whole.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <vector>

#include "gvt/aperture_gm.h"
#include "hv/mpt.h"

namespace gvt {

struct GgttStats {
  uint64_t writes = 0;          // trapped entry writes (4 or 8 bytes)
  uint64_t shadowed = 0;        // physical entries written
  uint64_t refused_range = 0;   // entry outside the vGPU's GM slices
  uint64_t refused_frame = 0;   // frame outside the VM's RAM
  uint64_t half_writes = 0;     // 4-byte writes buffered
};

class GgttShadow {
 public:
  // `write_host(index, pte)` writes one physical GGTT entry (the host port).
  using HostWrite = std::function<void(uint64_t index, uint64_t pte)>;
  GgttShadow(hv::Mpt& mpt, const GmSlice& slice, uint64_t scratch_hpa, HostWrite write_host);
  ~GgttShadow();

  // `offset` is the byte offset into the GGTT part of BAR0.
  void write(uint64_t offset, unsigned size, uint64_t value);
  uint64_t read(uint64_t offset, unsigned size) const;
  // The guest-physical address behind a GM address, from the guest's own
  // entries: nullopt outside the vGPU's slices or for a non-present entry.
  std::optional<uint64_t> gpa(uint64_t gm) const;
  // Every entry of the vGPU's slices back to scratch (reset, destroy).
  void reset();
  const GgttStats& stats() const { return stats_; }

 private:
  bool owns(uint64_t index, size_t* slot) const;
  void shadow(size_t slot, uint64_t index);

  hv::Mpt& mpt_;
  GmSlice slice_;
  uint64_t scratch_pte_;
  HostWrite write_host_;
  std::vector<uint64_t> guest_;     // the guest's view, per slice entry
  std::vector<uint64_t> pinned_;    // GFN + 1 pinned for the entry, 0 = none
  std::vector<uint8_t> halves_;     // halves written since the entry was last whole
  GgttStats stats_;
};

}  // namespace gvt
