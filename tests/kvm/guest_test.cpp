// The real guest image under KVM: the runtime's self-tests (kvm-unit-tests
// style), error paths, and pass-through runs of every workload that must give
// the native frame checksum.
#include <atomic>
#include <filesystem>
#include <thread>

#include "cli/native.h"
#include "cli/passthrough.h"
#include "hv/elf_loader.h"
#include "kvm_fixture.h"

namespace hv::test {
namespace {

using namespace vmm_abi;

struct GuestRun {
  VmStatus status;
  GuestResult result{};
  std::vector<std::string> log;
  uint64_t msis = 0;
};

// Boots the guest image with `cmdline`; with `msi_every_us` > 0 a host
// thread injects an MSI (vector 0x40) that often while the guest runs.
GuestRun boot_guest(const std::string& cmdline, int msi_every_us = 0) {
  GuestRun out;
  auto elf = read_file(cli::guest_image_path());
  EXPECT_TRUE(elf) << (elf ? "" : elf.error());
  if (!elf) return out;
  TestRam ram(64 << 20);
  VmConfig c;
  c.ram = ram.backing();
  c.cmdline = cmdline;
  c.timeout_s = 60;
  auto vm = Vm::create(c);
  EXPECT_TRUE(vm) << (vm ? "" : vm.error());
  if (!vm) return out;
  auto l = (*vm)->load(*elf);
  EXPECT_TRUE(l) << (l ? "" : l.error());
  if (!l) return out;
  std::atomic<bool> done{false};
  std::thread injector;
  (*vm)->start();
  if (msi_every_us > 0)
    injector = std::thread([&] {
      while (!done) {
        (*vm)->inject_msi(0xFEE00000, 0x40);
        std::this_thread::sleep_for(std::chrono::microseconds(msi_every_us));
      }
    });
  out.status = (*vm)->wait();
  done = true;
  if (injector.joinable()) injector.join();
  std::memcpy(&out.result, ram.host + kResult, sizeof out.result);
  out.log = (*vm)->console_lines();
  out.msis = (*vm)->msis_injected();
  return out;
}

std::string joined(const std::vector<std::string>& lines) {
  std::string s;
  for (const auto& l : lines) s += l + "\n";
  return s;
}

void expect_selftest_passes(const GuestRun& r) {
  EXPECT_TRUE(r.status.ok) << r.status.text << "\n" << joined(r.log);
  EXPECT_EQ(r.result.magic, kResultMagic);
  EXPECT_GT(r.result.tests_run, 0u);
  EXPECT_EQ(r.result.tests_failed, 0u) << joined(r.log);
}

TEST(KvmGuest, TimerSelfTest) {
  GVIRT_REQUIRE_KVM();
  expect_selftest_passes(boot_guest("test=timer"));
}

TEST(KvmGuest, PagesSelfTest) {
  GVIRT_REQUIRE_KVM();
  expect_selftest_passes(boot_guest("test=pages"));
}

TEST(KvmGuest, MsiDelivery) {
  GVIRT_REQUIRE_KVM();
  auto r = boot_guest("test=msi", 200);
  expect_selftest_passes(r);
  EXPECT_GE(r.msis, 100u);
}

TEST(KvmGuest, InterruptsStayEnabledAtCpl3) {
  GVIRT_REQUIRE_KVM();
  expect_selftest_passes(boot_guest("test=if", 300));
}

TEST(KvmGuest, WaitLosesNoWakeupUnderStress) {
  GVIRT_REQUIRE_KVM();
  expect_selftest_passes(boot_guest("test=wait", 37));
}

TEST(KvmGuest, ExceptionIsReportedWithRegisters) {
  GVIRT_REQUIRE_KVM();
  auto r = boot_guest("test=exceptions");
  EXPECT_FALSE(r.status.ok);
  EXPECT_EQ(r.status.exit_code, 0x106u) << r.status.text;  // #UD
  EXPECT_NE(joined(r.log).find("exception 6"), std::string::npos) << joined(r.log);
  EXPECT_NE(joined(r.log).find("rip"), std::string::npos);
}

TEST(KvmGuest, PciConfigOfThePassedThroughGpu) {
  GVIRT_REQUIRE_KVM();
  cli::VmSpec spec;
  spec.workload = "fill";
  cli::VmRunOptions opt;
  opt.log_dir = test_log_dir();
  opt.guest_cmdline = "test=pci";
  auto r = cli::run_passthrough(spec, opt);
  ASSERT_TRUE(r) << r.error();
  EXPECT_EQ(r->status, "ok");
}

TEST(KvmGuest, CorruptElfIsRefusedClearly) {
  GVIRT_REQUIRE_KVM();
  TestRam ram(32 << 20);
  VmConfig c;
  c.ram = ram.backing();
  auto vm = Vm::create(c);
  ASSERT_TRUE(vm) << vm.error();
  std::vector<uint8_t> junk(4096, 0x5A);
  auto l = (*vm)->load(junk);
  ASSERT_FALSE(l);
  EXPECT_NE(l.error().find("ELF"), std::string::npos) << l.error();
}

// The driver and the workloads inside a VM that owns the GPU: same frames as
// natively.
class KvmPassthrough : public ::testing::TestWithParam<std::string> {};

TEST_P(KvmPassthrough, WorkloadGivesTheNativeChecksum) {
  GVIRT_REQUIRE_KVM();
  const cli::RunResult native = native_baseline(GetParam(), 30);
  ASSERT_EQ(native.status, "ok");
  cli::VmSpec spec;
  spec.workload = GetParam();
  spec.frames = 30;
  cli::VmRunOptions opt;
  opt.log_dir = test_log_dir();
  auto pt = cli::run_passthrough(spec, opt);
  ASSERT_TRUE(pt) << pt.error();
  EXPECT_EQ(pt->status, "ok");
  EXPECT_EQ(pt->frames, 30u);
  EXPECT_EQ(pt->frame_checksum, native.frame_checksum);
  EXPECT_EQ(pt->guest_checksum, pt->frame_checksum);
  EXPECT_EQ(pt->commands_executed, native.commands_executed);
  EXPECT_EQ(pt->pixels_written, native.pixels_written);
  ASSERT_TRUE(pt->exits);
  EXPECT_GT(pt->exits->mmio, 0u);
  EXPECT_EQ(pt->exits->ro_memslot, 0u);
}

INSTANTIATE_TEST_SUITE_P(Workloads, KvmPassthrough, ::testing::Values("fill", "desktop2d", "submit"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace hv::test
