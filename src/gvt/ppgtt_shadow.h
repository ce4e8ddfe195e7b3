// PPGTT shadowing, the paper's design (upstream gtt.c, the PPGTT half). One
// PpgttShadow per vGPU holds the shadows of all its guest 4-level PPGTTs:
// their tables may share guest pages, so shadow tables are per vGPU, keyed by
// (guest frame, level) and refcounted by the entries and roots that use them.
//
// - A shadow table is a host page holding host-physical addresses: the GPU
//   walks it with no second-stage domain. Leaves are translated GFN->HPA
//   through the MPT (pinned); a frame outside the VM's RAM is refused and
//   points at the vGPU's scratch page. Directory entries naming a frame
//   outside RAM, or a large page (the model faults on PS), are refused and
//   not present. Every refusal is counted: guest values are hostile.
// - Every guest page that is a table is write-protected through the MPT. A
//   trapped write re-reads the entries it covered from guest RAM (KVM commits
//   the write first) and re-shadows them: the new entry is installed before
//   the old child is released, and a child whose last user goes is torn down
//   with its subtree, its pins dropped and its guest page unprotected (that
//   page may be data now; if it is linked again it is read afresh).
// - Writes covering only part of an entry (4-byte halves) are buffered: the
//   old shadow entry stays until all 8 bytes were written or sync() re-reads
//   the entry, which the owner calls before each dispatch.
// - Caps on write-protected pages and on shadow pages bound what a vGPU
//   costs. Past a cap (after dropping idle roots, when building a root) the
//   shadow goes to failsafe: calls return the error, traps are ignored, and
//   the failsafe callback tells the owner, until reset().
// - Retired shadow pages are zeroed entry by entry and kept for this vGPU's
//   own later tables until it is destroyed, so a walk still in flight through
//   a stale pointer sees "not present" or this vGPU's own mappings.
//
// Threading: one lock serializes everything, trap callbacks included. Calls
// that may change write protection (acquire, pv_create, pv_destroy, sync,
// reset, the destructor) must run on the VM's vCPU thread, as trapped MMIO
// does: the KVM backend changes memslots there, and a vCPU waiting on this
// lock in a trap callback would otherwise deadlock. release() and stats() are
// safe from any thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include <tl/expected.hpp>

#include "driver/platform.h"
#include "hv/mpt.h"

namespace gvt {

// A zeroed host page for a shadow table: the address the GPU walks (an HPA)
// and the CPU's view of its 512 entries.
struct ShadowPage {
  uint64_t hpa = 0;
  uint64_t* entries = nullptr;
};

class ShadowPageSource {
 public:
  virtual std::optional<ShadowPage> alloc() = 0;
  virtual void free(const ShadowPage& page) = 0;

 protected:
  ~ShadowPageSource() = default;
};

// The host driver's page-table pool: on the host build its phys is an HPA.
class PlatformPageSource final : public ShadowPageSource {
 public:
  explicit PlatformPageSource(drv::Platform& p) : p_(p) {}
  std::optional<ShadowPage> alloc() override;
  void free(const ShadowPage& page) override;

 private:
  drv::Platform& p_;
};

enum class ShadowError {
  BadRoot,         // the PML4 is not in the VM's RAM (refused, not failsafe)
  ProtectCap,      // the vGPU's cap on write-protected pages
  ShadowCap,       // the vGPU's cap on shadow pages
  ProtectRefused,  // the hypervisor refused to write-protect a page
  NoHostMemory,    // no host page for a shadow table
  Failsafe,        // an earlier error stopped shadowing until reset()
};
const char* to_string(ShadowError e);

struct PpgttLimits {
  size_t max_protected = 2048;     // guest table pages write-protected at once
  size_t max_shadow_pages = 4096;  // shadow tables (host pages) at once
};

struct PpgttStats {
  uint64_t contexts = 0;         // guest PPGTT roots shadowed now
  uint64_t shadow_pages = 0;     // shadow tables now
  uint64_t spare_pages = 0;      // retired shadow pages kept for this vGPU's next tables
  uint64_t protected_pages = 0;  // guest pages write-protected now
  // Totals and peaks: a run's figures once its contexts are gone (the PV
  // destroy at the end drops them).
  uint64_t roots_shadowed = 0;   // guest PPGTT roots shadowed, in all
  uint64_t peak_contexts = 0;
  uint64_t peak_shadow_pages = 0;
  uint64_t peak_protected_pages = 0;
  uint64_t traps = 0;            // trapped writes to guest tables (traps.pagetable)
  uint64_t updates = 0;          // shadow entries written
  uint64_t half_writes = 0;      // trapped writes leaving an entry partly written
  uint64_t resyncs = 0;          // partly written entries re-read by sync()
  uint64_t refused_frame = 0;    // leaf frame outside the VM's RAM: scratch
  uint64_t refused_table = 0;    // table frame outside the VM's RAM: not present
  uint64_t refused_large = 0;    // PS in a PDP or PD entry: not present
  uint64_t bad_roots = 0;        // acquire/pv_create of a root outside RAM
  uint64_t bad_notifications = 0;  // PV destroy of a root with no PV create
  uint64_t reclaimed_roots = 0;  // idle roots dropped to make room or on PV destroy
  uint64_t shadow_ns = 0;        // time spent shadowing: builds, traps, syncs
};

class PpgttShadow {
 public:
  // One line per shadow entry written, for --trace-ppgtt; called with the
  // lock held, so it must not call back.
  using Trace = std::function<void(std::string_view line)>;
  // Called once per failsafe, without the lock held, by whichever call sent
  // the shadow there: a trapped write has no caller to return the error to
  // (acquire, pv_create and sync return it as well).
  using FailsafeFn = std::function<void(ShadowError)>;

  // `scratch_hpa` is the vGPU's scratch page (0: refused leaves are not present).
  PpgttShadow(hv::Mpt& mpt, ShadowPageSource& pages, uint64_t scratch_hpa, PpgttLimits limits = {});
  ~PpgttShadow();
  PpgttShadow(const PpgttShadow&) = delete;
  PpgttShadow& operator=(const PpgttShadow&) = delete;

  // A submission's reference to the PPGTT rooted at `pml4_gpa` (the PDP0
  // value of the guest context): shadows it if needed and returns the shadow
  // root's HPA, for the shadow context's PDP0 with no second-stage domain.
  tl::expected<uint64_t, ShadowError> acquire(uint64_t pml4_gpa);
  // Drops a submission's reference. The shadow stays (kept protected and in
  // sync) so the next submission finds it: roots go on PV destroy, on reset,
  // or when room is needed.
  void release(uint64_t pml4_gpa);
  // The PV notifications: create shadows before the first submission; destroy
  // drops the shadow once no submission uses it.
  tl::expected<void, ShadowError> pv_create(uint64_t pml4_gpa);
  void pv_destroy(uint64_t pml4_gpa);
  // Before each dispatch: re-shadows partly written entries and drops roots
  // PV-destroyed since. An error means: do not dispatch; go to failsafe.
  tl::expected<void, ShadowError> sync();
  // Drops every shadow and clears failsafe (GT and device-model resets).
  void reset();

  std::optional<uint64_t> root_hpa(uint64_t pml4_gpa) const;
  PpgttStats stats() const;
  std::optional<ShadowError> failsafe() const;
  void set_trace(Trace t);
  void set_failsafe_handler(FailsafeFn fn);

 private:
  struct Table;
  struct Root {
    Table* table = nullptr;
    uint32_t users = 0;  // submissions
    uint32_t pv = 0;     // PV creates not yet destroyed
    bool doomed = false; // PV-destroyed: drop once no submission uses it
  };
  using Built = tl::expected<Table*, ShadowError>;  // nullptr: refused frame

  static uint64_t key(uint64_t gfn, int level) { return gfn << 2 | static_cast<uint64_t>(level); }
  Table* find(uint64_t gfn, int level) const;
  tl::expected<Root*, ShadowError> root_locked(uint64_t pml4_gpa);
  tl::expected<uint64_t, ShadowError> hold(uint64_t pml4_gpa, uint32_t Root::*holder);
  Built build_root(uint64_t gfn);
  Built get_table(uint64_t gfn, int level);
  tl::expected<ShadowPage, ShadowError> alloc_page();
  tl::expected<void, ShadowError> protect(uint64_t gfn);
  void unprotect(uint64_t gfn);
  tl::expected<void, ShadowError> set_entry(Table& t, unsigned i, uint64_t guest);
  tl::expected<void, ShadowError> reshadow(Table& t, unsigned i);
  void drop_link(const Table& t, uint64_t link);
  void unref(Table* t);
  void drop_root(std::map<uint64_t, Root>::iterator it);
  bool drop_idle(bool only_doomed);
  void on_write(uint64_t gpa, uint32_t len);
  tl::unexpected<ShadowError> fail(ShadowError e);
  void tell_failsafe();

  hv::Mpt& mpt_;
  ShadowPageSource& pages_;
  const uint64_t scratch_hpa_;
  const PpgttLimits limits_;

  mutable std::mutex mu_;
  std::unordered_map<uint64_t, std::unique_ptr<Table>> tables_;  // key(gfn, level)
  std::unordered_map<uint64_t, uint32_t> protected_;  // gfn -> tables on it
  std::map<uint64_t, Root> roots_;                    // PML4 GPA -> root
  std::unordered_set<uint64_t> pending_;              // keys of tables with partial entries
  std::vector<ShadowPage> spare_;                     // retired, zeroed shadow pages
  std::optional<ShadowError> failed_;
  bool failsafe_told_ = false;
  PpgttStats stats_;
  Trace trace_;
  FailsafeFn on_failsafe_;
};

}  // namespace gvt
