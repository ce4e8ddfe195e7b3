// The CPL0 exception reporter (see exception.h). Built with
// -mgeneral-regs-only (CMakeLists.txt). Self-contained on purpose: it calls
// nothing in files built with SSE, and does no aggregate copies (which the
// compiler could turn into memcpy calls).
#include "guest/exception.h"

#include "common/vmm_abi.h"
#include "guest/exit_codes.h"
#include "guest/mmio.h"

extern "C" uint64_t g_pv_base;  // pv.cpp

namespace guest {
namespace {

struct Line {
  char buf[192];
  unsigned n = 0;
  void put(char c) {
    if (n < sizeof buf) buf[n++] = c;
  }
  void str(const char* s) {
    while (*s) put(*s++);
  }
  void dec(uint64_t v) {
    char t[20];
    int i = 0;
    do t[i++] = static_cast<char>('0' + v % 10);
    while (v /= 10);
    while (i) put(t[--i]);
  }
  void hex(uint64_t v) {
    str("0x");
    int shift = 60;
    while (shift > 0 && !((v >> shift) & 0xF)) shift -= 4;
    for (; shift >= 0; shift -= 4) put("0123456789abcdef"[(v >> shift) & 0xF]);
  }
  void emit() {
    // One CONSOLE write per line: (len << 48) | gpa, VA == GPA.
    mmio_write64(g_pv_base + vmm_abi::kPvConsole,
                 (uint64_t{n} << 48) | reinterpret_cast<uint64_t>(static_cast<char*>(buf)));
    n = 0;
  }
};

Line g_line;  // .bss: the CPL0 stack is small (kInterruptStackTop, 16 KiB)

}  // namespace
}  // namespace guest

extern "C" [[noreturn]] void guest_exception(guest::ExceptionFrame* f) {
  using guest::g_line;
  g_line.n = 0;
  g_line.str("regs rax ");
  g_line.hex(f->rax);
  g_line.str(" rbx ");
  g_line.hex(f->rbx);
  g_line.str(" rcx ");
  g_line.hex(f->rcx);
  g_line.str(" rdx ");
  g_line.hex(f->rdx);
  g_line.str(" rsi ");
  g_line.hex(f->rsi);
  g_line.str(" rdi ");
  g_line.hex(f->rdi);
  g_line.str(" rbp ");
  g_line.hex(f->rbp);
  g_line.str(" cs ");
  g_line.hex(f->cs);
  g_line.str(" rflags ");
  g_line.hex(f->rflags);
  g_line.emit();

  g_line.str("exception ");
  g_line.dec(f->vector);
  g_line.str(" err ");
  g_line.hex(f->error);
  g_line.str(" rip ");
  g_line.hex(f->rip);
  g_line.str(" rsp ");
  g_line.hex(f->rsp);
  g_line.str(" cr2 ");
  g_line.hex(f->cr2);
  unsigned len = g_line.n;

  const uint32_t code = guest::kExitExceptionBase + static_cast<uint32_t>(f->vector);
  auto* r = reinterpret_cast<volatile vmm_abi::GuestResult*>(vmm_abi::kResult);
  r->magic = vmm_abi::kResultMagic;
  r->status = code;
  unsigned i = 0;
  for (; i < len && i < sizeof r->error - 1; ++i) r->error[i] = g_line.buf[i];
  r->error[i] = 0;
  g_line.emit();

  for (;;) {
    guest::mmio_write64(g_pv_base + vmm_abi::kPvExit, code);
    asm volatile("hlt");  // CPL0: allowed here
  }
}
