// Address-space ballooning, with a platform that presents a PV info page.
#include <gtest/gtest.h>

#include "support/null_platform.h"

#include <map>
#include <utility>
#include <vector>

#include "common/gen8/layout.h"
#include "common/gen8/pvinfo.h"
#include "driver/gm_alloc.h"
#include "driver/pv.h"

namespace drv {
namespace {

namespace pvi = gen8::pvinfo;

// pv_detect reads MMIO; the notifications write it, in order.
class PvPlatform final : public test_support::NullPlatform {
 public:
  std::map<uint32_t, uint32_t> regs;
  std::vector<std::pair<uint32_t, uint32_t>> writes;
  uint32_t mmio_read32(uint32_t off) override { return regs.count(off) ? regs[off] : 0; }
  void mmio_write32(uint32_t off, uint32_t v) override { writes.emplace_back(off, v); }

  void present(uint64_t map_base, uint64_t map_size, uint64_t hid_base, uint64_t hid_size) {
    regs[pvi::MAGIC] = static_cast<uint32_t>(pvi::kMagic);
    regs[pvi::MAGIC + 4] = static_cast<uint32_t>(pvi::kMagic >> 32);
    regs[pvi::VERSION_MAJOR] = 1;
    regs[pvi::VGT_ID] = 3;
    regs[pvi::VGT_CAPS] = pvi::kCapFullPpgtt | pvi::kCapHwspEmulation;
    regs[pvi::MAPPABLE_BASE] = static_cast<uint32_t>(map_base);
    regs[pvi::MAPPABLE_SIZE] = static_cast<uint32_t>(map_size);
    regs[pvi::NONMAPPABLE_BASE] = static_cast<uint32_t>(hid_base);
    regs[pvi::NONMAPPABLE_SIZE] = static_cast<uint32_t>(hid_size);
    regs[pvi::FENCE_NUM] = 4;
  }
};

constexpr uint64_t kMiB = 1ull << 20;

TEST(PvInfo, AbsentOnBareHardware) {
  PvPlatform p;
  PvInfo info = pv_detect(p);
  EXPECT_FALSE(info.present);
  GmAllocator gm;
  gm.init(gen8::kPageSize, gen8::kGmSize);
  uint64_t before = gm.free_bytes();
  EXPECT_TRUE(pv_balloon(info, gm));
  EXPECT_EQ(gm.free_bytes(), before);
}

TEST(PvInfo, BalloonLeavesExactlyTheVgpusRanges) {
  PvPlatform p;
  p.present(128 * kMiB, 64 * kMiB, 1024 * kMiB, 384 * kMiB);
  PvInfo info = pv_detect(p);
  ASSERT_TRUE(info.present);
  EXPECT_EQ(info.vgt_id, 3u);
  EXPECT_EQ(info.fences, 4u);
  GmAllocator gm;
  gm.init(gen8::kPageSize, gen8::kGmSize);
  ASSERT_TRUE(pv_balloon(info, gm));
  EXPECT_EQ(gm.free_bytes(), (64 + 384) * kMiB);
  // Mappable allocations land in the vGPU's aperture slice, others in its hidden slice.
  auto low = gm.alloc(64 * kMiB, gen8::kPageSize, 0, gen8::kApertureSize);
  ASSERT_TRUE(low);
  EXPECT_EQ(*low, 128 * kMiB);
  auto high = gm.alloc(gen8::kPageSize, gen8::kPageSize, gen8::kApertureSize, gen8::kGmSize);
  ASSERT_TRUE(high);
  EXPECT_EQ(*high, 1024 * kMiB);
  EXPECT_FALSE(gm.alloc(gen8::kPageSize, gen8::kPageSize, 0, gen8::kApertureSize));
}

TEST(PvInfo, RangesThatDoNotFitTheGpuAreRefused) {
  struct Bad {
    uint64_t mb, ms, hb, hs;
  } cases[] = {{0, 0, 1024 * kMiB, kMiB},                        // empty mappable range
               {500 * kMiB, 64 * kMiB, 1024 * kMiB, kMiB},       // past the aperture
               {0, 64 * kMiB, 256 * kMiB, kMiB},                 // hidden range in the aperture
               {0, 64 * kMiB, 4000 * kMiB, 200 * kMiB},          // past 4 GiB
               {4096 + 1, 64 * kMiB, 1024 * kMiB, kMiB}};        // not page aligned
  for (const auto& c : cases) {
    PvPlatform p;
    p.present(c.mb, c.ms, c.hb, c.hs);
    GmAllocator gm;
    gm.init(gen8::kPageSize, gen8::kGmSize);
    EXPECT_FALSE(pv_balloon(pv_detect(p), gm)) << c.mb << " " << c.ms << " " << c.hb << " " << c.hs;
  }
}

TEST(PvInfo, PpgttCreateAndDestroyAreAnnouncedInUpstreamOrder) {
  PvPlatform p;
  p.present(128 * kMiB, 64 * kMiB, 1024 * kMiB, 384 * kMiB);
  const PvInfo info = pv_detect(p);
  const uint64_t pml4 = 0x1'2345'6000;
  pv_notify_ppgtt(p, info, pml4, true);
  pv_notify_ppgtt(p, info, pml4, false);
  using W = std::pair<uint32_t, uint32_t>;
  EXPECT_EQ(p.writes, (std::vector<W>{{pvi::pdp_lo(0), 0x23456000},
                                      {pvi::pdp_hi(0), 0x1},
                                      {pvi::G2V_NOTIFY, pvi::kG2vPpgttL4Create},
                                      {pvi::pdp_lo(0), 0x23456000},
                                      {pvi::pdp_hi(0), 0x1},
                                      {pvi::G2V_NOTIFY, pvi::kG2vPpgttL4Destroy}}));
  EXPECT_EQ(pvi::G2V_NOTIFY, 0x78818u);
  EXPECT_EQ(pvi::pdp_lo(0), 0x78838u);
  EXPECT_EQ(pvi::pdp_hi(3), 0x78854u);
}

TEST(PvInfo, NoPpgttNotificationWithoutThePageOrTheCapability) {
  PvPlatform bare;
  pv_notify_ppgtt(bare, pv_detect(bare), 0x5000, true);
  EXPECT_TRUE(bare.writes.empty());
  PvPlatform old_host;
  old_host.present(128 * kMiB, 64 * kMiB, 1024 * kMiB, 384 * kMiB);
  old_host.regs[pvi::VGT_CAPS] = pvi::kCapHwspEmulation;
  pv_notify_ppgtt(old_host, pv_detect(old_host), 0x5000, true);
  EXPECT_TRUE(old_host.writes.empty());
}

}  // namespace
}  // namespace drv
