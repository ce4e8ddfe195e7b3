#include "hw/context_image.h"

namespace hw {

namespace {
uint64_t qword(const uint32_t* page, uint32_t udw, uint32_t ldw) {
  return static_cast<uint64_t>(page[udw]) << 32 | page[ldw];
}
constexpr uint32_t kPdpSlots[4][2] = {{gen8::ctx::PDP0_UDW, gen8::ctx::PDP0_LDW},
                                      {gen8::ctx::PDP1_UDW, gen8::ctx::PDP1_LDW},
                                      {gen8::ctx::PDP2_UDW, gen8::ctx::PDP2_LDW},
                                      {gen8::ctx::PDP3_UDW, gen8::ctx::PDP3_LDW}};
}  // namespace

// Software may write RING_TAIL while the engine reads it (brief §3: a lite
// restore re-reads it); both sides access the dword atomically.
uint32_t image_tail(const uint32_t* page) {
  return __atomic_load_n(&page[gen8::ctx::RING_TAIL], __ATOMIC_ACQUIRE);
}

EngineState load_state(const uint32_t* p) {
  namespace c = gen8::ctx;
  EngineState s;
  s.ctx_control = p[c::CONTEXT_CONTROL];
  s.head = p[c::RING_HEAD];
  s.tail = image_tail(p);
  s.start = p[c::RING_START];
  s.ctl = p[c::RING_CTL];
  s.ctx_timestamp = p[c::CTX_TIMESTAMP];
  s.bb_addr = qword(p, c::BB_ADDR_UDW, c::BB_ADDR);
  for (int i = 0; i < 4; ++i) s.pdp[i] = qword(p, kPdpSlots[i][0], kPdpSlots[i][1]);
  s.second_stage = p[c::SECOND_STAGE];
  if (s.ctx_control & gen8::kCtxCtrlRestoreInhibit) return s;
  s.instpm = p[c::INSTPM];
  for (int i = 0; i < gen8::kNumGprs; ++i) s.gpr[i] = qword(p, c::GPR0 + 2 * i + 1, c::GPR0 + 2 * i);
  return s;
}


// Saves what the engine changes. RING_TAIL, RING_START, RING_CTL and the
// second-stage slot belong to software: the driver may already have written
// the next tail while this run completes, and a save must not undo it.
void save_state(const EngineState& s, uint32_t* p) {
  namespace c = gen8::ctx;
  // The saved image restores normally next time.
  p[c::CONTEXT_CONTROL] = s.ctx_control & ~gen8::kCtxCtrlRestoreInhibit;
  p[c::RING_HEAD] = s.head;
  p[c::CTX_TIMESTAMP] = s.ctx_timestamp;
  p[c::BB_ADDR_UDW] = static_cast<uint32_t>(s.bb_addr >> 32);
  p[c::BB_ADDR] = static_cast<uint32_t>(s.bb_addr);
  for (int i = 0; i < 4; ++i) {
    p[kPdpSlots[i][0]] = static_cast<uint32_t>(s.pdp[i] >> 32);
    p[kPdpSlots[i][1]] = static_cast<uint32_t>(s.pdp[i]);
  }
  p[c::INSTPM] = s.instpm;
  for (int i = 0; i < gen8::kNumGprs; ++i) {
    p[c::GPR0 + 2 * i] = static_cast<uint32_t>(s.gpr[i]);
    p[c::GPR0 + 2 * i + 1] = static_cast<uint32_t>(s.gpr[i] >> 32);
  }
}

}  // namespace hw
