// The contract between gvirt's VMM (src/hv) and the guest runtime
// (src/guest): the guest-physical memory map, the boot-info block, the entry
// state, and the paravirtual VMM registers. Freestanding.
#pragma once

#include <cstdint>

namespace vmm_abi {

// ---- guest-physical memory map ----
// RAM is [0, ram_size). The VMM writes its page tables, GDT/TSS and the boot
// info into the first 64 KiB; the guest ELF links at kImageBase.
inline constexpr uint64_t kPml4 = 0x1000;        // identity map of 4 GiB, 2 MiB pages, U=1
inline constexpr uint64_t kPdpt = 0x2000;
inline constexpr uint64_t kPd = 0x3000;          // 4 pages: 0x3000..0x6FFF
inline constexpr uint64_t kGdt = 0x7000;         // see the selectors below
inline constexpr uint64_t kTss = 0x7100;         // 64-bit TSS; rsp0 = kInterruptStackTop
inline constexpr uint64_t kBootInfo = 0x8000;    // one page, pointer in RDI at entry
inline constexpr uint64_t kResult = 0x9000;      // one page the guest fills (GuestResult)
inline constexpr uint64_t kInterruptStackTop = 0x10000;  // CPL0 stack: 0xC000..0x10000
inline constexpr uint64_t kImageBase = 0x100000;         // guest ELF PT_LOAD floor
inline constexpr uint64_t kMinRam = 16ull << 20;

// Device windows, above RAM and below 4 GiB.
inline constexpr uint64_t kApertureBase = 0x80000000;  // GPU BAR2 (512 MiB)
inline constexpr uint64_t kBar0Base = 0xC0000000;      // GPU BAR0 (16 MiB)
inline constexpr uint64_t kEcamBase = 0xE0000000;      // PCI config, bus 0 (1 MiB)
inline constexpr uint64_t kEcamSize = 1ull << 20;
inline constexpr uint64_t kPvBase = 0xFEB00000;        // paravirtual VMM registers (4 KiB)
inline constexpr uint64_t kLapicBase = 0xFEE00000;
inline constexpr uint64_t kMaxRam = 2ull << 30;        // RAM must end below the aperture
inline constexpr uint32_t kGpuDevfn = 2 << 3;          // the GPU is 00:02.0, as Intel IGDs are

// ---- entry state ----
// 64-bit mode at CPL0, paging on with the VMM's tables, GDTR = kGdt and TR =
// kSelTss loaded, CS = kSelKernelCode, SS/DS = kSelKernelData, CR0 = PG|WP|NE|
// ET|MP|PE (no EM), CR4 = PAE|OSFXSR|OSXMMEXCPT, EFER = LME|LMA, RFLAGS = 2,
// RSP = BootInfo.stack_top, RDI = kBootInfo. CPL0 code is emulated on the
// measured host (SSE and x87 instructions there end the VM): drop to CPL3 fast.
inline constexpr uint32_t kMsiVector = 0x40;  // the guest's MSI vector (LAPIC)

// ---- GDT selectors (set up by the VMM at kGdt) ----
inline constexpr uint16_t kSelKernelCode = 0x08;
inline constexpr uint16_t kSelKernelData = 0x10;
inline constexpr uint16_t kSelUserData = 0x18 | 3;
inline constexpr uint16_t kSelUserCode = 0x20 | 3;
inline constexpr uint16_t kSelTss = 0x28;

// ---- paravirtual registers at kPvBase; each access is one exit ----
// CONSOLE: write (len << 48) | gpa: one line of text goes to the VM's log.
inline constexpr uint32_t kPvConsole = 0x00;
// EXIT: write the guest's exit code; the VM stops (0 = success).
inline constexpr uint32_t kPvExit = 0x08;
// WAIT: write the GPA of a WaitArgs. Returns once *gpa != expected, an MSI has
// been injected since the previous WAIT returned, or the TSC deadline passed.
// A plain "idle until interrupt" would lose the wakeup between the guest's
// check and its idle write. A return is a hint: the MSI may be delivered just
// after the guest resumes, so waiters re-check their condition. The word must
// be 4-byte aligned and in RAM; a console line is at most 4096 bytes.
inline constexpr uint32_t kPvWait = 0x10;
// MARK: write a Mark value; the host timestamps it (frames are host-timed).
inline constexpr uint32_t kPvMark = 0x18;

struct WaitArgs {
  uint64_t gpa;       // a 32-bit word in guest RAM
  uint32_t expected;
  uint32_t reserved;
  uint64_t deadline;  // guest TSC value
  uint64_t now;       // guest TSC when the WAIT was issued: the VMM cannot
                      // read the guest's TSC on every host (KVM_GET_MSRS)
};

enum Mark : uint64_t {
  kMarkFramesStart = 1,  // set-up done, the first frame begins
  kMarkFramesDone = 2,   // the last frame has completed and is on screen
};

// ---- boot info (at kBootInfo, pointer in RDI) ----
inline constexpr uint64_t kBootMagic = 0x4F4F424954524956ull;  // "VIRTBOOO"
inline constexpr uint32_t kBootVersion = 1;

struct BootInfo {
  uint64_t magic;
  uint32_t version;
  uint32_t cpl3;          // 1: the VMM set up everything; the guest may drop to CPL3
  uint64_t ram_size;
  uint64_t tsc_hz;
  uint64_t free_start;    // RAM the runtime may allocate: [free_start, free_end)
  uint64_t free_end;
  uint64_t stack_top;     // initial RSP (also the CPL3 stack)
  uint64_t ecam_base;
  uint64_t pv_base;
  char cmdline[256];      // e.g. "workload=fill frames=200" or "test=msi"
};

// ---- results the guest leaves for the host (at kResult) ----
inline constexpr uint64_t kResultMagic = 0x544C555345524756ull;  // "VGRESULT"

struct GuestResult {
  uint64_t magic;
  uint32_t status;        // 0 ok, else an error code
  uint32_t frames;
  uint64_t guest_checksum;
  uint64_t submissions;
  uint64_t interrupts;
  uint64_t latency_count;
  uint64_t latency_mean_ns, latency_p50_ns, latency_p99_ns, latency_max_ns;
  uint64_t workload_cpu_ns;  // frame time not spent waiting for the GPU or in MMIO exits
  uint32_t contexts[4];      // LRCAs the workload used
  uint32_t n_contexts;
  uint32_t tests_run, tests_failed, tests_skipped;  // report API summary
  char error[128];
};

}  // namespace vmm_abi
