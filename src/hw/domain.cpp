#include "hw/domain.h"

#include <algorithm>

#include "common/gen8/layout.h"

namespace hw {

namespace {
constexpr uint64_t kPage = gen8::kPageSize;
constexpr uint64_t kValid = 1;
}  // namespace

// Only whole pages are translatable: a partial last page stays out of reach.
Domain::Domain(uint64_t gpa_limit) : limit_(gpa_limit), entries_(gpa_limit / kPage) {}

bool Domain::map(uint64_t gpa, uint64_t hpa, uint64_t bytes) {
  if (gpa % kPage || hpa % kPage || bytes % kPage || bytes == 0) return false;
  const uint64_t first = gpa / kPage, count = bytes / kPage;
  // Subtractions so gpa + bytes and hpa + bytes cannot wrap.
  if (first > entries_.size() || count > entries_.size() - first) return false;
  if (hpa > UINT64_MAX - (bytes - 1)) return false;
  for (uint64_t i = 0; i < count; ++i)
    entries_[first + i].store((hpa + i * kPage) | kValid, std::memory_order_relaxed);
  return true;
}

void Domain::unmap(uint64_t gpa, uint64_t bytes) {
  if (bytes == 0) return;
  // Last byte clamped to the top of the address space instead of wrapping.
  const uint64_t last_byte = gpa + std::min(bytes - 1, UINT64_MAX - gpa);
  for (uint64_t p = gpa / kPage; p <= last_byte / kPage && p < entries_.size(); ++p)
    entries_[p].store(0, std::memory_order_relaxed);
}

std::optional<uint64_t> Domain::translate(uint64_t gpa) const {
  const uint64_t page = gpa / kPage;
  if (page >= entries_.size()) return std::nullopt;
  const uint64_t e = entries_[page].load(std::memory_order_relaxed);
  if (!(e & kValid)) return std::nullopt;
  return (e & ~(kPage - 1)) | (gpa % kPage);
}

}  // namespace hw
