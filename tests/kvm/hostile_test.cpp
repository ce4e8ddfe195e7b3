// Hostile guests on the mediator (the guest's test=hostile, src/guest/hostile.cpp):
// each attack puts only its own vGPU into failsafe and stops only its VM,
// with the reason the scanner or the mediator gives, while a co-runner on
// another vGPU draws exactly its native frames; and a batch rewritten after
// its ELSP write (TOCTOU) never reaches the GPU, as the model's execution log
// shows.
#include <fmt/format.h>

#include <fstream>
#include <sstream>

#include "cli/mediated.h"
#include "common/gen8/layout.h"
#include "kvm_fixture.h"

namespace hv::test {
namespace {

using gen8::kEngineBase;
namespace reg = gen8::reg;

constexpr uint32_t kCoFrames = 20;

cli::VmRunOptions options() {
  cli::VmRunOptions opt;
  opt.log_dir = test_log_dir();
  opt.timeout_s = 60;
  return opt;
}

const std::string& native_fill() {
  static const std::string sum = native_baseline("fill", kCoFrames).frame_checksum;
  return sum;
}

std::string read_log(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

uint64_t gdrst_lris(hw::Gpu& gpu) {
  return gpu.lri_count(0, reg::GEN6_GDRST) + gpu.lri_count(1, reg::GEN6_GDRST);
}

// The hostile VM (vm0, so its slice is the first after the host's) and a
// `fill` co-runner, started together on one host.
struct Pair {
  std::unique_ptr<cli::MediatedHost> host;
  gvt::GmSlice slice;  // the hostile VM's
  cli::RunResult hostile, corunner;
};

Pair run_pair(const std::string& guest_cmdline, const cli::VmRunOptions& opt = options(),
              const std::string& ppgtt = "") {
  Pair out;
  auto host = cli::MediatedHost::create(2ull << 30, opt);
  EXPECT_TRUE(host) << (host ? "" : host.error());
  if (!host) return out;
  out.host = std::move(*host);
  cli::MediatedHost& h = *out.host;
  cli::VmSpec bad;
  bad.workload = "hostile";
  bad.guest_cmdline = guest_cmdline;
  bad.ppgtt = ppgtt;
  cli::VmSpec co;
  co.workload = "fill";
  co.frames = kCoFrames;
  auto a = h.add_vm(bad);
  auto b = h.add_vm(co);
  EXPECT_TRUE(a && b) << (a ? (b ? "" : b.error()) : a.error());
  if (!a || !b) return out;
  out.slice = h.vgpu(*a).slice();
  h.start(*a);
  h.start(*b);
  out.hostile = h.wait(*a);
  out.corunner = h.wait(*b);
  return out;
}

void expect_native_corunner(const cli::RunResult& r) {
  SCOPED_TRACE(r.console_log);
  EXPECT_EQ(r.status, "ok");
  EXPECT_EQ(r.frames, kCoFrames);
  EXPECT_EQ(r.frame_checksum, native_fill());
  EXPECT_EQ(r.guest_checksum, native_fill());
}

struct Attack {
  const char* name;     // the test's name
  const char* cmdline;  // the hostile guest's
  const char* engine;   // the engine the mediator names
  const char* reason;   // what it says; {} is the end of the hostile VM's aperture slice
};

class KvmHostileGuest : public ::testing::TestWithParam<Attack> {};

TEST_P(KvmHostileGuest, OnlyItsVgpuEntersFailsafe) {
  GVIRT_REQUIRE_KVM();
  const Attack& at = GetParam();
  ASSERT_FALSE(native_fill().empty());
  Pair run = run_pair(at.cmdline);
  ASSERT_TRUE(run.host);
  const cli::RunResult& r = run.hostile;
  SCOPED_TRACE(r.console_log);
  const std::string reason =
      fmt::format(fmt::runtime(at.reason), run.slice.low_base + run.slice.low_size);
  EXPECT_EQ(r.status.rfind(std::string("failsafe: ") + at.engine, 0), 0u) << r.status;
  EXPECT_NE(r.status.find(reason), std::string::npos) << r.status << "\nwant: " << reason;
  // Stopped at its ELSP write: the guest never got to report anything.
  const std::string log = read_log(r.console_log);
  EXPECT_NE(log.find("INFO: hostile:"), std::string::npos) << "the guest did not get going";
  EXPECT_EQ(log.find("SUMMARY:"), std::string::npos) << "the VM ran on after the failsafe";
  // The one submission (two 8-byte ELSP writes) reached the mediator and
  // became no workload: nothing of it ran.
  const auto& sub = r.vgpu["submission"];
  EXPECT_EQ(sub["elsp_writes"].get<uint64_t>(), 4u);
  EXPECT_EQ(sub["workloads"].get<uint64_t>(), 0u);
  EXPECT_EQ(gdrst_lris(run.host->gpu()), 0u);
  expect_native_corunner(run.corunner);
}

INSTANTIATE_TEST_SUITE_P(
    Attacks, KvmHostileGuest,
    ::testing::Values(
        Attack{"lri", "test=hostile kind=lri", "bcs",
               "MI_LOAD_REGISTER_IMM to a register not writable from a command buffer "
               "(GEN6_GDRST 0x941c)"},
        Attack{"sdi", "test=hostile kind=sdi", "rcs",
               "MI_STORE_DATA_IMM: address [0x1000, +0x4) outside the vGPU's GM"},
        Attack{"blit", "test=hostile kind=blit", "bcs",
               "XY_SRC_COPY_BLT: source [0x{:x}, +0x400) outside the vGPU's GM"},
        Attack{"index_rcs", "test=hostile kind=index", "rcs", "PIPE_CONTROL: index-mode post_sync"},
        Attack{"index_bcs", "test=hostile kind=index engine=bcs", "bcs",
               "MI_FLUSH_DW: index-mode post_sync"},
        Attack{"elsp", "test=hostile kind=elsp", "bcs",
               "bcs: ELSP context 0x1000 lies outside the vGPU's GM"}),
    [](const auto& info) { return std::string(info.param.name); });

// 1000 privileged batches, each rewritten to a forbidden LRI right after its
// ELSP write: the mediator runs the copy it scanned, every time.
TEST(KvmHostileGuest, RewrittenBatchNeverReachesTheGpu) {
  GVIRT_REQUIRE_KVM();
  ASSERT_FALSE(native_fill().empty());
  Pair run = run_pair("test=hostile kind=toctou");
  ASSERT_TRUE(run.host);
  const cli::RunResult& r = run.hostile;
  SCOPED_TRACE(r.console_log);
  EXPECT_EQ(r.status, "ok");
  const std::string log = read_log(r.console_log);
  EXPECT_NE(log.find("PASS: hostile: toctou: 1000 of 1000 iterations ran the original batch"),
            std::string::npos);
  EXPECT_EQ(r.submissions, 1000u);
  EXPECT_EQ(r.vgpu["submission"]["workloads"].get<uint64_t>(), 1000u);
  // The GPU ran the original LRI 1000 times and the forbidden one never.
  hw::Gpu& gpu = run.host->gpu();
  EXPECT_EQ(gpu.lri_count(1, kEngineBase[1] + reg::CS_GPR0), 1000u);
  EXPECT_EQ(gdrst_lris(gpu), 0u);
  expect_native_corunner(run.corunner);
}

// A guest whose batch never ends (every command legal, so nothing refuses
// it) is reset at its drain timeout, within 200 ms of it, and only its vGPU
// goes to failsafe; the co-runner keeps its native frames.
class KvmHungGuest : public ::testing::TestWithParam<std::string> {};

TEST_P(KvmHungGuest, IsResetAtItsDrainTimeoutAndOnlyItStops) {
  GVIRT_REQUIRE_KVM();
  ASSERT_FALSE(native_fill().empty());
  cli::VmRunOptions opt = options();
  opt.sched.drain_timeout_ns = 500'000'000;
  Pair run = run_pair("test=hostile kind=" + GetParam(), opt);
  ASSERT_TRUE(run.host);
  const cli::RunResult& r = run.hostile;
  SCOPED_TRACE(r.console_log);
  EXPECT_EQ(r.status.rfind("failsafe: bcs", 0), 0u) << r.status;
  EXPECT_NE(r.status.find("hung"), std::string::npos) << r.status;
  EXPECT_NE(read_log(r.console_log).find("INFO: hostile: " + GetParam() + ": a batch that never ends"),
            std::string::npos);
  ASSERT_FALSE(r.sched.is_null());
  EXPECT_EQ(r.sched["hangs"].get<uint64_t>(), 1u);
  EXPECT_LT(r.sched["hang_reset_late_ms"].get<double>(), 200.0);
  EXPECT_EQ(run.corunner.sched["hangs"].get<uint64_t>(), 0u);
  expect_native_corunner(run.corunner);
}

INSTANTIATE_TEST_SUITE_P(Batches, KvmHungGuest, ::testing::Values("loop", "semaphore"),
                         [](const auto& info) { return info.param; });

// A guest maps a PPGTT page onto a GPA outside its RAM and stores there. In
// shadow mode the leaf is refused and the store lands on the vGPU's scratch
// page (the guest goes on); in 2-stage mode the second stage faults the GPU
// and only that vGPU goes to failsafe. The co-runner keeps its frames.
class KvmHostilePpgtt : public ::testing::TestWithParam<std::string> {};

TEST_P(KvmHostilePpgtt, ALeafOutsideItsRamReachesNothing) {
  GVIRT_REQUIRE_KVM();
  ASSERT_FALSE(native_fill().empty());
  Pair run = run_pair("test=hostile kind=ppgtt-leaf", options(), GetParam());
  ASSERT_TRUE(run.host);
  const cli::RunResult& r = run.hostile;
  SCOPED_TRACE(r.console_log);
  EXPECT_EQ(r.vgpu["ppgtt"]["mode"], GetParam());
  if (GetParam() == "shadow") {
    EXPECT_EQ(r.status, "ok");
    EXPECT_NE(read_log(r.console_log).find("PASS: hostile: ppgtt-leaf:"), std::string::npos);
    EXPECT_GE(r.vgpu["ppgtt"]["refused"]["frame"].get<uint64_t>(), 1u);
  } else {
    EXPECT_EQ(r.status.rfind("failsafe: bcs", 0), 0u) << r.status;
  }
  expect_native_corunner(run.corunner);
}

// A guest remaps a PPGTT page while a store through it may still be queued:
// the next submission sees the edit, and no store lands on a stale or
// foreign page (the guest checks both frames after every pair).
TEST_P(KvmHostilePpgtt, AnEditWhileWorkIsQueuedIsSeenByTheNextSubmission) {
  GVIRT_REQUIRE_KVM();
  ASSERT_FALSE(native_fill().empty());
  Pair run = run_pair("test=hostile kind=ppgtt-edit", options(), GetParam());
  ASSERT_TRUE(run.host);
  const cli::RunResult& r = run.hostile;
  SCOPED_TRACE(r.console_log);
  EXPECT_EQ(r.status, "ok");
  EXPECT_NE(read_log(r.console_log).find("PASS: hostile: ppgtt-edit: 200 of 200 edits"),
            std::string::npos);
  if (GetParam() == "shadow") {
    EXPECT_GE(r.vgpu["traps"]["pagetable"].get<uint64_t>(), 400u);
  }
  expect_native_corunner(run.corunner);
}

INSTANTIATE_TEST_SUITE_P(Modes, KvmHostilePpgtt, ::testing::Values("2stage", "shadow"),
                         [](const auto& info) { return "ppgtt_" + info.param; });

}  // namespace
}  // namespace hv::test
