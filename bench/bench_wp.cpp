// The cost of write protection on this host: protecting and unprotecting
// guest pages (read-only memslot splits) while a CPL3 guest keeps sweeping
// its RAM, and the cost of one trapped write. These figures decide how the
// PPGTT is virtualized (shadow vs 2-stage); docs/wp-cost.md records them.
#include <benchmark/benchmark.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <thread>
#include <vector>

#include "common/vmm_abi.h"
#include "hv/flat_elf.h"
#include "hv/vm.h"

namespace {

using namespace vmm_abi;
using clk = std::chrono::steady_clock;

constexpr uint64_t kRam = 256ull << 20;
constexpr uint64_t kCounter = 0x20000;        // sweeps done, written by the guest
constexpr uint64_t kSweepBase = 0x1000000;    // 64 MiB swept with a 4 KiB stride
constexpr uint64_t kProtectBase = 0x8000000;  // pages to protect: 128 MiB.. (every other page)
constexpr uint64_t kTrapPage = 0x4000000;

void put64(std::vector<uint8_t>& c, uint64_t v) {
  for (int i = 0; i < 8; ++i) c.push_back(static_cast<uint8_t>(v >> (8 * i)));
}

// Drops to CPL3 and runs `user` there (CPL0 code is emulated on this host).
std::vector<uint8_t> at_cpl3(const std::vector<uint8_t>& user) {
  std::vector<uint8_t> c;
  c.push_back(0x6A); c.push_back(kSelUserData);                 // push ss
  c.push_back(0x68); for (int i = 0; i < 4; ++i) c.push_back(static_cast<uint8_t>(0x1F0000u >> (8 * i)));  // push rsp
  c.push_back(0x6A); c.push_back(0x02);                         // push rflags (IF=0)
  c.push_back(0x6A); c.push_back(kSelUserCode);                 // push cs
  c.push_back(0x48); c.push_back(0x8D); c.push_back(0x05);      // lea rax, [rip+4]
  for (uint8_t b : {0x03, 0x00, 0x00, 0x00}) c.push_back(b);
  c.push_back(0x50);                                            // push rax
  c.push_back(0x48); c.push_back(0xCF);                         // iretq
  c.insert(c.end(), user.begin(), user.end());
  return c;
}

// Forever: write one dword per 4 KiB over 64 MiB, then count the sweep.
std::vector<uint8_t> sweeper() {
  std::vector<uint8_t> u;
  u.push_back(0x48); u.push_back(0xBF); put64(u, kSweepBase);   // mov rdi, base
  u.push_back(0x48); u.push_back(0xC7); u.push_back(0xC1);      // mov rcx, 16384
  for (uint8_t b : {0x00, 0x40, 0x00, 0x00}) u.push_back(b);
  u.push_back(0x89); u.push_back(0x0F);                         // mov [rdi], ecx
  u.push_back(0x48); u.push_back(0x81); u.push_back(0xC7);      // add rdi, 4096
  for (uint8_t b : {0x00, 0x10, 0x00, 0x00}) u.push_back(b);
  u.push_back(0x48); u.push_back(0xFF); u.push_back(0xC9);      // dec rcx
  u.push_back(0x75); u.push_back(0xF0);                         // jnz -16
  u.push_back(0x48); u.push_back(0xFF); u.push_back(0x04); u.push_back(0x25);  // inc qword [kCounter]
  for (int i = 0; i < 4; ++i) u.push_back(static_cast<uint8_t>(kCounter >> (8 * i)));
  u.push_back(0xEB); u.push_back(static_cast<uint8_t>(-(int)(u.size() + 1)));  // jmp start
  return at_cpl3(u);
}

// N writes to one protected page, then EXIT.
std::vector<uint8_t> trapper(uint32_t n) {
  std::vector<uint8_t> u;
  u.push_back(0x48); u.push_back(0xBF); put64(u, kTrapPage);    // mov rdi, page
  u.push_back(0x48); u.push_back(0xC7); u.push_back(0xC1);      // mov rcx, n
  for (int i = 0; i < 4; ++i) u.push_back(static_cast<uint8_t>(n >> (8 * i)));
  u.push_back(0x48); u.push_back(0x89); u.push_back(0x0F);      // mov [rdi], rcx
  u.push_back(0x48); u.push_back(0xFF); u.push_back(0xC9);      // dec rcx
  u.push_back(0x75); u.push_back(0xF8);                         // jnz -8
  u.push_back(0x48); u.push_back(0xBF); put64(u, kPvBase + kPvExit);  // mov rdi, EXIT
  u.push_back(0x48); u.push_back(0x89); u.push_back(0x0F);      // mov [rdi], rcx (0)
  u.push_back(0xEB); u.push_back(0xFE);
  return at_cpl3(u);
}

struct Guest {
  int fd = -1;
  uint8_t* ram = nullptr;
  std::unique_ptr<hv::Vm> vm;
  explicit Guest(const std::vector<uint8_t>& code, size_t cap) {
    fd = memfd_create("wp-bench", MFD_CLOEXEC);
    if (ftruncate(fd, kRam) != 0) return;
    ram = static_cast<uint8_t*>(mmap(nullptr, kRam, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0));
    hv::VmConfig c;
    c.ram = hv::RamBacking{fd, 0, kRam, ram};
    c.wp_cap = cap;
    c.timeout_s = 600;
    auto v = hv::Vm::create(c);
    if (!v) return;
    vm = std::move(*v);
    if (!vm->load(hv::make_flat_elf(code, kImageBase))) vm.reset();
  }
  ~Guest() {
    vm.reset();
    if (ram) munmap(ram, kRam);
    if (fd >= 0) close(fd);
  }
  uint64_t sweeps() const { return __atomic_load_n(reinterpret_cast<uint64_t*>(ram + kCounter), __ATOMIC_RELAXED); }
};

double sweep_rate(const Guest& g, std::chrono::milliseconds over) {
  uint64_t s0 = g.sweeps();
  auto t0 = clk::now();
  std::this_thread::sleep_for(over);
  return (g.sweeps() - s0) / std::chrono::duration<double>(clk::now() - t0).count();
}

void BM_ProtectUnprotect(benchmark::State& state) {
  if (!hv::kvm_unavailable_reason().empty()) {
    state.SkipWithError("no /dev/kvm");
    return;
  }
  const uint64_t n = static_cast<uint64_t>(state.range(0));
  for (auto _ : state) {
    Guest g(sweeper(), n);
    if (!g.vm) {
      state.SkipWithError("VM setup failed");
      return;
    }
    g.vm->start();
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    double base = sweep_rate(g, std::chrono::milliseconds(500));
    uint64_t s0 = g.sweeps();
    auto t0 = clk::now();
    for (uint64_t i = 0; i < n; ++i) g.vm->protect_page((kProtectBase >> 12) + 2 * i, nullptr);
    double protect_s = std::chrono::duration<double>(clk::now() - t0).count();
    // Slots change on the vCPU thread, out of KVM_RUN: the guest makes no
    // progress meanwhile. Afterwards it re-faults its working set.
    double during = (g.sweeps() - s0) / protect_s;
    double refault = sweep_rate(g, std::chrono::milliseconds(500));
    double after = sweep_rate(g, std::chrono::milliseconds(1000));
    auto t1 = clk::now();
    for (uint64_t i = 0; i < n; ++i) g.vm->unprotect_page((kProtectBase >> 12) + 2 * i);
    double unprotect_s = std::chrono::duration<double>(clk::now() - t1).count();
    g.vm->stop("done");
    g.vm->wait();
    state.counters["protect_us_per_page"] = protect_s / n * 1e6;
    state.counters["unprotect_us_per_page"] = unprotect_s / n * 1e6;
    state.counters["guest_speed_during_protect_pct"] = 100.0 * during / base;
    state.counters["guest_speed_first_500ms_after_pct"] = 100.0 * refault / base;
    state.counters["guest_speed_after_pct"] = 100.0 * after / base;
    state.SetIterationTime(protect_s + unprotect_s);
  }
}
BENCHMARK(BM_ProtectUnprotect)->Arg(1000)->Arg(10000)->Iterations(1)->UseManualTime()->Unit(benchmark::kMillisecond);

void BM_TrappedWrite(benchmark::State& state) {
  if (!hv::kvm_unavailable_reason().empty()) {
    state.SkipWithError("no /dev/kvm");
    return;
  }
  const uint32_t n = 20000;
  for (auto _ : state) {
    Guest g(trapper(n), 16);
    if (!g.vm) {
      state.SkipWithError("VM setup failed");
      return;
    }
    uint64_t calls = 0;
    g.vm->protect_page(kTrapPage >> 12, [&](uint64_t, const uint8_t*, uint32_t) { ++calls; });
    auto t0 = clk::now();
    g.vm->start();
    auto st = g.vm->wait();
    double s = std::chrono::duration<double>(clk::now() - t0).count();
    if (!st.ok || calls != n) state.SkipWithError("the guest did not trap every write");
    state.counters["us_per_trapped_write"] = s / n * 1e6;
    state.SetIterationTime(s);
  }
}
BENCHMARK(BM_TrappedWrite)->Iterations(1)->UseManualTime()->Unit(benchmark::kMillisecond);

}  // namespace

