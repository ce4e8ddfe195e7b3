// The mediated pass-through (MPT) interface: everything the mediator may ask
// of the hypervisor (upstream GVT-g's intel_gvt_mpt). The KVM backend is
// hv::Vm's; FakeMpt serves unit tests without KVM.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>

#include "hv/bus.h"

namespace hv {

// Called after a write to a protected page has been committed to guest RAM.
using WriteCallback = std::function<void(uint64_t gpa, const uint8_t* data, uint32_t len)>;

class Mpt {
 public:
  virtual ~Mpt() = default;
  // Guest memory access; false when any byte lies outside guest RAM.
  virtual bool read_gpa(uint64_t gpa, void* dst, size_t len) = 0;
  virtual bool write_gpa(uint64_t gpa, const void* src, size_t len) = 0;
  // GFN -> host physical address, pinned until unpin. nullopt: not guest RAM.
  virtual std::optional<uint64_t> pin_gfn(uint64_t gfn) = 0;
  virtual void unpin_gfn(uint64_t gfn) = 0;
  // Guest-physical MMIO traps, served by `dev` with offsets.
  virtual bool trap_mmio(uint64_t gpa, uint64_t size, BusDevice* dev) = 0;
  virtual void untrap_mmio(uint64_t gpa) = 0;
  // Maps [gpa, gpa + size) onto host memory at `host` with no trap
  // (aperture pass-through). The host range must stay mapped meanwhile.
  virtual bool map_gpa(uint64_t gpa, uint64_t size, void* host) = 0;
  virtual void unmap_gpa(uint64_t gpa) = 0;
  virtual void inject_msi(uint64_t addr, uint32_t data) = 0;
  // Write-protects one guest page: writes trap, are committed to RAM, and
  // then `cb` runs. False past the per-VM cap or for a page outside RAM.
  virtual bool protect_page(uint64_t gfn, WriteCallback cb) = 0;
  virtual void unprotect_page(uint64_t gfn) = 0;
  virtual size_t protected_pages() const = 0;
};

}  // namespace hv
