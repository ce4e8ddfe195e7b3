#include "hv/boot.h"

#include <cstring>

namespace hv {

using namespace vmm_abi;

namespace {
constexpr uint64_t kP = 1, kRw = 2, kUs = 4, kPwt = 8, kPcd = 16, kPs = 128;
constexpr uint64_t kStackBytes = 1ull << 20;

kvm_segment segment(uint16_t selector, uint8_t type, bool code) {
  kvm_segment s{};
  s.base = 0;
  s.limit = 0xFFFFFFFF;
  s.selector = selector;
  s.type = type;
  s.present = 1;
  s.dpl = 0;
  s.s = 1;
  s.g = 1;
  s.l = code ? 1 : 0;
  s.db = code ? 0 : 1;
  return s;
}
}  // namespace

uint64_t boot_stack_top(uint64_t ram_size) { return ram_size; }

void write_boot_tables(uint8_t* ram, const BootParams& p) {
  auto* pml4 = reinterpret_cast<uint64_t*>(ram + kPml4);
  auto* pdpt = reinterpret_cast<uint64_t*>(ram + kPdpt);
  auto* pd = reinterpret_cast<uint64_t*>(ram + kPd);
  std::memset(ram + kPml4, 0, kGdt - kPml4);
  pml4[0] = kPdpt | kP | kRw | kUs;
  for (int i = 0; i < 4; ++i) pdpt[i] = (kPd + i * 0x1000ull) | kP | kRw | kUs;
  for (uint64_t i = 0; i < 2048; ++i) {
    uint64_t addr = i << 21;
    // Device windows are uncached; RAM and the aperture are write-back.
    bool device = addr >= kBar0Base;
    pd[i] = addr | kP | kRw | kUs | kPs | (device ? kPcd | kPwt : 0);
  }
  auto* gdt = reinterpret_cast<uint64_t*>(ram + kGdt);
  gdt[0] = 0;
  gdt[1] = 0x00209A0000000000ull;  // 0x08 kernel code, 64-bit
  gdt[2] = 0x0000920000000000ull;  // 0x10 kernel data
  gdt[3] = 0x0000F20000000000ull;  // 0x18 user data
  gdt[4] = 0x0020FA0000000000ull;  // 0x20 user code, 64-bit
  uint64_t base = kTss, limit = 103;
  gdt[5] = (limit & 0xFFFF) | (base & 0xFFFFFF) << 16 | 0x89ull << 40 | ((base >> 24) & 0xFF) << 56;
  gdt[6] = base >> 32;
  std::memset(ram + kTss, 0, 104);
  uint64_t rsp0 = kInterruptStackTop;
  std::memcpy(ram + kTss + 4, &rsp0, 8);
  uint16_t iomap = 104;  // no I/O bitmap
  std::memcpy(ram + kTss + 102, &iomap, 2);

  auto* bi = reinterpret_cast<BootInfo*>(ram + kBootInfo);
  std::memset(bi, 0, sizeof *bi);
  bi->magic = kBootMagic;
  bi->version = kBootVersion;
  bi->cpl3 = 1;
  bi->ram_size = p.ram_size;
  bi->tsc_hz = p.tsc_hz;
  bi->free_start = (p.image_end + 0xFFF) & ~0xFFFull;
  bi->free_end = p.ram_size - kStackBytes;
  bi->stack_top = boot_stack_top(p.ram_size);
  bi->ecam_base = kEcamBase;
  bi->pv_base = kPvBase;
  std::strncpy(bi->cmdline, p.cmdline.c_str(), sizeof bi->cmdline - 1);
  std::memset(ram + kResult, 0, 0x1000);
}

void boot_sregs(kvm_sregs& s) {
  s.cs = segment(kSelKernelCode, 11, true);
  s.ds = s.es = s.fs = s.gs = s.ss = segment(kSelKernelData, 3, false);
  s.gdt.base = kGdt;
  s.gdt.limit = 7 * 8 - 1;
  s.tr.base = kTss;
  s.tr.limit = 103;
  s.tr.selector = kSelTss;
  s.tr.type = 11;  // busy 64-bit TSS
  s.tr.present = 1;
  s.cr3 = kPml4;
  s.cr4 = (1u << 5) | (1u << 9) | (1u << 10);  // PAE, OSFXSR, OSXMMEXCPT
  s.cr0 = 0x80050033u;                          // PG, WP, NE, ET, MP, PE
  s.efer = 0x500;                               // LME, LMA
}

kvm_regs boot_regs(const BootParams& p) {
  kvm_regs r{};
  r.rip = p.entry;
  r.rsp = boot_stack_top(p.ram_size);
  r.rdi = kBootInfo;
  r.rflags = 2;
  return r;
}

}  // namespace hv
