// 64-bit entry set up by the VMM: identity page tables (U=1, so CPL3 code can
// reach RAM and device windows), a GDT with kernel and user segments and a
// 64-bit TSS, and the boot-info block. See src/common/vmm_abi.h.
#pragma once

#include <linux/kvm.h>

#include <cstdint>
#include <string>

#include "common/vmm_abi.h"

namespace hv {

struct BootParams {
  uint64_t ram_size;
  uint64_t tsc_hz;
  uint64_t image_end;  // end of the loaded ELF
  uint64_t entry;
  std::string cmdline;
};

// Writes the tables and the boot info into guest RAM (VA == GPA).
void write_boot_tables(uint8_t* ram, const BootParams& p);
// Long mode at CPL0, paging on, SSE enabled.
void boot_sregs(kvm_sregs& s);
kvm_regs boot_regs(const BootParams& p);
uint64_t boot_stack_top(uint64_t ram_size);

}  // namespace hv
