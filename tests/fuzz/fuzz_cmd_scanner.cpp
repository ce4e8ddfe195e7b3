// libFuzzer target: a hostile guest's ring slice and graphics memory against
// the command scanner. Invariants: the scanner never crashes or hangs; a ring
// it accepts, scanned again after patching (so its batches are read from the
// copies), is accepted again with the same totals; and walking an accepted
// ring as the hardware would, independently of the scanner, finds every used
// GGTT extent inside the slice, every GGTT batch running from a copy, no flip,
// and exactly the commands the scanner counted.
//
// Input: byte 0 = engine (bit 0), scan_nonpriv (bit 1), max_batch_dwords =
// 16 << bits 4:2; bytes 1-2 = ring dwords (little endian, mod 1024); the ring
// dwords; then guest memory as records {window (0 low GM, 1 high GM, 2 PPGTT),
// u16 dword offset, u16 dword count, the dwords}. Memory not written is zero.
#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "common/gen8/cmds.h"
#include "gvt/cmd_scanner.h"

namespace {

using namespace gen8;

constexpr uint64_t kLowBase = 0x10000, kLowSize = 0x10000;
// The high range holds the guest's 64 KiB, then one 64 KiB shadow pool per pass,
// so that the second pass can read the first pass's copies through the GGTT.
constexpr uint64_t kHighBase = 0x100000, kHighSize = 0x30000, kGuestHigh = 0x10000;
constexpr uint64_t kPoolSize = 0x10000;
constexpr uint64_t kPool[2] = {kHighBase + kGuestHigh, kHighBase + kGuestHigh + kPoolSize};
constexpr uint64_t kPpgttBase = 0x200000, kPpgttSize = 0x10000;
constexpr gvt::GmSlice kSlice{kLowBase, kLowSize, kHighBase, kHighSize, 0, 0};

uint32_t g_low[kLowSize / 4], g_high[kHighSize / 4], g_ppgtt[kPpgttSize / 4];
uint32_t* const g_mem[] = {g_low, g_high, g_ppgtt};
// Bytes from each window's start that the last input may have made non-zero:
// clearing only those keeps an execution cheap.
uint64_t g_dirty[3];

// The dwords from `a` to the end of the window holding it, or null.
uint32_t* window(uint64_t a, bool ggtt, uint64_t* dwords) {
  struct W {
    uint32_t* mem;
    uint64_t base, size;
  };
  const W ws[] = {{g_low, kLowBase, kLowSize},
                  {g_high, kHighBase, kHighSize},
                  {g_ppgtt, kPpgttBase, kPpgttSize}};
  for (int i = ggtt ? 0 : 2; i < (ggtt ? 2 : 3); ++i)
    if (a >= ws[i].base && a - ws[i].base < ws[i].size && a % 4 == 0) {
      *dwords = (ws[i].base + ws[i].size - a) / 4;
      return ws[i].mem + (a - ws[i].base) / 4;
    }
  return nullptr;
}

bool read(uint64_t a, void* dst, size_t bytes, bool ggtt) {
  uint64_t n;
  uint32_t* p = window(a, ggtt, &n);
  if (!p || bytes > 4 * n) return false;
  std::memcpy(dst, p, bytes);
  return true;
}

struct Pool {
  uint64_t next, end;
};

tl::expected<gvt::ShadowBuffer, std::string> alloc(Pool& p, uint32_t n) {
  const uint64_t bytes = (4ull * n + 63) & ~63ull;
  if (bytes > p.end - p.next) return tl::unexpected(std::string("pool exhausted"));
  uint64_t room;
  gvt::ShadowBuffer s{p.next, window(p.next, true, &room), n};
  p.next += bytes;
  g_dirty[1] = std::max(g_dirty[1], p.next - kHighBase);
  return s;
}

bool in_slice(uint64_t a, uint64_t size) {
  auto in = [&](uint64_t base, uint64_t len) {
    return a >= base && a <= base + len && size <= base + len - a;
  };
  return in(kLowBase, kLowSize) || in(kHighBase, kHighSize);
}

// Runs an accepted buffer (and every batch it starts) as the hardware would.
struct Verifier {
  int engine;
  bool scan_nonpriv;
  uint64_t commands = 0;

  // level 0: the ring; 1: first-level batch; 2: second-level batch.
  void run(const uint32_t* d, uint64_t n, int level, bool privileged) {
    for (uint64_t i = 0;;) {
      if (i == n) {
        if (level) abort();  // a batch ran off its window
        return;
      }
      const CmdDesc* c = decode(d[i]);
      if (!c) abort();
      const uint32_t len = cmd_length(*c, d[i]);
      if (!len || i + len > n || ++commands > gvt::ScanEnv{}.max_scan_dwords) abort();
      const uint32_t* cmdp = d + i;
      if (!(c->engines & kEngineBit[engine]) || (c->flags & kGuestRefused) ||
          c->op == Op::MI_DISPLAY_FLIP || (!privileged && (c->flags & kPrivOnly)))
        abort();
      for (uint8_t f = 0; f < c->n_addr; ++f) {
        const Access a = field_access(*c, c->addr[f], cmdp, len, privileged);
        if (!a.ok) abort();
        if (!a.used) continue;
        if (a.index_mode || (a.ggtt && !privileged)) abort();
        if (a.ggtt && !in_slice(a.addr, a.size)) abort();
      }
      if (c->flags & kEndsBatch) {
        if (!level) abort();
        return;
      }
      i += len;
      if (!(c->flags & kStartsBatch)) continue;
      const Access a = field_access(*c, c->addr[0], cmdp, len, privileged);
      const bool second = cmdp[0] & kBbSecondLevel;
      if (level == 2 || (level == 0 && second)) abort();
      const bool chain = level && !second;
      if (a.ggtt || scan_nonpriv) {
        // A privileged batch runs from the first pass's copy.
        if (a.ggtt && (a.addr < kPool[0] || a.addr >= kPool[0] + kPoolSize)) abort();
        uint64_t room;
        const uint32_t* t = window(a.addr, a.ggtt, &room);
        if (!t) abort();
        if (chain) {  // the hardware never returns: continue there
          d = t;
          n = room;
          i = 0;
          privileged = a.ggtt;
          continue;
        }
        run(t, room, level + 1, a.ggtt);
      } else if (chain) {
        return;
      }
    }
  }
};

gvt::ScanEnv make_env(int engine, bool nonpriv, uint32_t max_batch, Pool& pool) {
  gvt::ScanEnv e{};
  e.engine = engine;
  e.slice = kSlice;
  e.read_ggtt = [](uint64_t a, void* d, size_t n) { return read(a, d, n, true); };
  e.read_ppgtt = [](uint64_t a, void* d, size_t n) { return read(a, d, n, false); };
  e.alloc_shadow = [&pool](uint32_t n) { return alloc(pool, n); };
  e.scan_nonpriv = nonpriv;
  e.max_batch_dwords = max_batch;
  return e;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 3) return 0;
  const int engine = data[0] & 1;
  const bool nonpriv = data[0] & 2;
  const uint32_t max_batch = 16u << ((data[0] >> 2) & 7);
  const uint32_t n = (data[1] | data[2] << 8) % 1024;
  data += 3;
  size -= 3;
  std::vector<uint32_t> ring(n);
  const size_t ring_bytes = std::min<size_t>(size, 4ull * n);
  if (ring_bytes) std::memcpy(ring.data(), data, ring_bytes);
  data += ring_bytes;
  size -= ring_bytes;
  for (int w = 0; w < 3; ++w) {
    std::memset(g_mem[w], 0, g_dirty[w]);
    g_dirty[w] = 0;
  }
  while (size >= 5) {
    const uint64_t dwords[] = {kLowSize / 4, kGuestHigh / 4, kPpgttSize / 4};
    const int w = data[0] % 3;
    const uint64_t off = (data[1] | data[2] << 8) % dwords[w];
    const size_t bytes =
        std::min<size_t>({size - 5, 4ull * (data[3] | data[4] << 8), 4 * (dwords[w] - off)});
    std::memcpy(g_mem[w] + off, data + 5, bytes);
    g_dirty[w] = std::max(g_dirty[w], 4 * off + bytes);
    data += 5 + bytes;
    size -= 5 + bytes;
  }

  Pool p1{kPool[0], kPool[0] + kPoolSize};
  auto first = gvt::CmdScanner::scan_ring(make_env(engine, nonpriv, max_batch, p1), ring.data(), n,
                                          kLowBase);
  if (!first) return 0;

  Verifier v{engine, nonpriv};
  v.run(ring.data(), n, 0, true);

  std::vector<uint32_t> again = ring;
  Pool p2{kPool[1], kPool[1] + kPoolSize};
  auto second = gvt::CmdScanner::scan_ring(make_env(engine, nonpriv, max_batch, p2), again.data(),
                                           n, kLowBase);
  if (!second || second->dwords != first->dwords ||
      second->batches_copied != first->batches_copied ||
      second->batches_unscanned != first->batches_unscanned || !second->flips.empty() ||
      v.commands != second->commands)
    abort();
  return 0;
}
