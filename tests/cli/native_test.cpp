// Native end-to-end runs: each workload's host-computed frame checksum equals
// its committed golden value and the workload's own checksum.
#include <gtest/gtest.h>

#include <fmt/format.h>

#include <algorithm>
#include <string>
#include <vector>

#include "cli/native.h"
#include "common/frame_hash.h"
#include "workloads/selftest.h"

namespace cli {
namespace {

struct Golden {
  const char* workload;
  const char* checksum;  // of frame `frames`, 1024x768 XRGB8888
  uint32_t frames = 200;
};

class NativeGolden : public ::testing::TestWithParam<Golden> {};

TEST_P(NativeGolden, FrameChecksumMatches) {
  NativeOptions opt;
  opt.workload = GetParam().workload;
  const uint32_t frames = GetParam().frames;
  opt.frames = frames;
  auto r = run_native(opt);
  ASSERT_TRUE(r) << r.error();
  EXPECT_EQ(r->status, "ok");
  EXPECT_EQ(r->frames, frames);
  EXPECT_FALSE(r->vblank_limited);
  EXPECT_EQ(r->frame_checksum, GetParam().checksum);
  EXPECT_EQ(r->guest_checksum, r->frame_checksum);
  EXPECT_GT(r->commands_executed, frames);
  EXPECT_GT(r->pixels_written, uint64_t{frames} * 1024 * 768);
  // Trap-frugal: one ELSP pair per submission, flips in the ring, completion
  // read from memory.
  EXPECT_EQ(r->mmio.reads, 0u);
  EXPECT_EQ(r->mmio.writes, 2 * r->submissions);
}

INSTANTIATE_TEST_SUITE_P(Workloads, NativeGolden,
                         ::testing::Values(Golden{"fill", "f44df629a3427ddc"},
                                           Golden{"desktop2d", "3b0e8ef73ff6ac4e"},
                                           Golden{"submit", "38a0ef59beda7082"},
                                           // 3D on the render engine: a few frames (CI budget);
                                           // the same under g++, clang, ASan, any thread count.
                                           Golden{"lights", "67320d9685cd73ea", 5},
                                           Golden{"arena", "decc10c20df9782a", 5},
                                           Golden{"ppgtt-churn", "a354865b3280c84c", 200}),
                         [](const auto& info) {
                           std::string name = info.param.workload;  // gtest names: no '-'
                           std::replace(name.begin(), name.end(), '-', '_');
                           return name;
                         });

// `selftest` draws with the CPU and flips by MMIO: no submission, one
// DSPSURF write per frame, and the screen the host recomputes for vGPU id 0.
TEST(Native, SelftestShowsItsDrawingWithoutSubmitting) {
  NativeOptions opt;
  opt.workload = "selftest";
  opt.frames = 200;
  auto r = run_native(opt);
  ASSERT_TRUE(r) << r.error();
  EXPECT_EQ(r->status, "ok");
  EXPECT_EQ(r->frames, 200u);
  EXPECT_EQ(r->frame_checksum, "96b102da5fb4b882");
  EXPECT_EQ(r->guest_checksum, r->frame_checksum);
  std::vector<uint32_t> px(1024 * 768);
  wl::selftest_draw(px.data(), 0, 199);
  EXPECT_EQ(r->frame_checksum,
            fmt::format("{:016x}", common::frame_hash(px.data(), px.size() * 4)));
  EXPECT_EQ(r->submissions, 0u);
  EXPECT_EQ(r->mmio.reads, 0u);
  EXPECT_EQ(r->mmio.writes, 200u);
}

TEST(Native, UnknownWorkloadIsAnError) {
  NativeOptions opt;
  opt.workload = "nope";
  auto r = run_native(opt);
  ASSERT_TRUE(r);
  EXPECT_NE(r->status, "ok");
}

}  // namespace
}  // namespace cli
