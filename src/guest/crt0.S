/* The guest's CPL0 entry (vmm_abi.h: "entry state").
 *
 * The VMM enters here in 64-bit mode at CPL0 with paging on (its identity
 * tables, U=1), CS=0x08, SS/DS=0x10, RSP = BootInfo.stack_top and
 * RDI = &BootInfo. CPL0 code is emulated on this host (~1000x slower than
 * CPL3), so this does the minimum, in straight-line code (about 25 instructions):
 *
 *   1. check BootInfo.magic and BootInfo.cpl3 (else EXIT 2 at kPvBase);
 *   2. lgdt of the VMM's GDT at kGdt (7 slots), lidt of the prebuilt IDT (irq.S);
 *   3. ltr 0x28, unless the VMM already loaded TR with it;
 *   4. xAPIC on: IA32_APIC_BASE bit 11, SVR = 0x1FF (spurious vector 0xFF);
 *   5. iretq to CPL3 user_start: SS=0x1b, RSP=stack_top, RFLAGS=0x202 (IF=1),
 *      CS=0x23, RDI still &BootInfo.
 * user_start (CPL3) then does ldmxcsr 0x1F80 and fninit -- at CPL3 because
 * this host's CPL0 emulator fails on ldmxcsr -- and calls guest_entry().
 *
 * Everything else (.bss, constructors, the runtime) happens at CPL3 in
 * guest_entry() (main.cpp). After this, CPL0 is entered only by interrupts
 * and exceptions (irq.S).
 *
 * The numbers below are vmm_abi.h's; main.cpp static_asserts them.
 */
#define BOOT_MAGIC      0x4F4F424954524956  /* vmm_abi::kBootMagic */
#define BOOT_CPL3       12                  /* offsetof(BootInfo, cpl3) */
#define GDT_BASE        0x7000              /* vmm_abi::kGdt */
#define GDT_LIMIT       (7 * 8 - 1)         /* null, kcode, kdata, udata, ucode, TSS (2 slots) */
#define SEL_TSS         0x28                /* vmm_abi::kSelTss */
#define SEL_USER_DATA   0x1b                /* vmm_abi::kSelUserData */
#define SEL_USER_CODE   0x23                /* vmm_abi::kSelUserCode */
#define PV_EXIT         0xFEB00008          /* vmm_abi::kPvBase + kPvExit */
#define EXIT_BAD_BOOT   2                   /* guest::kExitBadBoot */
#define MSR_APIC_BASE   0x1B
#define APIC_SVR        0xFEE000F0

  .section .text.entry, "ax", @progbits
  .code64
  .globl _start
  .type _start, @function
_start:
  movabs $BOOT_MAGIC, %rax
  cmp %rax, (%rdi)
  jne bad_boot
  cmpl $1, BOOT_CPL3(%rdi)
  jne bad_boot

  lgdt gdtr(%rip)
  lidt g_idtr(%rip)

  str %ax
  cmp $SEL_TSS, %ax
  je 1f
  mov $SEL_TSS, %ax
  ltr %ax
1:
  mov $MSR_APIC_BASE, %ecx
  rdmsr
  or $0x800, %eax
  wrmsr
  mov $APIC_SVR, %eax           /* zero-extended: a 32-bit displacement would sign-extend */
  movl $0x1FF, (%rax)

  mov %rsp, %rax
  pushq $SEL_USER_DATA
  pushq %rax
  pushq $0x202
  pushq $SEL_USER_CODE
  lea user_start(%rip), %rax
  pushq %rax
  iretq

bad_boot:                       /* BootInfo is not trusted: kPvBase is the contract's default */
  mov $PV_EXIT, %eax
  movq $EXIT_BAD_BOOT, (%rax)
2:
  hlt
  jmp 2b
  .size _start, . - _start

  .p2align 3
gdtr:
  .word GDT_LIMIT
  .quad GDT_BASE

/* First CPL3 code: align the stack as the ABI wants at a call, then C++. */
  .text
  .globl user_start
  .type user_start, @function
user_start:
  /* MXCSR 0x1F80 and a clean x87 state. Here at CPL3 (native) rather than
     in _start: this host's CPL0 instruction emulator cannot emulate ldmxcsr
     (KVM_EXIT_INTERNAL_ERROR, emulation failure at the ldmxcsr). */
  ldmxcsr mxcsr_init(%rip)
  fninit
  xor %ebp, %ebp
  and $-16, %rsp
  call guest_entry              /* [[noreturn]]; RDI = &BootInfo */
  ud2
  .size user_start, . - user_start

  .section .rodata
  .p2align 2
mxcsr_init:
  .long 0x1F80

  .section .note.GNU-stack, "", @progbits
