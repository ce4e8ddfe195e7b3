// BAR0 decode from the register table, the GGTT, the aperture, and the
// second-stage domains.
#include <fmt/format.h>

#include "gpu_fixture.h"

namespace hw::test {
namespace {

using namespace gen8;

class GpuMmio : public ::testing::Test {
 protected:
  void SetUp() override {
    auto g = Gpu::create(GpuConfig{256ull << 20, false});
    ASSERT_TRUE(g) << g.error();
    gpu = std::move(*g);
  }
  uint32_t rd(uint32_t off) { return static_cast<uint32_t>(gpu->mmio_read(off, 4)); }
  std::unique_ptr<Gpu> gpu;
};

// Generated from the table: every register decodes (never the unknown path)
// and a power-on read returns its reset value.
TEST_F(GpuMmio, EveryRegisterReadsItsPowerOnValue) {
  for (const RegDesc& r : kRegs) {
    for (uint32_t dw = 0; dw < r.width / 4u; ++dw) {
      SCOPED_TRACE(fmt::format("{} at 0x{:x}", r.name, r.offset + 4 * dw));
      uint32_t v = rd(r.offset + 4 * dw);
      if (r.flags & kWriteOnly) {
        EXPECT_EQ(v, 0u);
      } else if (!(r.flags & (kLive | kSide)) || r.scope == Scope::Pipe) {
        EXPECT_EQ(v, r.reset);
      }
    }
  }
  EXPECT_EQ(gpu->mmio_stats().unknown_reads, 0u);
}

// Generated from the table: registers with a plain policy store exactly what
// the policy allows (read-only bits, write-1-to-clear, masked writes).
TEST_F(GpuMmio, EveryPlainRegisterAppliesItsWritePolicy) {
  int checked = 0;
  for (const RegDesc& r : kRegs) {
    if (r.flags & (kLive | kSide | kWriteOnly)) continue;
    for (uint32_t pattern : {0xFFFFFFFFu, 0x5A5AA5A5u, 0u}) {
      SCOPED_TRACE(fmt::format("{} at 0x{:x} <- 0x{:x}", r.name, r.offset, pattern));
      uint32_t old = rd(r.offset);
      gpu->mmio_write(r.offset, 4, pattern);
      EXPECT_EQ(rd(r.offset), apply_write(r, old, pattern));
    }
    ++checked;
  }
  EXPECT_GT(checked, 40);
  EXPECT_EQ(gpu->mmio_stats().unknown_writes, 0u);
}

TEST_F(GpuMmio, OffsetsAbsentFromTheTableTakeTheUnknownPath) {
  for (uint32_t off : {0x4u, 0x1FFFFCu, kRcsBase + 0x7FCu, 0x44210u, 0x101000u}) {
    ASSERT_LT(find_reg(off), 0);
    gpu->mmio_write(off, 4, 0x12345678);
    EXPECT_EQ(rd(off), 0u);
  }
  auto s = gpu->mmio_stats();
  EXPECT_EQ(s.unknown_reads, 5u);
  EXPECT_EQ(s.unknown_writes, 5u);
}

TEST_F(GpuMmio, BadSizesAndAlignmentAreRefused) {
  gpu->mmio_write(reg::DSPSTRIDE + 2, 4, 1);
  gpu->mmio_write(reg::DSPSTRIDE, 2, 1);
  gpu->mmio_write(kBar0Size, 4, 1);
  EXPECT_EQ(gpu->mmio_read(reg::DSPSTRIDE, 1), 0u);
  EXPECT_EQ(gpu->mmio_stats().refused, 4u);
  EXPECT_EQ(rd(reg::DSPSTRIDE), 0u);
}

TEST_F(GpuMmio, MaskedWriteChangesOnlyEnabledBits) {
  uint32_t mi_mode = kRcsBase + reg::RING_MI_MODE;
  gpu->mmio_write(mi_mode, 4, 0x00030003);
  EXPECT_EQ(rd(mi_mode), 3u);
  gpu->mmio_write(mi_mode, 4, 0x00010000);  // clear bit 0 only
  EXPECT_EQ(rd(mi_mode), 2u);
  gpu->mmio_write(mi_mode, 4, 0x0000FFFF);  // no enable bits: no change
  EXPECT_EQ(rd(mi_mode), 2u);
}

TEST_F(GpuMmio, GgttEntriesAndHalfWrites) {
  uint64_t off = kGgttOffset + 0x1234 * 8;
  gpu->mmio_write(off, 8, 0x0000000012345001ull);
  EXPECT_EQ(gpu->mmio_read(off, 8), 0x0000000012345001ull);
  gpu->mmio_write(off + 4, 4, 0x1);
  EXPECT_EQ(gpu->mmio_read(off, 8), 0x0000000112345001ull);
  EXPECT_EQ(gpu->mmio_read(off + 4, 4), 1u);
  auto s = gpu->mmio_stats();
  EXPECT_EQ(s.ggtt_writes, 2u);
  EXPECT_EQ(s.ggtt_reads, 3u);
}

TEST_F(GpuMmio, ApertureFollowsTheGgttWithNoTrap) {
  auto hpa = gpu->memory().alloc_pages(2);
  ASSERT_TRUE(hpa);
  uint8_t* host = gpu->memory().base() + *hpa;
  host[0] = 0x11;
  host[4096] = 0x22;
  uint64_t index = 77;
  gpu->mmio_write(kGgttOffset + index * 8, 8, *hpa | kPtePresent);
  uint8_t* ap = gpu->aperture() + index * kPageSize;
  EXPECT_EQ(ap[0], 0x11);
  ap[1] = 0x33;  // CPU writes through the aperture reach the page
  EXPECT_EQ(host[1], 0x33);
  gpu->mmio_write(kGgttOffset + index * 8, 8, (*hpa + 4096) | kPtePresent);
  EXPECT_EQ(ap[0], 0x22);
  gpu->mmio_write(kGgttOffset + index * 8, 8, 0);
  EXPECT_EQ(ap[0], 0);
  EXPECT_EQ(gpu->mmio_stats().reads, 0u);  // aperture accesses are not MMIO
}

TEST_F(GpuMmio, ContiguousAperturePagesCoalesce) {
  auto hpa = gpu->memory().alloc_pages(1024);
  ASSERT_TRUE(hpa);
  size_t before = gpu->aperture_window().vma_count();
  for (uint64_t i = 0; i < 1024; ++i)
    gpu->mmio_write(kGgttOffset + (4096 + i) * 8, 8, (*hpa + i * kPageSize) | kPtePresent);
  EXPECT_LE(gpu->aperture_window().vma_count(), before + 3);
}

TEST_F(GpuMmio, DeviceDomainTranslatesGgttDmaAndRefusesTheRest) {
  auto ram = gpu->memory().alloc_pages(16);
  ASSERT_TRUE(ram);
  auto dom = std::make_shared<Domain>(16 * kPageSize);  // GPA [0, 64 KiB) -> ram
  ASSERT_TRUE(dom->map(0, *ram, 16 * kPageSize));
  uint32_t id = gpu->add_domain(dom);
  gpu->mmio_write(kGgttOffset + 0x3000 * 8, 8, 0x2000 | kPtePresent);
  auto native = gpu->ggtt_translate(0x3000 * kPageSize + 8);
  ASSERT_TRUE(native);
  EXPECT_EQ(*native, 0x2000u + 8);  // no domain: the entry holds an HPA
  gpu->set_device_domain(id);
  auto t = gpu->ggtt_translate(0x3000 * kPageSize + 8);
  ASSERT_TRUE(t);
  EXPECT_EQ(*t, *ram + 0x2000 + 8);
  gpu->mmio_write(kGgttOffset + 0x3001 * 8, 8, 0x100000 | kPtePresent);  // beyond the domain
  auto r = gpu->ggtt_translate(0x3001 * kPageSize);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), Fault::DmaRefused);
  // The aperture window follows the domain too.
  reinterpret_cast<uint32_t*>(gpu->memory().base() + *ram + 0x2000)[0] = 0xFEED;
  EXPECT_EQ(reinterpret_cast<uint32_t*>(gpu->aperture() + 0x3000 * kPageSize)[0], 0xFEEDu);
  gpu->set_device_domain(0);
}

TEST_F(GpuMmio, PpgttWalkThroughAContextDomain) {
  Harness h(*gpu);
  // Guest "RAM": 64 pages; the PPGTT tables and the data live in it and hold GPAs.
  auto ram = gpu->memory().alloc_pages(64);
  ASSERT_TRUE(ram);
  auto dom = std::make_shared<Domain>(64 * kPageSize);
  ASSERT_TRUE(dom->map(0, *ram, 64 * kPageSize));
  uint32_t id = gpu->add_domain(dom);
  auto* g = reinterpret_cast<uint64_t*>(gpu->memory().base() + *ram);
  auto page = [&](uint64_t gpa) { return g + gpa / 8; };
  const uint64_t pml4 = 0x1000, pdp = 0x2000, pd = 0x3000, pt = 0x4000, data = 0x9000;
  const uint64_t va = 0x40000000;
  page(pml4)[(va >> 39) & 511] = pdp | kPtePresent | kPteRw;
  page(pdp)[(va >> 30) & 511] = pd | kPtePresent | kPteRw;
  page(pd)[(va >> 21) & 511] = pt | kPtePresent | kPteRw;
  page(pt)[(va >> 12) & 511] = data | kPtePresent | kPteRw;
  page(pt)[((va >> 12) & 511) + 1] = (64 * kPageSize) | kPtePresent | kPteRw;  // beyond the RAM

  auto ctx = h.make_context(1);
  ctx.regs()[ctx::PDP0_UDW] = 0;
  ctx.regs()[ctx::PDP0_LDW] = static_cast<uint32_t>(pml4);
  ctx.regs()[ctx::SECOND_STAGE] = id;
  auto batch = h.alloc_ggtt(4096);
  Cmds b;
  b->store_dword(va + 12, 0xD00D, false);
  b->bb_end();
  std::memcpy(batch.cpu, b.buf.data(), b.w.bytes());
  Cmds r;
  r->bb_start(batch.gm, false);
  h.run(ctx, r.span());
  ASSERT_TRUE(h.wait_idle(1));
  EXPECT_EQ(reinterpret_cast<uint32_t*>(gpu->memory().base() + *ram + data)[3], 0xD00Du);

  // A leaf outside the domain is a refused DMA.
  Cmds b2;
  b2->store_dword(va + kPageSize, 1, false);
  b2->bb_end();
  std::memcpy(batch.cpu, b2.buf.data(), b2.w.bytes());
  h.run(ctx, r.span());
  ASSERT_TRUE(h.wait_fault(1));
  EXPECT_EQ(gpu->last_fault(1).code, Fault::DmaRefused);
}

TEST_F(GpuMmio, LargePagesAreRefused) {
  Harness h(*gpu);
  auto ctx = h.make_context(1);
  auto* pml4 = reinterpret_cast<uint64_t*>(gpu->memory().base() + h.pml4());
  auto pdp = gpu->memory().alloc_pages(1);
  ASSERT_TRUE(pdp);
  pml4[1] = *pdp | kPtePresent;
  reinterpret_cast<uint64_t*>(gpu->memory().base() + *pdp)[0] = 0x40000000 | kPtePresent | kPtePs;
  Cmds c;
  auto batch = h.alloc_ggtt(4096);
  Cmds b;
  b->store_dword(uint64_t{1} << 39, 1, false);
  b->bb_end();
  std::memcpy(batch.cpu, b.buf.data(), b.w.bytes());
  c->bb_start(batch.gm, false);
  h.run(ctx, c.span());
  ASSERT_TRUE(h.wait_fault(1));
  EXPECT_EQ(gpu->last_fault(1).code, Fault::LargePage);
}

TEST_F(GpuMmio, PciConfigIdentity) {
  EXPECT_EQ(gpu->cfg_read(pci::VENDOR, 2), pci::kVendorIntel);
  EXPECT_EQ(gpu->cfg_read(pci::DEVICE, 2), pci::kDeviceBdwGt2);
  gpu->cfg_write(pci::BAR2, 4, 0xFFFFFFFF);
  EXPECT_EQ(gpu->cfg_read(pci::BAR2, 4) & ~0xFu, static_cast<uint32_t>(~(kApertureSize - 1)));
}

}  // namespace
}  // namespace hw::test
