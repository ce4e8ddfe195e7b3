// The value-only logical context image: the engine state a context carries,
// and how it is read from and written to the register-state page. All engine
// state lives here, so nothing one context sets can be seen by another.
#pragma once

#include <cstdint>

#include "common/gen8/layout.h"

namespace hw {

struct EngineState {
  // Ring context: always restored.
  uint32_t ctx_control = 0;
  uint32_t head = 0, tail = 0, start = 0, ctl = 0;
  uint32_t ctx_timestamp = 0;
  uint64_t bb_addr = 0;
  uint64_t pdp[4] = {};
  uint32_t second_stage = 0;
  // Engine context: documented defaults under restore-inhibit.
  uint32_t instpm = 0;
  uint64_t gpr[gen8::kNumGprs] = {};

  uint64_t pml4() const { return pdp[0]; }
};

// `page` is the register-state page (1024 dwords).
EngineState load_state(const uint32_t* page);
// RING_TAIL as the CPU last wrote it (a lite restore re-reads only this).
uint32_t image_tail(const uint32_t* page);
void save_state(const EngineState& s, uint32_t* page);

}  // namespace hw
