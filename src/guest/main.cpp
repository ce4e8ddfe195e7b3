// guest_entry(): the first C++ code, at CPL3 (crt0.S drops there). Sets up
// the runtime from BootInfo, then runs the mode the command line asks for:
//   workload=NAME [frames=N] [seconds=S] [async=0|1]   a GPU workload
//   test=NAME [...]                                    a self-test
// and leaves through EXIT (README.md lists the codes).
#include <cstddef>

#include "common/gen8/layout.h"
#include "common/vmm_abi.h"
#include "driver/device.h"
#include "guest/cmdline.h"
#include "guest/console.h"
#include "guest/exit_codes.h"
#include "guest/guest_platform.h"
#include "guest/pages.h"
#include "guest/pci.h"
#include "guest/pv.h"
#include "guest/result.h"
#include "guest/runtime.h"
#include "guest/selftests.h"
#include "guest/time.h"
#include "workloads/workload.h"

// crt0.S and irq.S hard-code these.
static_assert(vmm_abi::kBootMagic == 0x4F4F424954524956ull);
static_assert(offsetof(vmm_abi::BootInfo, cpl3) == 12);
static_assert(vmm_abi::kGdt == 0x7000 && vmm_abi::kSelTss == 0x28);
static_assert(vmm_abi::kSelUserData == 0x1b && vmm_abi::kSelUserCode == 0x23 &&
              vmm_abi::kSelKernelCode == 0x08);
static_assert(vmm_abi::kPvBase + vmm_abi::kPvExit == 0xFEB00008);
static_assert(vmm_abi::kLapicBase == 0xFEE00000);
static_assert(guest::kExitBadBoot == 2 && guest::kExitExceptionBase == 0x100);
static_assert(guest::GuestPlatform::kMsiVector == 0x40);
static_assert(vmm_abi::kImageBase == 0x100000, "guest.ld links at 0x100000");
static_assert(sizeof(vmm_abi::GuestResult) <= 4096);

extern "C" char __image_end[];  // guest.ld

namespace guest {
namespace {

char g_err[128];

[[noreturn]] void fail(uint32_t code, const char* what) {
  result_error("%s", what);
  guest_exit(code);
}

void on_start(void*) { pv_mark(vmm_abi::kMarkFramesStart); }
void on_done(void*) { pv_mark(vmm_abi::kMarkFramesDone); }

drv::Device g_device;
wl::Latency g_latency;

[[noreturn]] void run_workload(const char* name, Cmdline& cl) {
  uint64_t frames, seconds, async;
  if (!cl.get_u64("frames", 200, &frames, g_err, sizeof g_err) ||
      !cl.get_u64("seconds", 0, &seconds, g_err, sizeof g_err) ||
      !cl.get_u64("async", 1, &async, g_err, sizeof g_err))
    fail(kExitBadCmdline, g_err);
  if (frames > 0xFFFFFFFFu || async > 1 || seconds > 1'000'000)
    fail(kExitBadCmdline, "frames, seconds or async out of range");
  if (const char* k = cl.first_unused()) {
    snprintf(g_err, sizeof g_err, "unknown argument \"%s\" for workload mode", k);
    fail(kExitBadCmdline, g_err);
  }
  if (!wl::find_workload(name)) {
    printf("workloads:");
    for (int i = 0; i < wl::workload_count(); ++i) printf(" %s", wl::workload_info(i).name);
    printf("\n");
    snprintf(g_err, sizeof g_err, "unknown workload \"%s\"", name);
    fail(kExitBadCmdline, g_err);
  }

  PciDevice gpu;
  if (!pci_find(gen8::pci::kVendorIntel, gen8::pci::kDeviceBdwGt2, &gpu))
    fail(kExitNoDevice, "no GPU (8086:1616) on PCI bus 0");
  if (gpu.devfn != vmm_abi::kGpuDevfn)
    printf("guest: warning: the GPU is at 00:%02x.%x, not 00:02.0\n", gpu.devfn >> 3,
           gpu.devfn & 7);
  if (!gpu.bar0 || !gpu.bar2) fail(kExitNoDevice, "the GPU's BAR0 or BAR2 is not assigned");
  printf("guest: GPU %04x:%04x at 00:%02x.%x, BAR0 0x%llx, BAR2 0x%llx\n", gpu.vendor, gpu.device,
         gpu.devfn >> 3, gpu.devfn & 7, static_cast<unsigned long long>(gpu.bar0),
         static_cast<unsigned long long>(gpu.bar2));

  static GuestPlatform platform(gpu);
  if (auto r = g_device.init(platform); !r) {
    snprintf(g_err, sizeof g_err, "driver init: %s", drv::error_name(r.error()));
    fail(kExitDriverInit, g_err);
  }
  printf("guest: driver up%s\n", g_device.pv().present ? " (PV info page present)" : "");

  wl::Params params;
  params.frames = static_cast<uint32_t>(frames);
  params.max_ns = seconds * 1'000'000'000ull;
  params.async_flips = async != 0;
  params.on_start = on_start;
  params.on_done = on_done;
  wl::Result r = wl::run(g_device, name, params, &g_latency);

  vmm_abi::GuestResult& res = result();
  res.frames = r.frames;
  res.guest_checksum = r.guest_checksum;
  const drv::DriverStats& st = g_device.stats();
  res.submissions = st.submissions;
  res.interrupts = st.interrupts;
  res.latency_count = g_latency.count;
  res.latency_mean_ns = g_latency.count ? g_latency.total / g_latency.count : 0;
  res.latency_p50_ns = g_latency.percentile(50);
  res.latency_p99_ns = g_latency.percentile(99);
  res.latency_max_ns = g_latency.max;
  res.workload_cpu_ns = r.cpu_ns;
  res.n_contexts = 0;
  for (int i = 0; i < r.n_contexts && i < 4; ++i) res.contexts[res.n_contexts++] = r.contexts[i];

  g_device.fini();
  uint32_t status = kExitOk;
  if (!r.ok) {
    result_error("workload %s: %s", name, r.error ? r.error : "failed");
    status = kExitWorkload;
  }
  printf(
      "workload %s: status %u, %u frames, checksum 0x%016llx, %llu submissions, %llu interrupts, "
      "latency n %llu mean %llu p50 %llu p99 %llu max %llu ns, %llu ns workload CPU, %llu pages "
      "still allocated\n",
      name, status, res.frames, static_cast<unsigned long long>(res.guest_checksum),
      static_cast<unsigned long long>(res.submissions),
      static_cast<unsigned long long>(res.interrupts),
      static_cast<unsigned long long>(res.latency_count),
      static_cast<unsigned long long>(res.latency_mean_ns),
      static_cast<unsigned long long>(res.latency_p50_ns),
      static_cast<unsigned long long>(res.latency_p99_ns),
      static_cast<unsigned long long>(res.latency_max_ns),
      static_cast<unsigned long long>(res.workload_cpu_ns),
      static_cast<unsigned long long>(platform.pages_in_use()));
  guest_exit(status);
}

}  // namespace
}  // namespace guest

extern "C" [[noreturn]] void guest_entry(vmm_abi::BootInfo* boot) {
  using namespace guest;
  runtime_start();
  result_init();
  if (boot->magic != vmm_abi::kBootMagic || boot->version != vmm_abi::kBootVersion ||
      !boot->pv_base) {
    // crt0.S checked the magic already; the version and pv_base are new here.
    fail(kExitBadBoot, "bad BootInfo (magic, version or pv_base)");
  }
  pv_init(boot->pv_base);
  if (!boot->tsc_hz) fail(kExitBadBoot, "BootInfo.tsc_hz is 0");
  if (boot->free_start < reinterpret_cast<uint64_t>(__image_end) ||
      boot->free_end > boot->stack_top || boot->stack_top > boot->ram_size)
    fail(kExitBadBoot, "BootInfo's free range overlaps the image or the stack");
  time_init(boot->tsc_hz);
  printf("gvirt guest: %llu MiB RAM, TSC %llu Hz, free 0x%llx-0x%llx, cmdline \"%.*s\"\n",
         static_cast<unsigned long long>(boot->ram_size >> 20),
         static_cast<unsigned long long>(boot->tsc_hz),
         static_cast<unsigned long long>(boot->free_start),
         static_cast<unsigned long long>(boot->free_end), static_cast<int>(sizeof boot->cmdline),
         boot->cmdline);
  if (!pages_init(boot->free_start, boot->free_end))
    fail(kExitNoMemory, "BootInfo's free range is under 2 MiB");
  pci_init(boot->ecam_base);

  static Cmdline cl;
  if (!cl.parse(boot->cmdline, sizeof boot->cmdline, g_err, sizeof g_err))
    fail(kExitBadCmdline, g_err);
  const char* test = cl.get("test");
  const char* workload = cl.get("workload");
  if (test && workload) fail(kExitBadCmdline, "give test= or workload=, not both");
  if (test) {
    if (!selftest_exists(test)) {
      snprintf(g_err, sizeof g_err, "unknown test \"%s\" (tests: %s)", test, selftest_names());
      fail(kExitBadCmdline, g_err);
    }
    run_selftest(test, cl, *boot);
  }
  if (workload) run_workload(workload, cl);
  fail(kExitBadCmdline, "usage: workload=NAME [frames=N] [seconds=S] [async=0|1] | test=NAME");
}
