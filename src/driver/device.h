// The GPU driver's device: PCI probe, graphics-memory management, buffer
// objects, the per-engine HWSP and seqno, execlist tracking from the CSB, and
// the interrupt bottom half. Freestanding: fixed-size state, no heap.
#pragma once

#include <cstdint>

#include "common/gen8/layout.h"
#include "driver/error.h"
#include "driver/gm_alloc.h"
#include "driver/platform.h"
#include "driver/pv.h"

namespace drv {

struct Bo {
  Pages pages;
  uint64_t gm = 0;  // GGTT address; 0 when the object is not in the GGTT
  uint64_t size = 0;
  uint32_t* dwords() const { return static_cast<uint32_t*>(pages.cpu); }
};

enum BoFlags : unsigned {
  kBoGgtt = 1u << 0,      // bind into the GGTT
  kBoMappable = 1u << 1,  // in low GM: CPU-visible through the aperture
};

// Called with every ring and batch the driver submits (tests validate them).
using EmitObserver = void (*)(void* user, int engine, bool ring, const uint32_t* dw, uint32_t n);

struct DriverStats {
  uint64_t submissions = 0;
  uint64_t interrupts = 0;
  uint64_t vblanks = 0;
  uint64_t flips_done = 0;
  // Time the CPU spent blocked on the GPU, and in submission MMIO (an exit in
  // a VM): what is left of a frame is the workload's own CPU time.
  uint64_t wait_ns = 0;
  uint64_t mmio_ns = 0;
};

// Takes a driver's submissions instead of its ELSP: a scheduler that
// time-shares the engines (the host's own workload beside the VMs, when a
// mediator owns the execlist ports). The driver then programs no engine or
// interrupt register and reads no CSB; it learns completions from its seqnos.
class SubmitHook {
 public:
  virtual void submit(int engine, uint64_t desc) = 0;
  // Whether a submission on `engine` is queued or running: the context image
  // is the GPU's until it is not.
  virtual bool busy(int engine) = 0;
  // Whether the last submission on `engine` hung and was reset.
  virtual bool faulted(int engine) = 0;

 protected:
  ~SubmitHook() = default;
};

class Device {
 public:
  // `own`: the GM ranges this driver may use when a mediator shares the GPU
  // (the host's slice, ballooned as a PV guest's would be). Without it the
  // driver takes the whole GM, or what the PV info page gives it.
  // With `hook`, submissions go to it (see SubmitHook).
  Result<void> init(Platform& p, const PvInfo* own = nullptr, SubmitHook* hook = nullptr);
  void fini();
  Platform& platform() { return *p_; }
  const PvInfo& pv() const { return pv_; }

  Result<Bo> create_bo(uint64_t bytes, unsigned flags);
  void destroy_bo(Bo& bo);
  // The aperture view of a mappable object.
  uint8_t* aperture_ptr(const Bo& bo) { return p_->aperture() + bo.gm; }

  // ---- completion and execlist tracking, per engine ----
  uint32_t alloc_seqno(int engine) { return ++eng_[engine].last_seqno; }
  uint64_t seqno_gm(int engine) const;
  bool seqno_passed(int engine, uint32_t seqno) const;
  Result<void> wait_seqno(int engine, uint32_t seqno, uint64_t timeout_ns);
  // Waits until the execlist port can take a submission (no pending
  // context). Call it before updating the context's ring tail: a pending
  // context may load its image at any moment.
  Result<void> wait_port(int engine);
  // One ELSP write sequence; call after wait_port.
  void elsp_submit(int engine, uint32_t ctx_id, uint64_t desc);
  void set_emit_observer(EmitObserver fn, void* user) {
    observer_ = fn;
    observer_user_ = user;
  }
  void observe(int engine, bool ring, const uint32_t* dw, uint32_t n) {
    if (observer_) observer_(observer_user_, engine, ring, dw, n);
  }
  uint32_t new_ctx_id() { return ++last_ctx_id_; }

  // ---- for the mediator (the host port) ----
  // One physical GGTT entry, and one fence register.
  void write_ggtt(uint64_t index, uint64_t pte);
  uint64_t read_ggtt(uint64_t index);
  void write_fence(uint32_t index, uint64_t value);
  // Makes earlier GGTT writes visible to the GPU (posting read, then the
  // GFX flush), as i915 does after updating entries.
  void flush_ggtt();
  // Submission on behalf of the mediator: whether context `ctx_id` (unique
  // per submission) has completed on engine `e`. Never blocks.
  bool context_done(int e, uint32_t ctx_id);
  // The engine's CSB write pointer in its HWSP: what a waiter watches.
  const volatile uint32_t* csb_write_ptr(int e) const { return &hwsp(e)[gen8::kHwspCsbWritePtr]; }
  // Which GT interrupts (per-engine bits, e.g. kGtError) raise an MSI. The
  // mediator adds context switches, so its waits wake on completions.
  void set_gt_irqs(uint32_t per_engine);
  // Resets a hung engine (GDRST) and forgets its execlist state.
  void reset_engine(int e);

  // ---- interrupts ----
  // The bottom half: reads and acknowledges the IIRs after an MSI.
  void service_interrupts();
  void enable_display_irq(int pipe, uint32_t bits);
  const DriverStats& stats() const { return stats_; }
  uint32_t flip_done_count(int pipe) const { return flip_done_[pipe]; }
  bool engine_faulted(int engine) const { return eng_[engine].faulted; }

 private:
  struct Engine {
    Bo hwsp;
    uint32_t last_seqno = 0;
    uint32_t csb_read = gen8::kCsbPtrEmpty;
    uint32_t csb_unacked = 0;  // entries read but not yet told to the device
    uint32_t running = 0, pending = 0;  // context ids; 0 = none
    uint32_t last_done = 0;             // the last context id that completed
    bool faulted = false;
  };
  Result<void> probe();
  void timed_wait(const volatile uint32_t* addr, uint32_t seen, uint64_t deadline);
  // Returns whether an event showed `watch_id` starting (or lite-restored).
  bool process_csb(int e, uint32_t watch_id);
  // Tells the device how far the CSB is read (one MMIO write). A mediator
  // never overwrites unread entries, so a driver waiting on the port with
  // many entries read but unacknowledged may be waiting on exactly that.
  void ack_csb(int e);
  volatile uint32_t* hwsp(int e) { return static_cast<volatile uint32_t*>(eng_[e].hwsp.pages.cpu); }
  const volatile uint32_t* hwsp(int e) const {
    return static_cast<const volatile uint32_t*>(eng_[e].hwsp.pages.cpu);
  }

  Platform* p_ = nullptr;
  SubmitHook* hook_ = nullptr;
  PvInfo pv_;
  GmAllocator gm_;
  Engine eng_[gen8::kNumEngines];
  uint32_t last_ctx_id_ = 0;
  uint32_t de_ier_[gen8::kNumPipes] = {};
  uint32_t flip_done_[gen8::kNumPipes] = {};
  DriverStats stats_;
  EmitObserver observer_ = nullptr;
  void* observer_user_ = nullptr;
};

// Dword index of the seqno in each engine's HWSP (outside the CSB mirror).
inline constexpr uint32_t kHwspSeqno = 0x30;

}  // namespace drv
