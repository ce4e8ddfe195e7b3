// One engine (RCS or BCS): a host thread that runs logical ring contexts
// submitted through its execlist port. It loads the context's state from the
// value-only context image, executes the ring and the batches it chains to,
// and saves the state back when the ring is drained. Every command is decoded
// from the shared command table; privilege follows docs/hw-spec.md.
#pragma once

#include <array>
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>

#include <tl/expected.hpp>

#include "common/gen8/cmds.h"
#include "common/gen8/execlist_sm.h"
#include "hw/context_image.h"
#include "hw/gpu.h"
#include "hw/gtt_walk.h"
#include "hw/render_engine.h"
#include "hw/render_state.h"

namespace hw {

class Engine {
 public:
  Engine(Gpu& gpu, int index);
  ~Engine();

  // ---- called with Gpu::mu_ held ----
  bool elsp_write(uint32_t v);  // returns "send an MSI"
  uint32_t read_live(uint32_t rel_offset, uint32_t dword) const;
  uint32_t csb_ptr() const;
  void write_csb_read_ptr(uint32_t masked);
  // Stops the engine and waits until its thread has let go of the context.
  // Called with the lock held through `lk`, which it releases while waiting.
  void stop_and_wait(std::unique_lock<std::mutex>& lk);
  void reset_locked();  // after stop_and_wait: execlist, CSB and error state to power-on
  bool idle_locked() const { return !busy_ && !sm_.current(); }
  EngineFault fault_locked() const { return fault_; }
  // Any thread, no lock: the execution log (Gpu::lri_count).
  uint64_t lri_count(uint32_t reg) const;

 private:
  struct Level {
    uint64_t addr;  // next command
    bool ggtt;
    bool privileged;
  };
  enum class Step { Next, Fault, Stopped };

  void thread_main();
  void run_element(const gen8::ElspElement& el);
  Step execute_ring();
  Step execute(const gen8::CmdDesc& c, const uint32_t* d, uint32_t len, int depth);
  Step fault(gen8::Fault code, uint32_t header, uint64_t detail = 0);
  AddressSpace& space(bool ggtt);
  bool check_access(const gen8::CmdDesc& c, const uint32_t* d, uint32_t len, bool priv,
                    gen8::Fault* why, uint64_t* detail);
  bool register_allowed(uint32_t reg, bool priv) const;
  bool write_register(uint32_t reg, uint32_t v);
  uint32_t read_register(uint32_t reg) const;
  // Memory through a GM address space; false with *f set on a fault.
  bool mem_read(AddressSpace& as, uint64_t addr, void* dst, uint64_t len, WalkFault* f);
  bool mem_write(AddressSpace& as, uint64_t addr, const void* src, uint64_t len, WalkFault* f);
  Step post_sync_write(const gen8::Access& a, const void* data, uint64_t len, uint32_t hdr);
  Step blit(const gen8::CmdDesc& c, const uint32_t* d, uint32_t len, bool priv);
  Step semaphore_wait(const uint32_t* d, bool priv);
  // The 3D pipeline (RCS): state commands, 3DPRIMITIVE and clears.
  Step render(const gen8::CmdDesc& c, const uint32_t* d, uint32_t len, bool priv);
  bool post_csb_locked(const gen8::CsbEvent& ev);
  bool stopping() const { return stop_.load(std::memory_order_relaxed); }

  Gpu& gpu_;
  const int index_;
  const uint32_t base_;

  // Guarded by Gpu::mu_.
  gen8::ExeclistSm sm_;
  uint64_t csb_[gen8::kCsbEntries] = {};
  uint32_t csb_wp_ = gen8::kCsbPtrEmpty;
  uint32_t lite_gen_ = 0;
  bool busy_ = false;
  bool hung_ = false;
  bool shutdown_ = false;
  EngineFault fault_;
  std::condition_variable cv_;

  std::atomic<bool> stop_{false};
  // Guarded by state_mu_: the running context's state, read live by MMIO.
  mutable std::mutex state_mu_;
  EngineState st_;
  uint32_t lrca_ = 0;
  Level stack_[3] = {};
  int depth_ = 0;
  uint64_t cmd_addr_ = 0;
  ContextCounters run_counters_;
  // MI_LOAD_REGISTER_IMM operands dispatched, per gen8::kRegs index; the last
  // slot counts offsets not in the table. Written by the engine thread only.
  std::array<std::atomic<uint64_t>, gen8::kNumRegs + 1> lri_log_{};
  std::optional<AddressSpace> as_ggtt_, as_ppgtt_;
  // RCS only: the render engine and the running context's 3D state (engine
  // thread only; loaded from and saved to the image's 3D page).
  std::unique_ptr<RenderEngine> render_;
  RenderState rstate_;
  std::thread thread_;
};

}  // namespace hw
