// The few C and C++ runtime pieces a freestanding g++ build still needs:
// mem* (the compiler emits calls to them), operator new/delete (virtual
// destructors reference delete), __cxa_pure_virtual, atexit (static
// destructors register with it under -fno-use-cxa-atexit; the guest never
// exits normally, so they never run), and the .init_array walk.
// Built with -fno-builtin -fno-tree-loop-distribute-patterns, so the loops
// here are not turned back into calls to themselves.
#include <cstddef>
#include <cstdint>
#include <new>

#include "guest/console.h"
#include "guest/exit_codes.h"
#include "guest/pages.h"
#include "guest/result.h"
#include "guest/runtime.h"

extern "C" {

void* memcpy(void* dst, const void* src, size_t n) {
  void* d = dst;
  asm volatile("rep movsb" : "+D"(d), "+S"(src), "+c"(n) : : "memory");
  return dst;
}

void* memset(void* dst, int c, size_t n) {
  void* d = dst;
  asm volatile("rep stosb" : "+D"(d), "+c"(n) : "a"(c) : "memory");
  return dst;
}

void* memmove(void* dst, const void* src, size_t n) {
  auto* d = static_cast<unsigned char*>(dst);
  auto* s = static_cast<const unsigned char*>(src);
  if (d <= s || d >= s + n) return memcpy(dst, src, n);
  // Overlapping with dst above src: copy backwards.
  while (n--) d[n] = s[n];
  return dst;
}

int memcmp(const void* a, const void* b, size_t n) {
  auto* x = static_cast<const unsigned char*>(a);
  auto* y = static_cast<const unsigned char*>(b);
  for (size_t i = 0; i < n; ++i)
    if (x[i] != y[i]) return x[i] < y[i] ? -1 : 1;
  return 0;
}

size_t strlen(const char* s) {
  size_t n = 0;
  while (s[n]) ++n;
  return n;
}

void __cxa_pure_virtual() {
  guest::result_error("pure virtual function called");
  guest::guest_exit(guest::kExitReturned);
}

int atexit(void (*)()) { return 0; }

void* __dso_handle = nullptr;

}  // extern "C"

namespace {

void* must_alloc(size_t n, size_t align) {
  void* p = guest::heap_alloc(n ? n : 1, align);
  if (!p) {
    guest::result_error("runtime heap exhausted (%zu bytes)", n);
    guest::guest_exit(guest::kExitNoMemory);
  }
  return p;
}

}  // namespace

void* operator new(size_t n) { return must_alloc(n, 16); }
void* operator new[](size_t n) { return must_alloc(n, 16); }
void* operator new(size_t n, std::align_val_t a) { return must_alloc(n, static_cast<size_t>(a)); }
void* operator new[](size_t n, std::align_val_t a) { return must_alloc(n, static_cast<size_t>(a)); }
void operator delete(void* p) noexcept { guest::heap_free(p); }
void operator delete[](void* p) noexcept { guest::heap_free(p); }
void operator delete(void* p, size_t) noexcept { guest::heap_free(p); }
void operator delete[](void* p, size_t) noexcept { guest::heap_free(p); }
void operator delete(void* p, std::align_val_t) noexcept { guest::heap_free(p); }
void operator delete(void* p, size_t, std::align_val_t) noexcept { guest::heap_free(p); }

extern "C" void (*__init_array_start[])();
extern "C" void (*__init_array_end[])();
extern "C" char __bss_start[], __bss_end[];

namespace guest {

void runtime_start() {
  // The VMM's ELF loader zeroes p_memsz past p_filesz already; this does not
  // rely on it. Nothing the CPL0 handlers use lives in .bss (irq.S, pv.cpp).
  for (char* p = __bss_start; p < __bss_end; ++p) *p = 0;
  for (auto* fn = __init_array_start; fn < __init_array_end; ++fn) (*fn)();
}

}  // namespace guest
