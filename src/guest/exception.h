// CPU exceptions (vectors 0..31) end the guest: irq.S saves the registers
// into an ExceptionFrame and calls guest_exception(), which logs one line
//   "exception V err 0xE rip 0xR rsp 0xS cr2 0xC"
// (after a register dump line), records it in GuestResult and writes EXIT
// with kExitExceptionBase + V. It runs at CPL0 (emulated, slow), and is built
// with -mgeneral-regs-only so it never touches the interrupted XMM state.
#pragma once

#include <cstdint>

namespace guest {

// Pushed by irq.S (exc_common); lowest address first.
struct ExceptionFrame {
  uint64_t cr2;
  uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
  uint64_t rbp, rdi, rsi, rdx, rcx, rbx, rax;
  uint64_t vector, error;             // error is 0 when the CPU pushes none
  uint64_t rip, cs, rflags, rsp, ss;  // the CPU's interrupt frame
};
static_assert(sizeof(ExceptionFrame) == 23 * 8);
static_assert(__builtin_offsetof(ExceptionFrame, vector) == 128,
              "irq.S reads the vector at 128(%rsp)");

}  // namespace guest

extern "C" [[noreturn]] void guest_exception(guest::ExceptionFrame* f);
