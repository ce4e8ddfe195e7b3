// Guest self-tests: test=NAME on the boot command line. Each prints
// kvm-unit-tests style PASS/FAIL/SKIP/INFO lines, then report_summary()'s
// "SUMMARY: ..." line, fills GuestResult.tests_*, and EXITs with 0 (all passed)
// or 1 (a failure) -- except `exceptions`, which ends by faulting on purpose.
//
// What the host (the VMM test driving the guest) must do for each test:
//
//   exceptions [kind=ud|pf|de|gp]   Nothing. The guest faults deliberately:
//       kind=ud (default) runs ud2         -> EXIT 0x106
//       kind=de divides by zero            -> EXIT 0x100
//       kind=gp runs `int $0x40` at CPL3   -> EXIT 0x10d (a DPL0 gate; this
//                                             host may raise #UD instead: 0x106)
//       kind=pf reads 0x5000000000 (unmapped, above the 4 GiB identity map)
//                                          -> EXIT 0x10e, cr2 0x5000000000
//     The host checks the EXIT code and the log line
//       "exception V err 0xE rip 0xR rsp 0xS cr2 0xC"
//     (V decimal, the rest hex), and GuestResult.status == EXIT code.
//
//   if [count=N]      Inject MSIs (address 0xFEE00000, data 0x40) repeatedly,
//                     e.g. every 100 us-1 ms, until the guest exits. For each
//                     of N (default 20) interrupts the guest waits for it with
//                     WAIT (10 s per 100) and then reads RFLAGS (pushf) at
//                     CPL3: IF must be 1 after every return to user mode.
//
//   msi [count=N]     Inject MSIs (0xFEE00000 / 0x40) continuously until the
//                     guest exits. The guest counts N (default 100) of them,
//                     sleeping in WAIT on g_irq_count between them, within 10 s
//                     per 100. No vector other than 0x40 may arrive.
//
//   wait [iterations=N]
//                     Inject MSIs at random intervals, each uniformly drawn
//                     from [0, 1 ms] (any bounded interval up to 10 ms works),
//                     until the guest exits. The guest runs N (default 10000)
//                     iterations of:
//                       seen = g_irq_count;          // (a)
//                       deadline = rdtsc() + 100 ms;
//                       WAIT(&g_irq_count, seen, deadline);  // (b)
//                       after = g_irq_count; t = rdtsc();
//                     An MSI landing between (a) and (b) is the race WAIT
//                     exists for: the VMM must still return early.
//                     Outcomes, for each iteration:
//                       woken:     after != seen and t < deadline (the normal case);
//                       early:     after == seen and t < deadline (allowed: the
//                                  VMM saw an MSI the guest has not taken yet);
//                       deadline hit: t >= deadline.
//                     "A WAIT hit its deadline while an MSI was pending" means
//                     any deadline hit: the host injects at least every 10 ms,
//                     so within the 100 ms some MSI was always injected after
//                     (a), and WAIT must have returned for it (or for the word
//                     changing). The hits are split into
//                       lost wakeups: after != seen -- the MSI was delivered and
//                                     counted, yet WAIT slept to its deadline;
//                       lost MSIs:    after == seen -- nothing was delivered for
//                                     100 ms (the injection itself went missing).
//                     PASS needs zero deadline hits. After 20 hits the test
//                     stops early (the host is probably not injecting).
//
//   pci               A GPU function at 00:02.0 (the VMM's ECAM). Nothing
//                     else. The guest scans bus 0 and checks: 8086:1616 found
//                     at devfn 0x10, class 0x030000, BAR0 == 0xC0000000
//                     (vmm_abi::kBar0Base) and BAR2 == 0x80000000
//                     (kApertureBase), both 64-bit memory BARs, an MSI
//                     capability in the capability list, the vendor ID
//                     read-only, and the MSI data register (0xDC) writable:
//                     writes 0x41, reads it back, restores the old value.
//
//   timer             Must NOT inject MSIs (an MSI ends a WAIT early). The
//                     guest checks that BootInfo.tsc_hz is plausible (100 MHz
//                     to 10 GHz), that the TSC never goes backwards over 100000
//                     reads, that a WAIT with only a deadline 10 ms ahead
//                     returns no earlier than that deadline (5 times, and not
//                     more than 1 s late), that a WAIT whose deadline has passed
//                     or whose word already differs returns at once (< 50 ms).
//
//   pages             Nothing. Allocator checks: zeroed, page-aligned,
//                     distinct runs; the page-table pool disjoint from the
//                     general pool and the heap; first-fit reuse of freed runs;
//                     coalescing back to one run; double, foreign and misaligned
//                     frees refused; exhaustion fails cleanly; the heap aligns.
//
//   hostile kind=K [...]  A vGPU under the mediator: hostile.cpp says what
//                     each kind submits and what the host must expect.
#include "guest/selftests.h"

#include "common/gen8/layout.h"
#include "guest/console.h"
#include "guest/exit_codes.h"
#include "guest/guest_platform.h"
#include "guest/hostile.h"
#include "guest/pages.h"
#include "guest/pci.h"
#include "guest/pv.h"
#include "guest/report.h"
#include "guest/result.h"
#include "guest/time.h"

namespace guest {

namespace {

constexpr uint64_t kMs = 1'000'000;  // ns

char g_err[128];

[[noreturn]] void bad_args(const char* msg) {
  result_error("%s", msg);
  guest_exit(kExitBadCmdline);
}

uint64_t arg_u64(Cmdline& cl, const char* key, uint64_t def) {
  uint64_t v;
  if (!cl.get_u64(key, def, &v, g_err, sizeof g_err)) bad_args(g_err);
  return v;
}

void no_more_args(Cmdline& cl, const char* test) {
  if (const char* k = cl.first_unused()) {
    snprintf(g_err, sizeof g_err, "unknown argument \"%s\" for test=%s", k, test);
    bad_args(g_err);
  }
}

[[noreturn]] void finish() { guest_exit(report_summary()); }

inline uint64_t read_rflags() {
  uint64_t f;
  asm volatile("pushfq; popq %0" : "=r"(f));
  return f;
}
constexpr uint64_t kRflagsIf = 1u << 9;

uint64_t cycles_to_us(uint64_t c) { return tsc_to_ns(c) / 1000; }

// ---- exceptions ------------------------------------------------------------

[[noreturn]] void test_exceptions(Cmdline& cl) {
  const char* kind = cl.get("kind");
  if (!kind) kind = "ud";
  no_more_args(cl, "exceptions");
  report_prefix_push("exceptions");
  if (str_eq(kind, "ud")) {
    report_info("executing ud2: expect EXIT 0x106 and an \"exception 6\" line");
    console_flush();
    asm volatile("ud2");
  } else if (str_eq(kind, "de")) {
    report_info("dividing by zero: expect EXIT 0x100 and an \"exception 0\" line");
    console_flush();
    uint64_t zero = 0;
    asm volatile("" : "+r"(zero));  // the compiler cannot see it is 0
    asm volatile("xor %%edx, %%edx; mov $1, %%eax; divq %0" : : "r"(zero) : "rax", "rdx");
  } else if (str_eq(kind, "gp")) {
    report_info("int $0x40 at CPL3 (DPL0 gate): expect EXIT 0x10d (or 0x106 on this host)");
    console_flush();
    asm volatile("int $0x40");
  } else if (str_eq(kind, "pf")) {
    report_info("reading 0x5000000000 (unmapped): expect EXIT 0x10e, cr2 0x5000000000");
    console_flush();
    volatile uint64_t* p = reinterpret_cast<volatile uint64_t*>(0x5000000000ull);
    (void)*p;
  } else {
    bad_args("exceptions: kind must be ud, de, gp or pf");
  }
  report(false, "the faulting instruction returned");
  finish();
}

// ---- interrupts --------------------------------------------------------------

// Waits until g_irq_count differs from `seen` or `deadline_tsc` passes.
// Returns the new count (== seen on timeout).
uint32_t wait_irq(uint32_t seen, uint64_t deadline_tsc) {
  for (;;) {
    uint32_t now = g_irq_count;
    if (now != seen || rdtsc() >= deadline_tsc) return now;
    pv_wait(&g_irq_count, seen, deadline_tsc);
  }
}

[[noreturn]] void test_if(Cmdline& cl) {
  uint64_t n = arg_u64(cl, "count", 20);
  no_more_args(cl, "if");
  report_prefix_push("if");
  report(read_rflags() & kRflagsIf, "RFLAGS.IF = 1 at CPL3 on entry");
  uint32_t got = 0, if_clear = 0, first_clear = 0;
  uint64_t deadline = tsc_deadline_in((n + 99) / 100 * 10'000 * kMs);
  uint32_t seen = g_irq_count;
  while (got < n) {
    uint32_t now = wait_irq(seen, deadline);
    if (now == seen) break;  // timed out
    // The MSI handler has just iretq'd to CPL3 (and the WAIT exit returned).
    if (!(read_rflags() & kRflagsIf)) {
      if (!if_clear) first_clear = got + 1;
      ++if_clear;
    }
    got += now - seen;
    seen = now;
  }
  report(got >= n, "%u of %llu MSIs delivered (10 s per 100)", got,
         static_cast<unsigned long long>(n));
  if (if_clear)
    report(false, "RFLAGS.IF was 0 after %u interrupt returns (first after interrupt %u)", if_clear,
           first_clear);
  else
    report(true, "RFLAGS.IF = 1 after every interrupt return");
  report(g_spurious_count == 0, "no interrupts at other vectors (%u)", g_spurious_count);
  finish();
}

[[noreturn]] void test_msi(Cmdline& cl) {
  uint64_t n = arg_u64(cl, "count", 100);
  no_more_args(cl, "msi");
  report_prefix_push("msi");
  uint64_t t0 = rdtsc();
  uint64_t deadline = t0 + ns_to_tsc((n + 99) / 100 * 10'000 * kMs);
  uint32_t start = g_irq_count, seen = start;
  uint32_t waits = 0;
  while (seen - start < n) {
    if (rdtsc() >= deadline) break;
    uint64_t dl = tsc_deadline_in(1000 * kMs);
    if (dl > deadline) dl = deadline;
    pv_wait(&g_irq_count, seen, dl);
    ++waits;
    seen = g_irq_count;
  }
  uint64_t t1 = rdtsc();
  uint32_t got = seen - start;
  report(got >= n, "%u of %llu MSIs counted at vector 0x40", got,
         static_cast<unsigned long long>(n));
  if (got)
    report_info("%u WAITs, %llu us in all, %llu us per MSI", waits,
                static_cast<unsigned long long>(cycles_to_us(t1 - t0)),
                static_cast<unsigned long long>(cycles_to_us(t1 - t0) / got));
  report(read_rflags() & kRflagsIf, "RFLAGS.IF = 1 at CPL3 afterwards");
  report(g_spurious_count == 0, "no interrupts at other vectors (%u)", g_spurious_count);
  finish();
}

[[noreturn]] void test_wait(Cmdline& cl) {
  uint64_t n = arg_u64(cl, "iterations", 10000);
  no_more_args(cl, "wait");
  report_prefix_push("wait");
  const uint64_t timeout = ns_to_tsc(100 * kMs);
  uint64_t woken = 0, early = 0, lost = 0, timed_out = 0, max_wait = 0;
  uint64_t t_start = rdtsc();
  for (uint64_t i = 0; i < n; ++i) {
    uint32_t seen = g_irq_count;  // (a)
    uint64_t t0 = rdtsc();
    uint64_t deadline = t0 + timeout;
    pv_wait(&g_irq_count, seen, deadline);  // (b)
    uint32_t after = g_irq_count;
    uint64_t t = rdtsc();
    if (t - t0 > max_wait) max_wait = t - t0;
    if (t < deadline) {
      if (after != seen)
        ++woken;
      else
        ++early;
    } else if (after != seen) {
      ++lost;
    } else {
      ++timed_out;
    }
    // Report trouble early, without flooding the log.
    if (t >= deadline && lost + timed_out <= 5)
      report_info("iteration %llu hit its deadline (%s)", static_cast<unsigned long long>(i),
                  after != seen ? "an MSI was delivered meanwhile" : "no MSI for 100 ms");
    if (lost + timed_out >= 20) {
      report_info("stopping after %llu iterations: 20 deadline hits",
                  static_cast<unsigned long long>(i + 1));
      n = i + 1;
      break;
    }
  }
  uint64_t total = rdtsc() - t_start;
  report_info("%llu iterations in %llu ms: %llu woken, %llu early, longest WAIT %llu us",
              static_cast<unsigned long long>(n),
              static_cast<unsigned long long>(tsc_to_ns(total) / kMs),
              static_cast<unsigned long long>(woken), static_cast<unsigned long long>(early),
              static_cast<unsigned long long>(cycles_to_us(max_wait)));
  report(lost + timed_out == 0,
         "no WAIT hit its 100 ms deadline while an MSI was pending (%llu: %llu lost wakeups, %llu "
         "lost MSIs)",
         static_cast<unsigned long long>(lost + timed_out), static_cast<unsigned long long>(lost),
         static_cast<unsigned long long>(timed_out));
  report(woken > 0, "WAITs were ended by MSIs (%llu)", static_cast<unsigned long long>(woken));
  finish();
}

// ---- pci -----------------------------------------------------------------------

[[noreturn]] void test_pci(Cmdline& cl) {
  no_more_args(cl, "pci");
  namespace p = gen8::pci;
  report_prefix_push("pci");
  PciDevice gpu;
  uint32_t fns = 0;
  bool found = pci_find(p::kVendorIntel, p::kDeviceBdwGt2, &gpu, &fns);
  report_info("%u functions on bus 0", fns);
  if (!report(found, "GPU 8086:1616 found")) finish();
  report(gpu.devfn == vmm_abi::kGpuDevfn, "at 00:%02x.%x (want 00:02.0)", gpu.devfn >> 3,
         gpu.devfn & 7);
  report(gpu.vendor == p::kVendorIntel && gpu.device == p::kDeviceBdwGt2,
         "vendor 0x%04x device 0x%04x", gpu.vendor, gpu.device);
  uint32_t cls = pci_cfg_read32(gpu.devfn, p::REVISION) >> 8;
  report(cls == p::kClassVga, "class 0x%06x", cls);
  uint32_t b0 = pci_cfg_read32(gpu.devfn, p::BAR0), b2 = pci_cfg_read32(gpu.devfn, p::BAR2);
  report((b0 & 7) == 4 && (b2 & 7) == 4, "BAR0 and BAR2 are 64-bit memory BARs (0x%x, 0x%x)",
         b0 & 0xF, b2 & 0xF);
  report(gpu.bar0 == vmm_abi::kBar0Base, "BAR0 0x%llx (want 0x%llx)",
         static_cast<unsigned long long>(gpu.bar0),
         static_cast<unsigned long long>(vmm_abi::kBar0Base));
  report(gpu.bar2 == vmm_abi::kApertureBase, "BAR2 0x%llx (want 0x%llx)",
         static_cast<unsigned long long>(gpu.bar2),
         static_cast<unsigned long long>(vmm_abi::kApertureBase));

  // The capability list has MSI.
  bool msi = false;
  uint32_t status = pci_cfg_read32(gpu.devfn, p::COMMAND) >> 16;
  if (status & (1u << 4)) {
    uint32_t cap = pci_cfg_read32(gpu.devfn, p::CAP_PTR) & 0xFC;
    for (int hops = 0; cap && hops < 48 && !msi; ++hops) {
      uint32_t hdr = pci_cfg_read32(gpu.devfn, cap);
      if ((hdr & 0xFF) == 0x05) msi = cap == p::MSI_CAP;
      cap = (hdr >> 8) & 0xFC;
    }
  }
  report(msi, "MSI capability at 0x%x in the capability list", p::MSI_CAP);

  uint32_t id = pci_cfg_read32(gpu.devfn, p::VENDOR);
  pci_cfg_write32(gpu.devfn, p::VENDOR, 0xFFFFFFFFu);
  report(pci_cfg_read32(gpu.devfn, p::VENDOR) == id, "vendor/device ID is read-only");

  uint32_t old = pci_cfg_read32(gpu.devfn, p::MSI_DATA);
  uint32_t want = (old & ~0xFFFFu) | 0x41;
  pci_cfg_write32(gpu.devfn, p::MSI_DATA, want);
  uint32_t got = pci_cfg_read32(gpu.devfn, p::MSI_DATA);
  pci_cfg_write32(gpu.devfn, p::MSI_DATA, old);
  report((got & 0xFFFF) == 0x41, "MSI data register takes a write (0x%x reads back 0x%x)",
         want & 0xFFFF, got & 0xFFFF);
  report((pci_cfg_read32(gpu.devfn, p::MSI_DATA) & 0xFFFF) == (old & 0xFFFF),
         "MSI data register restored");
  finish();
}

// ---- timer -----------------------------------------------------------------

[[noreturn]] void test_timer(Cmdline& cl, const vmm_abi::BootInfo& boot) {
  no_more_args(cl, "timer");
  report_prefix_push("timer");
  uint64_t hz = boot.tsc_hz;
  report(hz >= 100'000'000ull && hz <= 10'000'000'000ull, "tsc_hz %llu is plausible",
         static_cast<unsigned long long>(hz));

  uint64_t prev = rdtsc(), backwards = 0;
  for (int i = 0; i < 100000; ++i) {
    uint64_t t = rdtsc();
    if (t < prev) ++backwards;
    prev = t;
  }
  report(backwards == 0, "TSC monotonic over 100000 reads (%llu steps back)",
         static_cast<unsigned long long>(backwards));

  // Deadline-only waits: the watched word never changes.
  static volatile uint32_t never = 0;
  uint64_t early = 0, worst_late = 0, worst_early = 0;
  for (int i = 0; i < 5; ++i) {
    uint64_t t0 = rdtsc();
    uint64_t deadline = t0 + ns_to_tsc(10 * kMs);
    pv_wait(&never, 0, deadline);
    uint64_t t1 = rdtsc();
    if (t1 < deadline) {
      ++early;
      if (deadline - t1 > worst_early) worst_early = deadline - t1;
    } else if (t1 - deadline > worst_late) {
      worst_late = t1 - deadline;
    }
  }
  report(early == 0,
         "a 10 ms WAIT never returns before its deadline (%llu early, by up to %llu us)",
         static_cast<unsigned long long>(early),
         static_cast<unsigned long long>(cycles_to_us(worst_early)));
  report(worst_late < ns_to_tsc(1000 * kMs), "and returns at most %llu us late",
         static_cast<unsigned long long>(cycles_to_us(worst_late)));

  uint64_t t0 = rdtsc();
  pv_wait(&never, 0, t0 - 1);
  uint64_t d1 = rdtsc() - t0;
  report(d1 < ns_to_tsc(50 * kMs), "a WAIT past its deadline returns at once (%llu us)",
         static_cast<unsigned long long>(cycles_to_us(d1)));
  t0 = rdtsc();
  pv_wait(&never, 1, t0 + ns_to_tsc(1000 * kMs));
  uint64_t d2 = rdtsc() - t0;
  report(d2 < ns_to_tsc(50 * kMs), "a WAIT whose word already differs returns at once (%llu us)",
         static_cast<unsigned long long>(cycles_to_us(d2)));
  finish();
}

// ---- pages -----------------------------------------------------------------

bool all_zero(uint64_t phys, uint64_t pages) {
  const uint64_t* p = reinterpret_cast<const uint64_t*>(phys);
  for (uint64_t i = 0; i < pages * kPage / 8; ++i)
    if (p[i]) return false;
  return true;
}

void dirty(uint64_t phys, uint64_t pages) {
  uint64_t* p = reinterpret_cast<uint64_t*>(phys);
  for (uint64_t i = 0; i < pages * kPage / 8; ++i) p[i] = 0xA5A5A5A5A5A5A5A5ull ^ i;
}

bool overlaps(uint64_t a, uint64_t an, uint64_t b, uint64_t bn) {
  return a < b + bn * kPage && b < a + an * kPage;
}

[[noreturn]] void test_pages(Cmdline& cl) {
  no_more_args(cl, "pages");
  report_prefix_push("pages");
  const PoolStats g0 = pages_stats(Pool::General), pt0 = pages_stats(Pool::PageTable);
  report_info(
      "general 0x%llx-0x%llx (%llu pages), page tables 0x%llx-0x%llx (%llu pages), heap %llu KiB",
      static_cast<unsigned long long>(g0.base), static_cast<unsigned long long>(g0.end),
      static_cast<unsigned long long>(g0.total_pages), static_cast<unsigned long long>(pt0.base),
      static_cast<unsigned long long>(pt0.end), static_cast<unsigned long long>(pt0.total_pages),
      static_cast<unsigned long long>(heap_size() >> 10));
  report(g0.total_pages > 0 && pt0.total_pages > 0, "both pools are non-empty");
  report(g0.end <= pt0.base || pt0.end <= g0.base,
         "the page-table pool is disjoint from the general pool");
  uint64_t heap_probe = reinterpret_cast<uint64_t>(heap_alloc(16, 16));
  report(heap_probe && !(heap_probe >= g0.base && heap_probe < g0.end) &&
             !(heap_probe >= pt0.base && heap_probe < pt0.end),
         "the heap is outside both pools");
  heap_free(reinterpret_cast<void*>(heap_probe));

  // Zeroed, aligned, reused.
  uint64_t a = pages_alloc(3, Pool::General);
  report(a && a % kPage == 0 && pages_in_pool(a, Pool::General),
         "3 pages at 0x%llx: aligned, in the general pool", static_cast<unsigned long long>(a));
  report(a && all_zero(a, 3), "and zeroed");
  if (a) {
    dirty(a, 3);
    report(pages_free(a, 3), "freed");
    uint64_t b = pages_alloc(3, Pool::General);
    report(b == a, "first fit hands the freed run out again (0x%llx)",
           static_cast<unsigned long long>(b));
    report(b && all_zero(b, 3), "zeroed again");
    if (b) pages_free(b, 3);
  }

  // Page-table pages.
  uint64_t t = pages_alloc(1, Pool::PageTable);
  report(
      t && pages_in_pool(t, Pool::PageTable) && !pages_in_pool(t, Pool::General) && all_zero(t, 1),
      "a page-table page comes from the page-table pool, zeroed (0x%llx)",
      static_cast<unsigned long long>(t));
  if (t) pages_free(t, 1);

  // Distinct runs, with holes punched and refilled.
  constexpr int kRuns = 64;
  uint64_t base[kRuns], cnt[kRuns];
  bool ok_alloc = true, ok_distinct = true, ok_zero = true;
  auto check_against_all = [&](int i) {
    for (int j = 0; j < kRuns; ++j)
      if (j != i && base[j] && overlaps(base[i], cnt[i], base[j], cnt[j])) ok_distinct = false;
  };
  for (int i = 0; i < kRuns; ++i) {
    cnt[i] = 1 + (static_cast<uint64_t>(i) * 2654435761u >> 7) % 8;
    base[i] = pages_alloc(cnt[i], Pool::General);
    if (!base[i]) ok_alloc = false;
  }
  for (int i = 0; i < kRuns; ++i)
    if (base[i]) {
      check_against_all(i);
      if (!all_zero(base[i], cnt[i])) ok_zero = false;
      dirty(base[i], cnt[i]);
    }
  report(ok_alloc, "%d runs of 1-8 pages allocated", kRuns);
  report(ok_distinct, "no two runs overlap");
  report(ok_zero, "all runs zeroed");
  for (int i = 0; i < kRuns; i += 2)
    if (base[i]) {
      pages_free(base[i], cnt[i]);
      base[i] = 0;
    }
  ok_distinct = ok_zero = ok_alloc = true;
  for (int i = 0; i < kRuns; i += 2) {
    cnt[i] = 1 + (static_cast<uint64_t>(i) * 40503u >> 3) % 6;
    base[i] = pages_alloc(cnt[i], Pool::General);
    if (!base[i]) ok_alloc = false;
  }
  for (int i = 0; i < kRuns; i += 2)
    if (base[i]) {
      check_against_all(i);
      if (!all_zero(base[i], cnt[i])) ok_zero = false;
    }
  report(ok_alloc && ok_distinct && ok_zero,
         "holes refilled: distinct from the live runs and zeroed");

  // Bad frees.
  uint64_t live = base[1];
  report(live && !pages_free(live + kPage / 2, 1), "a misaligned free is refused");
  report(!pages_free(g0.end, 1), "a free past the end of the pools is refused");
  for (int i = 0; i < kRuns; ++i)
    if (base[i]) pages_free(base[i], cnt[i]);
  report(!pages_free(base[1], cnt[1]), "a double free is refused");
  report(!pages_free(0x1000, 1), "a free below the pools is refused");
  PoolStats g1 = pages_stats(Pool::General);
  report(g1.free_pages == g0.free_pages && g1.free_runs == g0.free_runs,
         "everything freed coalesces back (%llu pages in %u runs)",
         static_cast<unsigned long long>(g1.free_pages), g1.free_runs);

  // Exhaustion.
  report(pages_alloc(g1.free_pages + 1, Pool::General) == 0,
         "an allocation larger than the pool fails");
  uint64_t n = 0;
  bool pt_ok = true;
  for (;;) {
    uint64_t p = pages_alloc(1, Pool::PageTable);
    if (!p) break;
    if (!pages_in_pool(p, Pool::PageTable)) pt_ok = false;
    ++n;
  }
  PoolStats pt1 = pages_stats(Pool::PageTable);
  report(n == pt0.free_pages && pt1.free_pages == 0 && pt_ok,
         "the page-table pool runs dry after %llu pages, all its own",
         static_cast<unsigned long long>(n));
  report(pages_stats(Pool::General).free_pages == g1.free_pages,
         "without touching the general pool");
  for (uint64_t p = pt0.base; p < pt0.base + n * kPage; p += kPage) pages_free(p, 1);
  pt1 = pages_stats(Pool::PageTable);
  report(pt1.free_pages == pt0.free_pages && pt1.free_runs == 1, "and refills to one run");

  // Heap.
  void* h1 = heap_alloc(10, 64);
  void* h2 = heap_alloc(100, 4096);
  report(h1 && h2 && reinterpret_cast<uint64_t>(h1) % 64 == 0 &&
             reinterpret_cast<uint64_t>(h2) % 4096 == 0 &&
             reinterpret_cast<uint64_t>(h2) >= reinterpret_cast<uint64_t>(h1) + 10,
         "heap blocks are aligned and distinct");
  report(heap_alloc(heap_size() + 1) == nullptr, "an oversized heap allocation fails");
  finish();
}

struct Test {
  const char* name;
};
constexpr Test kTests[] = {{"exceptions"}, {"if"},    {"msi"},   {"wait"},
                           {"pci"},        {"timer"}, {"pages"}, {"hostile"}};

}  // namespace

const char* selftest_names() { return "exceptions if msi wait pci timer pages hostile"; }

bool selftest_exists(const char* name) {
  for (const Test& t : kTests)
    if (str_eq(t.name, name)) return true;
  return false;
}

void run_selftest(const char* name, Cmdline& cl, const vmm_abi::BootInfo& boot) {
  printf("test %s\n", name);
  if (str_eq(name, "exceptions")) test_exceptions(cl);
  if (str_eq(name, "if")) test_if(cl);
  if (str_eq(name, "msi")) test_msi(cl);
  if (str_eq(name, "wait")) test_wait(cl);
  if (str_eq(name, "pci")) test_pci(cl);
  if (str_eq(name, "timer")) test_timer(cl, boot);
  if (str_eq(name, "pages")) test_pages(cl);
  if (str_eq(name, "hostile")) test_hostile(cl);
  bad_args("unknown test");
}

}  // namespace guest
