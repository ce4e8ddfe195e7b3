#include "gvt/ppgtt_shadow.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <chrono>

#include "common/gen8/layout.h"

namespace gvt {

using gen8::kPageSize;
using gen8::kPteAddrMask;
using gen8::kPtePresent;
using gen8::kPtePs;

namespace {

constexpr unsigned kEntries = kPageSize / 8;
constexpr int kTopLevel = 3;                 // the PML4
constexpr uint64_t kFlags = kPageSize - 1;   // an entry's flag bits, kept in its shadow
const char* const kLevelName[] = {"PT", "PD", "PDP", "PML4"};

uint64_t frame(uint64_t entry) { return (entry & kPteAddrMask) / kPageSize; }

// Whole 8-byte stores: the GPU may be walking the shadow meanwhile.
void store(uint64_t* entry, uint64_t v) { __atomic_store_n(entry, v, __ATOMIC_RELEASE); }

// Adds the time spent in one entry point to the statistics; declared after
// the lock so it is still held when the time is added.
class Timed {
 public:
  explicit Timed(uint64_t& ns) : ns_(ns), start_(std::chrono::steady_clock::now()) {}
  ~Timed() {
    ns_ += std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - start_)
               .count();
  }
  Timed(const Timed&) = delete;
  Timed& operator=(const Timed&) = delete;

 private:
  uint64_t& ns_;
  std::chrono::steady_clock::time_point start_;
};

}  // namespace

std::optional<ShadowPage> PlatformPageSource::alloc() {
  drv::Pages pg;
  if (!p_.alloc_pages(1, true, &pg)) return std::nullopt;
  return ShadowPage{pg.phys, static_cast<uint64_t*>(pg.cpu)};
}

void PlatformPageSource::free(const ShadowPage& page) { p_.free_pages(drv::Pages{page.hpa, page.entries, 1}); }

const char* to_string(ShadowError e) {
  switch (e) {
    case ShadowError::BadRoot: return "PPGTT root outside the VM's RAM";
    case ShadowError::ProtectCap: return "cap on write-protected page-table pages reached";
    case ShadowError::ShadowCap: return "cap on shadow page-table pages reached";
    case ShadowError::ProtectRefused: return "the hypervisor refused to write-protect a page-table page";
    case ShadowError::NoHostMemory: return "no host memory for a shadow page table";
    case ShadowError::Failsafe: return "PPGTT shadowing stopped by an earlier error";
  }
  return "unknown shadow error";
}

struct PpgttShadow::Table {
  uint64_t gfn = 0;
  int level = 0;
  ShadowPage page;
  uint32_t refs = 0;  // parent entries and roots
  // What entry i holds, as guest frame + 1 (0: nothing): the child table's
  // frame at directory levels, the pinned frame at the leaf level.
  std::array<uint64_t, kEntries> link{};
  std::array<uint8_t, kEntries> written{};  // bytes written since the entry was last whole
};

PpgttShadow::PpgttShadow(hv::Mpt& mpt, ShadowPageSource& pages, uint64_t scratch_hpa, PpgttLimits limits)
    : mpt_(mpt), pages_(pages), scratch_hpa_(scratch_hpa & kPteAddrMask), limits_(limits) {}

PpgttShadow::~PpgttShadow() {
  reset();
  for (const ShadowPage& p : spare_) pages_.free(p);
}

PpgttShadow::Table* PpgttShadow::find(uint64_t gfn, int level) const {
  auto it = tables_.find(key(gfn, level));
  return it == tables_.end() ? nullptr : it->second.get();
}

tl::unexpected<ShadowError> PpgttShadow::fail(ShadowError e) {
  if (!failed_) {
    failed_ = e;
    spdlog::warn("vgpu: PPGTT shadow failsafe: {}", to_string(e));
  }
  return tl::unexpected(e);
}

void PpgttShadow::tell_failsafe() {
  FailsafeFn fn;
  ShadowError e;
  {
    std::lock_guard lk(mu_);
    if (!failed_ || failsafe_told_ || !on_failsafe_) return;
    failsafe_told_ = true;
    fn = on_failsafe_;
    e = *failed_;
  }
  fn(e);
}

tl::expected<ShadowPage, ShadowError> PpgttShadow::alloc_page() {
  if (!spare_.empty()) {
    ShadowPage p = spare_.back();
    spare_.pop_back();
    return p;
  }
  if (auto p = pages_.alloc()) return *p;
  return tl::unexpected(ShadowError::NoHostMemory);
}

tl::expected<void, ShadowError> PpgttShadow::protect(uint64_t gfn) {
  if (auto it = protected_.find(gfn); it != protected_.end()) {
    ++it->second;
    return {};
  }
  if (protected_.size() >= limits_.max_protected) return tl::unexpected(ShadowError::ProtectCap);
  if (!mpt_.protect_page(gfn, [this](uint64_t gpa, const uint8_t*, uint32_t len) { on_write(gpa, len); }))
    return tl::unexpected(ShadowError::ProtectRefused);
  protected_.emplace(gfn, 1);
  stats_.peak_protected_pages = std::max<uint64_t>(stats_.peak_protected_pages, protected_.size());
  return {};
}

void PpgttShadow::unprotect(uint64_t gfn) {
  auto it = protected_.find(gfn);
  if (--it->second) return;
  protected_.erase(it);
  mpt_.unprotect_page(gfn);
}

// The table shadowing guest frame `gfn` at `level`, with one more reference;
// nullptr when the frame is not the VM's RAM (the caller counts the refusal).
PpgttShadow::Built PpgttShadow::get_table(uint64_t gfn, int level) {
  if (Table* t = find(gfn, level)) {
    ++t->refs;
    return t;
  }
  uint64_t probe;
  if (!mpt_.read_gpa(gfn * kPageSize, &probe, sizeof probe)) return nullptr;
  if (tables_.size() >= limits_.max_shadow_pages) return tl::unexpected(ShadowError::ShadowCap);
  if (auto p = protect(gfn); !p) return tl::unexpected(p.error());
  auto page = alloc_page();
  if (!page) {
    unprotect(gfn);
    return tl::unexpected(page.error());
  }
  auto owned = std::make_unique<Table>();
  Table* t = owned.get();
  t->gfn = gfn;
  t->level = level;
  t->page = *page;
  t->refs = 1;
  tables_.emplace(key(gfn, level), std::move(owned));
  stats_.peak_shadow_pages = std::max<uint64_t>(stats_.peak_shadow_pages, tables_.size());
  // Read once protected, so that every later write traps.
  std::array<uint64_t, kEntries> guest{};
  mpt_.read_gpa(gfn * kPageSize, guest.data(), kPageSize);
  for (unsigned i = 0; i < kEntries; ++i) {
    if (!(guest[i] & kPtePresent)) continue;
    if (auto r = set_entry(*t, i, guest[i]); !r) {
      unref(t);
      return tl::unexpected(r.error());
    }
  }
  return t;
}

// One entry, per level: the new shadow entry is in place before the old
// child table or pinned frame is released.
tl::expected<void, ShadowError> PpgttShadow::set_entry(Table& t, unsigned i, uint64_t g) {
  tl::expected<void, ShadowError> result;
  uint64_t shadow = 0, link = 0;
  const char* what = "not present";
  if (!(g & kPtePresent)) {
  } else if (t.level == 0) {
    if (auto hpa = mpt_.pin_gfn(frame(g))) {
      shadow = *hpa | (g & kFlags);
      link = frame(g) + 1;
      what = "page";
    } else {
      ++stats_.refused_frame;
      shadow = scratch_hpa_ ? scratch_hpa_ | kPtePresent : 0;
      what = "refused: frame outside RAM";
    }
  } else if (t.level < kTopLevel && (g & kPtePs)) {
    ++stats_.refused_large;
    what = "refused: large page";
  } else if (auto child = get_table(frame(g), t.level - 1); !child) {
    result = tl::unexpected(child.error());
    what = to_string(child.error());
  } else if (!*child) {
    ++stats_.refused_table;
    what = "refused: table outside RAM";
  } else {
    shadow = (*child)->page.hpa | (g & kFlags);
    link = frame(g) + 1;
    what = "table";
  }
  store(&t.page.entries[i], shadow);
  const uint64_t old = t.link[i];
  t.link[i] = link;
  t.written[i] = 0;
  ++stats_.updates;
  if (trace_)
    trace_(fmt::format("ppgtt: {} gfn {:#x} [{}] guest {:#x} -> shadow {:#x}: {}", kLevelName[t.level],
                       t.gfn, i, g, shadow, what));
  if (old) drop_link(t, old);
  return result;
}

tl::expected<void, ShadowError> PpgttShadow::reshadow(Table& t, unsigned i) {
  uint64_t g = 0;
  mpt_.read_gpa(t.gfn * kPageSize + i * 8, &g, sizeof g);
  return set_entry(t, i, g);
}

void PpgttShadow::drop_link(const Table& t, uint64_t link) {
  if (t.level == 0)
    mpt_.unpin_gfn(link - 1);
  else
    unref(find(link - 1, t.level - 1));
}

// The last user gone: the subtree goes, the guest page stops being a table
// (unprotected unless it is one at another level), and the zeroed shadow
// page is kept for this vGPU.
void PpgttShadow::unref(Table* t) {
  if (--t->refs) return;
  for (unsigned i = 0; i < kEntries; ++i) {
    store(&t->page.entries[i], 0);
    if (t->link[i]) drop_link(*t, t->link[i]);
  }
  const uint64_t k = key(t->gfn, t->level);
  pending_.erase(k);
  unprotect(t->gfn);
  spare_.push_back(t->page);
  tables_.erase(k);
}

PpgttShadow::Built PpgttShadow::build_root(uint64_t gfn) {
  auto t = get_table(gfn, kTopLevel);
  if (t && !*t) {
    ++stats_.bad_roots;
    return tl::unexpected(ShadowError::BadRoot);
  }
  return t;
}

tl::expected<PpgttShadow::Root*, ShadowError> PpgttShadow::root_locked(uint64_t pml4_gpa) {
  if (failed_) return tl::unexpected(ShadowError::Failsafe);
  drop_idle(true);
  const uint64_t gpa = pml4_gpa & kPteAddrMask;
  if (auto it = roots_.find(gpa); it != roots_.end()) return &it->second;
  auto t = build_root(gpa / kPageSize);
  if (!t && t.error() != ShadowError::BadRoot && drop_idle(false)) t = build_root(gpa / kPageSize);
  if (!t) return t.error() == ShadowError::BadRoot ? tl::unexpected(t.error()) : fail(t.error());
  Root* root = &roots_.emplace(gpa, Root{*t}).first->second;
  ++stats_.roots_shadowed;
  stats_.peak_contexts = std::max<uint64_t>(stats_.peak_contexts, roots_.size());
  return root;
}

// One more reference of kind `holder` (a submission or a PV create).
tl::expected<uint64_t, ShadowError> PpgttShadow::hold(uint64_t pml4_gpa, uint32_t Root::*holder) {
  tl::expected<uint64_t, ShadowError> hpa;
  {
    std::lock_guard lk(mu_);
    Timed timed(stats_.shadow_ns);
    auto r = root_locked(pml4_gpa);
    if (r) {
      ++((*r)->*holder);
      hpa = (*r)->table->page.hpa;
    } else {
      hpa = tl::unexpected(r.error());
    }
  }
  tell_failsafe();
  return hpa;
}

tl::expected<uint64_t, ShadowError> PpgttShadow::acquire(uint64_t pml4_gpa) { return hold(pml4_gpa, &Root::users); }

void PpgttShadow::release(uint64_t pml4_gpa) {
  std::lock_guard lk(mu_);
  auto it = roots_.find(pml4_gpa & kPteAddrMask);
  if (it != roots_.end() && it->second.users) --it->second.users;
}

tl::expected<void, ShadowError> PpgttShadow::pv_create(uint64_t pml4_gpa) {
  if (auto r = hold(pml4_gpa, &Root::pv); !r) return tl::unexpected(r.error());
  return {};
}

void PpgttShadow::pv_destroy(uint64_t pml4_gpa) {
  std::lock_guard lk(mu_);
  Timed timed(stats_.shadow_ns);
  auto it = roots_.find(pml4_gpa & kPteAddrMask);
  if (it == roots_.end() || !it->second.pv) {
    ++stats_.bad_notifications;
    return;
  }
  if (--it->second.pv == 0) it->second.doomed = true;
  drop_idle(true);
}

void PpgttShadow::drop_root(std::map<uint64_t, Root>::iterator it) {
  Table* t = it->second.table;
  roots_.erase(it);
  unref(t);
}

// Drops the roots that no submission and no PV create holds: only those PV
// destroyed, unless room is needed.
bool PpgttShadow::drop_idle(bool only_doomed) {
  bool any = false;
  for (auto it = roots_.begin(); it != roots_.end();) {
    auto cur = it++;
    const Root& r = cur->second;
    if (r.users || r.pv || (only_doomed && !r.doomed)) continue;
    drop_root(cur);
    ++stats_.reclaimed_roots;
    any = true;
  }
  return any;
}

tl::expected<void, ShadowError> PpgttShadow::sync() {
  tl::expected<void, ShadowError> ok;
  {
    std::lock_guard lk(mu_);
    Timed timed(stats_.shadow_ns);
    if (failed_) return tl::unexpected(ShadowError::Failsafe);
    drop_idle(true);
    const std::vector<uint64_t> keys(pending_.begin(), pending_.end());
    pending_.clear();
    for (uint64_t k : keys) {
      for (unsigned i = 0; i < kEntries && ok; ++i) {
        // Looked up each time: re-shadowing an entry may tear down another
        // pending table on the same frame.
        auto it = tables_.find(k);
        if (it == tables_.end()) break;
        if (!it->second->written[i]) continue;
        ++stats_.resyncs;
        if (auto r = reshadow(*it->second, i); !r) ok = fail(r.error());
      }
    }
  }
  tell_failsafe();
  return ok;
}

void PpgttShadow::on_write(uint64_t gpa, uint32_t len) {
  {
    std::lock_guard lk(mu_);
    Timed timed(stats_.shadow_ns);
    ++stats_.traps;
    if (failed_ || !len) return;
    const uint64_t gfn = gpa / kPageSize, off = gpa % kPageSize;
    const uint64_t end = std::min<uint64_t>(off + len, kPageSize);
    // The frame may be a table at several levels; no update of a table's
    // entries tears down that table itself (only lower levels).
    for (int level = kTopLevel; level >= 0 && !failed_; --level) {
      Table* t = find(gfn, level);
      for (uint64_t i = off / 8; t && i <= (end - 1) / 8; ++i) {
        const uint64_t lo = std::max(off, i * 8), hi = std::min(end, i * 8 + 8);
        t->written[i] |= static_cast<uint8_t>(((1u << (hi - lo)) - 1) << (lo - i * 8));
        if (t->written[i] != 0xFF) {
          ++stats_.half_writes;
          pending_.insert(key(gfn, level));
        } else if (auto r = reshadow(*t, static_cast<unsigned>(i)); !r) {
          fail(r.error());
          break;
        }
      }
    }
  }
  tell_failsafe();
}

void PpgttShadow::reset() {
  std::lock_guard lk(mu_);
  while (!roots_.empty()) drop_root(roots_.begin());
  pending_.clear();
  failed_.reset();
  failsafe_told_ = false;
}

std::optional<uint64_t> PpgttShadow::root_hpa(uint64_t pml4_gpa) const {
  std::lock_guard lk(mu_);
  auto it = roots_.find(pml4_gpa & kPteAddrMask);
  if (it == roots_.end()) return std::nullopt;
  return it->second.table->page.hpa;
}

PpgttStats PpgttShadow::stats() const {
  std::lock_guard lk(mu_);
  PpgttStats s = stats_;
  s.contexts = roots_.size();
  s.shadow_pages = tables_.size();
  s.spare_pages = spare_.size();
  s.protected_pages = protected_.size();
  return s;
}

std::optional<ShadowError> PpgttShadow::failsafe() const {
  std::lock_guard lk(mu_);
  return failed_;
}

void PpgttShadow::set_trace(Trace t) {
  std::lock_guard lk(mu_);
  trace_ = std::move(t);
}

void PpgttShadow::set_failsafe_handler(FailsafeFn fn) {
  std::lock_guard lk(mu_);
  on_failsafe_ = std::move(fn);
}

}  // namespace gvt
