// A workload (upstream scheduler.c's intel_vgpu_workload): what one guest
// context element asks the GPU to run, turned into something safe to run.
// The guest's ring slice is copied into a host-owned shadow ring and scanned
// there (privileged batches are copied and scanned too); a host-owned shadow
// context, filled with *values* from the guest's context image, names that
// ring and the vGPU's second-stage domain. The host port submits the shadow
// context; on completion only values go back to the guest.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <tl/expected.hpp>

#include "common/gen8/display_regs.h"
#include "driver/device.h"
#include "gvt/cmd_scanner.h"

namespace gvt {

struct Workload;

// A tenant of the GPU that the scheduler time-shares: a vGPU, or the host's
// own workload. Its workloads complete on a dispatch thread.
class SchedClient {
 public:
  // The workload finished on the GPU (`ok`), or hung and its engine was reset.
  virtual void complete(std::unique_ptr<Workload> w, bool ok) = 0;
  virtual uint32_t sched_weight() const = 0;
  // Who the logs and statistics name ("vgpu 3", "host").
  virtual std::string sched_name() const = 0;

 protected:
  ~SchedClient() = default;
};

// Host-owned state kept per guest context (LRCA) of a vGPU.
struct ShadowContext {
  drv::Bo image;          // the shadow logical context: register state at page 1
  drv::Bo ring;           // the shadow ring
  uint32_t guest_head = 0;  // guest ring offset copied so far
};

struct Workload {
  SchedClient* client = nullptr;
  int engine = 0;
  uint32_t lrca = 0;       // the guest context, in the vGPU's GM
  ShadowContext* shadow = nullptr;  // none for the host's own (trusted) contexts
  // The slice of the ring this workload runs. The shadow ring mirrors the
  // guest ring's offsets, so workloads queued on one context never overlap.
  uint32_t head = 0, tail = 0;
  uint32_t domain = 0;      // the vGPU's second-stage domain (2-stage PPGTT mode)
  // Shadow PPGTT mode: the guest's root (PDP0, a GPA) and its shadow's (an
  // HPA the GPU walks with no second-stage domain); 0 in 2-stage mode.
  uint64_t pml4_gpa = 0, shadow_root = 0;
  uint32_t ppgtt_epoch = 0;  // the vGPU's shadow resets when it was acquired
  uint32_t generation = 0;  // the vGPU engine's reset count when it was built
  std::array<uint32_t, 1024> guest_image{};  // the guest's register state at ELSP time
  // The shadow's register state as the GPU saved it, copied at completion
  // before the next workload of the context may refill the image.
  std::array<uint32_t, 1024> saved_image{};
  uint32_t host_ctx_id = 0;
  uint64_t desc = 0;        // the shadow context's descriptor
  ScanStats scan;
  // Ring flips take effect when scanned (as upstream), so the guest never
  // sees its seqno before its flip; their flip-done waits for completion.
  gen8::Display::Events flip_events;
  std::vector<drv::Bo> batches;  // shadow copies of privileged batches
  uint64_t submitted_ns = 0;
};

// Writes the shadow context for `w`, just before it is submitted (an earlier
// workload of the same context may still be using the image until then).
void fill_shadow_context(const Workload& w);
void save_shadow_context(Workload& w);

// What a vGPU needs from the mediator to submit: host-owned shadow memory
// (in the host's GM) and the engines' queues.
class SubmitPort {
 public:
  virtual tl::expected<drv::Bo, std::string> alloc_shadow(uint64_t bytes) = 0;
  virtual void free_shadow(drv::Bo& bo) = 0;
  virtual uint32_t new_host_ctx_id() = 0;
  // Takes the workload to the engine when its client owns the GPU;
  // completion calls SchedClient::complete.
  virtual void queue(std::unique_ptr<Workload> w) = 0;
  // A guest reset of `engine`: the client's queued workloads there are
  // dropped (their shadow batches freed; they are returned so the client can
  // let go of what else it holds) and the one running is preempted (engine
  // reset).
  virtual std::vector<std::unique_ptr<Workload>> cancel(SchedClient* c, int engine) = 0;

 protected:
  ~SubmitPort() = default;
};

}  // namespace gvt
