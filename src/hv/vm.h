// A KVM virtual machine: guest RAM carved from host physical memory (so every
// GPA->HPA translation is known), one vCPU thread, an MMIO bus, PCI through
// ECAM, MSIs through the in-kernel irqchip, the paravirtual registers of
// vmm_abi.h, and the MPT interface for the mediator.
#pragma once

#include <linux/kvm.h>

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include <tl/expected.hpp>

#include "hv/bus.h"
#include "hv/exit.h"
#include "hv/mpt.h"
#include "hv/pci.h"

namespace hv {

// Guest RAM as a run of host physical memory: an offset (HPA) into the host
// memory's memfd, and the host's mapping of it.
struct RamBacking {
  int fd = -1;
  uint64_t hpa = 0;
  uint64_t size = 0;
  uint8_t* host = nullptr;
};

struct VmConfig {
  std::string name = "vm";
  RamBacking ram;
  std::string cmdline;
  double timeout_s = 120;
  std::string log_path;  // console log; empty: kept in memory only
  size_t wp_cap = 4096;  // write-protected pages (each costs about two memslots)
};

struct VmStatus {
  bool ok = false;
  uint32_t exit_code = 0;
  std::string text;  // "ok", or "error: ..."
};

// Reports whether /dev/kvm can be used here: "" if so, else why not.
std::string kvm_unavailable_reason();

class Vm final : public Mpt, private ClassifiedBus {
 public:
  static tl::expected<std::unique_ptr<Vm>, std::string> create(const VmConfig& cfg);
  ~Vm() override;
  Vm(const Vm&) = delete;
  Vm& operator=(const Vm&) = delete;

  // Loads the guest ELF and prepares the 64-bit entry and the boot info.
  tl::expected<void, std::string> load(std::span<const uint8_t> elf);
  bool attach_pci(uint32_t devfn, PciFunction* f) { return ecam_.attach(devfn, f); }
  void start();
  // Waits for the guest to exit, fail or time out; always tears the vCPU down.
  VmStatus wait();
  void stop(const std::string& why);
  // A reset of the whole VM, as `virsh reset`: on the vCPU thread, out of
  // KVM_RUN, the device models reset (`set_reset_handler`), RAM is zeroed,
  // the image is loaded again and the vCPU goes back to its boot state (its
  // local APIC and pending events as before the first boot). The guest then
  // boots afresh. One sentence when the VM has already stopped.
  tl::expected<void, std::string> reboot();
  // Called on the vCPU thread on each reboot, before RAM is zeroed: devices
  // that reach guest memory must be done with it when it returns.
  void set_reset_handler(std::function<void()> fn) { on_reset_ = std::move(fn); }
  uint32_t reboots() const { return reboots_.load(); }

  // Called on the vCPU thread for each MARK write, with host monotonic ns.
  void set_mark_handler(std::function<void(uint64_t mark, uint64_t ns)> fn) { on_mark_ = std::move(fn); }
  ExitCounters exits() const;
  // Counts MMIO exits inside [gpa, gpa + size), whoever serves them: the
  // proof that a pass-through range costs no exit. Set before start().
  void watch_exits(uint64_t gpa, uint64_t size) {
    watch_base_ = gpa;
    watch_size_ = size;
  }
  uint64_t watched_exits() const { return watched_.load(); }
  std::vector<std::string> console_lines() const;
  const std::string& log_path() const { return cfg_.log_path; }
  uint8_t* ram() const { return cfg_.ram.host; }
  uint64_t ram_size() const { return cfg_.ram.size; }
  uint64_t msis_injected() const { return msis_.load(); }
  uint64_t tsc_hz() const { return tsc_hz_; }

  // ---- Mpt ----
  bool read_gpa(uint64_t gpa, void* dst, size_t len) override;
  bool write_gpa(uint64_t gpa, const void* src, size_t len) override;
  std::optional<uint64_t> pin_gfn(uint64_t gfn) override;
  void unpin_gfn(uint64_t gfn) override;
  bool trap_mmio(uint64_t gpa, uint64_t size, BusDevice* dev) override;
  void untrap_mmio(uint64_t gpa) override;
  bool map_gpa(uint64_t gpa, uint64_t size, void* host) override;
  void unmap_gpa(uint64_t gpa) override;
  void inject_msi(uint64_t addr, uint32_t data) override;
  bool protect_page(uint64_t gfn, WriteCallback cb) override;
  void unprotect_page(uint64_t gfn) override;
  size_t protected_pages() const override;

 private:
  struct Slot {
    uint32_t id;
    uint64_t size;
    uint8_t* host;
    uint32_t flags;
  };
  class PvDevice;
  class RamWrites;

  Vm() = default;
  DeviceClass classify(uint64_t addr, bool write) const override;
  void vcpu_main();
  void run_tasks();
  // Runs `fn` on the vCPU thread while it is out of KVM_RUN (memslot
  // changes must not race with a running vCPU), or directly if not running.
  void on_vcpu(const std::function<void()>& fn);
  void kick();
  bool set_slot(uint32_t id, uint64_t gpa, uint64_t size, uint8_t* host, uint32_t flags);
  bool add_slot(uint64_t gpa, uint64_t size, uint8_t* host, uint32_t flags);
  void del_slot(uint64_t gpa);
  void split_ro(uint64_t gpa);
  void merge_rw(uint64_t gpa);
  void finish(const std::string& status, uint32_t code);
  void pv_wait(uint64_t args_gpa);
  // The image in RAM and the vCPU in its boot state.
  tl::expected<void, std::string> boot();

  VmConfig cfg_;
  int kvm_ = -1, vm_ = -1, vcpu_ = -1;
  kvm_run* run_ = nullptr;
  size_t run_size_ = 0;
  uint64_t tsc_hz_ = 0;

  Bus mmio_, pio_;
  Ecam ecam_;
  std::unique_ptr<PvDevice> pv_;
  std::unique_ptr<RamWrites> ram_writes_;

  // Memslots by GPA; slot ids are reused.
  mutable std::mutex slot_mu_;
  std::map<uint64_t, Slot> slots_;
  std::vector<uint32_t> free_ids_;
  uint32_t next_id_ = 0;

  mutable std::mutex wp_mu_;
  std::map<uint64_t, WriteCallback> protected_;
  std::map<uint64_t, uint32_t> pins_;

  // vCPU thread state.
  std::thread thread_;
  std::atomic<bool> running_{false};
  std::atomic<bool> stop_{false};
  std::thread::id vcpu_tid_;
  std::mutex task_mu_;
  std::condition_variable task_cv_;
  std::deque<std::function<void()>> tasks_;
  uint64_t tasks_done_ = 0, tasks_queued_ = 0;
  std::atomic<bool> task_waiting_{false};  // ends a WAIT so the task runs

  // What a reboot restores.
  std::vector<uint8_t> elf_;
  kvm_lapic_state lapic0_{};
  kvm_vcpu_events events0_{};
  std::string no_reboot_;  // why this KVM cannot reboot the VM, if it cannot
  std::function<void()> on_reset_;
  std::atomic<uint32_t> reboots_{0};

  // WAIT wakeups: MSIs and stop requests.
  std::mutex wake_mu_;
  std::condition_variable wake_cv_;
  std::atomic<uint64_t> msis_{0};
  uint64_t msis_at_last_wait_ = 0;

  mutable std::mutex status_mu_;
  bool finished_ = false;
  VmStatus status_;
  mutable ExitCounters counters_;
  mutable std::mutex log_mu_;
  std::vector<std::string> log_;
  FILE* log_file_ = nullptr;
  std::function<void(uint64_t, uint64_t)> on_mark_;
  uint64_t watch_base_ = 0, watch_size_ = 0;
  std::atomic<uint64_t> watched_{0};
};

}  // namespace hv
