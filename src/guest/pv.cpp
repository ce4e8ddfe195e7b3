#include "guest/pv.h"

#include "common/vmm_abi.h"
#include "guest/mmio.h"
#include "guest/time.h"

// .data (not .bss): usable before guest_entry() zeroes .bss, and by exception.cpp.
uint64_t g_pv_base = vmm_abi::kPvBase;

namespace guest {

void pv_init(uint64_t pv_base) { g_pv_base = pv_base; }

void pv_wait(const volatile uint32_t* addr, uint32_t expected, uint64_t deadline_tsc) {
  vmm_abi::WaitArgs args{};                     // fields the guest does not know stay 0
  args.gpa = reinterpret_cast<uint64_t>(addr);  // VA == GPA
  args.expected = expected;
  args.deadline = deadline_tsc;
  args.now = rdtsc();  // the VMM times the wait from this (it may not read the guest TSC)
  // The VMM reads `args` from RAM during the exit: the stores must be done
  // (and not moved past the MMIO write) by then. mmio_write64 clobbers memory.
  mmio_write64(g_pv_base + vmm_abi::kPvWait, reinterpret_cast<uint64_t>(&args));
}

void pv_mark(uint64_t mark) { mmio_write64(g_pv_base + vmm_abi::kPvMark, mark); }

void pv_console(const void* text, uint64_t len) {
  mmio_write64(g_pv_base + vmm_abi::kPvConsole, (len << 48) | reinterpret_cast<uint64_t>(text));
}

void pv_exit(uint32_t code) {
  for (;;) mmio_write64(g_pv_base + vmm_abi::kPvExit, code);
}

}  // namespace guest
