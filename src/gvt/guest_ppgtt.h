// Reading through a guest context's 4-level PPGTT as the guest built it: its
// tables are guest pages (GPAs) read through the MPT, so nothing here trusts
// or changes them. The scanner uses it to look at PPGTT batches under
// --scan-nonpriv; 2-stage translation leaves the tables to the GPU otherwise.
#pragma once

#include <cstddef>
#include <cstdint>

#include "hv/mpt.h"

namespace gvt {

// Copies [va, va + len) of the address space rooted at `pml4_gpa`; false if
// any page is unmapped, a large page, or outside the VM's RAM.
bool read_guest_ppgtt(hv::Mpt& mpt, uint64_t pml4_gpa, uint64_t va, void* dst, size_t len);

}  // namespace gvt
