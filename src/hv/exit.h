// A VM exit as a plain value, and its dispatch: a pure function over the
// exit and the buses, unit-testable without KVM (Firecracker's
// handle_kvm_exit). KVM_RUN itself lives in the thin vcpu loop.
#pragma once

#include <cstdint>
#include <string>

#include "hv/bus.h"

namespace hv {

struct Exit {
  enum class Kind { Mmio, Io, Shutdown, InternalError, FailEntry, Hlt, Intr, SystemEvent, Unknown };
  Kind kind = Kind::Unknown;
  uint64_t addr = 0;  // MMIO GPA or I/O port
  uint32_t len = 0;
  bool write = false;
  uint8_t data[8] = {};
  uint32_t raw_reason = 0;
  uint64_t detail = 0;  // internal-error suberror, fail-entry reason, ...
};

struct ExitCounters {
  uint64_t mmio = 0;        // trapped MMIO (device registers)
  uint64_t pio = 0;
  uint64_t wait = 0;        // paravirtual WAITs
  uint64_t ro_memslot = 0;  // writes to write-protected guest pages
  uint64_t unhandled = 0;   // MMIO/PIO no device claims (reads return all ones)
  uint64_t total = 0;
  ExitCounters operator-(const ExitCounters& o) const {
    return {mmio - o.mmio, pio - o.pio, wait - o.wait, ro_memslot - o.ro_memslot,
            unhandled - o.unhandled, total - o.total};
  }
};

struct Outcome {
  bool stop = false;
  std::string status;  // why the VM stopped ("error: ...")
};

// Classifies how the bus device at an address is counted.
enum class DeviceClass { Mmio, Wait, RamWrite };
class ClassifiedBus {
 public:
  virtual ~ClassifiedBus() = default;
  virtual DeviceClass classify(uint64_t addr, bool write) const = 0;
};

// Serves one exit. MMIO reads leave their result in exit.data.
Outcome dispatch(Exit& exit, const Bus& mmio, const Bus& pio, const ClassifiedBus* classes,
                 ExitCounters& counters);

}  // namespace hv
