// The emulated PV info page, read by the real driver's PV code.
#include "gvt/pvinfo.h"

#include <gtest/gtest.h>

#include "support/null_platform.h"

#include "common/gen8/layout.h"
#include "driver/gm_alloc.h"
#include "driver/pv.h"

#include <utility>
#include <vector>

namespace gvt {
namespace {

namespace pvi = gen8::pvinfo;

// The driver's platform with MMIO routed to the emulated page.
class PageOnly final : public test_support::NullPlatform {
 public:
  explicit PageOnly(PvInfoPage& p) : page(p) {}
  PvInfoPage& page;
  uint32_t mmio_read32(uint32_t off) override { return PvInfoPage::owns(off) ? page.read(off) : 0; }
  void mmio_write32(uint32_t off, uint32_t v) override {
    if (PvInfoPage::owns(off)) page.write(off, v);
  }
};

TEST(PvInfoPage, TheDriverBalloonsToExactlyItsSlice) {
  GmPartition part;
  auto slice = part.allocate(default_type());
  ASSERT_TRUE(slice);
  PvInfoPage page(1, *slice);
  PageOnly plat(page);
  drv::PvInfo info = drv::pv_detect(plat);
  ASSERT_TRUE(info.present);
  EXPECT_TRUE(page.guest_aware());
  EXPECT_EQ(info.vgt_id, 1u);
  EXPECT_EQ(info.fences, slice->fences);
  drv::GmAllocator gm;
  gm.init(gen8::kPageSize, gen8::kGmSize);
  ASSERT_TRUE(drv::pv_balloon(info, gm));
  EXPECT_EQ(gm.free_bytes(), slice->low_size + slice->high_size);
  auto a = gm.alloc(gen8::kPageSize, gen8::kPageSize, 0, gen8::kApertureSize);
  ASSERT_TRUE(a);
  EXPECT_EQ(*a, slice->low_base);
}

TEST(PvInfoPage, UpstreamLayoutAndGuestFields) {
  GmSlice s{64 << 20, 64 << 20, 1ull << 30, 384 << 20, 4, 4};
  PvInfoPage page(3, s);
  EXPECT_EQ(page.read(pvi::MAGIC), 0x76544776u);  // the low half of 0x4776544776544776
  EXPECT_EQ(page.read(pvi::VERSION_MAJOR) & 0xFFFF, 1u);
  EXPECT_TRUE(page.read(pvi::VGT_CAPS) & pvi::kCapFullPpgtt);
  EXPECT_EQ(page.read(pvi::CURSOR_X_HOT), ~0u);
  page.write(pvi::DISPLAY_READY, 1);
  page.write(pvi::PDP0_LO, 0x1000);
  page.write(pvi::PDP0_LO + 4, 0x2);
  page.write(pvi::G2V_NOTIFY, pvi::kG2vPpgttL4Create);
  EXPECT_TRUE(page.display_ready());
  EXPECT_EQ(page.pdp(0), 0x200001000ull);
  EXPECT_EQ(page.last_g2v(), uint32_t{pvi::kG2vPpgttL4Create});
  page.write(pvi::MAGIC, 0);  // read-only: dropped
  EXPECT_EQ(page.dropped_writes(), 1u);
  EXPECT_EQ(page.read(pvi::MAGIC), 0x76544776u);
  page.reset();
  EXPECT_FALSE(page.display_ready());
  EXPECT_EQ(page.pdp(0), 0u);
}

TEST(PvInfoPage, TheDriversPpgttNotificationsReachTheCallback) {
  GmSlice s{64 << 20, 64 << 20, 1ull << 30, 384 << 20, 4, 4};
  PvInfoPage page(2, s);
  PageOnly plat(page);
  std::vector<std::pair<bool, uint64_t>> seen;
  page.set_ppgtt_notify([&](bool create, uint64_t pml4) { seen.emplace_back(create, pml4); });
  const drv::PvInfo info = drv::pv_detect(plat);
  drv::pv_notify_ppgtt(plat, info, 0x3'0000'7000, true);
  drv::pv_notify_ppgtt(plat, info, 0x8000, false);
  using N = std::pair<bool, uint64_t>;
  EXPECT_EQ(seen, (std::vector<N>{{true, 0x3'0000'7000}, {false, 0x8000}}));
  EXPECT_EQ(page.ppgtt_creates(), 1u);
  EXPECT_EQ(page.ppgtt_destroys(), 1u);
  EXPECT_EQ(page.last_g2v(), uint32_t{pvi::kG2vPpgttL4Destroy});
  // 3-level PPGTTs, execlist contexts and unknown values are recorded, not acted on.
  for (uint32_t v : {uint32_t{pvi::kG2vPpgttL3Create}, uint32_t{pvi::kG2vExeclistCtxCreate}, 99u})
    page.write(pvi::G2V_NOTIFY, v);
  EXPECT_EQ(seen.size(), 2u);
  EXPECT_EQ(page.ignored_notifications(), 3u);
  EXPECT_EQ(page.last_g2v(), 99u);
}

}  // namespace
}  // namespace gvt
