// A guest on a vGPU without KVM (a soft VM, see soft_vm.h): the driver's
// platform (drv::Platform) for a VM whose CPU is the calling thread and whose
// hypervisor is a FakeMpt, as src/guest/guest_platform does it inside a real
// VM. The mediator's tests and `gvirt run --vmm soft` use it. Config space is the
// vGPU's (00:02.0), MMIO goes through the MPT's trap at BAR0, pages are GPAs
// of the FakeMpt's RAM (lent host memory, so phys_to_cpu(gpa) = ram + gpa is
// what the GPU sees too), and BAR2 is the host aperture that the slice's
// memslot maps 1:1 (guest GM offsets equal host ones). The guest's CPU does
// not trap outside its slice here; the guest driver never goes there.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <iterator>
#include <map>
#include <optional>
#include <thread>
#include <vector>

#include "common/gen8/layout.h"
#include "common/gen8/regs.h"
#include "common/vmm_abi.h"
#include "driver/platform.h"
#include "gvt/vgpu.h"
#include "hv/fake_mpt.h"

namespace cli {

// Pages of one guest-physical range: first fit over sorted free runs that
// coalesce on free, zeroed when handed out (as src/guest/pages.h).
class GuestPagePool {
 public:
  static constexpr uint64_t kPage = gen8::kPageSize;

  GuestPagePool(uint8_t* ram, uint64_t first, uint64_t end) : ram_(ram), first_(first), end_(end) {
    if (end > first) free_[first] = (end - first) / kPage;
  }

  std::optional<uint64_t> alloc(uint64_t count) {
    for (auto it = free_.begin(); it != free_.end(); ++it) {
      if (it->second < count) continue;
      const uint64_t gpa = it->first, left = it->second - count;
      free_.erase(it);
      if (left) free_[gpa + count * kPage] = left;
      std::memset(ram_ + gpa, 0, count * kPage);
      return gpa;
    }
    return std::nullopt;
  }

  // False, changing nothing, for a run outside the pool or overlapping free space.
  bool free(uint64_t gpa, uint64_t count) {
    if (!count || gpa % kPage || gpa < first_ || gpa >= end_ || count > (end_ - gpa) / kPage) return false;
    const uint64_t end = gpa + count * kPage;
    auto next = free_.lower_bound(gpa);
    if (next != free_.end() && next->first < end) return false;
    if (next != free_.begin()) {
      auto prev = std::prev(next);
      if (prev->first + prev->second * kPage > gpa) return false;
      if (prev->first + prev->second * kPage == gpa) {
        prev->second += count;
        if (next != free_.end() && next->first == end) {
          prev->second += next->second;
          free_.erase(next);
        }
        return true;
      }
    }
    uint64_t n = count;
    if (next != free_.end() && next->first == end) {
      n += next->second;
      free_.erase(next);
    }
    free_[gpa] = n;
    return true;
  }

  bool owns(uint64_t gpa) const { return gpa >= first_ && gpa < end_; }
  uint64_t free_pages() const {
    uint64_t n = 0;
    for (const auto& [gpa, count] : free_) n += count;
    return n;
  }

 private:
  uint8_t* ram_;
  uint64_t first_, end_;
  std::map<uint64_t, uint64_t> free_;  // first GPA -> pages; disjoint, never adjacent
};

class VgpuGuest final : public drv::Platform {
 public:
  static constexpr uint64_t kBar0 = vmm_abi::kBar0Base;
  static constexpr uint64_t kPage = gen8::kPageSize;

  // The vGPU must be mapped into `mpt` with BAR0 at vmm_abi::kBar0Base and
  // BAR2 at vmm_abi::kApertureBase. GPA page 0 stays unused (0 means "none");
  // page tables get the first eighth of RAM, as the guest runtime's pools do.
  VgpuGuest(hv::FakeMpt& mpt, gvt::Vgpu& vgpu)
      : mpt_(mpt),
        vgpu_(vgpu),
        aperture_(static_cast<uint8_t*>(
                      mpt.mappings().at(vmm_abi::kApertureBase + vgpu.slice().low_base).host) -
                  vgpu.slice().low_base),
        tables_(mpt.ram(), kPage, mpt.ram_size() / 8 & ~(kPage - 1)),
        general_(mpt.ram(), mpt.ram_size() / 8 & ~(kPage - 1), mpt.ram_size()),
        irq_seen_(mpt.msi_count()) {}

  uint32_t cfg_read32(uint32_t off) override { return vgpu_.cfg_read(off, 4); }
  void cfg_write32(uint32_t off, uint32_t v) override { vgpu_.cfg_write(off, 4, v); }
  // An access no trap claims reads all ones, as an unclaimed PCI read does.
  uint32_t mmio_read32(uint32_t off) override {
    uint32_t v = ~0u;
    if (!mpt_.mmio_read(kBar0 + off, &v, 4)) ++unclaimed_;
    return v;
  }
  void mmio_write32(uint32_t off, uint32_t v) override {
    if (!mpt_.mmio_write(kBar0 + off, &v, 4)) ++unclaimed_;
  }
  // One 8-byte store, one exit. ELSP elements are remembered on the way.
  void mmio_write64(uint32_t off, uint64_t v) override {
    for (int e = 0; e < gen8::kNumEngines; ++e)
      if (off == gen8::kEngineBase[e] + gen8::reg::RING_ELSP && (v & gen8::kDescValid))
        elsp_.push_back({e, v});
    if (!mpt_.mmio_write(kBar0 + off, &v, 8)) ++unclaimed_;
  }
  bool alloc_pages(uint64_t count, bool page_table, drv::Pages* out) override {
    auto gpa = (page_table ? tables_ : general_).alloc(count);
    if (!gpa) return false;
    *out = drv::Pages{*gpa, mpt_.ram() + *gpa, count};
    return true;
  }
  void free_pages(const drv::Pages& p) override {
    if (!p.count) return;
    if (!(tables_.owns(p.phys) ? tables_ : general_).free(p.phys, p.count)) ++refused_frees_;
  }
  void* phys_to_cpu(uint64_t gpa) override { return mpt_.ram() + gpa; }
  uint8_t* aperture() override { return aperture_; }
  uint64_t now_ns() override {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
  }
  // Polls: the GPU and the mediator write guest memory without telling the
  // guest. Spins briefly (a tiny batch's round trip), then sleeps in short
  // steps. An MSI not yet taken ends the wait, as the guest's WAIT does.
  void wait(const volatile uint32_t* addr, uint32_t expected, uint64_t deadline_ns) override {
    for (int i = 0;; ++i) {
      if (drv::polled(*addr) != expected || mpt_.msi_count() != irq_seen_) return;
      const uint64_t now = now_ns();
      if (now >= deadline_ns) return;
      if (stopped_.load(std::memory_order_relaxed))
        return std::this_thread::sleep_for(std::chrono::nanoseconds(deadline_ns - now));
      if (i < 200)
        std::this_thread::yield();
      else
        std::this_thread::sleep_for(std::chrono::microseconds(20));
    }
  }
  bool take_interrupt() override {
    const size_t now = mpt_.msi_count();
    if (now == irq_seen_) return false;
    irq_seen_ = now;
    return true;
  }
  uint64_t msi_address() override { return 0xFEE00000u; }
  uint32_t msi_data() override { return vmm_abi::kMsiVector; }
  void log(const char* msg) override { std::fprintf(stderr, "guest drv: %s\n", msg); }
  // The guest CPU's store, through the MPT: a write-protected table page
  // traps it, as KVM would.
  void store_table_entry(uint64_t* slot, uint64_t v) override {
    mpt_.guest_write(reinterpret_cast<uint8_t*>(slot) - mpt_.ram(), &v, 8);
  }

  // The VM stops, as KVM stops a VM whose vGPU failed: nothing it waits for
  // will come, so each wait sleeps to its deadline instead of polling and
  // the stopped VM's thread takes no CPU from its co-runners while its
  // driver times out. Any thread may call it.
  void stop() { stopped_.store(true, std::memory_order_relaxed); }
  bool stopped() const { return stopped_.load(std::memory_order_relaxed); }

  // ---- what the test sees of the guest ----
  struct Element {
    int engine;
    uint64_t desc;  // context id << 32 | LRCA and flags
  };
  // Every valid ELSP element the guest wrote, in order.
  const std::vector<Element>& elsp() const { return elsp_; }
  // The guest's own GGTT view of `gm` (its PTE, read back through the trap):
  // the GPA there, or nullopt when not present.
  std::optional<uint64_t> gm_to_gpa(uint64_t gm) {
    uint64_t pte = 0;
    if (!mpt_.mmio_read(kBar0 + gen8::kGgttOffset + gm / kPage * 8, &pte, 8) || !(pte & gen8::kPtePresent))
      return std::nullopt;
    return (pte & gen8::kPteAddrMask) + gm % kPage;
  }
  uint8_t* ram() { return mpt_.ram(); }
  uint64_t unclaimed_mmio() const { return unclaimed_; }
  uint64_t refused_frees() const { return refused_frees_; }
  // Pages handed out and not returned, both pools.
  uint64_t pages_in_use() const {
    return (mpt_.ram_size() / kPage - 1) - tables_.free_pages() - general_.free_pages();
  }

 private:
  hv::FakeMpt& mpt_;
  gvt::Vgpu& vgpu_;
  uint8_t* const aperture_;
  GuestPagePool tables_, general_;
  size_t irq_seen_;
  std::vector<Element> elsp_;
  uint64_t unclaimed_ = 0, refused_frees_ = 0;
  std::atomic<bool> stopped_{false};
};

}  // namespace cli
