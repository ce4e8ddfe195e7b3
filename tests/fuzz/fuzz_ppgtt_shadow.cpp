// libFuzzer target: a hostile guest writes its page tables (8-byte entries,
// 4-byte halves, unaligned runs of bytes) through FakeMpt's write-protected
// path while it acquires, releases, PV-creates and PV-destroys roots over a
// small RAM, so tables are shared, self-referencing and reused as data.
// Invariants, after every sync(): for each shadowed root, (1) the shadow
// translates every address as the guest's tables mapped through GFN->HPA do
// (checked table by table, which covers every address, and by walking a
// sample of addresses and those the input touched), and (2) no shadow entry
// points outside the VM's RAM but at the scratch page, which also holds in
// failsafe. When a shadow is destroyed, nothing stays protected, pinned or
// allocated.
//
// Input: 8-byte operations {kind, page, index lo, index hi, frame, flags, x, y}.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <set>
#include <tuple>
#include <vector>

#include "support/ppgtt_support.h"

namespace {

using namespace test_support;
using gen8::kPteAddrMask;
using gen8::kPtePresent;
using gen8::kPtePs;

constexpr uint64_t kPages = 128;  // guest RAM: random frames often name tables
constexpr uint64_t kRam = kPages * kPage;
constexpr uint64_t kScratch = 0x70'0000'0000ull;
constexpr uint64_t kArenaHpa = 0x50'0000'0000ull;
constexpr size_t kArenaPages = 192;
constexpr gvt::PpgttLimits kLimits{96, 160};

[[noreturn]] void broken(const char* what) {
  std::fprintf(stderr, "invariant broken: %s\n", what);
  std::abort();
}

// An entry the guest may write: mostly frames inside RAM, some beyond it or
// at the top of the address range, with present, RW, PS and high junk bits.
uint64_t entry_value(uint8_t frame_byte, uint8_t flags, uint8_t x) {
  uint64_t frame = frame_byte % kPages;
  if (frame_byte >= 0xF8) frame = frame_byte == 0xFF ? (1ull << 36) - 1 : kPages + (frame_byte & 7);
  uint64_t v = frame << 12 | (flags & 0x1E);
  if (!(flags & 0x40)) v |= kPtePresent;
  if ((flags & 0xA0) == 0xA0) v |= kPtePs;
  if (x & 0x80) v |= uint64_t{x} << 52;
  return v;
}

// Invariant (1) table by table: the shadow table at `s_hpa` shadows the
// guest table at frame `gfn` on `level`. Each pair is checked once.
GVIRT_NO_COVERAGE void check_tables(const ArenaPages& arena, hv::FakeMpt& mpt, uint64_t s_hpa, uint64_t gfn, int level,
                  std::set<std::tuple<uint64_t, uint64_t, int>>& seen) {
  if (!seen.emplace(s_hpa, gfn, level).second) return;
  const uint64_t* s = arena.entries(s_hpa);
  if (!s) broken("a directory entry names no shadow page");
  uint64_t guest[512];
  mpt.read_gpa(gfn * kPage, guest, kPage);
  for (unsigned i = 0; i < 512; ++i) {
    const uint64_t g = guest[i], e = s[i], frame = (g & kPteAddrMask) / kPage;
    const bool present = g & kPtePresent, large = (level == 1 || level == 2) && (g & kPtePs);
    if (!present || large || (level > 0 && frame >= kPages)) {
      if (e & kPtePresent) broken("a shadow entry is present where the guest walk faults");
    } else if (level == 0) {
      const uint64_t want = frame < kPages ? mpt.host_base() + frame * kPage : kScratch;
      if (!(e & kPtePresent) || (e & kPteAddrMask) != want) broken("a leaf translates differently");
    } else {
      if (!(e & kPtePresent)) broken("a shadow directory entry is missing");
      check_tables(arena, mpt, e & kPteAddrMask, frame, level - 1, seen);
    }
  }
}

// Each root and address is checked once per check, however often the input
// names it.
void add(std::vector<uint64_t>& v, uint64_t x) {
  if (std::find(v.begin(), v.end(), x) == v.end()) v.push_back(x);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static hv::FakeMpt mpt(kRam);
  static std::vector<uint8_t> arena_mem(kArenaPages * kPage);
  static ArenaPages arena(arena_mem.data(), kArenaHpa, kArenaPages);
  // Only the pages the last input wrote need zeroing (a whole-RAM memset
  // cost a fifth of the time).
  static std::vector<uint64_t> dirty;
  for (uint64_t page : dirty) std::memset(mpt.ram() + page * kPage, 0, kPage);
  dirty.clear();

  std::vector<uint64_t> roots, vas = {0x0, 0x1000, 0x201000, 0x4020'1000, 0x80'4020'1000, 0x7FFF'FFFF'F000};
  {
    gvt::PpgttShadow shadow(mpt, arena, kScratch, kLimits);
    auto check = [&] {
      for (uint64_t root : roots) {
        auto hpa = shadow.root_hpa(root);
        if (!hpa) continue;
        if (!check_shadow(arena, mpt, *hpa, kScratch).empty()) broken("a shadow entry names memory outside RAM");
        if (shadow.failsafe()) continue;
        std::set<std::tuple<uint64_t, uint64_t, int>> seen;
        check_tables(arena, mpt, *hpa, root / kPage, 3, seen);
        for (uint64_t va : vas)
          if (shadow_walk(arena, *hpa, va) != guest_walk(mpt, root, va, kScratch)) broken("a walk differs");
      }
    };
    for (size_t at = 0; at + 8 <= size; at += 8) {
      const uint8_t* op = data + at;
      const uint64_t page = op[1] % kPages, index = (op[2] | op[3] << 8) % 512;
      const uint64_t gpa = page * kPage + index * 8, value = entry_value(op[4], op[5], op[6]);
      const uint64_t root = op[1] >= 0xF8 ? kRam + op[1] * kPage : page * kPage;
      if (op[0] % 8 < 4) dirty.push_back(page);
      switch (op[0] % 8) {
        case 0:
        case 1:
          mpt.guest_write(gpa, &value, 8);
          // The address whose walk uses this index at every level.
          add(vas, index << 39 | index << 30 | index << 21 | index << 12);
          break;
        case 2:
          mpt.guest_write(gpa + (op[7] & 4), reinterpret_cast<const uint8_t*>(&value) + (op[7] & 4), 4);
          break;
        case 3: {
          const uint64_t bytes[2] = {value, entry_value(op[7], op[5], op[6])};
          const uint64_t off = (op[2] | op[3] << 8) % kPage, len = 1 + op[7] % 16;
          mpt.guest_write(page * kPage + off, bytes, std::min(len, kPage - off));
          break;
        }
        case 4:
          if (shadow.acquire(root)) add(roots, root);
          break;
        case 5: shadow.release(root); break;
        case 6:
          if (op[7] & 1) {
            shadow.pv_destroy(root);
          } else if (shadow.pv_create(root)) {
            add(roots, root);
          }
          break;
        default:
          if (!shadow.sync() && (op[7] & 1)) shadow.reset();
          check();
          break;
      }
    }
    if (shadow.sync()) check();
  }
  if (mpt.protected_pages() || mpt.pinned_pages() || mpt.bad_unpins() || arena.in_use())
    broken("a destroyed shadow left pages protected, pinned or allocated");
  return 0;
}
