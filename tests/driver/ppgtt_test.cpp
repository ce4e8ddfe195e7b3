// drv::Ppgtt on the real model: the 4-level tables it builds are walked here
// by hand through the platform, and a context's PPGTT is used end to end.
#include <cstring>
#include <initializer_list>
#include <optional>
#include <vector>

#include "driver_fixture.h"

namespace drv::test {
namespace {

using gen8::kPageSize;
using gen8::kPteAddrMask;
using gen8::kPtePresent;
using gen8::kPteRw;

constexpr uint64_t kEntryFlags = kPtePresent | kPteRw;

// Forwards to the host platform and records every page allocation, so a test
// can tell page-table pages (and their pool) from the rest.
class RecordingPlatform final : public Platform {
 public:
  struct Alloc {
    uint64_t phys, count;
    bool page_table;
  };
  explicit RecordingPlatform(Platform& inner) : in_(inner) {}
  uint32_t cfg_read32(uint32_t off) override { return in_.cfg_read32(off); }
  void cfg_write32(uint32_t off, uint32_t v) override { in_.cfg_write32(off, v); }
  uint32_t mmio_read32(uint32_t off) override { return in_.mmio_read32(off); }
  void mmio_write32(uint32_t off, uint32_t v) override { in_.mmio_write32(off, v); }
  void mmio_write64(uint32_t off, uint64_t v) override { in_.mmio_write64(off, v); }
  bool alloc_pages(uint64_t count, bool page_table, Pages* out) override {
    bool ok = in_.alloc_pages(count, page_table, out);
    if (ok) allocs.push_back({out->phys, count, page_table});
    return ok;
  }
  void free_pages(const Pages& p) override {
    frees++;
    in_.free_pages(p);
  }
  void* phys_to_cpu(uint64_t phys) override { return in_.phys_to_cpu(phys); }
  uint8_t* aperture() override { return in_.aperture(); }
  uint64_t now_ns() override { return in_.now_ns(); }
  void wait(const volatile uint32_t* a, uint32_t e, uint64_t d) override { in_.wait(a, e, d); }
  bool take_interrupt() override { return in_.take_interrupt(); }
  uint64_t msi_address() override { return in_.msi_address(); }
  uint32_t msi_data() override { return in_.msi_data(); }
  void log(const char* msg) override { in_.log(msg); }

  bool is_table_page(uint64_t phys) const {
    for (const auto& a : allocs)
      if (a.page_table && a.count == 1 && a.phys == phys) return true;
    return false;
  }

  std::vector<Alloc> allocs;
  int frees = 0;

 private:
  Platform& in_;
};

uint32_t index_at(uint64_t va, int level) { return (va >> (12 + 9 * level)) & 511; }

class PpgttTest : public DriverTest {
 protected:
  const uint64_t* table(uint64_t phys) {
    return static_cast<const uint64_t*>(platform->phys_to_cpu(phys));
  }
  int nonzero_entries(uint64_t table_phys) {
    int n = 0;
    const uint64_t* t = table(table_phys);
    for (int i = 0; i < 512; ++i) n += t[i] != 0;
    return n;
  }
  // The walk the GPU does: the entry at each level, level 3 (PML4) first.
  std::optional<uint64_t> translate(uint64_t root, uint64_t va) {
    uint64_t t = root;
    for (int level = 3; level >= 0; --level) {
      uint64_t e = table(t)[index_at(va, level)];
      if (!(e & kPtePresent)) return std::nullopt;
      t = e & kPteAddrMask;
    }
    return t | (va & (kPageSize - 1));
  }
  // Pages filled with garbage, then freed: the next allocations reuse them,
  // so "zeroed" below means someone zeroed them.
  void dirty_free_pages(uint64_t count) {
    Pages p;
    ASSERT_TRUE(platform->alloc_pages(count, false, &p));
    std::memset(p.cpu, 0xA5, count * kPageSize);
    platform->free_pages(p);
  }
};

TEST_F(PpgttTest, MapBuildsAFourLevelWalk) {
  dirty_free_pages(64);
  RecordingPlatform rec(*platform);
  Ppgtt pt;
  ASSERT_TRUE(pt.init(rec));
  ASSERT_EQ(rec.allocs.size(), 1u);
  EXPECT_TRUE(rec.allocs[0].page_table);
  EXPECT_EQ(pt.root(), rec.allocs[0].phys);
  EXPECT_EQ(nonzero_entries(pt.root()), 0) << "fresh PML4 not zeroed";
  EXPECT_EQ(pt.table_pages(), 0);

  Pages target;
  ASSERT_TRUE(platform->alloc_pages(2, false, &target));
  // Distinct index at every level: PML4 421, PDP 195, PD 496, PT 126 and 127.
  const uint64_t va = (421ull << 39) | (195ull << 30) | (496ull << 21) | (126ull << 12);
  ASSERT_TRUE(pt.map(va, target.phys, 2 * kPageSize));
  EXPECT_EQ(pt.table_pages(), 3);
  ASSERT_EQ(rec.allocs.size(), 4u);
  for (const auto& a : rec.allocs) {
    EXPECT_TRUE(a.page_table) << "table page not from the page-table pool";
    EXPECT_EQ(a.count, 1u);
  }

  uint64_t t = pt.root();
  std::vector<uint64_t> seen = {t};
  for (int level = 3; level >= 1; --level) {
    SCOPED_TRACE(testing::Message() << "level " << level);
    uint64_t e = table(t)[index_at(va, level)];
    EXPECT_EQ(e & ~kPteAddrMask, kEntryFlags) << std::hex << e;  // present|rw, nothing else
    uint64_t next = e & kPteAddrMask;
    EXPECT_TRUE(rec.is_table_page(next)) << std::hex << next;
    for (uint64_t s : seen) EXPECT_NE(next, s) << "table page linked twice";
    // The table holds exactly the one entry on the walk.
    EXPECT_EQ(nonzero_entries(t), 1);
    seen.push_back(next);
    t = next;
  }
  // The leaf table: two entries onto the two target pages, everything else 0.
  const uint64_t* leaf = table(t);
  EXPECT_EQ(leaf[126], target.phys | kEntryFlags);
  EXPECT_EQ(leaf[127], (target.phys + kPageSize) | kEntryFlags);
  EXPECT_EQ(nonzero_entries(t), 2);

  EXPECT_EQ(translate(pt.root(), va + 0x123), target.phys + 0x123);
  EXPECT_EQ(translate(pt.root(), va + kPageSize + 8), target.phys + kPageSize + 8);
  EXPECT_EQ(translate(pt.root(), va + 2 * kPageSize), std::nullopt);
  EXPECT_EQ(translate(pt.root(), va - kPageSize), std::nullopt);

  pt.destroy();
  EXPECT_EQ(rec.frees, 4);
  platform->free_pages(target);
}

TEST_F(PpgttTest, SharedUpperLevelsAreAllocatedOnce) {
  Ppgtt pt;
  ASSERT_TRUE(pt.init(*platform));
  Pages target;
  ASSERT_TRUE(platform->alloc_pages(1, false, &target));
  const uint64_t va = 0x0000'1234'5600'0000ull;
  ASSERT_TRUE(pt.map(va, target.phys, kPageSize));
  EXPECT_EQ(pt.table_pages(), 3);
  // Same leaf table.
  ASSERT_TRUE(pt.map(va + kPageSize, target.phys, kPageSize));
  EXPECT_EQ(pt.table_pages(), 3);
  // Remapping the same page allocates nothing and replaces the entry.
  ASSERT_TRUE(pt.map(va, target.phys, kPageSize));
  EXPECT_EQ(pt.table_pages(), 3);
  // Next 2 MiB: same PML4, PDP and PD entries, a new leaf table.
  ASSERT_TRUE(pt.map(va + (2ull << 20), target.phys, kPageSize));
  EXPECT_EQ(pt.table_pages(), 4);
  // Next 1 GiB: a new PD and leaf table.
  ASSERT_TRUE(pt.map(va + (1ull << 30), target.phys, kPageSize));
  EXPECT_EQ(pt.table_pages(), 6);
  // Next 512 GiB: a new PDP, PD and leaf table.
  ASSERT_TRUE(pt.map(va + (1ull << 39), target.phys, kPageSize));
  EXPECT_EQ(pt.table_pages(), 9);
  EXPECT_EQ(nonzero_entries(pt.root()), 2);
  for (uint64_t v : std::initializer_list<uint64_t>{va, va + kPageSize, va + (2ull << 20), va + (1ull << 30), va + (1ull << 39)})
    EXPECT_EQ(translate(pt.root(), v), target.phys) << std::hex << v;
  pt.destroy();
  platform->free_pages(target);
}

TEST_F(PpgttTest, MappingAcrossTableBoundaries) {
  Ppgtt pt;
  ASSERT_TRUE(pt.init(*platform));
  Pages target;
  ASSERT_TRUE(platform->alloc_pages(4, false, &target));
  // The last two pages of PML4 slot 0 and the first two of slot 1.
  const uint64_t va = (1ull << 39) - 2 * kPageSize;
  ASSERT_TRUE(pt.map(va, target.phys, 4 * kPageSize));
  EXPECT_EQ(pt.table_pages(), 6);
  for (uint64_t i = 0; i < 4; ++i)
    EXPECT_EQ(translate(pt.root(), va + i * kPageSize), target.phys + i * kPageSize) << i;
  EXPECT_EQ(nonzero_entries(pt.root()), 2);
  // The top of the 48-bit space.
  ASSERT_TRUE(pt.map(gen8::kPpgttSize - kPageSize, target.phys, kPageSize));
  EXPECT_EQ(translate(pt.root(), gen8::kPpgttSize - kPageSize), target.phys);
  EXPECT_EQ(table(pt.root())[511] & kEntryFlags, kEntryFlags);
  EXPECT_EQ(pt.table_pages(), 9);
  pt.destroy();
  platform->free_pages(target);
}

TEST_F(PpgttTest, UnmapClearsOnlyTheLeafEntries) {
  RecordingPlatform rec(*platform);
  Ppgtt pt;
  ASSERT_TRUE(pt.init(rec));
  Pages target;
  ASSERT_TRUE(platform->alloc_pages(4, false, &target));
  const uint64_t va = 0x0000'0040'0000'0000ull + 508 * kPageSize;  // 4 pages: PT slots 508..511
  ASSERT_TRUE(pt.map(va, target.phys, 4 * kPageSize));
  const int tables = pt.table_pages();
  pt.unmap(va + kPageSize, 2 * kPageSize);
  EXPECT_EQ(translate(pt.root(), va), target.phys);
  EXPECT_EQ(translate(pt.root(), va + kPageSize), std::nullopt);
  EXPECT_EQ(translate(pt.root(), va + 2 * kPageSize), std::nullopt);
  EXPECT_EQ(translate(pt.root(), va + 3 * kPageSize), target.phys + 3 * kPageSize);
  // The leaf entries are cleared to 0; the upper levels stay.
  uint64_t t = pt.root();
  for (int level = 3; level >= 1; --level) {
    uint64_t e = table(t)[index_at(va, level)];
    ASSERT_EQ(e & kEntryFlags, kEntryFlags);
    t = e & kPteAddrMask;
  }
  EXPECT_EQ(table(t)[509], 0u);
  EXPECT_EQ(table(t)[510], 0u);
  EXPECT_EQ(nonzero_entries(t), 2);
  EXPECT_EQ(pt.table_pages(), tables);
  // Unmapping where nothing was ever mapped builds no tables.
  const size_t allocs = rec.allocs.size();
  pt.unmap(0x0000'7000'0000'0000ull, 16 * kPageSize);
  EXPECT_EQ(pt.table_pages(), tables);
  EXPECT_EQ(rec.allocs.size(), allocs);
  EXPECT_EQ(nonzero_entries(pt.root()), 1);
  // And a remap after unmap works.
  ASSERT_TRUE(pt.map(va + kPageSize, target.phys + kPageSize, kPageSize));
  EXPECT_EQ(translate(pt.root(), va + kPageSize), target.phys + kPageSize);
  EXPECT_EQ(pt.table_pages(), tables);
  pt.destroy();
  platform->free_pages(target);
}

TEST_F(PpgttTest, MisalignedInputIsBadArgument) {
  Ppgtt pt;
  ASSERT_TRUE(pt.init(*platform));
  const uint64_t va = 0x0000'0001'0000'0000ull, pa = 0x100000;
  struct Case {
    uint64_t va, phys, bytes;
  };
  for (const Case& c : {Case{va + 4, pa, kPageSize}, Case{va + 0x800, pa, kPageSize},
                        Case{va, pa + 8, kPageSize}, Case{va, pa, kPageSize + 4},
                        Case{va, pa, 100}, Case{va + 1, pa + 1, 1}}) {
    auto r = pt.map(c.va, c.phys, c.bytes);
    ASSERT_FALSE(r) << std::hex << c.va << " " << c.phys << " " << c.bytes;
    EXPECT_EQ(r.error(), Error::BadArgument);
  }
  EXPECT_EQ(pt.table_pages(), 0);
  EXPECT_EQ(nonzero_entries(pt.root()), 0);
  pt.destroy();
}

TEST_F(PpgttTest, RangeBeyond48BitsIsBadArgument) {
  Ppgtt pt;
  ASSERT_TRUE(pt.init(*platform));
  const uint64_t top = gen8::kPpgttSize;
  struct Case {
    uint64_t va, bytes;
  };
  for (const Case& c : {Case{top, kPageSize}, Case{top - kPageSize, 2 * kPageSize},
                        Case{1ull << 52, kPageSize},
                        // va + bytes wraps past 2^64 back to 0.
                        Case{~0ull & ~(kPageSize - 1), kPageSize},
                        Case{~0ull & ~(kPageSize - 1), 2 * kPageSize}}) {
    auto r = pt.map(c.va, 0x100000, c.bytes);
    EXPECT_FALSE(r) << std::hex << "va 0x" << c.va << " bytes 0x" << c.bytes << " was mapped";
    if (!r) {
      EXPECT_EQ(r.error(), Error::BadArgument);
    }
  }
  EXPECT_EQ(pt.table_pages(), 0);
  EXPECT_EQ(nonzero_entries(pt.root()), 0);
  pt.destroy();
}

TEST_F(PpgttTest, DestroyReturnsEveryPage) {
  const uint64_t before = platform->pages_in_use();
  {
    Ppgtt pt;
    ASSERT_TRUE(pt.init(*platform));
    for (uint64_t i = 0; i < 8; ++i) ASSERT_TRUE(pt.map((i << 39) | (i << 30), 0x100000, kPageSize));
    EXPECT_EQ(pt.table_pages(), 24);
    EXPECT_EQ(platform->pages_in_use(), before + 25);
    pt.destroy();
  }
  EXPECT_EQ(platform->pages_in_use(), before);
}

// A context's PPGTT, end to end: a Bo outside the GGTT is bound above 4 GiB
// and an unprivileged batch writes it with MI_STORE_DATA_IMM.
TEST_F(PpgttTest, BatchWritesANonGgttBoAbove4GiB) {
  for (int e = 0; e < gen8::kNumEngines; ++e) {
    SCOPED_TRACE(testing::Message() << "engine " << e);
    Context ctx;
    ASSERT_TRUE(ctx.init(dev, e));
    auto dst = dev.create_bo(2 * kPageSize, 0);
    auto other = dev.create_bo(kPageSize, 0);
    auto shared = dev.create_bo(kPageSize, kBoGgtt);
    ASSERT_TRUE(dst && other && shared);
    EXPECT_EQ(dst->gm, 0u);
    auto va = ctx.bind(*dst);
    auto va2 = ctx.bind(*other);
    auto va3 = ctx.bind(*shared);
    ASSERT_TRUE(va && va2 && va3);
    EXPECT_GE(*va, gen8::kGmSize);
    EXPECT_GE(*va2, gen8::kGmSize);
    EXPECT_TRUE(*va2 >= *va + dst->size || *va >= *va2 + other->size) << "bindings overlap";
    EXPECT_LT(*va + dst->size, gen8::kPpgttSize);
    EXPECT_EQ(*va3, shared->gm) << "a GGTT Bo keeps its GGTT address in the PPGTT";
    // The context's tables say what the GPU will see.
    EXPECT_EQ(translate(ctx.ppgtt().root(), *va), dst->pages.phys);
    EXPECT_EQ(translate(ctx.ppgtt().root(), *va + kPageSize + 0x10), dst->pages.phys + kPageSize + 0x10);

    Batch b;
    ASSERT_TRUE(b.init(ctx, 4096));
    ASSERT_TRUE(b.begin());
    b.cmds().store_dword(*va, 0xC0DE0000u + e, false);
    b.cmds().store_dword(*va + kPageSize + 0x10, 0xBEEF0000u + e, false);
    b.cmds().store_qword(*va2 + 0x40, 0x1122334455667788ull, false);
    b.cmds().store_dword(*va3 + 0x20, 0x5A5A0000u + e, false);
    auto s = b.submit();
    ASSERT_TRUE(s) << error_name(s.error());
    auto w = ctx.wait(*s, 5'000'000'000ull);
    ASSERT_TRUE(w) << error_name(w.error());
    EXPECT_EQ(dst->dwords()[0], 0xC0DE0000u + e);
    EXPECT_EQ(dst->dwords()[(kPageSize + 0x10) / 4], 0xBEEF0000u + e);
    EXPECT_EQ(other->dwords()[0x40 / 4], 0x55667788u);
    EXPECT_EQ(other->dwords()[0x44 / 4], 0x11223344u);
    EXPECT_EQ(shared->dwords()[0x20 / 4], 0x5A5A0000u + e);
    // Nothing else in the buffers was written.
    int written = 0;
    for (uint64_t i = 0; i < dst->size / 4; ++i) written += dst->dwords()[i] != 0;
    EXPECT_EQ(written, 2);
    EXPECT_EQ(gpu->last_fault(e).code, gen8::Fault::None);
    EXPECT_FALSE(dev.engine_faulted(e));

    b.fini();
    ctx.unbind(*dst, *va);
    ctx.unbind(*other, *va2);
    ctx.unbind(*shared, *va3);
    EXPECT_EQ(translate(ctx.ppgtt().root(), *va), std::nullopt);
    ctx.fini();
    dev.destroy_bo(*dst);
    dev.destroy_bo(*other);
    dev.destroy_bo(*shared);
  }
}

// After unbind the address no longer translates for the GPU either.
TEST_F(PpgttTest, BatchWritingAnUnboundAddressPageFaults) {
  Context ctx;
  ASSERT_TRUE(ctx.init(dev, 1));
  // The batch is bound first: unbind frees the address, and the next bind
  // would reuse it.
  Batch b;
  ASSERT_TRUE(b.init(ctx, 4096));
  auto dst = dev.create_bo(kPageSize, 0);
  ASSERT_TRUE(dst);
  auto va = ctx.bind(*dst);
  ASSERT_TRUE(va);
  ctx.unbind(*dst, *va);
  ASSERT_TRUE(b.begin());
  b.cmds().store_dword(*va, 0xDEAD, false);
  auto s = b.submit();
  ASSERT_TRUE(s);
  auto w = ctx.wait(*s, 5'000'000'000ull);
  ASSERT_FALSE(w);
  EXPECT_EQ(w.error(), Error::GpuFault);
  EXPECT_EQ(gpu->last_fault(1).code, gen8::Fault::PageFault);
  EXPECT_EQ(dst->dwords()[0], 0u);
  b.fini();
  ctx.fini();
  dev.destroy_bo(*dst);
}

}  // namespace
}  // namespace drv::test
