// What the PPGTT shadow tests and its fuzz target share: a page source over
// one arena (host memory of the GPU model, or a buffer with made-up HPAs), a
// guest that edits its page tables with CPU stores through FakeMpt (trapped
// once protected), and two independent walks: the guest's tables mapped
// through GFN->HPA (what the shadow must translate to) and the shadow's.
#pragma once

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>
#include <unordered_set>
#include <vector>

#include "common/gen8/layout.h"
#include "gvt/ppgtt_shadow.h"
#include "hv/fake_mpt.h"

// The fuzz target's reference walks and checks are not coverage to steer by,
// and instrumenting their loops cost a fifth of its execution rate.
#if defined(__clang__)
#define GVIRT_NO_COVERAGE __attribute__((no_sanitize("coverage")))
#else
#define GVIRT_NO_COVERAGE
#endif

namespace test_support {

inline constexpr uint64_t kPage = gen8::kPageSize;

// Zeroed pages of [cpu, cpu + pages * 4096) at HPAs from `hpa_base`; a double
// or foreign free aborts (a bug in the shadow, never a guest's doing).
class ArenaPages final : public gvt::ShadowPageSource {
 public:
  ArenaPages(uint8_t* cpu, uint64_t hpa_base, size_t pages)
      : cpu_(cpu), hpa_base_(hpa_base), used_(pages, false) {
    for (size_t i = pages; i-- > 0;) free_.push_back(i);
  }
  std::optional<gvt::ShadowPage> alloc() override {
    if (free_.empty()) return std::nullopt;
    const size_t i = free_.back();
    free_.pop_back();
    used_[i] = true;
    std::memset(cpu_ + i * kPage, 0, kPage);
    return gvt::ShadowPage{hpa_base_ + i * kPage, reinterpret_cast<uint64_t*>(cpu_ + i * kPage)};
  }
  void free(const gvt::ShadowPage& p) override {
    const uint64_t i = (p.hpa - hpa_base_) / kPage;
    if (p.hpa < hpa_base_ || i >= used_.size() || !used_[i]) std::abort();
    used_[i] = false;
    free_.push_back(i);
  }
  // The entries of an allocated arena page; nullptr for any other address.
  const uint64_t* entries(uint64_t hpa) const {
    const uint64_t i = (hpa - hpa_base_) / kPage;
    if (hpa < hpa_base_ || hpa % kPage || i >= used_.size() || !used_[i]) return nullptr;
    return reinterpret_cast<const uint64_t*>(cpu_ + i * kPage);
  }
  size_t in_use() const { return used_.size() - free_.size(); }

 private:
  uint8_t* cpu_;
  uint64_t hpa_base_;
  std::vector<bool> used_;
  std::vector<size_t> free_;
};

// Index of `va` in its table at `level` (0 = PT ... 3 = PML4).
inline unsigned pt_index(uint64_t va, int level) { return (va >> (12 + 9 * level)) & 511; }

// A guest writing its page tables with 8-byte CPU stores; table pages come
// from a bump allocator over [first, end) of its RAM.
class GuestTables {
 public:
  GuestTables(hv::FakeMpt& mpt, uint64_t first, uint64_t end)
      : mpt_(mpt), first_(first), next_(first), end_(end) {}
  uint64_t new_page() {
    if (next_ + kPage > end_) std::abort();
    const uint64_t gpa = next_;
    next_ += kPage;
    std::memset(mpt_.ram() + gpa, 0, kPage);
    return gpa;
  }
  size_t pages_used() const { return (next_ - first_) / kPage; }
  void store(uint64_t gpa, uint64_t v) { mpt_.guest_write(gpa, &v, sizeof v); }
  uint64_t load(uint64_t gpa) const {
    uint64_t v = 0;
    mpt_.read_gpa(gpa, &v, sizeof v);
    return v;
  }
  // Maps the page at `va` to `gpa` under `pml4`, creating tables as needed.
  void map(uint64_t pml4, uint64_t va, uint64_t gpa) {
    uint64_t table = pml4;
    for (int level = 3; level >= 1; --level) {
      const uint64_t slot = table + pt_index(va, level) * 8;
      if (!(load(slot) & gen8::kPtePresent)) store(slot, new_page() | gen8::kPtePresent | gen8::kPteRw);
      table = load(slot) & gen8::kPteAddrMask;
    }
    store(table + pt_index(va, 0) * 8, gpa | gen8::kPtePresent | gen8::kPteRw);
  }
  // The guest-physical address of the entry for `va` at `level`; nullopt when
  // a table above it is not present.
  std::optional<uint64_t> slot(uint64_t pml4, uint64_t va, int level) const {
    uint64_t table = pml4;
    for (int l = 3; l > level; --l) {
      const uint64_t e = load(table + pt_index(va, l) * 8);
      if (!(e & gen8::kPtePresent)) return std::nullopt;
      table = e & gen8::kPteAddrMask;
    }
    return table + pt_index(va, level) * 8;
  }

 private:
  hv::FakeMpt& mpt_;
  uint64_t first_, next_, end_;
};

// What a shadow walk must give for `va`: the guest's walk with every frame
// through FakeMpt's GFN->HPA; nullopt (a fault) for a non-present entry, a
// large page or a table outside RAM; `scratch` for a leaf outside RAM (nullopt
// without a scratch page).
GVIRT_NO_COVERAGE inline std::optional<uint64_t> guest_walk(hv::FakeMpt& mpt, uint64_t pml4_gpa, uint64_t va,
                                          uint64_t scratch) {
  uint64_t table = pml4_gpa & gen8::kPteAddrMask;
  for (int level = 3; level >= 0; --level) {
    uint64_t e;
    if (!mpt.read_gpa(table + pt_index(va, level) * 8, &e, sizeof e)) return std::nullopt;
    if (!(e & gen8::kPtePresent) || ((level == 1 || level == 2) && (e & gen8::kPtePs))) return std::nullopt;
    table = e & gen8::kPteAddrMask;
  }
  if (table + kPage > mpt.ram_size()) return scratch ? std::optional<uint64_t>(scratch) : std::nullopt;
  return mpt.host_base() + table;
}

// The shadow's walk from `root_hpa`, as the GPU model does it (PS faults at
// the PDP and PD levels); a directory entry naming anything but an arena page
// is a fault too, which check_shadow() reports separately.
GVIRT_NO_COVERAGE inline std::optional<uint64_t> shadow_walk(const ArenaPages& arena, uint64_t root_hpa, uint64_t va) {
  uint64_t table = root_hpa;
  for (int level = 3; level >= 0; --level) {
    const uint64_t* t = arena.entries(table);
    if (!t) return std::nullopt;
    const uint64_t e = __atomic_load_n(&t[pt_index(va, level)], __ATOMIC_ACQUIRE);
    if (!(e & gen8::kPtePresent) || ((level == 1 || level == 2) && (e & gen8::kPtePs))) return std::nullopt;
    table = e & gen8::kPteAddrMask;
  }
  return table;
}

// Every present entry under `root_hpa`: directory entries name arena pages,
// leaves name the VM's RAM or the scratch page. Empty when it holds.
GVIRT_NO_COVERAGE inline std::string check_shadow(const ArenaPages& arena, const hv::FakeMpt& mpt, uint64_t root_hpa,
                                uint64_t scratch) {
  struct Item {
    uint64_t hpa;
    int level;
  };
  std::vector<Item> todo{{root_hpa, 3}};
  std::unordered_set<uint64_t> seen;
  while (!todo.empty()) {
    const Item it = todo.back();
    todo.pop_back();
    if (!seen.insert(it.hpa << 2 | static_cast<uint64_t>(it.level)).second) continue;
    const uint64_t* t = arena.entries(it.hpa);
    if (!t) return "a directory entry names " + std::to_string(it.hpa) + ", not a shadow page";
    for (unsigned i = 0; i < 512; ++i) {
      const uint64_t e = t[i], a = e & gen8::kPteAddrMask;
      if (!(e & gen8::kPtePresent)) continue;
      if (it.level > 0) {
        todo.push_back({a, it.level - 1});
      } else if (a != scratch && (a < mpt.host_base() || a - mpt.host_base() >= mpt.ram_size())) {
        return "a leaf names HPA " + std::to_string(a) + ", outside the VM's RAM";
      }
    }
  }
  return {};
}

}  // namespace test_support
