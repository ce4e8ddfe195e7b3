#include "driver/ppgtt.h"

#include "common/gen8/layout.h"

namespace drv {

using namespace gen8;

namespace {
}  // namespace

Result<void> Ppgtt::init(Platform& p) {
  p_ = &p;
  if (!p.alloc_pages(1, true, &pml4_)) return tl::unexpected(Error::NoMemory);
  return {};
}

void Ppgtt::destroy() {
  for (int i = 0; i < n_tables_; ++i) p_->free_pages(tables_[i]);
  n_tables_ = 0;
  if (pml4_.count) p_->free_pages(pml4_);
  pml4_ = {};
}

Result<uint64_t*> Ppgtt::leaf_table(uint64_t va, bool create) {
  uint64_t t = pml4_.phys;
  for (int level = 3; level >= 1; --level) {
    uint64_t* slot = table(t) + ((va >> (12 + 9 * level)) & 511);
    if (!(*slot & kPtePresent)) {
      if (!create) return nullptr;
      if (n_tables_ == kMaxTables) return tl::unexpected(Error::NoMemory);
      Pages pg;
      if (!p_->alloc_pages(1, true, &pg)) return tl::unexpected(Error::NoMemory);
      tables_[n_tables_++] = pg;
      p_->store_table_entry(slot, pg.phys | kPtePresent | kPteRw);
    }
    t = *slot & kPteAddrMask;
  }
  return table(t);
}

Result<void> Ppgtt::map(uint64_t va, uint64_t phys, uint64_t bytes) {
  if ((va | phys | bytes) & (kPageSize - 1) || va >= kPpgttSize || bytes > kPpgttSize - va)
    return tl::unexpected(Error::BadArgument);
  for (uint64_t off = 0; off < bytes; off += kPageSize) {
    auto pt = leaf_table(va + off, true);
    if (!pt) return tl::unexpected(pt.error());
    p_->store_table_entry(*pt + (((va + off) >> 12) & 511), (phys + off) | kPtePresent | kPteRw);
  }
  return {};
}

void Ppgtt::unmap(uint64_t va, uint64_t bytes) {
  for (uint64_t off = 0; off < bytes; off += kPageSize) {
    auto pt = leaf_table(va + off, false);
    if (pt && *pt) p_->store_table_entry(*pt + (((va + off) >> 12) & 511), 0);
  }
}

}  // namespace drv
