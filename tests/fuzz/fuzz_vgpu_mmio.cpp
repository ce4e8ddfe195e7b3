// libFuzzer target: arbitrary BAR0 and config accesses from a hostile guest
// into a vGPU, GGTT range included. Invariants: nothing reaches a physical
// GGTT entry outside the vGPU's slices or a fence that is not its own, and
// every physical GGTT entry it writes points at guest RAM or its scratch page.
#include <cstdint>
#include <cstdlib>
#include <cstring>

#include "common/gen8/layout.h"
#include "common/vmm_abi.h"
#include "gvt/vgpu.h"
#include "hv/fake_mpt.h"
#include "support/null_platform.h"

namespace {

using namespace gen8;

constexpr uint64_t kRam = 16ull << 20;
constexpr uint64_t kScratch = 0x7000000000ull;

// A small slice keeps each run fast; neighbours lie on both sides of it.
constexpr gvt::GmSlice g_slice{64ull << 20, 256 << 10, 1ull << 30, 256 << 10, 4, 4};

class CheckingPlatform final : public test_support::NullPlatform {
 public:
  void mmio_write32(uint32_t off, uint32_t v) override { check(off, v); }
  void mmio_write64(uint32_t off, uint64_t v) override { check(off, v); }

 private:
  static void check(uint32_t off, uint64_t v) {
    if (off >= kGgttOffset) {
      uint64_t gm = (off - kGgttOffset) / 8 * kPageSize;
      bool mine = (gm >= g_slice.low_base && gm < g_slice.low_base + g_slice.low_size) ||
                  (gm >= g_slice.high_base && gm < g_slice.high_base + g_slice.high_size);
      uint64_t a = v & kPteAddrMask;
      bool target_ok = a == kScratch ||
                       (a >= hv::FakeMpt::kDefaultHostBase && a < hv::FakeMpt::kDefaultHostBase + kRam);
      if (!mine || !target_ok) abort();
    } else if (off >= reg::FENCE_REG_GEN6 && off < reg::FENCE_REG_GEN6 + 8 * kNumFences) {
      uint32_t i = (off - reg::FENCE_REG_GEN6) / 8;
      if (i < g_slice.fence_base || i >= g_slice.fence_base + g_slice.fences) abort();
    } else {
      abort();  // the mediator writes nothing else to the physical GPU
    }
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static CheckingPlatform plat;
  static drv::Device host;
  static bool once = [] {
    (void)host.init(plat);  // no GPU behind the platform: only the host-port writes are used
    return true;
  }();
  (void)once;
  static hv::FakeMpt mpt(kRam);  // allocating guest RAM per input would dominate
  gvt::Vgpu v({2, g_slice, kRam, kScratch, vmm_abi::kBar0Base, vmm_abi::kApertureBase}, mpt, host,
              [](int, uint64_t, uint64_t) { return true; });
  // Each access: 1 byte kind, 4 bytes offset, 8 bytes value.
  for (size_t i = 0; i + 13 <= size; i += 13) {
    uint8_t kind = data[i];
    uint32_t off;
    uint64_t val;
    std::memcpy(&off, data + i + 1, 4);
    std::memcpy(&val, data + i + 5, 8);
    unsigned len = (kind & 1) ? 8 : 4;
    if (kind & 0x80) off = static_cast<uint32_t>(kGgttOffset + off % (kGgttEntries * 8));
    else if (kind & 0x40) off %= kMmioRegSpace;
    uint8_t buf[8];
    std::memcpy(buf, &val, 8);
    switch ((kind >> 1) & 3) {
      case 0: v.write(off % kBar0Size, buf, len); break;
      case 1: v.read(off % kBar0Size, buf, len); break;
      case 2: v.cfg_write(off % 256, 1u << ((kind >> 3) % 3), static_cast<uint32_t>(val)); break;
      default: v.vblank(); break;
    }
  }
  return 0;
}
