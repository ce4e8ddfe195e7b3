// The driver's vocabulary, checked against the command table: what a ring or
// batch from the native driver may contain. The mediator's scanner must accept
// every buffer the driver emits; a test runs them all through it.
#pragma once

#include <cstdint>

#include "common/gen8/cmds.h"

namespace gen8 {

struct Violation {
  bool found = false;
  uint32_t dword = 0;   // index of the offending command
  uint32_t header = 0;
  const char* reason = nullptr;
};

// `ring`: the buffer is a ring slice (privileged); otherwise an unprivileged
// (PPGTT) batch, which must end with MI_BATCH_BUFFER_END.
constexpr Violation vocabulary_check(const uint32_t* d, uint32_t n, int engine, bool ring) {
  auto bad = [](uint32_t i, uint32_t h, const char* why) { return Violation{true, i, h, why}; };
  for (uint32_t i = 0; i < n;) {
    const CmdDesc* c = decode(d[i]);
    if (!c) return bad(i, d[i], "unknown opcode");
    uint32_t len = cmd_length(*c, d[i]);
    if (!len || i + len > n) return bad(i, d[i], "bad length");
    if (!(c->engines & kEngineBit[engine])) return bad(i, d[i], "not allowed on this engine");
    if (c->flags & kGuestRefused) return bad(i, d[i], "refused command");
    if (ring && (c->flags & kNotInRing)) return bad(i, d[i], "not allowed in a ring");
    if (!ring && (c->flags & kPrivOnly)) return bad(i, d[i], "privileged command in a batch");
    for (uint8_t a = 0; a < c->n_addr; ++a) {
      Access acc = field_access(*c, c->addr[a], d + i, len, ring);
      if (!acc.ok) return bad(i, d[i], "bad address extent");
      if (acc.used && acc.index_mode) return bad(i, d[i], "index-mode post-sync");
      if (acc.used && acc.ggtt && !ring) return bad(i, d[i], "GGTT access from a batch");
    }
    if (c->op == Op::MI_BATCH_BUFFER_START && !ring) return bad(i, d[i], "chained batch");
    if (c->op == Op::MI_BATCH_BUFFER_END) {
      if (ring) return bad(i, d[i], "batch end in a ring");
      return i + 1 == n ? Violation{} : bad(i, d[i], "commands after the batch end");
    }
    i += len;
  }
  return ring ? Violation{} : bad(n, 0, "batch without MI_BATCH_BUFFER_END");
}

}  // namespace gen8
