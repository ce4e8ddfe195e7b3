#include "gvt/guest_ppgtt.h"

#include <algorithm>

#include "common/gen8/layout.h"

namespace gvt {

using namespace gen8;

namespace {

// The GPA of the byte at `va`, walking PML4 -> PDP -> PD -> PT.
bool translate(hv::Mpt& mpt, uint64_t pml4_gpa, uint64_t va, uint64_t* gpa) {
  uint64_t table = pml4_gpa & kPteAddrMask;
  for (int level = 3; level >= 0; --level) {
    uint64_t entry;
    if (!mpt.read_gpa(table + ((va >> (12 + 9 * level)) & 511) * 8, &entry, 8)) return false;
    if (!(entry & kPtePresent) || (level && (entry & kPtePs))) return false;
    table = entry & kPteAddrMask;
  }
  *gpa = table + va % kPageSize;
  return true;
}

}  // namespace

bool read_guest_ppgtt(hv::Mpt& mpt, uint64_t pml4_gpa, uint64_t va, void* dst, size_t len) {
  auto* out = static_cast<uint8_t*>(dst);
  while (len) {
    uint64_t gpa;
    size_t n = std::min<size_t>(len, kPageSize - va % kPageSize);
    if (!translate(mpt, pml4_gpa, va, &gpa) || !mpt.read_gpa(gpa, out, n)) return false;
    va += n;
    out += n;
    len -= n;
  }
  return true;
}

}  // namespace gvt
