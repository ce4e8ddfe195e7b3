// KVM tests run wherever /dev/kvm exists; they skip, loudly, only where it
// does not. A /dev/kvm that exists but cannot be opened fails.
#pragma once

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstring>
#include <string>
#include <memory>
#include <vector>

#include "cli/native.h"
#include "common/vmm_abi.h"
#include "hv/flat_elf.h"
#include "hv/vm.h"

namespace hv::test {

#define GVIRT_REQUIRE_KVM()                                                                 \
  do {                                                                                      \
    std::string why = ::hv::kvm_unavailable_reason();                                       \
    if (!why.empty()) GTEST_SKIP() << "KVM TEST SKIPPED: " << why;                          \
    int fd = ::open("/dev/kvm", O_RDWR | O_CLOEXEC);                                        \
    ASSERT_GE(fd, 0) << "/dev/kvm exists but cannot be opened: " << std::strerror(errno);   \
    ::close(fd);                                                                            \
  } while (0)

// Guest RAM backed by its own memfd (no GPU model needed).
struct TestRam {
  int fd = -1;
  uint8_t* host = nullptr;
  uint64_t size = 0;
  explicit TestRam(uint64_t bytes) : size(bytes) {
    fd = memfd_create("kvm-test-ram", MFD_CLOEXEC);
    if (fd < 0 || ftruncate(fd, static_cast<off_t>(bytes)) != 0) return;
    void* p = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    host = p == MAP_FAILED ? nullptr : static_cast<uint8_t*>(p);
  }
  ~TestRam() {
    if (host) munmap(host, size);
    if (fd >= 0) close(fd);
  }
  RamBacking backing() const { return RamBacking{fd, 0, size, host}; }
};

// A console-log directory of the running test's own: ctest runs tests in
// parallel, and every run names its logs vm0.log, vm1.log, ...
inline std::string test_log_dir() {
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  std::string name = std::string(info->test_suite_name()) + "." + info->name();
  for (char& c : name)
    if (c == '/') c = '_';
  return ::testing::TempDir() + "gvirt-" + name;
}

// The native run a VM run is compared with; its failure fails the test.
inline cli::RunResult native_baseline(const std::string& workload, uint32_t frames) {
  cli::NativeOptions nat;
  nat.workload = workload;
  nat.frames = frames;
  auto r = cli::run_native(nat);
  EXPECT_TRUE(r) << (r ? "" : r.error());
  if (!r) return {};
  EXPECT_EQ(r->status, "ok");
  return std::move(*r);
}

inline std::unique_ptr<Vm> make_vm(TestRam& ram, const std::vector<uint8_t>& code,
                                   double timeout_s = 10) {
  VmConfig c;
  c.ram = ram.backing();
  c.timeout_s = timeout_s;
  auto vm = Vm::create(c);
  EXPECT_TRUE(vm) << (vm ? "" : vm.error());
  if (!vm) return nullptr;
  auto elf = make_flat_elf(code, vmm_abi::kImageBase);
  auto l = (*vm)->load(elf);
  EXPECT_TRUE(l) << (l ? "" : l.error());
  return std::move(*vm);
}

}  // namespace hv::test
