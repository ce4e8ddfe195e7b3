// 7 KVM VMs at once, for every workload in both PPGTT modes
// (tests/support/many_vms.h); tests/scale runs the same checks on soft VMs.
#include "kvm_fixture.h"
#include "support/many_vms.h"

namespace hv::test {
namespace {

using test_support::ManyVmsCase;

class KvmSevenVms : public ::testing::TestWithParam<ManyVmsCase> {};

TEST_P(KvmSevenVms, EachDrawsItsNativeFrames) {
  GVIRT_REQUIRE_KVM();
  cli::VmRunOptions opt;
  opt.log_dir = test_log_dir();
  opt.timeout_s = 120;
  test_support::expect_seven_vms_native(GetParam(), opt, 10, 128);
}

INSTANTIATE_TEST_SUITE_P(Workloads, KvmSevenVms, ::testing::ValuesIn(test_support::every_workload_both_modes()),
                         test_support::case_name);

}  // namespace
}  // namespace hv::test
