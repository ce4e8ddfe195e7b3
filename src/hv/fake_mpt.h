// An Mpt without KVM, for unit tests: guest RAM at GPA 0 is FakeMpt's own
// vector (with fake "host physical" addresses) or a buffer the caller lends
// (the host pages behind host_base, so the CPU's and the GPU's views are the
// same bytes), and tests play the guest CPU through mmio_read/mmio_write
// (trapped MMIO) and guest_write (stores that may hit write-protected pages).
#pragma once

#include <map>
#include <mutex>
#include <vector>

#include "hv/mpt.h"

namespace hv {

class FakeMpt final : public Mpt {
 public:
  static constexpr uint64_t kPageSize = 4096;
  // Far from any GPA, so a test mixing up GPAs and HPAs notices.
  static constexpr uint64_t kDefaultHostBase = 0x40'0000'0000ull;

  struct Msi {
    uint64_t addr;
    uint32_t data;
    bool operator==(const Msi&) const = default;
  };
  struct Mapping {
    uint64_t size;
    void* host;
  };

  // With `ram`, guest RAM is that buffer of `ram_size` bytes, owned by the
  // caller and outliving this object: pass the host memory at host_base so
  // that what pin_gfn hands the GPU is what read_gpa and ram() show.
  explicit FakeMpt(uint64_t ram_size, size_t protect_cap = 4096,
                   uint64_t host_base = kDefaultHostBase, uint8_t* ram = nullptr);

  bool read_gpa(uint64_t gpa, void* dst, size_t len) override;
  bool write_gpa(uint64_t gpa, const void* src, size_t len) override;
  // host_base + gfn * 4096 for a page wholly inside RAM; pins are counted.
  std::optional<uint64_t> pin_gfn(uint64_t gfn) override;
  // An unpin without a matching pin is counted in bad_unpins().
  void unpin_gfn(uint64_t gfn) override;
  // Traps and mappings never overlap RAM or each other; mappings are
  // page-aligned, as KVM memory slots must be.
  bool trap_mmio(uint64_t gpa, uint64_t size, BusDevice* dev) override;
  void untrap_mmio(uint64_t gpa) override;
  bool map_gpa(uint64_t gpa, uint64_t size, void* host) override;
  void unmap_gpa(uint64_t gpa) override;
  void inject_msi(uint64_t addr, uint32_t data) override;
  // Re-protecting a protected page replaces its callback. An empty callback
  // is refused.
  bool protect_page(uint64_t gfn, WriteCallback cb) override;
  void unprotect_page(uint64_t gfn) override;
  size_t protected_pages() const override;

  // A guest MMIO access of 1, 2, 4 or 8 bytes, dispatched to the trap that
  // wholly contains it. False when none does.
  bool mmio_write(uint64_t gpa, const void* data, uint32_t len);
  bool mmio_read(uint64_t gpa, void* data, uint32_t len);
  // A guest CPU store: committed to RAM, then each protected page it touched
  // gets its callback with that page's part of the bytes. False (nothing
  // written) when it does not lie wholly in RAM.
  bool guest_write(uint64_t gpa, const void* src, size_t len);

  uint8_t* ram() { return ram_; }
  uint64_t ram_size() const { return ram_size_; }
  uint64_t host_base() const { return host_base_; }
  uint32_t pin_count(uint64_t gfn) const;
  size_t pinned_pages() const;
  uint64_t bad_unpins() const;
  std::map<uint64_t, Mapping> mappings() const;

  // Appended by inject_msi under the lock; read it once device threads are quiet.
  std::vector<Msi> msis;
  // How many MSIs have been injected so far; safe while device threads run.
  size_t msi_count() const;

 private:
  bool in_ram(uint64_t gpa, uint64_t len) const;
  bool gfn_in_ram(uint64_t gfn) const { return gfn < ram_size_ / kPageSize; }
  BusDevice* mmio_target(uint64_t gpa, uint32_t len, uint64_t* offset) const;
  // [gpa, gpa + size) vs RAM, traps and mappings. Caller holds mu_.
  bool overlaps_anything(uint64_t gpa, uint64_t size) const;

  std::vector<uint8_t> own_ram_;  // empty when the caller lent the RAM
  uint8_t* const ram_;
  const uint64_t ram_size_;
  const size_t protect_cap_;
  const uint64_t host_base_;

  mutable std::mutex mu_;
  Bus bus_;
  std::map<uint64_t, uint64_t> traps_;  // base -> size, mirrors bus_ for overlap checks
  std::map<uint64_t, Mapping> maps_;
  std::map<uint64_t, uint32_t> pins_;  // gfn -> count, > 0
  uint64_t bad_unpins_ = 0;
  std::map<uint64_t, WriteCallback> protected_;
};

}  // namespace hv
