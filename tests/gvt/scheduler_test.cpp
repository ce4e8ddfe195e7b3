// The mediator's scheduler on the real GPU model, with guests on vGPUs in
// one process (no KVM): the host's own workload as a tenant, a hung vGPU
// reset at its drain timeout while a co-runner keeps its native frames, a
// guest reset preempting its own workload, and no engine state carried from
// one vGPU to the next across switches.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "common/gen8/layout.h"
#include "common/gen8/regs.h"
#include "driver/context.h"
#include "driver/device.h"
#include "gvt/gvt.h"
#include "gvt/host_tenant.h"
#include "support/guest_runs.h"
#include "support/mediated_host.h"
#include "support/stuck_batch.h"

namespace gvt {
namespace {

using namespace gen8;
using namespace test_support;

std::unique_ptr<GuestVm> new_vm(MediatedHost& h) {
  auto vm = GuestVm::create(h.gpu(), h.gvt());
  EXPECT_TRUE(vm) << vm.error();
  return vm ? std::move(*vm) : nullptr;
}

// The host's own workload is one more tenant: a second host driver on its
// half of the host slice submits through the scheduler, beside a VM, and
// both get exactly their native frames.
TEST(Scheduler, HostWorkloadIsATenantBesideAVm) {
  for (const char* n : {"fill", "submit"}) ASSERT_EQ(native(n).error, "") << n;
  auto h = MediatedHost::create();
  ASSERT_TRUE(h) << h.error();
  auto vm = new_vm(**h);
  ASSERT_TRUE(vm);
  HostTenant tenant((*h)->gvt(), 4);
  drv::Device dev;
  const drv::PvInfo own = host_tenant_ranges();
  ASSERT_TRUE(dev.init((*h)->platform(), &own, &tenant));
  Outcome host_out, vm_out;
  std::thread t([&] {
    wl::Result res;
    host_out = run_workload(dev, "fill", kFrames, [&] { return scanout((*h)->gpu()); }, &res);
    add_counters((*h)->gpu(), res, host_out);
  });
  vm_out = run_guest(**h, *vm, "submit", kFrames);
  t.join();
  expect_native(host_out, "fill");
  expect_native(vm_out, "submit");
  const SchedStats hs = (*h)->gvt().sched_stats(&tenant), vs = (*h)->gvt().sched_stats(&vm->vgpu());
  EXPECT_GE(hs.workloads, kFrames);
  EXPECT_GE(vs.workloads, kFrames * 64);
  EXPECT_GE(hs.switches_in, 1u);
  EXPECT_GE(vs.switches_in, 1u);
  EXPECT_EQ(hs.hangs + vs.hangs, 0u);
  dev.fini();
}

// A vGPU whose batch never ends holds the GPU until the drain timeout, then
// its engine is reset and it alone goes to failsafe; a VM that runs beside it
// the whole time still gets its native frames.
class HungVgpu : public ::testing::TestWithParam<Stuck> {};

TEST_P(HungVgpu, IsResetAtTheDrainTimeoutAndTheCoRunnerKeepsItsFrames) {
  ASSERT_EQ(native("desktop2d").error, "");
  // Above the co-runner's slowest batch even in a sanitizer build.
  SchedParams sp = MediatedHost::kTestSched;
  sp.drain_timeout_ns = 2'000'000'000;
  auto h = MediatedHost::create(sp);
  ASSERT_TRUE(h) << h.error();
  auto bad = new_vm(**h), good = new_vm(**h);
  ASSERT_TRUE(bad && good);
  drv::Device dev;
  ASSERT_TRUE(dev.init(bad->guest()));
  std::atomic<bool> go{false};
  Outcome got;
  std::thread co([&] {
    while (!go) std::this_thread::yield();
    got = run_guest(**h, *good, "desktop2d", kFrames);
  });
  clk::time_point t0;
  {
    StuckBatch stuck;
    t0 = clk::now();
    ASSERT_TRUE(stuck.submit(dev, GetParam()));
    go = true;
    ASSERT_TRUE(eventually([&] { return bad->vgpu().status() != "ok"; }));
    const auto took = clk::now() - t0;
    EXPECT_THAT(bad->vgpu().status(), ::testing::HasSubstr("hung"));
    EXPECT_TRUE(bad->guest().stopped()) << "failsafe stops the VM";
    EXPECT_FALSE(good->guest().stopped());
    // Not before its timeout, and not long after (generous: a loaded CI box).
    EXPECT_GE(took, std::chrono::nanoseconds(sp.drain_timeout_ns));
    EXPECT_LT(took, std::chrono::nanoseconds(sp.drain_timeout_ns) + std::chrono::seconds(5));
    // The reset's lateness was measured, and it fits in what this test saw.
    const uint64_t late = (*h)->gvt().sched_stats(&bad->vgpu()).hang_late_max_ns;
    EXPECT_LE(late, static_cast<uint64_t>(std::chrono::nanoseconds(took).count()) - sp.drain_timeout_ns);
    co.join();
  }
  expect_native(got, "desktop2d");
  EXPECT_EQ(good->vgpu().status(), "ok");
  EXPECT_EQ((*h)->gvt().sched_stats(&bad->vgpu()).hangs, 1u);
  EXPECT_EQ((*h)->gvt().sched_stats(&good->vgpu()).hangs, 0u);
  dev.fini();
}

INSTANTIATE_TEST_SUITE_P(Batches, HungVgpu, ::testing::Values(Stuck::Semaphore, Stuck::SelfLoop),
                         [](const auto& info) { return info.param == Stuck::Semaphore ? "Semaphore" : "SelfLoop"; });

// Lifecycle under load: while one VM draws all along, another VM reboots
// (the device-model reset: its driver loads and balloons again) and a third
// vGPU is created, used and destroyed. Everyone gets native frames.
TEST(Scheduler, RebootCreateAndDestroyWhileAnotherVmRuns) {
  for (const char* n : {"fill", "desktop2d", "submit"}) ASSERT_EQ(native(n).error, "") << n;
  auto h = MediatedHost::create();
  ASSERT_TRUE(h) << h.error();
  auto steady = new_vm(**h), rebooting = new_vm(**h);
  ASSERT_TRUE(steady && rebooting);
  std::atomic<bool> done{false};
  std::vector<Outcome> steady_runs;
  std::thread t([&] {
    while (!done) steady_runs.push_back(run_guest(**h, *steady, "desktop2d", kFrames));
  });
  expect_native(run_guest(**h, *rebooting, "fill", kFrames), "fill");
  (*h)->gvt().reset_vgpu(&rebooting->vgpu());
  expect_native(run_guest(**h, *rebooting, "fill", kFrames), "fill", false);
  EXPECT_EQ(rebooting->vgpu().status(), "ok");
  {
    auto passing = new_vm(**h);
    ASSERT_TRUE(passing);
    expect_native(run_guest(**h, *passing, "submit", kFrames), "submit");
  }  // destroyed: drained, its slice on scratch, its RAM freed
  expect_native(run_guest(**h, *rebooting, "submit", kFrames), "submit", false);
  done = true;
  t.join();
  ASSERT_FALSE(steady_runs.empty());
  for (size_t i = 0; i < steady_runs.size(); ++i) expect_native(steady_runs[i], "desktop2d", i == 0);
  EXPECT_EQ(steady->vgpu().status(), "ok");
}

// A reboot mid-batch: the vGPU's running workload is preempted (queued ones
// are dropped, as an engine reset drops them), and the reset returns once nothing of the VM's is on
// the GPU, long before the drain timeout. The rebooted guest's driver then
// loads again and draws native frames, as does a VM beside it all along.
TEST(Scheduler, RebootMidBatchTakesTheVgpuOffTheGpu) {
  for (const char* n : {"fill", "desktop2d"}) ASSERT_EQ(native(n).error, "") << n;
  SchedParams sp = MediatedHost::kTestSched;
  sp.drain_timeout_ns = 60'000'000'000;  // only the reboot's preemption can end the batch
  auto h = MediatedHost::create(sp);
  ASSERT_TRUE(h) << h.error();
  auto vm = new_vm(**h), other = new_vm(**h);
  ASSERT_TRUE(vm && other);
  std::atomic<bool> done{false};
  std::vector<Outcome> other_runs;
  std::thread t([&] {
    while (!done) other_runs.push_back(run_guest(**h, *other, "desktop2d", kFrames));
  });
  {
    drv::Device dev;
    ASSERT_TRUE(dev.init(vm->guest()));
    StuckBatch stuck;
    ASSERT_TRUE(stuck.submit(dev, Stuck::SelfLoop));
    ASSERT_TRUE(eventually([&] { return (*h)->gvt().sched_stats(&vm->vgpu()).workloads >= 1; }));
    const std::vector<uint32_t> shadows = vm->vgpu().shadow_contexts();
    ASSERT_FALSE(shadows.empty());
    const auto t0 = clk::now();
    (*h)->gvt().reset_vgpu(&vm->vgpu());
    EXPECT_LT(clk::now() - t0, std::chrono::nanoseconds(sp.drain_timeout_ns) / 2);
    // The GPU accounts work by context address: the dropped shadows' objects
    // stay this vGPU's, so no other VM inherits its GPU time.
    for (uint32_t gm : shadows) EXPECT_THAT(vm->vgpu().shadow_contexts(), ::testing::Contains(gm));
    const SchedStats s = (*h)->gvt().sched_stats(&vm->vgpu());
    EXPECT_EQ(s.preempted, 1u);
    EXPECT_EQ(s.hangs, 0u);
    EXPECT_EQ(vm->vgpu().status(), "ok");
    // The previous boot's driver is gone with its RAM; nothing of it runs.
    stuck.dev = nullptr;
  }
  expect_native(run_guest(**h, *vm, "fill", kFrames), "fill", false);
  EXPECT_EQ(vm->vgpu().status(), "ok");
  done = true;
  t.join();
  ASSERT_FALSE(other_runs.empty());
  for (size_t i = 0; i < other_runs.size(); ++i) expect_native(other_runs[i], "desktop2d", i == 0);
  EXPECT_EQ(other->vgpu().status(), "ok");
}

// A guest that resets its own engine (GDRST) while its batch is stuck gets
// the engine back at once: the workload is preempted by an engine reset,
// long before the drain timeout, and the vGPU is not in failsafe.
TEST(Scheduler, GuestEngineResetPreemptsItsRunningWorkload) {
  SchedParams sp;
  sp.drain_timeout_ns = 60'000'000'000;  // only the preemption can end it
  auto h = MediatedHost::create(sp);
  ASSERT_TRUE(h) << h.error();
  auto vm = new_vm(**h);
  ASSERT_TRUE(vm);
  drv::Device dev;
  ASSERT_TRUE(dev.init(vm->guest()));
  StuckBatch stuck;
  ASSERT_TRUE(stuck.submit(dev));
  ASSERT_TRUE(eventually([&] { return (*h)->gvt().sched_stats(&vm->vgpu()).workloads >= 1; }));
  vm->guest().mmio_write32(reg::GEN6_GDRST, kGdrstBlt);
  ASSERT_TRUE(eventually([&] { return (*h)->gvt().sched_stats(&vm->vgpu()).preempted == 1; }));
  EXPECT_EQ(vm->vgpu().status(), "ok");
  EXPECT_EQ((*h)->gvt().sched_stats(&vm->vgpu()).hangs, 0u);
  dev.fini();
}

// Engine state lives only in context images: a vGPU that loads every GPR
// with its own pattern, switched with one that only stores them, never lets
// the other see a value of its own. Switches are checked to have happened.
TEST(Scheduler, NoEngineStateCarriesAcrossVgpuSwitches) {
  SchedParams sp = MediatedHost::kTestSched;
  sp.tick_ns = 100'000;  // many switches in a short run
  sp.balance_ns = 1'000'000;
  auto h = MediatedHost::create(sp);
  ASSERT_TRUE(h) << h.error();
  auto writer = new_vm(**h), reader = new_vm(**h);
  ASSERT_TRUE(writer && reader);
  constexpr int kRounds = 60;
  std::atomic<int> bad_values{0}, failures{0};
  auto run = [&](GuestVm& vm, bool write) {
    drv::Device dev;
    if (!dev.init(vm.guest())) return void(++failures);
    drv::Context ctx;
    drv::Batch batch;
    auto out = dev.create_bo(kPageSize, 0);
    if (!out || !ctx.init(dev, 0) || !batch.init(ctx, kPageSize)) return void(++failures);
    auto va = ctx.bind(*out);
    if (!va) return void(++failures);
    for (int i = 0; i < kRounds; ++i) {
      if (!batch.begin()) return void(++failures);
      // The writer reads its own values back: the stores do see the GPRs.
      auto value = [&](uint32_t g) { return write ? 0xA5000000u | (i << 8) | g : 0u; };
      for (uint32_t g = 0; g < 2 * kNumGprs; ++g) {
        if (write) batch.cmds().lri(kEngineBase[0] + reg::CS_GPR0 + 4 * g, value(g));
        batch.cmds().srm(kEngineBase[0] + reg::CS_GPR0 + 4 * g, *va + 4 * g, false);
      }
      auto seq = batch.submit();
      if (!seq || !ctx.wait(*seq)) return void(++failures);
      for (uint32_t g = 0; g < 2 * kNumGprs; ++g)
        if (out->dwords()[g] != value(g)) ++bad_values;
    }
    batch.fini();
    ctx.unbind(*out, *va);
    dev.destroy_bo(*out);
    ctx.fini();
    dev.fini();
  };
  std::thread a([&] { run(*writer, true); });
  std::thread b([&] { run(*reader, false); });
  a.join();
  b.join();
  EXPECT_EQ(failures, 0);
  EXPECT_EQ(bad_values, 0);
  EXPECT_GE((*h)->gvt().sched_stats(&writer->vgpu()).switches_in, 2u);
  EXPECT_GE((*h)->gvt().sched_stats(&reader->vgpu()).switches_in, 2u);
  EXPECT_GE((*h)->gvt().switch_stats().switches, 4u);
}

}  // namespace
}  // namespace gvt
