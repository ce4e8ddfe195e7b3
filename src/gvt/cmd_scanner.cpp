#include "gvt/cmd_scanner.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <optional>
#include <unordered_set>

#include "common/gen8/cmds.h"

namespace gvt {
namespace {

using namespace gen8;

constexpr uint64_t kPageBytes = 4096;
constexpr uint64_t kGgttKey = 1ull
                              << 63;  // tells a GGTT batch from a PPGTT one at the same address
constexpr const char* kEngineName[kNumEngines] = {"rcs", "bcs"};
constexpr const CmdDesc& kBbStart = cmd(Op::MI_BATCH_BUFFER_START);
constexpr const CmdDesc& kFlip = cmd(Op::MI_DISPLAY_FLIP);

enum class Level : uint8_t { Ring, First, Second };

// [a, a + size) wholly inside [base, base + len), without overflow.
constexpr bool inside(uint64_t a, uint64_t size, uint64_t base, uint64_t len) {
  return a >= base && a - base <= len && size <= len - (a - base);
}

constexpr bool in_slice(const GmSlice& s, uint64_t a, uint64_t size) {
  return inside(a, size, s.low_base, s.low_size) || inside(a, size, s.high_base, s.high_size);
}

// End of the slice range holding `a`: a batch may not leave the range it starts in.
constexpr uint64_t range_end(const GmSlice& s, uint64_t a) {
  return inside(a, 1, s.low_base, s.low_size) ? s.low_base + s.low_size : s.high_base + s.high_size;
}

void set_address(const AddrField& f, uint32_t* d, uint64_t a) {
  d[f.dw] = (d[f.dw] & ~f.lo_mask) | (static_cast<uint32_t>(a) & f.lo_mask);
  if (f.qword) d[f.dw + 1] = (d[f.dw + 1] & ~0xFFFFu) | (static_cast<uint32_t>(a >> 32) & 0xFFFFu);
}

// A buffer being scanned: the ring copy (all present) or a batch, read from
// the guest on demand into host memory and scanned there.
struct Buffer {
  uint64_t gm;
  bool privileged;  // the ring or a GGTT batch: GGTT fields allowed, batches copied
  Level level;
  uint32_t* d = nullptr;
  uint32_t have = 0;                       // dwords present in d
  uint32_t limit = 0;                      // dwords a batch may span
  bool limit_is_range = false;             // the limit is its GM range's end, not max_batch_dwords
  std::vector<uint32_t>* store = nullptr;  // null for the ring
};

// How the walk of a buffer ended.
struct End {
  uint32_t len = 0;  // dwords that execute: the size of a copy
  bool chained = false;
  uint32_t chain_at = 0;  // the chained BB_START
  uint64_t next_gm = 0;
  bool next_ggtt = false;
};

// What a BB_START does to the buffer it is in.
struct Start {
  bool ends = false;    // a chain: the hardware never comes back
  bool follow = false;  // ... to a batch that must be scanned next
  uint64_t gm = 0;
  bool ggtt = false;
};

class Scanner {
 public:
  Scanner(const ScanEnv& env, ScanStats& st) : env_(env), st_(st) {}

  tl::expected<void, ScanViolation> ring(uint32_t* d, uint32_t n, uint64_t gm) {
    Buffer b{gm, true, Level::Ring, d, n};
    if (auto end = walk(b); !end) return tl::unexpected(end.error());
    return {};
  }

 private:
  using Fail = tl::unexpected<ScanViolation>;

  Fail fail(const Buffer& b, uint32_t i, std::string why) const {
    return Fail(
        ScanViolation{env_.engine, b.gm + 4ull * i, i, i < b.have ? b.d[i] : 0, std::move(why)});
  }

  tl::expected<End, ScanViolation> walk(Buffer& b) {
    for (uint32_t i = 0;;) {
      if (!b.store && i == b.have) return End{i};
      if (i >= b.have)
        if (auto s = fill(b, i, 1)) return fail(b, i, std::move(*s));
      const uint32_t dw0 = b.d[i];
      const CmdDesc* c = decode(dw0);
      if (!c) return fail(b, i, fmt::format("unknown opcode (header 0x{:08x})", dw0));
      const uint32_t len = cmd_length(*c, dw0);
      if (!len) return fail(b, i, fmt::format("{}: bad length field", c->name));
      if (uint64_t{i} + len > b.have)
        if (auto s = fill(b, i, len)) return fail(b, i, fmt::format("{}: {}", c->name, *s));
      if ((st_.dwords += len) > env_.max_scan_dwords)
        return fail(b, i, fmt::format("scan budget of {} dwords exceeded", env_.max_scan_dwords));
      ++st_.commands;
      uint32_t* d = b.d + i;
      if (auto why = check(*c, d, len, b)) return fail(b, i, std::move(*why));
      if (env_.trace) env_.trace(b.gm + 4ull * i, *c, d, len);
      if (c->flags & kEndsBatch) return End{i + 1};
      if (c->flags & kStartsBatch) {
        auto s = start(*c, d, len, b, i);
        if (!s) return tl::unexpected(s.error());
        if (s->ends) return End{i + len, s->follow, i, s->gm, s->ggtt};
      }
      if (c->op == Op::MI_DISPLAY_FLIP) take_flip(d, len);
      i += len;
    }
  }

  // Makes dwords [i, i + n), not all present yet, present; otherwise says why not.
  std::optional<std::string> fill(Buffer& b, uint32_t i, uint32_t n) {
    const uint64_t need = uint64_t{i} + n;
    if (!b.store)
      return fmt::format("length {} overruns the buffer ({} dwords left)", n, b.have - i);
    if (need > b.limit)
      return b.limit_is_range ? std::string("batch runs past the end of its GM range")
                              : fmt::format("batch without MI_BATCH_BUFFER_END within {} dwords",
                                            env_.max_batch_dwords);
    // Whole pages only: a batch ending mid-page never reads the (maybe unmapped) next page.
    const uint64_t end = (b.gm + 4 * need + kPageBytes - 1) & ~(kPageBytes - 1);
    const auto want = static_cast<uint32_t>(std::min<uint64_t>(b.limit, (end - b.gm) / 4));
    b.store->resize(want);
    b.d = b.store->data();
    const auto& read = b.privileged ? env_.read_ggtt : env_.read_ppgtt;
    const uint64_t at = b.gm + 4ull * b.have;
    if (!read || !read(at, b.d + b.have, 4ull * (want - b.have)))
      return fmt::format("batch not readable at 0x{:x} (outside the vGPU's GM or unmapped)", at);
    b.have = want;
    return std::nullopt;
  }

  std::optional<std::string> check(const CmdDesc& c, const uint32_t* d, uint32_t len,
                                   const Buffer& b) const {
    const bool ring = b.level == Level::Ring;
    if (!(c.engines & kEngineBit[env_.engine]))
      return fmt::format("{} not allowed on {}", c.name, kEngineName[env_.engine]);
    if (c.flags & kGuestRefused) return fmt::format("{} refused for guests", c.name);
    if (ring && (c.flags & kNotInRing)) return fmt::format("{} not allowed in a ring", c.name);
    if (ring && (c.flags & kEndsBatch)) return fmt::format("{} in a ring", c.name);
    if (!b.privileged && (c.flags & kPrivOnly))
      return fmt::format("{}: privileged-only command in an unprivileged batch", c.name);
    for (uint32_t i = 0;; ++i) {
      const int64_t r = reg_operand(c, d, len, i);
      if (r < 0) break;
      if (auto why = check_reg(c, static_cast<uint32_t>(r), b.privileged)) return why;
    }
    for (uint8_t a = 0; a < c.n_addr; ++a)
      if (auto why = check_addr(c, c.addr[a], d, len, b.privileged)) return why;
    if (c.op == Op::MI_DISPLAY_FLIP && flip_pipe(flip_plane(d)) < 0)
      return fmt::format("{}: unknown plane {}", c.name, flip_plane(d));
    return std::nullopt;
  }

  std::optional<std::string> check_reg(const CmdDesc& c, uint32_t off, bool privileged) const {
    const int i = find_reg(off);
    if (i < 0) return fmt::format("{} to a register not in the table (0x{:x})", c.name, off);
    const RegDesc& r = kRegs[static_cast<size_t>(i)];
    auto refuse = [&](const char* what) {
      return fmt::format("{} to a register {} ({} 0x{:x})", c.name, what, r.name, off);
    };
    if (!(r.flags & kCmd)) return refuse("not writable from a command buffer");
    if (r.flags & kPtRoot) return refuse("that is a page-table root");
    if (r.scope == Scope::Engine && r.instance != env_.engine) return refuse("of another engine");
    if (!privileged && !(r.flags & kNonPriv))
      return refuse("not writable from an unprivileged batch");
    return std::nullopt;
  }

  std::optional<std::string> check_addr(const CmdDesc& c, const AddrField& f, const uint32_t* d,
                                        uint32_t len, bool privileged) const {
    const Access a = field_access(c, f, d, len, privileged);
    if (!a.ok) return fmt::format("{}: bad {} extent", c.name, f.name);
    if (!a.used) return std::nullopt;
    if (a.index_mode) return fmt::format("{}: index-mode {}", c.name, f.name);
    if (!a.ggtt) return std::nullopt;  // the context's PPGTT and second-stage domain confine it
    if (!privileged) return fmt::format("{}: GGTT {} from an unprivileged batch", c.name, f.name);
    if (!in_slice(env_.slice, a.addr, a.size))
      return fmt::format("{}: {} [0x{:x}, +0x{:x}) outside the vGPU's GM", c.name, f.name, a.addr,
                         a.size);
    return std::nullopt;
  }

  // A BB_START already checked by check(): its GGTT target lies in the slice.
  tl::expected<Start, ScanViolation> start(const CmdDesc& c, uint32_t* d, uint32_t len,
                                           const Buffer& b, uint32_t i) {
    const bool second = (d[0] & kBbSecondLevel) != 0;
    if (b.level == Level::Second)
      return fail(b, i,
                  fmt::format("{} in a second-level batch: nesting beyond two levels", c.name));
    if (b.level == Level::Ring && second)
      return fail(b, i, fmt::format("{}: second-level batch started from the ring", c.name));
    const Access a = field_access(c, c.addr[0], d, len, b.privileged);
    const bool chain = b.level != Level::Ring && !second;
    if (!a.ggtt && !env_.scan_nonpriv) {
      ++st_.batches_unscanned;
      return Start{chain};
    }
    const uint64_t key = a.addr | (a.ggtt ? kGgttKey : 0);
    if (b.level == Level::Ring) chain_.clear();
    if (chain_.count(key))
      return fail(
          b, i, fmt::format("{}: batch 0x{:x} is already on this chain (a loop)", c.name, a.addr));
    if (!second) chain_.insert(key);  // a second-level batch returns: it is not on the chain
    if (chain) return Start{true, true, a.addr, a.ggtt};
    auto at = follow(a.addr, a.ggtt, second ? Level::Second : Level::First);
    if (!at) return tl::unexpected(at.error());
    if (a.ggtt) set_address(c.addr[0], d, *at);
    return Start{};
  }

  // Scans the batch at `gm` and every batch it chains to, copying GGTT ones.
  // Returns what its starter must name: the first copy, or `gm` (PPGTT).
  tl::expected<uint64_t, ScanViolation> follow(uint64_t gm, bool ggtt, Level level) {
    std::vector<uint32_t>& store = level == Level::First ? first_ : second_;
    uint64_t head = 0;
    uint32_t* slot = nullptr;  // the previous copy's chained BB_START
    for (bool first = true;; first = false) {
      Buffer b = batch(gm, ggtt, level, store);
      auto end = walk(b);
      if (!end) return tl::unexpected(end.error());
      uint64_t at = gm;
      uint32_t* next_slot = nullptr;
      if (ggtt) {
        auto s = copy(b, end->len);
        if (!s) return tl::unexpected(s.error());
        at = s->gm;
        if (end->chained) next_slot = s->cpu + end->chain_at;
      }
      if (first) head = at;
      if (slot) set_address(kBbStart.addr[0], slot, at);
      if (!end->chained) return head;
      slot = next_slot;
      gm = end->next_gm;
      ggtt = end->next_ggtt;
    }
  }

  Buffer batch(uint64_t gm, bool ggtt, Level level, std::vector<uint32_t>& store) const {
    Buffer b{gm, ggtt, level};
    store.clear();
    b.store = &store;
    b.limit = env_.max_batch_dwords;
    if (ggtt) {
      const uint64_t room = (range_end(env_.slice, gm) - gm) / 4;
      if (room < b.limit) {
        b.limit = static_cast<uint32_t>(room);
        b.limit_is_range = true;
      }
    }
    return b;
  }

  tl::expected<ShadowBuffer, ScanViolation> copy(const Buffer& b, uint32_t n) {
    if (!env_.alloc_shadow) return fail(b, 0, "no shadow buffer allocator");
    auto s = env_.alloc_shadow(n);
    if (!s) return fail(b, 0, fmt::format("shadow copy of {} dwords: {}", n, s.error()));
    if (!s->cpu || s->dwords < n) return fail(b, 0, "shadow buffer smaller than the batch");
    std::memcpy(s->cpu, b.d, 4ull * n);
    ++st_.batches_copied;
    return *s;
  }

  void take_flip(uint32_t* d, uint32_t len) {
    const uint32_t plane = flip_plane(d);
    st_.flips.push_back(
        {plane, d[1], d[2] & kFlip.addr[0].lo_mask, (d[2] & kFlipAsync) != 0, flip_pipe(plane)});
    std::fill(d, d + len, cmd(Op::MI_NOOP).header);
  }

  const ScanEnv& env_;
  ScanStats& st_;
  std::unordered_set<uint64_t> chain_;    // batches on the current first-level chain
  std::vector<uint32_t> first_, second_;  // host copies of the batches being scanned
};

}  // namespace

tl::expected<ScanStats, ScanViolation> CmdScanner::scan_ring(const ScanEnv& env, uint32_t* ring,
                                                             uint32_t n_dwords, uint64_t ring_gm) {
  if (env.engine < 0 || env.engine >= kNumEngines)
    return tl::unexpected(
        ScanViolation{env.engine, ring_gm, 0, 0, fmt::format("bad engine index {}", env.engine)});
  ScanStats st;
  Scanner s(env, st);
  if (auto r = s.ring(ring, n_dwords, ring_gm); !r) return tl::unexpected(r.error());
  return st;
}

}  // namespace gvt
