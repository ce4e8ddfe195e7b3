// The paravirtual VMM registers of vmm_abi.h (each access is one exit).
#pragma once

#include <cstdint>

// Interrupt counters, incremented by the CPL0 handlers in irq.S.
extern "C" volatile uint32_t g_irq_count;       // MSIs at vector 0x40
extern "C" volatile uint32_t g_spurious_count;  // any other vector >= 32
// Where the PV registers are (BootInfo.pv_base); exception.cpp reads it too.
extern "C" uint64_t g_pv_base;

namespace guest {

void pv_init(uint64_t pv_base);
// Returns once *addr != expected, or an MSI was injected since the previous
// WAIT returned, or the TSC reaches deadline_tsc (whichever comes first).
// addr must be a 4-byte-aligned word in guest RAM.
void pv_wait(const volatile uint32_t* addr, uint32_t expected, uint64_t deadline_tsc);
// A timestamp for the host (vmm_abi::Mark values, or test-defined ones).
void pv_mark(uint64_t mark);
// One line of text, [gpa, gpa + len), to the VM's log.
void pv_console(const void* text, uint64_t len);
// Stops the VM with `code`. Never returns.
[[noreturn]] void pv_exit(uint32_t code);

}  // namespace guest
