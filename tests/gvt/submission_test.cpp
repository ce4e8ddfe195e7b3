// Mediated submission end to end, in one process: the real driver and the
// real workloads run as a guest on a vGPU (cli::VgpuGuest over a
// FakeMpt), every ELSP becomes a scanned shadow workload on the GPU model,
// and the result must be exactly what the same workload gives natively.
// Without KVM this runs everywhere, and under TSan in CI.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>

#include <chrono>

#include <cstring>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "common/gen8/cmds.h"
#include "common/gen8/encode.h"
#include "common/gen8/layout.h"
#include "common/gen8/regs.h"
#include "driver/context.h"
#include "driver/device.h"
#include "gvt/fb_decoder.h"
#include "gvt/gvt.h"
#include "host/hw_platform.h"
#include "hw/gpu.h"
#include "support/guest_runs.h"
#include "support/mediated_host.h"
#include "workloads/workload.h"

namespace gvt {
namespace {

using namespace gen8;
using test_support::expect_native;
using test_support::GuestVm;
using test_support::kFrames;
using test_support::MediatedHost;
using test_support::native;
using test_support::Outcome;
using test_support::run_guest;

// Guest memory the mediator may write and the guest's driver reads: where a
// host address would leak to. Found from what the guest programmed, while
// its objects are alive: every context it submitted (all pages of the image,
// and the ring its image names) and each engine's HWSP.
struct GuestPages {
  std::set<uint64_t> gpas;  // page-aligned
  std::set<uint64_t> hwsps;
  std::set<uint32_t> ctx_ids;
  int contexts = 0;
};

void collect(cli::VgpuGuest& g, drv::Device& dev, GuestPages* out) {
  auto add_gm = [&](uint64_t gm, uint64_t bytes) {
    for (uint64_t off = 0; off < bytes; off += kPageSize)
      if (auto gpa = g.gm_to_gpa(gm + off)) out->gpas.insert(*gpa & ~(kPageSize - 1));
  };
  std::set<uint64_t> seen;
  for (const auto& el : g.elsp()) {
    const uint32_t lrca = static_cast<uint32_t>(el.desc) & kDescLrcaMask;
    out->ctx_ids.insert(static_cast<uint32_t>(el.desc >> 32));
    if (!seen.insert(lrca).second) continue;
    out->contexts++;
    add_gm(lrca, uint64_t{el.engine == 0 ? kCtxRcsPages : kCtxBcsPages} * kPageSize);
    auto regs = g.gm_to_gpa(lrca + kCtxRegStatePage * kPageSize);
    if (!regs) continue;
    const auto* r = reinterpret_cast<const uint32_t*>(g.ram() + *regs);
    add_gm(r[ctx::RING_START] & ~0xFFFu, ring_size(r[ctx::RING_CTL]));
  }
  for (int e = 0; e < kNumEngines; ++e)
    if (auto gpa = g.gm_to_gpa(dev.seqno_gm(e) & ~(kPageSize - 1))) {
      out->gpas.insert(*gpa);
      out->hwsps.insert(*gpa);
    }
}

// What counts as a host address in guest memory. Host memory is below
// 4 GiB, so every host address fits in a dword and checking every aligned
// dword covers 8-byte values too.
//  - a host physical address: MediatedHost hands out nothing below
//    kHostPagesFrom, so any dword in [kHostPagesFrom, kHostMem) names host
//    memory (shadow pages, the host's HWSP, the VM's own RAM by HPA);
//  - a GM address in the host's hidden GM, where the shadow contexts, rings
//    and batches and the host's HWSP live. (The host's aperture share starts
//    at GM 0, so its addresses look like any small number and are not
//    checked; the host puts nothing there.)
// In the HWSP, each CSB entry's context id must be one the guest submitted:
// never a host context id.
struct Leak {
  uint64_t gpa;
  uint32_t value;
};

std::vector<Leak> find_leaks(const uint8_t* ram, const GuestPages& pages) {
  const drv::PvInfo host = host_ranges();
  auto host_address = [&](uint32_t v) {
    return (v >= MediatedHost::kHostPagesFrom && v < MediatedHost::kHostMem) ||
           (v >= host.hidden_base && v - host.hidden_base < host.hidden_size);
  };
  std::vector<Leak> leaks;
  for (uint64_t gpa : pages.gpas) {
    const auto* dw = reinterpret_cast<const uint32_t*>(ram + gpa);
    for (uint32_t i = 0; i < kPageSize / 4; ++i)
      if (host_address(dw[i])) leaks.push_back({gpa + i * 4, dw[i]});
  }
  for (uint64_t gpa : pages.hwsps) {
    const auto* dw = reinterpret_cast<const uint32_t*>(ram + gpa);
    for (uint32_t i = 0; i < kCsbEntries; ++i) {
      const uint32_t id = dw[kHwspCsb0 + 2 * i + 1];
      if (id && !pages.ctx_ids.count(id)) leaks.push_back({gpa + (kHwspCsb0 + 2 * i + 1) * 4, id});
    }
  }
  return leaks;
}

class SubmissionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto m = MediatedHost::create();
    ASSERT_TRUE(m) << m.error();
    host = std::move(*m);
  }
  std::unique_ptr<GuestVm> new_vm() {
    auto vm = GuestVm::create(host->gpu(), host->gvt());
    EXPECT_TRUE(vm) << vm.error();
    return vm ? std::move(*vm) : nullptr;
  }
  std::unique_ptr<MediatedHost> host;
};

class SubmissionWorkload : public SubmissionTest, public ::testing::WithParamInterface<std::string> {};

TEST_P(SubmissionWorkload, GuestGetsTheNativeFramesAndNoHostAddress) {
  auto vm = new_vm();
  ASSERT_TRUE(vm);
  GuestPages pages;
  const Outcome got =
      run_guest(*host, *vm, GetParam(), kFrames, [&](drv::Device& dev) { collect(vm->guest(), dev, &pages); });
  expect_native(got, GetParam());
  const Traps t = vm->vgpu().traps();
  EXPECT_EQ(vm->vgpu().status(), "ok");
  EXPECT_EQ(t.refused_submission, 0u);
  EXPECT_EQ(t.flips_emulated, kFrames);
  EXPECT_GE(t.workloads, kFrames);
  EXPECT_GT(t.commands_scanned, 0u);
  EXPECT_EQ(vm->guest().unclaimed_mmio(), 0u);
  EXPECT_EQ(vm->guest().refused_frees(), 0u);
  EXPECT_EQ(vm->guest().pages_in_use(), 0u) << "the guest driver leaked pages";

  // The scan must cover something: the workload's context, its ring, both HWSPs.
  EXPECT_EQ(pages.contexts, 1);
  EXPECT_EQ(pages.hwsps.size(), size_t{kNumEngines});
  EXPECT_GE(pages.gpas.size(), size_t{kCtxBcsPages} + 4 + kNumEngines);
  // And it must be able to fail: a shadow context's GM planted in a page is found.
  const std::vector<uint32_t> shadows = vm->vgpu().shadow_contexts();
  ASSERT_FALSE(shadows.empty());
  {
    std::vector<uint8_t> planted(kPageSize, 0);
    std::memcpy(planted.data() + 0x40, &shadows[0], 4);
    GuestPages one;
    one.gpas = {0};
    EXPECT_EQ(find_leaks(planted.data(), one).size(), 1u);
  }
  // Drained: once destroyed, nothing but this test writes the guest's RAM.
  vm->destroy_vgpu();
  EXPECT_EQ(vm->mpt().pinned_pages(), 0u);
  for (const Leak& l : find_leaks(vm->guest().ram(), pages))
    ADD_FAILURE() << "host value 0x" << std::hex << l.value << " in guest memory at GPA 0x" << l.gpa;
}

INSTANTIATE_TEST_SUITE_P(Workloads, SubmissionWorkload,
                         ::testing::Values("fill", "desktop2d", "submit", "ppgtt-churn", "lights", "arena"),
                         [](const auto& info) {
                           std::string name = info.param;  // gtest names: no '-'
                           std::replace(name.begin(), name.end(), '-', '_');
                           return name;
                         });

// Two VMs on one GPU submit at once from their own vCPU threads: their
// workloads interleave on the engines, each still draws its native frames.
TEST_F(SubmissionTest, TwoVgpusAtOnceEachGetTheirNativeFrames) {
  const std::string names[2] = {"fill", "submit"};
  for (const auto& n : names) ASSERT_EQ(native(n).error, "") << n;
  std::unique_ptr<GuestVm> vms[2] = {new_vm(), new_vm()};
  ASSERT_TRUE(vms[0] && vms[1]);
  ASSERT_NE(vms[0]->vgpu().id(), vms[1]->vgpu().id());
  Outcome got[2];
  {
    std::thread a([&] { got[0] = run_guest(*host, *vms[0], names[0], kFrames); });
    std::thread b([&] { got[1] = run_guest(*host, *vms[1], names[1], kFrames); });
    a.join();
    b.join();
  }
  for (int i = 0; i < 2; ++i) {
    expect_native(got[i], names[i]);
    EXPECT_EQ(vms[i]->vgpu().status(), "ok");
  }
  EXPECT_FALSE(got[0].screen == got[1].screen);
}

}  // namespace
}  // namespace gvt
