#include "hv/bus.h"

namespace hv {

bool Bus::insert(uint64_t base, uint64_t size, BusDevice* dev) {
  if (!size || base + size < base || !dev) return false;
  std::lock_guard lk(mu_);
  auto next = ranges_.lower_bound(base);
  if (next != ranges_.end() && next->first < base + size) return false;
  if (next != ranges_.begin()) {
    auto prev = std::prev(next);
    if (prev->first + prev->second.size > base) return false;
  }
  ranges_[base] = Range{size, dev};
  return true;
}

bool Bus::remove(uint64_t base) {
  std::lock_guard lk(mu_);
  return ranges_.erase(base) > 0;
}

BusDevice* Bus::find(uint64_t addr, uint64_t* offset) const {
  std::lock_guard lk(mu_);
  auto it = ranges_.upper_bound(addr);
  if (it == ranges_.begin()) return nullptr;
  --it;
  if (addr - it->first >= it->second.size) return nullptr;
  *offset = addr - it->first;
  return it->second.dev;
}

}  // namespace hv
