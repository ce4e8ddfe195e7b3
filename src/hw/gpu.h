// The physical GPU: a software model of an Intel Gen8-class part. Everything
// above it reaches it only as hardware: PCI config space, BAR0 (registers and
// GGTT), BAR2 (the aperture, host memory with no trap), MSIs, and DMA into
// host physical memory. docs/hw-spec.md describes what it implements.
#pragma once

#include <array>
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <tl/expected.hpp>

#include "common/gen8/layout.h"
#include "hw/aperture.h"
#include "common/gen8/display_regs.h"
#include "hw/domain.h"
#include "hw/host_mem.h"
#include "common/gen8/irq_regs.h"
#include "common/gen8/pci_config.h"
#include "common/gen8/reg_file.h"

namespace hw {

class Engine;

struct GpuConfig {
  uint64_t host_mem_bytes = 3ull << 30;
  bool vblank_timer = false;  // a 60 Hz timer thread; tests call vblank() instead
  unsigned render_threads = 0;  // the render engine's worker pool; 0: one per core
};

// Per-context accounting, keyed by the context's LRCA (a GGTT address).
struct ContextCounters {
  uint64_t commands = 0;
  uint64_t pixels = 0;
  uint64_t busy_ns = 0;
  uint64_t faults = 0;
};

struct MmioStats {
  uint64_t reads = 0, writes = 0;
  uint64_t ggtt_reads = 0, ggtt_writes = 0;
  uint64_t unknown_reads = 0, unknown_writes = 0;  // offsets absent from the table
  uint64_t refused = 0;                            // bad size or alignment
  uint64_t total() const { return reads + writes + ggtt_reads + ggtt_writes; }
  MmioStats operator-(const MmioStats& o) const {
    return {reads - o.reads,
            writes - o.writes,
            ggtt_reads - o.ggtt_reads,
            ggtt_writes - o.ggtt_writes,
            unknown_reads - o.unknown_reads,
            unknown_writes - o.unknown_writes,
            refused - o.refused};
  }
};

struct Frame {
  uint32_t width = 0, height = 0;
  std::vector<uint32_t> pixels;  // XRGB8888, row-major, tightly packed
};

struct EngineFault {
  gen8::Fault code = gen8::Fault::None;
  uint32_t header = 0;   // the offending dword
  uint64_t address = 0;  // where the command was fetched from (GM address)
  uint64_t detail = 0;   // the faulting access for page faults
};

class Gpu {
 public:
  static tl::expected<std::unique_ptr<Gpu>, std::string> create(const GpuConfig& cfg = {});
  ~Gpu();
  Gpu(const Gpu&) = delete;
  Gpu& operator=(const Gpu&) = delete;

  // ---- the hardware interface ----
  uint32_t cfg_read(uint32_t off, unsigned size);
  void cfg_write(uint32_t off, unsigned size, uint32_t value);
  uint64_t mmio_read(uint64_t off, unsigned size);  // BAR0 offset
  void mmio_write(uint64_t off, unsigned size, uint64_t value);
  uint8_t* aperture() const { return aperture_->base(); }  // BAR2 contents
  // Called for each MSI, outside every lock of the model.
  void set_msi_handler(std::function<void(uint64_t addr, uint32_t data)> fn);

  // ---- the platform (host-only) interface ----
  HostMemory& memory() { return *mem_; }
  ApertureWindow& aperture_window() { return *aperture_; }
  // Second-stage GPA->HPA domains. Ids start at 1; 0 means "none".
  uint32_t add_domain(std::shared_ptr<const Domain> d);
  void remove_domain(uint32_t id);
  // The device-wide domain (as behind an IOMMU): every DMA goes through it.
  // Set while the engines are idle.
  void set_device_domain(uint32_t id);
  void vblank();  // one vblank on every enabled pipe
  tl::expected<Frame, std::string> scanout(int pipe);
  ContextCounters counters(uint32_t lrca) const;
  MmioStats mmio_stats() const;
  EngineFault last_fault(int engine) const;
  // The execution log (docs/hw-spec.md): how many MI_LOAD_REGISTER_IMM
  // operands naming `reg` engine `engine` has dispatched since the model was
  // created, refused ones included. Offsets not in the table share one count.
  uint64_t lri_count(int engine, uint32_t reg) const;
  bool engine_idle(int engine) const;
  uint64_t msis_sent() const { return msis_.load(); }

  // ---- used by the engines ----
  std::shared_ptr<const Domain> domain(uint32_t id) const;
  std::shared_ptr<const Domain> device_domain() const;
  // GGTT entry -> host physical address, through the device domain.
  tl::expected<uint64_t, gen8::Fault> ggtt_translate(uint64_t gm) const;
  void ggtt_write_entry(uint64_t index, uint64_t pte);
  uint64_t ggtt_entry(uint64_t index) const { return ggtt_[index].load(std::memory_order_relaxed); }
  std::mutex& lock() { return mu_; }
  // With the lock held: interrupt and display events; return "send an MSI".
  bool raise_gt_locked(int engine, uint32_t bits);
  bool flip_locked(int pipe, uint32_t stride, uint32_t surface, bool async);
  void send_msi();
  void account_locked(uint32_t lrca, const ContextCounters& delta);
  gen8::RegFile& regs() { return regs_; }
  uint64_t timestamp() const;  // 12.5 MHz

 private:
  Gpu() = default;
  uint64_t reg_read(uint32_t off, unsigned size);
  bool reg_write(uint32_t off, uint32_t v);  // returns "send an MSI"
  bool de_events(const gen8::Display::Events& ev);
  void ggtt_apply_aperture(uint64_t index);
  void reset_engines(uint32_t mask);
  void vblank_thread();

  GpuConfig cfg_;
  std::unique_ptr<HostMemory> mem_;
  std::unique_ptr<ApertureWindow> aperture_;
  std::unique_ptr<std::atomic<uint64_t>[]> ggtt_;

  mutable std::mutex mu_;  // lock order: Gpu::mu_ before Engine::state_mu_
  gen8::PciConfig pci_;
  gen8::RegFile regs_;
  gen8::InterruptController irq_;
  std::unique_ptr<gen8::Display> display_;
  std::array<std::unique_ptr<Engine>, gen8::kNumEngines> engines_;
  mutable std::mutex dom_mu_;  // a leaf lock: domains are read on every context load
  std::vector<std::shared_ptr<const Domain>> domains_;
  std::shared_ptr<const Domain> device_domain_;
  std::map<uint32_t, ContextCounters> counters_;
  MmioStats stats_;
  std::atomic<uint64_t> msis_{0};

  std::mutex msi_mu_;
  std::function<void(uint64_t, uint32_t)> msi_fn_;

  std::mutex reset_mu_;  // serializes resets (taken before mu_)
  uint64_t boot_ns_ = 0;
  std::atomic<bool> timer_stop_{false};
  std::thread timer_;

  friend class Engine;
};

}  // namespace hw
