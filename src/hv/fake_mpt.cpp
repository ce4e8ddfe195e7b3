#include "hv/fake_mpt.h"

#include "common/polled_store.h"

#include <algorithm>
#include <cstring>
#include <iterator>
#include <limits>

namespace hv {
namespace {

// Whether [gpa, gpa + size) meets any range of a base -> {size} map whose
// ranges are disjoint and do not overflow.
template <typename Map, typename SizeOf>
bool meets(const Map& ranges, uint64_t gpa, uint64_t size, SizeOf size_of) {
  auto next = ranges.lower_bound(gpa);
  if (next != ranges.end() && next->first - gpa < size) return true;
  if (next == ranges.begin()) return false;
  auto prev = std::prev(next);
  return gpa - prev->first < size_of(prev->second);
}

bool valid_range(uint64_t gpa, uint64_t size) {
  return size != 0 && size <= std::numeric_limits<uint64_t>::max() - gpa;
}

bool valid_access_len(uint32_t len) { return len == 1 || len == 2 || len == 4 || len == 8; }

}  // namespace

FakeMpt::FakeMpt(uint64_t ram_size, size_t protect_cap, uint64_t host_base, uint8_t* ram)
    : own_ram_(ram ? 0 : ram_size),
      ram_(ram ? ram : own_ram_.data()),
      ram_size_(ram_size),
      protect_cap_(protect_cap),
      host_base_(host_base) {}

bool FakeMpt::in_ram(uint64_t gpa, uint64_t len) const {
  return len <= ram_size_ && gpa <= ram_size_ - len;
}

bool FakeMpt::read_gpa(uint64_t gpa, void* dst, size_t len) {
  if (!in_ram(gpa, len)) return false;
  if (len) std::memcpy(dst, ram_ + gpa, len);
  return true;
}

bool FakeMpt::write_gpa(uint64_t gpa, const void* src, size_t len) {
  if (!in_ram(gpa, len)) return false;
  // The guest polls 4-byte words the mediator writes last (a CSB write
  // pointer in its HWSP) and only then reads what was written before: a
  // release store, as the GPU model's DMA does, puts that ordering in the
  // memory model.
  common::store_for_pollers(ram_ + gpa, src, len);
  return true;
}

std::optional<uint64_t> FakeMpt::pin_gfn(uint64_t gfn) {
  if (!gfn_in_ram(gfn)) return std::nullopt;
  std::lock_guard lk(mu_);
  ++pins_[gfn];
  return host_base_ + gfn * kPageSize;
}

void FakeMpt::unpin_gfn(uint64_t gfn) {
  std::lock_guard lk(mu_);
  auto it = pins_.find(gfn);
  if (it == pins_.end()) {
    ++bad_unpins_;
    return;
  }
  if (--it->second == 0) pins_.erase(it);
}

bool FakeMpt::overlaps_anything(uint64_t gpa, uint64_t size) const {
  return gpa < ram_size_ || meets(traps_, gpa, size, [](uint64_t s) { return s; }) ||
         meets(maps_, gpa, size, [](const Mapping& m) { return m.size; });
}

bool FakeMpt::trap_mmio(uint64_t gpa, uint64_t size, BusDevice* dev) {
  if (!dev || !valid_range(gpa, size)) return false;
  std::lock_guard lk(mu_);
  if (overlaps_anything(gpa, size) || !bus_.insert(gpa, size, dev)) return false;
  traps_[gpa] = size;
  return true;
}

void FakeMpt::untrap_mmio(uint64_t gpa) {
  std::lock_guard lk(mu_);
  if (traps_.erase(gpa)) bus_.remove(gpa);
}

bool FakeMpt::map_gpa(uint64_t gpa, uint64_t size, void* host) {
  if (!host || !valid_range(gpa, size) || gpa % kPageSize || size % kPageSize) return false;
  std::lock_guard lk(mu_);
  if (overlaps_anything(gpa, size)) return false;
  maps_[gpa] = Mapping{size, host};
  return true;
}

void FakeMpt::unmap_gpa(uint64_t gpa) {
  std::lock_guard lk(mu_);
  maps_.erase(gpa);
}

void FakeMpt::inject_msi(uint64_t addr, uint32_t data) {
  std::lock_guard lk(mu_);
  msis.push_back({addr, data});
}

size_t FakeMpt::msi_count() const {
  std::lock_guard lk(mu_);
  return msis.size();
}

bool FakeMpt::protect_page(uint64_t gfn, WriteCallback cb) {
  if (!gfn_in_ram(gfn) || !cb) return false;
  std::lock_guard lk(mu_);
  auto it = protected_.find(gfn);
  if (it != protected_.end()) {
    it->second = std::move(cb);
    return true;
  }
  if (protected_.size() >= protect_cap_) return false;
  protected_.emplace(gfn, std::move(cb));
  return true;
}

void FakeMpt::unprotect_page(uint64_t gfn) {
  std::lock_guard lk(mu_);
  protected_.erase(gfn);
}

size_t FakeMpt::protected_pages() const {
  std::lock_guard lk(mu_);
  return protected_.size();
}

BusDevice* FakeMpt::mmio_target(uint64_t gpa, uint32_t len, uint64_t* offset) const {
  uint64_t last_off = 0;
  if (!valid_access_len(len) || !valid_range(gpa, len)) return nullptr;
  BusDevice* dev = bus_.find(gpa, offset);
  // The last byte must fall in the same trap, or the access straddles its end.
  if (!dev || bus_.find(gpa + len - 1, &last_off) != dev || last_off != *offset + len - 1)
    return nullptr;
  return dev;
}

bool FakeMpt::mmio_write(uint64_t gpa, const void* data, uint32_t len) {
  uint64_t off = 0;
  BusDevice* dev = mmio_target(gpa, len, &off);
  if (dev) dev->write(off, static_cast<const uint8_t*>(data), len);
  return dev != nullptr;
}

bool FakeMpt::mmio_read(uint64_t gpa, void* data, uint32_t len) {
  uint64_t off = 0;
  BusDevice* dev = mmio_target(gpa, len, &off);
  if (dev) dev->read(off, static_cast<uint8_t*>(data), len);
  return dev != nullptr;
}

bool FakeMpt::guest_write(uint64_t gpa, const void* src, size_t len) {
  if (!in_ram(gpa, len)) return false;
  if (len == 0) return true;
  // The whole store lands before any callback, as on hardware the
  // instruction completes before KVM reports the write.
  if (len == 8 && gpa % 8 == 0) {  // one aligned 8-byte store, as the CPU makes it
    uint64_t v;
    std::memcpy(&v, src, 8);
    __atomic_store_n(reinterpret_cast<uint64_t*>(ram_ + gpa), v, __ATOMIC_RELEASE);
  } else {
    std::memcpy(ram_ + gpa, src, len);
  }
  const auto* bytes = static_cast<const uint8_t*>(src);
  for (uint64_t done = 0; done < len;) {
    const uint64_t at = gpa + done;
    const uint64_t chunk = std::min<uint64_t>(len - done, kPageSize - at % kPageSize);
    WriteCallback cb;
    {
      std::lock_guard lk(mu_);
      auto it = protected_.find(at / kPageSize);
      if (it != protected_.end()) cb = it->second;
    }
    // A copy, called unlocked: the callback may (un)protect pages, even its own.
    if (cb) cb(at, bytes + done, static_cast<uint32_t>(chunk));
    done += chunk;
  }
  return true;
}

uint32_t FakeMpt::pin_count(uint64_t gfn) const {
  std::lock_guard lk(mu_);
  auto it = pins_.find(gfn);
  return it == pins_.end() ? 0 : it->second;
}

size_t FakeMpt::pinned_pages() const {
  std::lock_guard lk(mu_);
  return pins_.size();
}

uint64_t FakeMpt::bad_unpins() const {
  std::lock_guard lk(mu_);
  return bad_unpins_;
}

std::map<uint64_t, FakeMpt::Mapping> FakeMpt::mappings() const {
  std::lock_guard lk(mu_);
  return maps_;
}

}  // namespace hv
