#include "hv/vm.h"

#include <errno.h>
#include <fcntl.h>
#include <immintrin.h>
#include <pthread.h>
#include <signal.h>
#include <spdlog/spdlog.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <optional>

#include "common/polled_store.h"
#include "common/vmm_abi.h"
#include "hv/boot.h"
#include "hv/elf_loader.h"

namespace hv {

using namespace vmm_abi;

namespace {

constexpr uint64_t kPage = 4096;

uint64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

void install_kick_signal() {
  static std::once_flag once;
  std::call_once(once, [] {
    struct sigaction sa{};
    sa.sa_handler = [](int) {};  // only interrupts KVM_RUN (no SA_RESTART)
    sigemptyset(&sa.sa_mask);
    sigaction(SIGUSR1, &sa, nullptr);
  });
}

std::string errno_text(const char* what) { return std::string(what) + ": " + std::strerror(errno); }

}  // namespace

std::string kvm_unavailable_reason() {
  if (access("/dev/kvm", F_OK) != 0) return "/dev/kvm does not exist";
  int fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
  if (fd < 0) return "";  // present but unopenable: callers must fail, not skip
  close(fd);
  return "";
}

// The paravirtual registers of vmm_abi.h.
class Vm::PvDevice final : public BusDevice {
 public:
  explicit PvDevice(Vm& vm) : vm_(vm) {}
  void read(uint64_t, uint8_t* data, uint32_t len) override { std::memset(data, 0, len); }
  void write(uint64_t offset, const uint8_t* data, uint32_t len) override {
    uint64_t v = 0;
    std::memcpy(&v, data, len < 8 ? len : 8);
    switch (offset) {
      case kPvConsole: console(v & 0xFFFFFFFFFFFFull, v >> 48); break;
      case kPvExit:
        vm_.finish(v == 0 ? "ok" : "error: the guest exited with code 0x" + hex(v),
                   static_cast<uint32_t>(v));
        break;
      case kPvWait: vm_.pv_wait(v); break;
      case kPvMark:
        if (vm_.on_mark_) vm_.on_mark_(v, now_ns());
        break;
      default: spdlog::debug("{}: write to unknown PV register 0x{:x}", vm_.cfg_.name, offset);
    }
  }

 private:
  static std::string hex(uint64_t v) { return fmt::format("{:x}", v); }
  void console(uint64_t gpa, uint64_t len) {
    char buf[4096];
    if (len > sizeof buf || !vm_.read_gpa(gpa, buf, len)) {
      spdlog::warn("{}: console line refused (gpa 0x{:x}, {} bytes)", vm_.cfg_.name, gpa, len);
      return;
    }
    std::string line(buf, len);
    while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.pop_back();
    std::lock_guard lk(vm_.log_mu_);
    if (vm_.log_file_) {
      std::fprintf(vm_.log_file_, "%s\n", line.c_str());
      std::fflush(vm_.log_file_);
    }
    vm_.log_.push_back(std::move(line));
  }
  Vm& vm_;
};

// Writes that exit because they hit a write-protected page: committed to RAM
// first, then reported (KVM's page-tracking contract).
class Vm::RamWrites final : public BusDevice {
 public:
  explicit RamWrites(Vm& vm) : vm_(vm) {}
  void read(uint64_t gpa, uint8_t* data, uint32_t len) override {
    if (!vm_.read_gpa(gpa, data, len)) std::memset(data, 0xFF, len);
  }
  void write(uint64_t gpa, const uint8_t* data, uint32_t len) override {
    if (!vm_.write_gpa(gpa, data, len)) return;
    WriteCallback cb;
    {
      std::lock_guard lk(vm_.wp_mu_);
      auto it = vm_.protected_.find(gpa / kPage);
      if (it != vm_.protected_.end()) cb = it->second;
    }
    if (cb) cb(gpa, data, len);
  }

 private:
  Vm& vm_;
};

tl::expected<std::unique_ptr<Vm>, std::string> Vm::create(const VmConfig& cfg) {
  if (cfg.ram.size < kMinRam || cfg.ram.size > kMaxRam || cfg.ram.size % kPage || !cfg.ram.host)
    return tl::unexpected(std::string("guest RAM must be page-aligned, at least 16 MiB and at most 2 GiB"));
  std::unique_ptr<Vm> vm(new Vm());
  vm->cfg_ = cfg;
  vm->kvm_ = open("/dev/kvm", O_RDWR | O_CLOEXEC);
  if (vm->kvm_ < 0) return tl::unexpected(errno_text("cannot open /dev/kvm"));
  vm->vm_ = ioctl(vm->kvm_, KVM_CREATE_VM, 0);
  if (vm->vm_ < 0) return tl::unexpected(errno_text("KVM_CREATE_VM failed"));
  if (ioctl(vm->vm_, KVM_CREATE_IRQCHIP, 0) < 0)
    return tl::unexpected(errno_text("KVM_CREATE_IRQCHIP failed"));
  vm->vcpu_ = ioctl(vm->vm_, KVM_CREATE_VCPU, 0);
  if (vm->vcpu_ < 0) return tl::unexpected(errno_text("KVM_CREATE_VCPU failed"));
  int sz = ioctl(vm->kvm_, KVM_GET_VCPU_MMAP_SIZE, 0);
  if (sz <= 0) return tl::unexpected(errno_text("KVM_GET_VCPU_MMAP_SIZE failed"));
  vm->run_size_ = static_cast<size_t>(sz);
  void* run = mmap(nullptr, vm->run_size_, PROT_READ | PROT_WRITE, MAP_SHARED, vm->vcpu_, 0);
  if (run == MAP_FAILED) return tl::unexpected(errno_text("cannot map the vCPU run area"));
  vm->run_ = static_cast<kvm_run*>(run);
  // The vCPU's power-on state that KVM_SET_SREGS/REGS do not cover, for reboots.
  if (ioctl(vm->vcpu_, KVM_GET_LAPIC, &vm->lapic0_) < 0)
    vm->no_reboot_ = errno_text("KVM_GET_LAPIC failed");
  else if (ioctl(vm->vcpu_, KVM_GET_VCPU_EVENTS, &vm->events0_) < 0)
    vm->no_reboot_ = errno_text("KVM_GET_VCPU_EVENTS failed");
  int khz = ioctl(vm->vcpu_, KVM_GET_TSC_KHZ, 0);
  vm->tsc_hz_ = khz > 0 ? uint64_t(khz) * 1000 : 0;
  if (!vm->add_slot(0, cfg.ram.size, cfg.ram.host, 0))
    return tl::unexpected(errno_text("cannot register guest RAM"));
  vm->pv_ = std::make_unique<PvDevice>(*vm);
  vm->ram_writes_ = std::make_unique<RamWrites>(*vm);
  vm->mmio_.insert(kPvBase, 0x1000, vm->pv_.get());
  vm->mmio_.insert(kEcamBase, kEcamSize, &vm->ecam_);
  vm->mmio_.insert(0, cfg.ram.size, vm->ram_writes_.get());
  if (!cfg.log_path.empty()) {
    vm->log_file_ = std::fopen(cfg.log_path.c_str(), "w");
    if (!vm->log_file_) return tl::unexpected(errno_text(("cannot write " + cfg.log_path).c_str()));
  }
  return vm;
}

Vm::~Vm() {
  if (thread_.joinable()) {
    stop("torn down");
    thread_.join();
  }
  if (run_) munmap(run_, run_size_);
  for (int fd : {vcpu_, vm_, kvm_})
    if (fd >= 0) close(fd);
  if (log_file_) std::fclose(log_file_);
}

tl::expected<void, std::string> Vm::load(std::span<const uint8_t> elf) {
  elf_.assign(elf.begin(), elf.end());
  return boot();
}

tl::expected<void, std::string> Vm::boot() {
  auto img = load_elf(elf_, cfg_.ram.host, cfg_.ram.size, kImageBase);
  if (!img) return tl::unexpected(img.error());
  if (!tsc_hz_) return tl::unexpected(std::string("KVM reports no TSC frequency"));
  BootParams p{cfg_.ram.size, tsc_hz_, img->highest, img->entry, cfg_.cmdline};
  write_boot_tables(cfg_.ram.host, p);
  kvm_sregs s;
  if (ioctl(vcpu_, KVM_GET_SREGS, &s) < 0) return tl::unexpected(errno_text("KVM_GET_SREGS"));
  boot_sregs(s);
  if (ioctl(vcpu_, KVM_SET_SREGS, &s) < 0) return tl::unexpected(errno_text("KVM_SET_SREGS"));
  kvm_regs r = boot_regs(p);
  if (ioctl(vcpu_, KVM_SET_REGS, &r) < 0) return tl::unexpected(errno_text("KVM_SET_REGS"));
  return {};
}

tl::expected<void, std::string> Vm::reboot() {
  if (!no_reboot_.empty()) return tl::unexpected("cannot reboot: " + no_reboot_);
  if (elf_.empty()) return tl::unexpected(std::string("cannot reboot: no image was loaded"));
  std::optional<tl::expected<void, std::string>> done;
  on_vcpu([&] {
    if (stop_) return;
    // The last exit's MMIO or PIO completes only on the next KVM_RUN, and a
    // read's completion would write the old instruction's registers over the
    // boot state. An entry with immediate_exit set finishes it and returns
    // at once (the KVM API's way to make the vCPU state consistent).
    __atomic_store_n(&run_->immediate_exit, 1, __ATOMIC_SEQ_CST);
    ioctl(vcpu_, KVM_RUN, 0);
    __atomic_store_n(&run_->immediate_exit, 0, __ATOMIC_SEQ_CST);
    if (on_reset_) on_reset_();
    std::memset(cfg_.ram.host, 0, cfg_.ram.size);
    // An interrupt in service or pending from the last boot would mask or
    // precede the new boot's; KVM_SET_SREGS does not clear them.
    if (ioctl(vcpu_, KVM_SET_LAPIC, &lapic0_) < 0)
      return void(done = tl::unexpected(errno_text("KVM_SET_LAPIC")));
    if (ioctl(vcpu_, KVM_SET_VCPU_EVENTS, &events0_) < 0)
      return void(done = tl::unexpected(errno_text("KVM_SET_VCPU_EVENTS")));
    msis_at_last_wait_ = msis_.load();
    done = boot();
    if (*done) ++reboots_;
  });
  if (!done) return tl::unexpected(std::string("cannot reboot: the VM has stopped"));
  if (!*done) stop("error: reboot failed: " + done->error());
  return *done;
}

// ---- the vCPU thread ----

void Vm::start() {
  install_kick_signal();
  running_ = true;
  thread_ = std::thread([this] { vcpu_main(); });
}

void Vm::finish(const std::string& status, uint32_t code) {
  {
    std::lock_guard lk(status_mu_);
    if (!finished_) {
      finished_ = true;
      status_ = VmStatus{status == "ok", code, status};
    }
  }
  stop_ = true;
  wake_cv_.notify_all();
}

void Vm::stop(const std::string& why) {
  finish(why, 0);
  kick();
}

void Vm::kick() {
  if (run_) __atomic_store_n(&run_->immediate_exit, 1, __ATOMIC_SEQ_CST);
  if (thread_.joinable()) pthread_kill(thread_.native_handle(), SIGUSR1);
}

void Vm::run_tasks() {
  std::unique_lock lk(task_mu_);
  task_waiting_ = false;
  while (!tasks_.empty()) {
    auto fn = std::move(tasks_.front());
    tasks_.pop_front();
    lk.unlock();
    fn();
    lk.lock();
    ++tasks_done_;
  }
  task_cv_.notify_all();
}

void Vm::on_vcpu(const std::function<void()>& fn) {
  if (!running_ || std::this_thread::get_id() == vcpu_tid_) {
    fn();
    return;
  }
  std::unique_lock lk(task_mu_);
  tasks_.push_back(fn);
  uint64_t ticket = ++tasks_queued_;
  task_waiting_ = true;
  wake_cv_.notify_all();
  kick();
  task_cv_.wait(lk, [&] { return tasks_done_ >= ticket || !running_; });
}

void Vm::vcpu_main() {
  vcpu_tid_ = std::this_thread::get_id();
  prctl(PR_SET_TIMERSLACK, 1UL);  // WAIT sleeps in 20 us steps
  ExitCounters c;
  while (!stop_) {
    // Cleared before the tasks run, so a kick after them stops KVM_RUN at once.
    __atomic_store_n(&run_->immediate_exit, 0, __ATOMIC_SEQ_CST);
    run_tasks();
    if (stop_) break;
    if (ioctl(vcpu_, KVM_RUN, 0) < 0) {
      if (errno == EINTR || errno == EAGAIN) continue;
      finish(errno == EFAULT ? "error: KVM_RUN failed with EFAULT (guest memory not backed)"
                             : errno_text("error: KVM_RUN failed"),
             0);
      break;
    }
    Exit e;
    e.raw_reason = run_->exit_reason;
    switch (run_->exit_reason) {
      case KVM_EXIT_MMIO:
        e.kind = Exit::Kind::Mmio;
        e.addr = run_->mmio.phys_addr;
        e.len = run_->mmio.len;
        e.write = run_->mmio.is_write;
        std::memcpy(e.data, run_->mmio.data, sizeof e.data);
        break;
      case KVM_EXIT_IO: e.kind = Exit::Kind::Io; break;
      case KVM_EXIT_SHUTDOWN: e.kind = Exit::Kind::Shutdown; break;
      case KVM_EXIT_INTERNAL_ERROR:
        e.kind = Exit::Kind::InternalError;
        e.detail = run_->internal.suberror;
        break;
      case KVM_EXIT_FAIL_ENTRY:
        e.kind = Exit::Kind::FailEntry;
        e.detail = run_->fail_entry.hardware_entry_failure_reason;
        break;
      case KVM_EXIT_HLT: e.kind = Exit::Kind::Hlt; break;
      case KVM_EXIT_INTR: e.kind = Exit::Kind::Intr; break;
      case KVM_EXIT_SYSTEM_EVENT:
        e.kind = Exit::Kind::SystemEvent;
        e.detail = run_->system_event.type;
        break;
      default: break;
    }
    Outcome o;
    if (e.kind == Exit::Kind::Io) {
      // One exit may carry a `rep` string of `count` items.
      auto* p = reinterpret_cast<uint8_t*>(run_) + run_->io.data_offset;
      for (uint32_t i = 0; i < run_->io.count && !o.stop; ++i, p += run_->io.size) {
        e.addr = run_->io.port;
        e.len = run_->io.size;
        e.write = run_->io.direction == KVM_EXIT_IO_OUT;
        std::memcpy(e.data, p, e.len <= 8 ? e.len : 8);
        o = dispatch(e, mmio_, pio_, this, c);
        if (!e.write) std::memcpy(p, e.data, e.len <= 8 ? e.len : 8);
      }
    } else {
      if (e.kind == Exit::Kind::Mmio && e.addr - watch_base_ < watch_size_) watched_++;
      o = dispatch(e, mmio_, pio_, this, c);
      if (e.kind == Exit::Kind::Mmio && !e.write) std::memcpy(run_->mmio.data, e.data, 8);
    }
    {
      std::lock_guard lk(status_mu_);
      counters_ = c;
    }
    if (o.stop) finish(o.status, 0);
  }
  {
    std::lock_guard lk(task_mu_);
    running_ = false;
  }
  task_cv_.notify_all();
}

VmStatus Vm::wait() {
  {
    std::unique_lock lk(status_mu_);
    auto deadline = std::chrono::steady_clock::now() +
                    std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                        std::chrono::duration<double>(cfg_.timeout_s));
    while (!finished_ && running_) {
      lk.unlock();
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
      lk.lock();
      if (std::chrono::steady_clock::now() >= deadline) {
        lk.unlock();
        stop(fmt::format("error: timeout after {:g} s", cfg_.timeout_s));
        lk.lock();
      }
    }
  }
  kick();
  if (thread_.joinable()) thread_.join();
  std::lock_guard lk(status_mu_);
  if (!finished_) status_ = VmStatus{false, 0, "error: the vCPU stopped"};
  return status_;
}

DeviceClass Vm::classify(uint64_t addr, bool) const {
  if (addr == kPvBase + kPvWait) return DeviceClass::Wait;
  if (addr < cfg_.ram.size) return DeviceClass::RamWrite;
  return DeviceClass::Mmio;
}

ExitCounters Vm::exits() const {
  std::lock_guard lk(status_mu_);
  return counters_;
}

std::vector<std::string> Vm::console_lines() const {
  std::lock_guard lk(log_mu_);
  return log_;
}

// Runs on the vCPU thread, out of KVM_RUN: blocks until the watched word
// changes, an MSI arrives, the deadline passes, the VM stops, or another
// thread has a task for the vCPU (a WAIT may end early; the guest checks).
void Vm::pv_wait(uint64_t args_gpa) {
  WaitArgs a;
  if (!read_gpa(args_gpa, &a, sizeof a) || a.gpa % 4 || a.gpa + 4 > cfg_.ram.size) {
    spdlog::warn("{}: WAIT with bad arguments at 0x{:x}", cfg_.name, args_gpa);
    return;
  }
  auto* word = reinterpret_cast<volatile uint32_t*>(cfg_.ram.host + a.gpa);
  uint64_t left_ns = a.deadline > a.now ? (a.deadline - a.now) * 1'000'000'000.0 / tsc_hz_ : 0;
  uint64_t deadline = now_ns() + left_ns;
  auto done = [&] {
    return *word != a.expected || msis_.load() != msis_at_last_wait_ || stop_ || task_waiting_ ||
           now_ns() >= deadline;
  };
  // Completions come within microseconds: spin a little before sleeping.
  for (uint64_t spin_end = now_ns() + 50'000; !done() && now_ns() < spin_end;) _mm_pause();
  std::unique_lock lk(wake_mu_);
  while (!done()) {
    // The GPU writes memory without telling anyone: poll it between wakeups.
    wake_cv_.wait_for(lk, std::chrono::microseconds(20));
  }
  msis_at_last_wait_ = msis_.load();
}

// ---- Mpt ----

bool Vm::read_gpa(uint64_t gpa, void* dst, size_t len) {
  if (len > cfg_.ram.size || gpa > cfg_.ram.size - len) return false;
  std::memcpy(dst, cfg_.ram.host + gpa, len);
  return true;
}

bool Vm::write_gpa(uint64_t gpa, const void* src, size_t len) {
  if (len > cfg_.ram.size || gpa > cfg_.ram.size - len) return false;
  common::store_for_pollers(cfg_.ram.host + gpa, src, len);
  return true;
}

std::optional<uint64_t> Vm::pin_gfn(uint64_t gfn) {
  if (gfn >= cfg_.ram.size / kPage) return std::nullopt;
  std::lock_guard lk(wp_mu_);
  ++pins_[gfn];
  return cfg_.ram.hpa + gfn * kPage;
}

void Vm::unpin_gfn(uint64_t gfn) {
  std::lock_guard lk(wp_mu_);
  auto it = pins_.find(gfn);
  if (it != pins_.end() && --it->second == 0) pins_.erase(it);
}

bool Vm::trap_mmio(uint64_t gpa, uint64_t size, BusDevice* dev) {
  if (gpa < cfg_.ram.size) return false;
  return mmio_.insert(gpa, size, dev);
}

void Vm::untrap_mmio(uint64_t gpa) { mmio_.remove(gpa); }

bool Vm::map_gpa(uint64_t gpa, uint64_t size, void* host) {
  if (gpa < cfg_.ram.size || size % kPage || gpa % kPage) return false;
  bool ok = false;
  on_vcpu([&] { ok = add_slot(gpa, size, static_cast<uint8_t*>(host), 0); });
  return ok;
}

void Vm::unmap_gpa(uint64_t gpa) {
  on_vcpu([&] { del_slot(gpa); });
}

void Vm::inject_msi(uint64_t addr, uint32_t data) {
  kvm_msi msi{};
  msi.address_lo = static_cast<uint32_t>(addr);
  msi.address_hi = static_cast<uint32_t>(addr >> 32);
  msi.data = data;
  if (ioctl(vm_, KVM_SIGNAL_MSI, &msi) < 0) spdlog::debug("{}: KVM_SIGNAL_MSI failed", cfg_.name);
  {
    std::lock_guard lk(wake_mu_);
    msis_++;
  }
  wake_cv_.notify_all();
}

bool Vm::protect_page(uint64_t gfn, WriteCallback cb) {
  if (gfn >= cfg_.ram.size / kPage) return false;
  {
    std::lock_guard lk(wp_mu_);
    auto it = protected_.find(gfn);
    if (it != protected_.end()) {
      it->second = std::move(cb);
      return true;
    }
    if (protected_.size() >= cfg_.wp_cap) return false;
    protected_[gfn] = std::move(cb);
  }
  on_vcpu([&] { split_ro(gfn * kPage); });
  return true;
}

void Vm::unprotect_page(uint64_t gfn) {
  {
    std::lock_guard lk(wp_mu_);
    if (!protected_.erase(gfn)) return;
  }
  on_vcpu([&] { merge_rw(gfn * kPage); });
}

size_t Vm::protected_pages() const {
  std::lock_guard lk(wp_mu_);
  return protected_.size();
}

// ---- memslots ----

bool Vm::set_slot(uint32_t id, uint64_t gpa, uint64_t size, uint8_t* host, uint32_t flags) {
  kvm_userspace_memory_region r{};
  r.slot = id;
  r.flags = flags;
  r.guest_phys_addr = gpa;
  r.memory_size = size;
  r.userspace_addr = reinterpret_cast<uint64_t>(host);
  return ioctl(vm_, KVM_SET_USER_MEMORY_REGION, &r) == 0;
}

bool Vm::add_slot(uint64_t gpa, uint64_t size, uint8_t* host, uint32_t flags) {
  std::lock_guard lk(slot_mu_);
  uint32_t id;
  if (!free_ids_.empty()) {
    id = free_ids_.back();
    free_ids_.pop_back();
  } else {
    id = next_id_++;
  }
  if (!set_slot(id, gpa, size, host, flags)) {
    free_ids_.push_back(id);
    return false;
  }
  slots_[gpa] = Slot{id, size, host, flags};
  return true;
}

void Vm::del_slot(uint64_t gpa) {
  std::lock_guard lk(slot_mu_);
  auto it = slots_.find(gpa);
  if (it == slots_.end()) return;
  set_slot(it->second.id, gpa, 0, it->second.host, 0);
  free_ids_.push_back(it->second.id);
  slots_.erase(it);
}

// Splits the RAM slot holding `page` so that the page becomes its own
// read-only slot. Runs on the vCPU thread, out of KVM_RUN.
void Vm::split_ro(uint64_t page) {
  Slot s;
  uint64_t base;
  {
    std::lock_guard lk(slot_mu_);
    auto it = slots_.upper_bound(page);
    if (it == slots_.begin()) return;
    --it;
    base = it->first;
    s = it->second;
    if (page >= base + s.size || (s.flags & KVM_MEM_READONLY)) return;
  }
  del_slot(base);
  if (page > base) add_slot(base, page - base, s.host, 0);
  add_slot(page, kPage, s.host + (page - base), KVM_MEM_READONLY);
  if (page + kPage < base + s.size)
    add_slot(page + kPage, base + s.size - page - kPage, s.host + (page + kPage - base), 0);
}

// Makes `page` writable again and merges it with writable neighbours whose
// host memory is contiguous with it.
void Vm::merge_rw(uint64_t page) {
  uint64_t lo = page, hi = page + kPage;
  uint8_t* host;
  {
    std::lock_guard lk(slot_mu_);
    auto it = slots_.find(page);
    if (it == slots_.end() || !(it->second.flags & KVM_MEM_READONLY)) return;
    host = it->second.host;
    if (it != slots_.begin()) {
      auto l = std::prev(it);
      if (!(l->second.flags & KVM_MEM_READONLY) && l->first + l->second.size == page &&
          l->second.host + l->second.size == host)
        lo = l->first;
    }
    auto r = std::next(it);
    if (r != slots_.end() && r->first == hi && !(r->second.flags & KVM_MEM_READONLY) &&
        r->second.host == host + kPage)
      hi = r->first + r->second.size;
  }
  uint8_t* lo_host = host - (page - lo);
  if (lo != page) del_slot(lo);
  del_slot(page);
  if (hi != page + kPage) del_slot(page + kPage);
  add_slot(lo, hi - lo, lo_host, 0);
}

}  // namespace hv
