// The mediator under KVM: several VMs on their own vGPUs at once, each
// running the selftest workload (ballooning, GGTT maps, aperture, modeset and
// flips, vblank interrupts, refused probes), and the destroy order proven on
// recycled RAM.
#include "cli/mediated.h"

#include <algorithm>
#include <chrono>
#include <set>
#include <thread>

#include "common/gen8/layout.h"
#include "kvm_fixture.h"

namespace hv::test {
namespace {

cli::VmSpec spec(const std::string& workload, const std::string& type, uint32_t frames) {
  cli::VmSpec s;
  s.workload = workload;
  s.type = type;
  s.frames = frames;
  return s;
}

cli::VmRunOptions options() {
  cli::VmRunOptions opt;
  opt.log_dir = test_log_dir();
  opt.timeout_s = 60;
  return opt;
}

bool all_zero(const uint8_t* p, uint64_t n) {
  return std::all_of(p, p + n, [](uint8_t b) { return b == 0; });
}

TEST(KvmMediated, FourVmsRunTheSelftestTogether) {
  GVIRT_REQUIRE_KVM();
  auto results = cli::run_mediated(
      {spec("selftest", "A", 30), spec("selftest", "B", 30), spec("selftest", "", 30),
       spec("selftest", "", 30)},
      options());
  ASSERT_TRUE(results) << results.error();
  ASSERT_EQ(results->results.size(), 4u);
  std::set<std::string> screens;
  std::set<uint64_t> ids;
  for (const auto& r : results->results) {
    SCOPED_TRACE(r.console_log);
    EXPECT_EQ(r.status, "ok");
    EXPECT_EQ(r.frames, 30u);
    EXPECT_EQ(r.frame_checksum, r.guest_checksum);
    screens.insert(r.frame_checksum);
    const auto& v = r.vgpu;
    ids.insert(v["id"].get<uint64_t>());
    // Each probe was refused and counted.
    EXPECT_GE(v["refused"]["ggtt_range"].get<uint64_t>(), 1u);
    EXPECT_GE(v["refused"]["ggtt_frame"].get<uint64_t>(), 1u);
    EXPECT_GE(v["refused"]["aperture"].get<uint64_t>(), 1u);
    EXPECT_GE(v["refused"]["surface"].get<uint64_t>(), 1u);
    EXPECT_EQ(v["refused"]["submission"].get<uint64_t>(), 0u);
    // 16 MiB and 30 frames went through the aperture slice with no exit.
    EXPECT_EQ(v["bar2_exits_in_slice"].get<uint64_t>(), 0u);
    EXPECT_GE(v["traps"]["aperture"].get<uint64_t>(), 1u);  // the refused probe did exit
    // Vblanks and flip-dones arrived as MSIs.
    EXPECT_GE(v["msis"].get<uint64_t>(), 3u);
    EXPECT_GE(r.interrupts, 3u);
    // Every GGTT entry write is one trap: the driver writes whole entries.
    EXPECT_EQ(v["ggtt"]["half_writes"].get<uint64_t>(), 0u);
    EXPECT_GT(v["ggtt"]["shadowed"].get<uint64_t>(), 4096u);
  }
  EXPECT_EQ(screens.size(), 4u) << "every VM shows its own screen";
  EXPECT_EQ(ids.size(), 4u);
  EXPECT_EQ(results->results[0].vgpu["type"], "A");
  EXPECT_EQ(results->results[1].vgpu["type"], "B");
}

// Mediated submission: the guest's own buffers, scanned and run from shadow
// contexts, draw exactly what they draw natively, with the same model-counted
// work.
class KvmMediatedWorkload : public ::testing::TestWithParam<std::string> {};

TEST_P(KvmMediatedWorkload, GivesTheNativeChecksumAndCounts) {
  GVIRT_REQUIRE_KVM();
  const cli::RunResult native = native_baseline(GetParam(), 30);
  ASSERT_EQ(native.status, "ok");
  auto results = cli::run_mediated({spec(GetParam(), "", 30)}, options());
  ASSERT_TRUE(results) << results.error();
  const cli::RunResult& r = results->results[0];
  EXPECT_EQ(r.status, "ok");
  EXPECT_EQ(r.frame_checksum, native.frame_checksum);
  EXPECT_EQ(r.guest_checksum, native.guest_checksum);
  EXPECT_EQ(r.commands_executed, native.commands_executed);
  EXPECT_EQ(r.pixels_written, native.pixels_written);
  const auto& sub = r.vgpu["submission"];
  // Every submission became a workload (set-up's included).
  EXPECT_GE(sub["workloads"].get<uint64_t>(), native.submissions);
  EXPECT_GT(sub["commands_scanned"].get<uint64_t>(), 0u);
  EXPECT_EQ(sub["flips_emulated"].get<uint64_t>(), 30u);
  EXPECT_EQ(r.vgpu["refused"]["submission"].get<uint64_t>(), 0u);
}

INSTANTIATE_TEST_SUITE_P(Workloads, KvmMediatedWorkload, ::testing::Values("fill", "desktop2d", "submit"),
                         [](const auto& info) { return info.param; });

TEST(KvmMediated, ThreeVmsAtOnceEachDrawTheirNativeFrames) {
  GVIRT_REQUIRE_KVM();
  const std::vector<std::string> names = {"fill", "desktop2d", "submit"};
  std::vector<std::string> want;
  for (const auto& n : names) want.push_back(native_baseline(n, 20).frame_checksum);
  auto results =
      cli::run_mediated({spec("fill", "", 20), spec("desktop2d", "B", 20), spec("submit", "", 20)}, options());
  ASSERT_TRUE(results) << results.error();
  for (size_t i = 0; i < names.size(); ++i) {
    SCOPED_TRACE(names[i]);
    EXPECT_EQ(results->results[i].status, "ok");
    EXPECT_EQ(results->results[i].frame_checksum, want[i]);
  }
}

TEST(KvmMediated, DestroyWhileAnotherRunsThenRecycle) {
  GVIRT_REQUIRE_KVM();
  auto host = cli::MediatedHost::create(2ull << 30, options());
  ASSERT_TRUE(host) << host.error();
  cli::MediatedHost& h = **host;
  cli::VmSpec busy = spec("selftest", "", 0);
  busy.seconds = 4;
  auto a = h.add_vm(spec("selftest", "", 10));
  auto b = h.add_vm(busy);
  ASSERT_TRUE(a && b) << (a ? b.error() : a.error());
  h.start(*a);
  h.start(*b);
  cli::RunResult ra = h.wait(*a);
  ASSERT_EQ(ra.status, "ok");

  const drv::Pages ram = h.ram(*a);
  const gvt::GmSlice slice = h.vgpu(*a).slice();
  h.destroy(*a);
  hw::Gpu& gpu = h.gpu();
  // A's RAM is zero, and nothing on the GPU reaches it: its whole slice is on
  // the mediator's scratch page, and its fences are off.
  EXPECT_TRUE(all_zero(gpu.memory().base() + ram.phys, ram.count * gen8::kPageSize));
  const uint64_t scratch = h.mediator().scratch_hpa() | gen8::kPtePresent;
  for (uint64_t gm = slice.low_base; gm < slice.low_base + slice.low_size; gm += gen8::kPageSize)
    ASSERT_EQ(gpu.ggtt_entry(gm / gen8::kPageSize), scratch) << "GM " << gm;
  for (uint64_t gm = slice.high_base; gm < slice.high_base + slice.high_size; gm += gen8::kPageSize)
    ASSERT_EQ(gpu.ggtt_entry(gm / gen8::kPageSize), scratch) << "GM " << gm;
  for (uint32_t f = 0; f < slice.fences; ++f)
    EXPECT_EQ(gpu.mmio_read(gen8::reg::FENCE_REG_GEN6 + 8 * (slice.fence_base + f), 8), 0u);

  // C lands on A's recycled RAM and slice, and can read nothing of A's.
  auto c = h.add_vm(spec("selftest", "", 10));
  ASSERT_TRUE(c) << c.error();
  EXPECT_EQ(h.ram(*c).phys, ram.phys);
  EXPECT_EQ(h.vgpu(*c).slice().low_base, slice.low_base);
  const uint64_t image_end = 16ull << 20;  // the guest image and boot pages lie below
  EXPECT_TRUE(all_zero(gpu.memory().base() + ram.phys + image_end,
                       ram.count * gen8::kPageSize - image_end));
  EXPECT_TRUE(all_zero(gpu.aperture() + slice.low_base, slice.low_size));
  h.start(*c);
  EXPECT_EQ(h.wait(*c).status, "ok");
  cli::RunResult rb = h.wait(*b);
  EXPECT_EQ(rb.status, "ok") << "B ran on while A was destroyed and C created";
  EXPECT_GT(rb.frames, 10u);
}

// Lifecycle under load: a VM reboots mid-run (its vGPU reset and off the
// GPU, its RAM zeroed, the image reloaded) while another draws beside it.
// The new boot's driver loads and balloons again and draws the native
// frames; the other VM never notices.
TEST(KvmMediated, RebootMidRunWhileAnotherRuns) {
  GVIRT_REQUIRE_KVM();
  constexpr uint32_t kFrames = 3000;  // long enough to be rebooted mid-run
  const cli::RunResult native = native_baseline("fill", kFrames);
  ASSERT_EQ(native.status, "ok");
  auto host = cli::MediatedHost::create(2ull << 30, options());
  ASSERT_TRUE(host) << host.error();
  cli::MediatedHost& h = **host;
  cli::VmSpec steady = spec("desktop2d", "", 0);
  steady.seconds = 4;
  auto a = h.add_vm(spec("fill", "", kFrames));
  auto b = h.add_vm(steady);
  ASSERT_TRUE(a && b) << (a ? b.error() : a.error());
  h.start(*a);
  h.start(*b);
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (h.mediator().sched_stats(&h.vgpu(*a)).workloads < 100 &&
         std::chrono::steady_clock::now() < until)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  auto r = h.reboot(*a);
  ASSERT_TRUE(r) << r.error();
  EXPECT_EQ(h.vm(*a).reboots(), 1u);
  cli::RunResult ra = h.wait(*a);
  SCOPED_TRACE(ra.console_log);
  EXPECT_EQ(ra.status, "ok");
  EXPECT_EQ(ra.frames, kFrames);
  EXPECT_EQ(ra.frame_checksum, native.frame_checksum);
  EXPECT_EQ(ra.guest_checksum, native.guest_checksum);
  EXPECT_GE(ra.vgpu["submission"]["workloads"].get<uint64_t>(), kFrames);
  cli::RunResult rb = h.wait(*b);
  EXPECT_EQ(rb.status, "ok") << "B ran on while A rebooted";
  EXPECT_GT(rb.frames, 10u);
  EXPECT_EQ(rb.frame_checksum, rb.guest_checksum);
  EXPECT_EQ(h.mediator().sched_stats(&h.vgpu(*b)).hangs, 0u);
  EXPECT_FALSE(h.reboot(*a)) << "a stopped VM cannot reboot";
}

}  // namespace
}  // namespace hv::test
