// A second-stage GPA -> HPA translation table (an IOMMU domain): device-wide
// for direct pass-through, per context for 2-stage PPGTT translation.
#pragma once

#include <atomic>
#include <cstdint>
#include <optional>
#include <vector>

namespace hw {

class Domain {
 public:
  // Covers GPAs [0, gpa_limit), page granular; all of it starts unmapped.
  explicit Domain(uint64_t gpa_limit);

  // Maps [gpa, gpa + bytes) onto [hpa, hpa + bytes). False (nothing changed)
  // unless all three are page aligned, bytes > 0 and the range is inside the
  // limit. The HPA is not checked here: DMA range checks catch it.
  bool map(uint64_t gpa, uint64_t hpa, uint64_t bytes);
  // Unmaps every page the range touches, clamped to the limit: revoking more
  // than asked is safe, revoking less would leave access behind.
  void unmap(uint64_t gpa, uint64_t bytes);
  // HPA of the byte at `gpa`; nullopt if unmapped or beyond the limit. Safe
  // concurrently with other translates (map/unmap happen at setup).
  std::optional<uint64_t> translate(uint64_t gpa) const;

  uint64_t gpa_limit() const { return limit_; }

 private:
  uint64_t limit_;
  std::vector<std::atomic<uint64_t>> entries_;  // per page: 0 = unmapped, else hpa | 1
};

}  // namespace hw
