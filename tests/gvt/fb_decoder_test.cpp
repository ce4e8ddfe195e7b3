// The host's view of a VM's screen: gvt::decode_fb reads the vGPU's virtual
// plane registers, then the pages through the physical GGTT. Guest RAM is
// backed by real host pages (FakeMpt's host_base), so a guest frame's pixels
// are written where the mediator's shadow entries point.
#include "gvt/fb_decoder.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstring>
#include <memory>
#include <vector>

#include "common/gen8/layout.h"
#include "common/vmm_abi.h"
#include "gvt/gvt.h"
#include "host/hw_platform.h"
#include "hv/fake_mpt.h"
#include "hw/gpu.h"
#include "mediator_fixture.h"

namespace gvt {
namespace {

using namespace gen8;
using ::testing::HasSubstr;
using vmm_abi::kBar0Base;

class FbDecoderTest : public MediatorTest {
 protected:
  void SetUp() override {
    MediatorTest::SetUp();
    auto v = gvt->create_vgpu({nullptr, mpt.get(), kRam, kBar0Base, vmm_abi::kApertureBase});
    ASSERT_TRUE(v) << v.error();
    vgpu = *v;
  }
  void w32(uint32_t off, uint32_t v) { ASSERT_TRUE(mpt->mmio_write(kBar0Base + off, &v, 4)); }
  void w64(uint64_t off, uint64_t v) { ASSERT_TRUE(mpt->mmio_write(kBar0Base + off, &v, 8)); }
  uint8_t* frame(uint64_t gfn) { return gpu->memory().base() + ram_hpa + gfn * kPageSize; }

  // The guest maps `gfns` at `surface` and draws pixel(x, y) there; the
  // bytes past the visible width of each line are garbage.
  void map_and_draw(uint64_t surface, uint32_t w, uint32_t h, uint32_t stride,
                    const std::vector<uint64_t>& gfns) {
    ASSERT_GE(gfns.size() * kPageSize, uint64_t{stride} * h);
    for (size_t i = 0; i < gfns.size(); ++i) {
      w64(kGgttOffset + (surface / kPageSize + i) * 8, gfns[i] * kPageSize | kPtePresent);
      std::memset(frame(gfns[i]), 0xEE, kPageSize);
    }
    for (uint32_t y = 0; y < h; ++y)
      for (uint32_t x = 0; x < w; ++x) {
        uint64_t at = uint64_t{y} * stride + x * 4ull;  // from the surface, page aligned
        uint32_t px = pixel(x, y);
        std::memcpy(frame(gfns[at / kPageSize]) + at % kPageSize, &px, 4);
      }
  }
  static uint32_t pixel(uint32_t x, uint32_t y) { return 0x00800000u | (y << 10) | x; }

  // Pipe A scanning out `surface` once the next vblank latches the flip.
  void program_pipe(uint64_t surface, uint32_t w, uint32_t h, uint32_t stride) {
    w32(reg::PIPECONF, kPipeconfEnable);
    w32(reg::PIPESRC, (w - 1) << 16 | (h - 1));
    w32(reg::DSPSTRIDE, stride);
    w32(reg::DSPCNTR, kDspEnable | kDspFormatXrgb8888);
    w32(reg::DSPSURF, static_cast<uint32_t>(surface));
  }

  void expect_pattern(const Framebuffer& fb, uint32_t w, uint32_t h) {
    ASSERT_EQ(fb.width, w);
    ASSERT_EQ(fb.height, h);
    ASSERT_EQ(fb.pixels.size(), size_t{w} * h);
    uint64_t wrong = 0;
    for (uint32_t y = 0; y < h; ++y)
      for (uint32_t x = 0; x < w; ++x)
        if (fb.pixels[size_t{y} * w + x] != pixel(x, y) && !wrong++)
          ADD_FAILURE() << "first wrong pixel at (" << x << ", " << y << "): 0x" << std::hex
                        << fb.pixels[size_t{y} * w + x];
    EXPECT_EQ(wrong, 0u);
  }

  std::unique_ptr<hv::FakeMpt> other_vm;  // its vGPU goes in TearDown, before the MPT
  Vgpu* vgpu = nullptr;
};

TEST_F(FbDecoderTest, DecodesTheSurfaceAfterTheFlipLatchesAtVblank) {
  constexpr uint32_t kW = 256, kH = 32, kStride = 1024;  // 8 pages, 4 lines each
  const uint64_t surface = vgpu->slice().low_base + 16 * kPageSize;
  // Scattered, descending frames: the decoder must follow every entry.
  std::vector<uint64_t> gfns;
  for (uint64_t i = 0; i < 8; ++i) gfns.push_back(0x900 - 3 * i);
  map_and_draw(surface, kW, kH, kStride, gfns);
  program_pipe(surface, kW, kH, kStride);
  // A running pipe latches a sync flip at its vblank: nothing to show yet.
  EXPECT_FALSE(decode_fb(*vgpu, host, 0));
  gvt->vblank();
  auto fb = decode_fb(*vgpu, host, 0);
  ASSERT_TRUE(fb) << fb.error();
  expect_pattern(*fb, kW, kH);
}

TEST_F(FbDecoderTest, LinesStraddlingPagesInHiddenGmDecode) {
  // 100 pixels on a 448-byte stride: most page boundaries fall inside a line.
  constexpr uint32_t kW = 100, kH = 40, kStride = 448;
  const uint64_t surface = vgpu->slice().high_base + 7 * kPageSize;
  std::vector<uint64_t> gfns{0x400, 0x1234, 0x401, 0x777, 0x20};
  map_and_draw(surface, kW, kH, kStride, gfns);
  program_pipe(surface, kW, kH, kStride);
  gvt->vblank();
  auto fb = decode_fb(*vgpu, host, 0);
  ASSERT_TRUE(fb) << fb.error();
  expect_pattern(*fb, kW, kH);
}

TEST_F(FbDecoderTest, SurfaceOutsideTheVgpusGmIsRefused) {
  // GM 0x1000 is the host's: a guest pointing its plane there sees nothing of it.
  const uint64_t before = vgpu->traps().refused_surface;
  program_pipe(0x1000, 64, 16, 256);
  EXPECT_EQ(vgpu->traps().refused_surface, before + 1);
  gvt->vblank();
  auto fb = decode_fb(*vgpu, host, 0);
  ASSERT_FALSE(fb);
  EXPECT_THAT(fb.error(), HasSubstr("outside"));
}

TEST_F(FbDecoderTest, SurfaceRunningOffTheEndOfItsSliceIsRefused) {
  // Its first page is the slice's last: the rest would be the next vGPU's.
  const GmSlice& s = vgpu->slice();
  program_pipe(s.low_base + s.low_size - kPageSize, 256, 32, 1024);
  gvt->vblank();
  auto fb = decode_fb(*vgpu, host, 0);
  ASSERT_FALSE(fb);
  EXPECT_THAT(fb.error(), HasSubstr("outside"));
}

TEST_F(FbDecoderTest, UnmappedSurfaceShowsOnlyTheVgpusScratchPage) {
  // Another VM's vGPU, with its own screen full of secrets.
  constexpr uint64_t kOtherRam = 16ull << 20;
  auto other_hpa = gpu->memory().alloc_pages(kOtherRam / kPageSize);
  ASSERT_TRUE(other_hpa) << other_hpa.error();
  other_vm = std::make_unique<hv::FakeMpt>(kOtherRam, 4096, *other_hpa);
  auto other = gvt->create_vgpu({nullptr, other_vm.get(), kOtherRam, kBar0Base, vmm_abi::kApertureBase});
  ASSERT_TRUE(other) << other.error();
  constexpr uint32_t kSecret = 0x00DEC0DE;
  const uint64_t other_gm = (*other)->slice().low_base;
  uint64_t pte = 0x200 * kPageSize | kPtePresent;  // its frame 0x200
  ASSERT_TRUE(other_vm->mmio_write(kBar0Base + kGgttOffset + other_gm / kPageSize * 8, &pte, 8));
  uint8_t* secret = gpu->memory().base() + *other_hpa + 0x200 * kPageSize;
  for (uint32_t i = 0; i < kPageSize / 4; ++i) std::memcpy(secret + i * 4, &kSecret, 4);

  // Ours: a surface in the slice whose entries the guest never wrote.
  constexpr uint32_t kW = 64, kH = 64, kStride = 256;  // 4 pages
  const uint64_t surface = vgpu->slice().low_base + 100 * kPageSize;
  program_pipe(surface, kW, kH, kStride);
  gvt->vblank();
  auto fb = decode_fb(*vgpu, host, 0);
  ASSERT_TRUE(fb) << fb.error();
  for (uint32_t p : fb->pixels) ASSERT_EQ(p, 0u);  // a fresh scratch page
  // And it is the vGPU's own scratch page that is shown, not a hole.
  constexpr uint32_t kScratch = 0x005C7A7C;
  uint8_t* scratch = gpu->memory().base() + vgpu->scratch_hpa();
  for (uint32_t i = 0; i < kPageSize / 4; ++i) std::memcpy(scratch + i * 4, &kScratch, 4);
  fb = decode_fb(*vgpu, host, 0);
  ASSERT_TRUE(fb) << fb.error();
  for (uint32_t p : fb->pixels) ASSERT_EQ(p, kScratch);
}

TEST_F(FbDecoderTest, DisabledPlaneOrMissingPipeIsAnError) {
  EXPECT_FALSE(decode_fb(*vgpu, host, 0));  // nothing programmed
  EXPECT_FALSE(decode_fb(*vgpu, host, kNumPipes));
  EXPECT_FALSE(decode_fb(*vgpu, host, -1));
}

}  // namespace
}  // namespace gvt
