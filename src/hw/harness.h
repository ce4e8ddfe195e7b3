// A BAR-level harness for the GPU model: the minimal programming sequence
// (GGTT mappings, one PPGTT, logical contexts, rings, ELSP) that runs command
// streams on the model without a driver. The model's tests, its benchmarks
// and `gvirt selftest` use it; workloads use the real driver (src/driver).
#pragma once

#include <chrono>
#include <cstdint>
#include <span>
#include <vector>

#include "hw/gpu.h"

namespace hw {

class Harness {
 public:
  struct Buffer {
    uint64_t gm = 0;    // GGTT address (0 when not in the GGTT)
    uint64_t hpa = 0;   // host physical address of the first page
    uint64_t size = 0;  // bytes, whole pages
    uint8_t* cpu = nullptr;
  };
  struct Context {
    int engine = 0;
    Buffer image;  // page 0 PPHWSP, page 1 register state, engine pages
    Buffer ring;
    uint32_t ctx_id = 0;
    uint32_t* regs() const { return reinterpret_cast<uint32_t*>(image.cpu + gen8::kPageSize); }
    uint32_t lrca() const { return static_cast<uint32_t>(image.gm); }
  };

  // Programs HWS_PGA of both engines, enables MSI and every GT and pipe
  // interrupt, and counts MSIs.
  explicit Harness(Gpu& gpu);
  ~Harness();

  Gpu& gpu() { return gpu_; }
  // Host pages mapped at the next free GGTT range (low GM first: CPU-visible).
  Buffer alloc_ggtt(uint64_t bytes);
  // Host pages with no GGTT mapping (for PPGTT-only use).
  Buffer alloc_host(uint64_t bytes);
  // Maps [va, va + bytes) in the shared PPGTT onto host pages starting at hpa.
  void ppgtt_map(uint64_t va, uint64_t hpa, uint64_t bytes);
  uint64_t pml4() const { return pml4_; }

  // A context with the shared PPGTT, a ring of `ring_bytes`, restore-inhibit set.
  Context make_context(int engine, uint32_t ring_bytes = 16384);
  // Appends `cmds` at the ring tail (padding to a qword with MI_NOOP), updates
  // the image's RING_TAIL. `submit` then writes ELSP with element 0 = ctx.
  void emit(Context& ctx, std::span<const uint32_t> cmds);
  void submit(const Context& ctx, const Context* second = nullptr);
  void run(Context& ctx, std::span<const uint32_t> cmds) {
    emit(ctx, cmds);
    submit(ctx);
  }
  // Waits (bounded) until the engine has no current element, or has faulted.
  bool wait_idle(int engine, std::chrono::milliseconds timeout = std::chrono::seconds(10));
  bool wait_fault(int engine, std::chrono::milliseconds timeout = std::chrono::seconds(10));
  // Entries of the CSB mirror in the global HWSP of `engine`, oldest first,
  // since the previous call.
  std::vector<uint64_t> read_csb(int engine);
  uint64_t hwsp_gm(int engine) const { return hwsp_[engine].gm; }
  uint32_t* hwsp(int engine) const { return reinterpret_cast<uint32_t*>(hwsp_[engine].cpu); }
  uint64_t msis() const;
  void reset_engine(int engine);

 private:
  uint64_t table_entry(uint64_t table_hpa, unsigned idx, bool create);

  Gpu& gpu_;
  uint64_t next_gm_ = 0x100000;  // keep GM page 0 unused so that 0 means "none"
  uint64_t pml4_ = 0;
  Buffer hwsp_[gen8::kNumEngines];
  uint32_t csb_read_[gen8::kNumEngines] = {gen8::kCsbPtrEmpty, gen8::kCsbPtrEmpty};
  uint32_t next_ctx_id_ = 1;
  std::shared_ptr<std::atomic<uint64_t>> msis_;
};

}  // namespace hw
