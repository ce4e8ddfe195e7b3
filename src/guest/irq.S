/* Interrupt and exception entry points, and the IDT (CPL0).
 *
 * All of this runs at CPL0, which this host emulates, so the handlers use
 * general registers only and are a few instructions long:
 *   - vector 0x40 (the GPU's MSI, GuestPlatform::msi_data): lock incl
 *     g_irq_count, EOI, iretq;
 *   - vectors 0..31: push the vector (and a 0 error code where the CPU pushes
 *     none), save the registers and call guest_exception() (exception.cpp,
 *     built -mgeneral-regs-only), which logs
 *     "exception V err E rip R rsp S cr2 C" and writes EXIT 0x100 + V;
 *   - every other vector (including the APIC spurious vector 0xFF): count it
 *     in g_spurious_count, EOI, iretq.
 *
 * The IDT is built here at assembly time, so the CPL0 entry code only loads
 * it. A gate's 32-bit offset is irq_anchor_lo + (handler - irq_anchor) in
 * its low half and irq_anchor_hi in its high half; guest.ld defines those two
 * symbols from irq_anchor's link address and asserts that everything from
 * irq_anchor to irq_end lies in one 64 KiB block below 4 GiB.
 *
 * Counters live in .data, not .bss: guest_entry() zeroes .bss at CPL3 with
 * interrupts already enabled, and must not wipe an early interrupt's count.
 */
#define LAPIC_EOI 0xFEE000B0
#define EXIT_EXCEPTION_BASE 0x100

  .data
  .p2align 2
  .globl g_irq_count
  .type g_irq_count, @object
g_irq_count:
  .long 0
  .size g_irq_count, 4
  .globl g_spurious_count
  .type g_spurious_count, @object
g_spurious_count:
  .long 0
  .size g_spurious_count, 4
g_in_exception:
  .long 0

  .section .text.irq, "ax", @progbits
  .code64
  .globl irq_anchor
irq_anchor:

  .globl msi_handler
  .type msi_handler, @function
msi_handler:
  lock incl g_irq_count(%rip)
  push %rax
  mov $LAPIC_EOI, %eax          /* zero-extended: a 32-bit displacement would sign-extend */
  movl $0, (%rax)
  pop %rax
  iretq
  .size msi_handler, . - msi_handler

  .type spurious_handler, @function
spurious_handler:
  lock incl g_spurious_count(%rip)
  push %rax
  mov $LAPIC_EOI, %eax          /* EOI with nothing in service is a no-op (vector 0xFF) */
  movl $0, (%rax)
  pop %rax
  iretq
  .size spurious_handler, . - spurious_handler

/* Common exception path. Stack on entry (low to high): vector, error code,
 * RIP, CS, RFLAGS, RSP, SS. Builds guest::ExceptionFrame (exception.h). */
  .type exc_common, @function
exc_common:
  push %rax
  push %rbx
  push %rcx
  push %rdx
  push %rsi
  push %rdi
  push %rbp
  push %r8
  push %r9
  push %r10
  push %r11
  push %r12
  push %r13
  push %r14
  push %r15
  mov %cr2, %rax
  push %rax
  lock btsl $0, g_in_exception(%rip)
  jc 1f
  mov %rsp, %rdi
  cld
  and $-16, %rsp
  call guest_exception          /* [[noreturn]] */
1:                              /* a fault while reporting one: exit without printing */
  mov 128(%rsp), %rax           /* ExceptionFrame::vector */
  add $EXIT_EXCEPTION_BASE, %rax
  mov g_pv_base(%rip), %rdx
  mov %rax, 8(%rdx)             /* kPvExit */
2:
  hlt
  jmp 2b
  .size exc_common, . - exc_common

/* Vectors 0..31, one 16-byte slot each: exc_stubs + 16 * vector. */
  .altmacro
  .macro EXC_STUB v
  .p2align 4
  .if (\v == 8) || (\v == 10) || (\v == 11) || (\v == 12) || (\v == 13) || (\v == 14) || (\v == 17) || (\v == 21) || (\v == 29) || (\v == 30)
  .else
  pushq $0                      /* no error code from the CPU */
  .endif
  pushq $\v
  jmp exc_common
  .endm

  .p2align 4
exc_stubs:
  .set vec, 0
  .rept 32
  EXC_STUB %vec
  .set vec, vec + 1
  .endr

  .macro GATE_TO target
  .word irq_anchor_lo + ((\target) - irq_anchor)   /* offset 15:0 */
  .word 0x08                    /* vmm_abi::kSelKernelCode */
  .word 0x8E00                  /* present, DPL0, 64-bit interrupt gate, IST 0 */
  .word irq_anchor_hi           /* offset 31:16 */
  .long 0                       /* offset 63:32 */
  .long 0
  .endm

  .macro IDT_GATE v
  .if \v == 0x40
  GATE_TO msi_handler
  .elseif \v < 32
  GATE_TO (exc_stubs + 16 * \v)
  .else
  GATE_TO spurious_handler
  .endif
  .endm

  .p2align 4
  .globl g_idt
g_idt:
  .set vec, 0
  .rept 256
  IDT_GATE %vec
  .set vec, vec + 1
  .endr
  .noaltmacro

  .p2align 3
  .globl g_idtr
g_idtr:
  .word 256 * 16 - 1
  .quad g_idt
  .globl irq_end
irq_end:

  .section .note.GNU-stack, "", @progbits
