// The `selftest` workload on the model: its screen is selftest_draw's, it
// never submits, each failed check names itself, and behind a PV info page
// its refusal probes run.
#include <set>
#include <vector>

#include "common/frame_hash.h"
#include "common/gen8/pvinfo.h"
#include "driver_fixture.h"
#include "workloads/selftest.h"
#include "workloads/workload.h"

namespace drv::test {
namespace {

using namespace gen8;
namespace pvi = gen8::pvinfo;

constexpr uint32_t kPixels = wl::Frame2d::kWidth * wl::Frame2d::kHeight;

uint64_t draw_hash(uint32_t id, uint32_t frame) {
  std::vector<uint32_t> px(kPixels);
  wl::selftest_draw(px.data(), id, frame);
  return common::frame_hash(px.data(), px.size() * 4);
}

TEST(SelftestDraw, DiffersPerVgpuIdAndFrame) {
  std::set<uint64_t> hashes;
  for (uint32_t id = 0; id <= 4; ++id) hashes.insert(draw_hash(id, 0));
  EXPECT_EQ(hashes.size(), 5u);
  EXPECT_NE(draw_hash(1, 0), draw_hash(1, 1));
  EXPECT_NE(draw_hash(1, 0), draw_hash(9, 0));  // same colour, other digit
  EXPECT_EQ(draw_hash(2, 7), draw_hash(2, 7));
  EXPECT_NE(draw_hash(4'000'000'000u, 0), draw_hash(4'000'000'001u, 0));  // ten digits fit
}

class SelftestRun : public DriverTest {
 protected:
  // Also hashes what pipe A shows once the last frame is on screen.
  wl::Result run(uint32_t frames, bool async = true) {
    wl::Params p;
    p.frames = frames;
    p.async_flips = async;
    p.user = this;
    p.on_done = [](void* u) {
      auto* t = static_cast<SelftestRun*>(u);
      auto f = t->gpu->scanout(0);
      t->shown = f ? common::frame_hash(f->pixels.data(), f->pixels.size() * 4) : 0;
    };
    return wl::run(dev, "selftest", p, nullptr);
  }
  uint64_t shown = 0;
};

TEST_F(SelftestRun, ShowsItsDrawingWithoutSubmitting) {
  for (bool async : {true, false}) {
    VblankPump pump(*gpu);
    const uint64_t vblanks = dev.stats().vblanks;
    wl::Result r = run(5, async);
    ASSERT_TRUE(r.ok) << r.error;
    EXPECT_EQ(r.frames, 5u);
    EXPECT_EQ(r.guest_checksum, draw_hash(0, 4));
    EXPECT_EQ(dev.stats().submissions, 0u);
    EXPECT_GE(dev.stats().vblanks - vblanks, 3u);
    EXPECT_EQ(shown, draw_hash(0, 4));
  }
}

TEST_F(SelftestRun, NoVblankIsNamed) {
  wl::Result r = run(1);  // no vblank pump: the model raises none
  EXPECT_FALSE(r.ok);
  EXPECT_STREQ(r.error, "no vblank interrupts");
  // The reason goes with its run: a later failure of another kind says its own.
  r = wl::run(dev, "nope", wl::Params{}, nullptr);
  EXPECT_STREQ(r.error, "unknown workload");
}

// The model behind a stand-in for the mediator's BAR0: a PV info page, GGTT
// entries outside the vGPU's ranges dropped (reading as 0) and entries naming
// frames beyond its "RAM" unmapped, each counted; DSPSURF outside the ranges
// counted and dropped. The aperture is the model's, unmediated.
class PvModelPlatform final : public Platform {
 public:
  static constexpr uint64_t kMapBase = 64ull << 20, kMapSize = 64ull << 20;
  static constexpr uint64_t kHidBase = 1ull << 30, kHidSize = 384ull << 20;
  static constexpr uint64_t kRam = 512ull << 20;  // the fixture's host memory

  PvModelPlatform(Platform& hw, bool refuse_ggtt) : hw_(hw), refuse_ggtt_(refuse_ggtt) {}
  uint64_t refused_ggtt = 0, refused_frame = 0, refused_surface = 0;

  uint32_t mmio_read32(uint32_t off) override {
    if (off >= pvi::kBase && off < pvi::kBase + pvi::kSize) return pv_read(off);
    if (foreign_pte(off)) return 0;
    return hw_.mmio_read32(off);
  }
  void mmio_write32(uint32_t off, uint32_t v) override {
    if (off == reg::DSPSURF && !owns(v & ~0xFFFu)) {
      refused_surface++;
      return;
    }
    hw_.mmio_write32(off, v);
  }
  void mmio_write64(uint32_t off, uint64_t v) override {
    if (foreign_pte(off)) {
      refused_ggtt++;
      return;
    }
    if (off >= kGgttOffset && (v & kPtePresent) && (v & kPteAddrMask) >= kRam) {
      refused_frame++;
      v = 0;
    }
    hw_.mmio_write64(off, v);
  }

  uint32_t cfg_read32(uint32_t off) override { return hw_.cfg_read32(off); }
  void cfg_write32(uint32_t off, uint32_t v) override { hw_.cfg_write32(off, v); }
  bool alloc_pages(uint64_t n, bool pt, Pages* out) override { return hw_.alloc_pages(n, pt, out); }
  void free_pages(const Pages& p) override { hw_.free_pages(p); }
  void* phys_to_cpu(uint64_t phys) override { return hw_.phys_to_cpu(phys); }
  uint8_t* aperture() override { return hw_.aperture(); }
  uint64_t now_ns() override { return hw_.now_ns(); }
  void wait(const volatile uint32_t* a, uint32_t e, uint64_t d) override { hw_.wait(a, e, d); }
  bool take_interrupt() override { return hw_.take_interrupt(); }
  uint64_t msi_address() override { return hw_.msi_address(); }
  uint32_t msi_data() override { return hw_.msi_data(); }
  void log(const char* msg) override { hw_.log(msg); }

 private:
  static bool owns(uint64_t gm) {
    return (gm >= kMapBase && gm < kMapBase + kMapSize) ||
           (gm >= kHidBase && gm < kHidBase + kHidSize);
  }
  bool foreign_pte(uint32_t off) const {
    return refuse_ggtt_ && off >= kGgttOffset && !owns((off - kGgttOffset) / 8 * kPageSize);
  }
  static uint32_t pv_read(uint32_t off) {
    switch (off) {
      case pvi::MAGIC:
        return static_cast<uint32_t>(pvi::kMagic);
      case pvi::MAGIC + 4:
        return static_cast<uint32_t>(pvi::kMagic >> 32);
      case pvi::VERSION_MAJOR:
        return pvi::kVersionMajor;
      case pvi::VGT_ID:
        return 3;
      case pvi::MAPPABLE_BASE:
        return static_cast<uint32_t>(kMapBase);
      case pvi::MAPPABLE_SIZE:
        return static_cast<uint32_t>(kMapSize);
      case pvi::NONMAPPABLE_BASE:
        return static_cast<uint32_t>(kHidBase);
      case pvi::NONMAPPABLE_SIZE:
        return static_cast<uint32_t>(kHidSize);
      case pvi::FENCE_NUM:
        return 4;
    }
    return 0;
  }

  Platform& hw_;
  bool refuse_ggtt_;
};

class SelftestPv : public DriverTest {
 protected:
  wl::Result run_behind(PvModelPlatform& pv) {
    Device d;
    auto r = d.init(pv);
    EXPECT_TRUE(r);
    EXPECT_TRUE(d.pv().present);
    wl::Params p;
    p.frames = 2;
    wl::Result res = wl::run(d, "selftest", p, nullptr);
    EXPECT_EQ(d.stats().submissions, 0u);
    d.fini();
    return res;
  }
};

// The GGTT, surface and frame probes pass behind the stand-in and are
// counted once each; its open aperture is then caught and named.
TEST_F(SelftestPv, ProbesAreRefusedOnceEachAndAnOpenApertureIsNamed) {
  PvModelPlatform pv(*platform, true);
  wl::Result r = run_behind(pv);
  EXPECT_FALSE(r.ok);
  EXPECT_STREQ(r.error, "an aperture write outside the vGPU's slice was not refused");
  EXPECT_EQ(pv.refused_ggtt, 1u);
  EXPECT_EQ(pv.refused_frame, 1u);
  EXPECT_EQ(pv.refused_surface, 1u);
}

TEST_F(SelftestPv, AcceptedForeignGgttEntryIsNamed) {
  PvModelPlatform pv(*platform, false);
  wl::Result r = run_behind(pv);
  EXPECT_FALSE(r.ok);
  EXPECT_STREQ(r.error, "a GGTT entry outside the vGPU's GM was accepted");
}

}  // namespace
}  // namespace drv::test
