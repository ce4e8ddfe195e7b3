// crosvm-style snippet tests: a few bytes of machine code at CPL0 in a real
// KVM VM, with the exact exits asserted.
#include <thread>

#include "kvm_fixture.h"

namespace hv::test {
namespace {

using vmm_abi::kPvBase;

// mov rax, imm64
std::vector<uint8_t> mov_rax(uint64_t v) {
  std::vector<uint8_t> c = {0x48, 0xB8};
  for (int i = 0; i < 8; ++i) c.push_back(static_cast<uint8_t>(v >> (8 * i)));
  return c;
}
// mov rbx, imm64
std::vector<uint8_t> mov_rbx(uint64_t v) {
  std::vector<uint8_t> c = {0x48, 0xBB};
  for (int i = 0; i < 8; ++i) c.push_back(static_cast<uint8_t>(v >> (8 * i)));
  return c;
}
void append(std::vector<uint8_t>& a, const std::vector<uint8_t>& b) { a.insert(a.end(), b.begin(), b.end()); }
// mov [rbx], rax ; mov [rbx], eax ; mov eax, [rbx]
const std::vector<uint8_t> kStore64 = {0x48, 0x89, 0x03};
const std::vector<uint8_t> kStore32 = {0x89, 0x03};
const std::vector<uint8_t> kLoad32 = {0x8B, 0x03};

// Writes `code` then EXIT(code in rax) through the PV register.
std::vector<uint8_t> with_exit(std::vector<uint8_t> code, uint64_t exit_code) {
  append(code, mov_rbx(kPvBase + vmm_abi::kPvExit));
  append(code, mov_rax(exit_code));
  append(code, kStore64);
  code.push_back(0xEB);  // jmp $
  code.push_back(0xFE);
  return code;
}

struct Recorder : BusDevice {
  std::vector<std::pair<uint64_t, uint64_t>> writes;
  std::vector<uint64_t> reads;
  void read(uint64_t off, uint8_t* data, uint32_t len) override {
    reads.push_back(off);
    uint32_t v = 0xC0FFEE;
    std::memcpy(data, &v, len < 4 ? len : 4);
  }
  void write(uint64_t off, const uint8_t* data, uint32_t len) override {
    uint64_t v = 0;
    std::memcpy(&v, data, len);
    writes.push_back({off, v});
  }
};

TEST(KvmSnippet, ExitRegisterEndsTheVmWithItsCode) {
  GVIRT_REQUIRE_KVM();
  TestRam ram(32 << 20);
  auto vm = make_vm(ram, with_exit({}, 0));
  ASSERT_TRUE(vm);
  vm->start();
  VmStatus s = vm->wait();
  EXPECT_TRUE(s.ok) << s.text;
  EXPECT_EQ(s.text, "ok");
  EXPECT_EQ(vm->exits().mmio, 1u);
}

TEST(KvmSnippet, MmioWritesAndReadsReachTheDeviceInOrder) {
  GVIRT_REQUIRE_KVM();
  TestRam ram(32 << 20);
  std::vector<uint8_t> code;
  append(code, mov_rbx(0xC0000000));
  append(code, mov_rax(0x1111));
  append(code, kStore32);
  append(code, mov_rbx(0xC0000010));
  append(code, kLoad32);
  append(code, mov_rbx(0xC0000020));
  append(code, kStore64);  // writes back what it read
  auto vm = make_vm(ram, with_exit(code, 7));
  ASSERT_TRUE(vm);
  Recorder dev;
  ASSERT_TRUE(vm->trap_mmio(0xC0000000, 0x1000, &dev));
  vm->start();
  VmStatus s = vm->wait();
  EXPECT_FALSE(s.ok);
  EXPECT_EQ(s.exit_code, 7u);
  ASSERT_EQ(dev.writes.size(), 2u);
  EXPECT_EQ(dev.writes[0], (std::pair<uint64_t, uint64_t>{0, 0x1111}));
  ASSERT_EQ(dev.reads.size(), 1u);
  EXPECT_EQ(dev.reads[0], 0x10u);
  EXPECT_EQ(dev.writes[1].first, 0x20u);
  EXPECT_EQ(dev.writes[1].second, 0xC0FFEEu);
  EXPECT_EQ(vm->exits().mmio, 4u);  // three device accesses and EXIT
}

TEST(KvmSnippet, ConsoleLineCostsOneExit) {
  GVIRT_REQUIRE_KVM();
  TestRam ram(32 << 20);
  const char msg[] = "hello from the guest";
  uint64_t gpa = vmm_abi::kImageBase + 0x800;
  std::vector<uint8_t> code;
  append(code, mov_rbx(kPvBase + vmm_abi::kPvConsole));
  append(code, mov_rax((uint64_t{sizeof msg - 1} << 48) | gpa));
  append(code, kStore64);
  code = with_exit(code, 0);
  code.resize(0x800, 0x90);
  code.insert(code.end(), msg, msg + sizeof msg - 1);
  auto vm = make_vm(ram, code);
  ASSERT_TRUE(vm);
  vm->start();
  ASSERT_TRUE(vm->wait().ok);
  auto lines = vm->console_lines();
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0], msg);
  EXPECT_EQ(vm->exits().mmio, 2u);
}

TEST(KvmSnippet, TripleFaultGivesAClearStatus) {
  GVIRT_REQUIRE_KVM();
  TestRam ram(32 << 20);
  // lidt of a zero-limit IDT, then ud2: no handler anywhere -> shutdown.
  std::vector<uint8_t> code = {0x0F, 0x01, 0x1C, 0x25, 0x00, 0x0F, 0x00, 0x00,  // lidt [0xF00]
                               0x0F, 0x0B};                                      // ud2
  auto vm = make_vm(ram, code);
  ASSERT_TRUE(vm);
  vm->start();
  VmStatus s = vm->wait();
  EXPECT_FALSE(s.ok);
  EXPECT_NE(s.text.find("triple fault"), std::string::npos) << s.text;
}

TEST(KvmSnippet, InstructionKvmCannotEmulateGivesAClearStatus) {
  GVIRT_REQUIRE_KVM();
  TestRam ram(32 << 20);
  // On this host CPL0 code is emulated, and the emulator cannot run SSE
  // state instructions: ldmxcsr ends in an internal-error exit.
  std::vector<uint8_t> code = {0x0F, 0xAE, 0x14, 0x25, 0x00, 0x9F, 0x00, 0x00};  // ldmxcsr [0x9F00]
  auto vm = make_vm(ram, with_exit(code, 0));
  ASSERT_TRUE(vm);
  vm->start();
  VmStatus s = vm->wait();
  if (s.ok) GTEST_SKIP() << "this host runs CPL0 natively: nothing here provokes an internal error";
  EXPECT_NE(s.text.find("internal error"), std::string::npos) << "status: " << s.text;
}

TEST(KvmSnippet, GuestThatNeverExitsTimesOut) {
  GVIRT_REQUIRE_KVM();
  TestRam ram(32 << 20);
  // CPL0 loops are emulated slowly here, but still never exit.
  auto vm = make_vm(ram, {0xEB, 0xFE}, 0.5);
  ASSERT_TRUE(vm);
  vm->start();
  VmStatus s = vm->wait();
  EXPECT_FALSE(s.ok);
  EXPECT_NE(s.text.find("timeout"), std::string::npos) << s.text;
}

TEST(KvmSnippet, WriteProtectedPageTrapsCommitsAndCallsBack) {
  GVIRT_REQUIRE_KVM();
  TestRam ram(32 << 20);
  const uint64_t page = 0x400000;
  std::vector<uint8_t> code;
  append(code, mov_rbx(page + 8));
  append(code, mov_rax(0xFEEDFACE));
  append(code, kStore64);
  append(code, mov_rbx(page + 0x1008));  // the next page is not protected
  append(code, kStore64);
  auto vm = make_vm(ram, with_exit(code, 0));
  ASSERT_TRUE(vm);
  std::vector<std::pair<uint64_t, uint64_t>> seen;
  ASSERT_TRUE(vm->protect_page(page / 4096, [&](uint64_t gpa, const uint8_t* d, uint32_t len) {
    uint64_t v = 0;
    std::memcpy(&v, d, len);
    // The write is already in RAM when the callback runs.
    EXPECT_EQ(*reinterpret_cast<uint64_t*>(ram.host + gpa), v);
    seen.push_back({gpa, v});
  }));
  vm->start();
  ASSERT_TRUE(vm->wait().ok);
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].first, page + 8);
  EXPECT_EQ(seen[0].second, 0xFEEDFACEu);
  EXPECT_EQ(*reinterpret_cast<uint64_t*>(ram.host + page + 0x1008), 0xFEEDFACEu);
  EXPECT_EQ(vm->exits().ro_memslot, 1u);
  EXPECT_EQ(vm->protected_pages(), 1u);
}

TEST(KvmSnippet, UnprotectRestoresPlainWrites) {
  GVIRT_REQUIRE_KVM();
  TestRam ram(32 << 20);
  auto vm = make_vm(ram, with_exit({}, 0));
  ASSERT_TRUE(vm);
  for (uint64_t gfn = 0x400; gfn < 0x410; ++gfn) ASSERT_TRUE(vm->protect_page(gfn, nullptr));
  EXPECT_EQ(vm->protected_pages(), 16u);
  for (uint64_t gfn = 0x400; gfn < 0x410; ++gfn) vm->unprotect_page(gfn);
  EXPECT_EQ(vm->protected_pages(), 0u);
  vm->start();
  EXPECT_TRUE(vm->wait().ok);
  EXPECT_EQ(vm->exits().ro_memslot, 0u);
}

TEST(KvmSnippet, ProtectionCapIsEnforced) {
  GVIRT_REQUIRE_KVM();
  TestRam ram(32 << 20);
  VmConfig c;
  c.ram = ram.backing();
  c.wp_cap = 4;
  auto vm = Vm::create(c);
  ASSERT_TRUE(vm) << vm.error();
  for (uint64_t gfn = 0x400; gfn < 0x404; ++gfn) EXPECT_TRUE((*vm)->protect_page(gfn, nullptr));
  EXPECT_FALSE((*vm)->protect_page(0x404, nullptr));
  EXPECT_FALSE((*vm)->protect_page(ram.size / 4096, nullptr));  // outside RAM
}

TEST(KvmSnippet, MpreadWriteAndPinAreBoundsChecked) {
  GVIRT_REQUIRE_KVM();
  TestRam ram(32 << 20);
  auto vm = make_vm(ram, with_exit({}, 0));
  ASSERT_TRUE(vm);
  uint32_t v = 0x12345678, out = 0;
  EXPECT_TRUE(vm->write_gpa(0x200000, &v, 4));
  EXPECT_TRUE(vm->read_gpa(0x200000, &out, 4));
  EXPECT_EQ(out, v);
  EXPECT_FALSE(vm->write_gpa(ram.size - 2, &v, 4));
  EXPECT_FALSE(vm->read_gpa(~0ull - 1, &out, 4));
  EXPECT_EQ(vm->pin_gfn(5), std::optional<uint64_t>(5 * 4096));
  EXPECT_FALSE(vm->pin_gfn(ram.size / 4096));
  EXPECT_FALSE(vm->trap_mmio(0x1000, 0x1000, nullptr));  // inside RAM: refused
}

TEST(KvmSnippet, MapGpaServesHostMemoryWithNoExit) {
  GVIRT_REQUIRE_KVM();
  TestRam ram(32 << 20);
  void* win = mmap(nullptr, 0x2000, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  ASSERT_NE(win, MAP_FAILED);
  std::vector<uint8_t> code;
  append(code, mov_rbx(0x80000000));
  append(code, mov_rax(0xA5A5));
  append(code, kStore64);
  auto vm = make_vm(ram, with_exit(code, 0));
  ASSERT_TRUE(vm);
  ASSERT_TRUE(vm->map_gpa(0x80000000, 0x2000, win));
  vm->start();
  ASSERT_TRUE(vm->wait().ok);
  EXPECT_EQ(*static_cast<uint64_t*>(win), 0xA5A5u);
  EXPECT_EQ(vm->exits().mmio, 1u);  // only EXIT
  munmap(win, 0x2000);
}

}  // namespace
}  // namespace hv::test
