// Time from the TSC; BootInfo.tsc_hz gives its rate. The VMM's WAIT deadline
// is a TSC value too.
#pragma once

#include <cstdint>

namespace guest {

inline uint64_t rdtsc() {
  uint32_t lo, hi;
  asm volatile("rdtsc" : "=a"(lo), "=d"(hi));
  return (uint64_t{hi} << 32) | lo;
}

void time_init(uint64_t tsc_hz);
uint64_t tsc_hz();
uint64_t tsc_to_ns(uint64_t tsc);  // rounded down
uint64_t ns_to_tsc(uint64_t ns);   // rounded up: a deadline is never early
inline uint64_t now_ns() { return tsc_to_ns(rdtsc()); }
// The TSC value `ns` from now.
inline uint64_t tsc_deadline_in(uint64_t ns) { return rdtsc() + ns_to_tsc(ns); }

}  // namespace guest
