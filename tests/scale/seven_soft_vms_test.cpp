// 7 soft VMs at once, for every workload in both PPGTT modes
// (tests/support/many_vms.h); tests/kvm/seven_vms_test.cpp runs the same
// checks on KVM VMs.
#include "support/many_vms.h"

namespace test_support {
namespace {

class SevenSoftVms : public ::testing::TestWithParam<ManyVmsCase> {};

TEST_P(SevenSoftVms, EachDrawsItsNativeFrames) {
  cli::VmRunOptions opt;
  opt.vmm = "soft";
  opt.log_dir = ::testing::TempDir();
  expect_seven_vms_native(GetParam(), opt, 4, 64);
}

INSTANTIATE_TEST_SUITE_P(Workloads, SevenSoftVms, ::testing::ValuesIn(every_workload_both_modes()), case_name);

}  // namespace
}  // namespace test_support
