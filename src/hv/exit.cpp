#include "hv/exit.h"

#include <fmt/format.h>

#include <cstring>

namespace hv {

namespace {
void serve(const Bus& bus, Exit& e, ExitCounters& c) {
  uint64_t off;
  BusDevice* dev = bus.find(e.addr, &off);
  if (!dev) {
    c.unhandled++;
    if (!e.write) std::memset(e.data, 0xFF, sizeof e.data);
    return;
  }
  if (e.write)
    dev->write(off, e.data, e.len);
  else
    dev->read(off, e.data, e.len);
}
}  // namespace

Outcome dispatch(Exit& e, const Bus& mmio, const Bus& pio, const ClassifiedBus* classes,
                 ExitCounters& c) {
  c.total++;
  switch (e.kind) {
    case Exit::Kind::Mmio: {
      DeviceClass k = classes ? classes->classify(e.addr, e.write) : DeviceClass::Mmio;
      (k == DeviceClass::Wait ? c.wait : k == DeviceClass::RamWrite ? c.ro_memslot : c.mmio)++;
      if (e.len == 0 || e.len > 8) return {true, fmt::format("error: MMIO access of {} bytes", e.len)};
      serve(mmio, e, c);
      return {};
    }
    case Exit::Kind::Io:
      c.pio++;
      if (e.len == 0 || e.len > 4) return {true, fmt::format("error: port access of {} bytes", e.len)};
      serve(pio, e, c);
      return {};
    case Exit::Kind::Intr:
      return {};
    case Exit::Kind::Shutdown:
      return {true, "error: triple fault (shutdown exit)"};
    case Exit::Kind::InternalError:
      return {true, fmt::format("error: KVM internal error, suberror {}", e.detail)};
    case Exit::Kind::FailEntry:
      return {true, fmt::format("error: VM entry failed, reason 0x{:x}", e.detail)};
    case Exit::Kind::Hlt:
      return {true, "error: the guest halted (HLT is not a wait here; use the paravirtual WAIT)"};
    case Exit::Kind::SystemEvent:
      return {true, fmt::format("error: system event {}", e.detail)};
    case Exit::Kind::Unknown:
      break;
  }
  return {true, fmt::format("error: unexpected exit reason {}", e.raw_reason)};
}

}  // namespace hv
