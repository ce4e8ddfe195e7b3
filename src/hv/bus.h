// The MMIO bus: an ordered map of non-overlapping guest-physical ranges, each
// served by a device that sees only offsets into its range (Firecracker's
// vstate/bus.rs).
#pragma once

#include <cstdint>
#include <map>
#include <mutex>

namespace hv {

class BusDevice {
 public:
  virtual ~BusDevice() = default;
  // `len` is 1, 2, 4 or 8; `offset` is relative to the device's range.
  virtual void read(uint64_t offset, uint8_t* data, uint32_t len) = 0;
  virtual void write(uint64_t offset, const uint8_t* data, uint32_t len) = 0;
};

class Bus {
 public:
  // Refuses an empty, overflowing or overlapping range.
  bool insert(uint64_t base, uint64_t size, BusDevice* dev);
  bool remove(uint64_t base);
  // The device covering `addr` and the offset into it, or nullptr.
  BusDevice* find(uint64_t addr, uint64_t* offset) const;

 private:
  struct Range {
    uint64_t size;
    BusDevice* dev;
  };
  mutable std::mutex mu_;
  std::map<uint64_t, Range> ranges_;
};

}  // namespace hv
