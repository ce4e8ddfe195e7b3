#include "guest/time.h"

namespace guest {

namespace {
uint64_t g_tsc_hz = 1'000'000'000;  // until time_init
}

void time_init(uint64_t hz) {
  if (hz) g_tsc_hz = hz;
}

uint64_t tsc_hz() { return g_tsc_hz; }

uint64_t tsc_to_ns(uint64_t tsc) {
  return static_cast<uint64_t>(static_cast<unsigned __int128>(tsc) * 1'000'000'000u / g_tsc_hz);
}

uint64_t ns_to_tsc(uint64_t ns) {
  unsigned __int128 t =
      (static_cast<unsigned __int128>(ns) * g_tsc_hz + 999'999'999u) / 1'000'000'000u;
  return t > ~uint64_t{0} ? ~uint64_t{0} : static_cast<uint64_t>(t);
}

}  // namespace guest
