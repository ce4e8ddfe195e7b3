#include "driver/device.h"

#include "common/gen8/regs.h"

namespace drv {

using namespace gen8;

const char* error_name(Error e) {
  switch (e) {
    case Error::NoDevice: return "no supported GPU";
    case Error::NoMemory: return "out of memory";
    case Error::NoSpace: return "out of graphics memory";
    case Error::BadArgument: return "bad argument";
    case Error::Timeout: return "GPU timeout";
    case Error::GpuFault: return "GPU fault";
    case Error::RingFull: return "ring full";
  }
  return "unknown error";
}

Result<void> Device::probe() {
  uint32_t id = p_->cfg_read32(pci::VENDOR);
  if ((id & 0xFFFF) != pci::kVendorIntel || (id >> 16) != pci::kDeviceBdwGt2)
    return tl::unexpected(Error::NoDevice);
  p_->cfg_write32(pci::COMMAND, pci::kCmdMem | pci::kCmdMaster);
  uint64_t a = p_->msi_address();
  p_->cfg_write32(pci::MSI_ADDR_LO, static_cast<uint32_t>(a));
  p_->cfg_write32(pci::MSI_ADDR_HI, static_cast<uint32_t>(a >> 32));
  p_->cfg_write32(pci::MSI_DATA, p_->msi_data());
  p_->cfg_write32(pci::MSI_CAP, (uint32_t{pci::kMsiEnable} << 16) | 0x05);
  return {};
}

Result<void> Device::init(Platform& p, const PvInfo* own, SubmitHook* hook) {
  p_ = &p;
  hook_ = hook;
  if (!hook) {
    if (auto r = probe(); !r) return r;
  }
  pv_ = pv_detect(p);
  // GM page 0 stays unused so that 0 can mean "not in the GGTT".
  gm_.init(kPageSize, kGmSize);
  if (auto b = pv_balloon(own ? *own : pv_, gm_); !b) return b;
  for (int e = 0; e < kNumEngines; ++e) {
    auto h = create_bo(kPageSize, kBoGgtt);
    if (!h) return tl::unexpected(h.error());
    eng_[e] = Engine{};
    eng_[e].hwsp = *h;
    hwsp(e)[kHwspCsbWritePtr] = kCsbPtrEmpty;
    if (!hook) p.mmio_write32(kEngineBase[e] + reg::RING_HWS_PGA, static_cast<uint32_t>(h->gm));
  }
  if (hook) return {};  // the engines and interrupts are the scheduler's
  // The CSB may hold entries of an earlier driver (a reload without a
  // reset): they are not this driver's to read, so it starts after them and
  // says so.
  for (int e = 0; e < kNumEngines; ++e) {
    eng_[e].csb_read = p.mmio_read32(kEngineBase[e] + reg::RING_CONTEXT_STATUS_PTR) & 7;
    if (eng_[e].csb_read < kCsbEntries) ack_csb(e);
  }
  // Completion is read from memory; only errors interrupt.
  set_gt_irqs(kGtError);
  p.mmio_write32(reg::GEN8_MASTER_IRQ, kMasterEnable);
  return {};
}

void Device::fini() {
  for (auto& e : eng_) destroy_bo(e.hwsp);
}

Result<Bo> Device::create_bo(uint64_t bytes, unsigned flags) {
  Bo bo;
  bo.size = (bytes + kPageSize - 1) & ~(kPageSize - 1);
  if (!bo.size) return tl::unexpected(Error::BadArgument);
  if (!p_->alloc_pages(bo.size / kPageSize, false, &bo.pages)) return tl::unexpected(Error::NoMemory);
  if (flags & kBoGgtt) {
    uint64_t hi = (flags & kBoMappable) ? kApertureSize : kGmSize;
    uint64_t lo = (flags & kBoMappable) ? 0 : kApertureSize;
    auto gm = gm_.alloc(bo.size, kPageSize, lo, hi);
    if (!gm && !(flags & kBoMappable)) gm = gm_.alloc(bo.size, kPageSize, 0, hi);
    if (!gm) {
      p_->free_pages(bo.pages);
      return tl::unexpected(gm.error());
    }
    bo.gm = *gm;
    // GGTT entries are written once, at allocation time.
    for (uint64_t i = 0; i < bo.size / kPageSize; ++i)
      write_ggtt(bo.gm / kPageSize + i, (bo.pages.phys + i * kPageSize) | kPtePresent);
  }
  return bo;
}

void Device::destroy_bo(Bo& bo) {
  if (!bo.size) return;
  if (bo.gm) {
    for (uint64_t i = 0; i < bo.size / kPageSize; ++i) write_ggtt(bo.gm / kPageSize + i, 0);
    gm_.free(bo.gm, bo.size);
  }
  p_->free_pages(bo.pages);
  bo = Bo{};
}

void Device::write_ggtt(uint64_t index, uint64_t pte) {
  p_->mmio_write64(static_cast<uint32_t>(kGgttOffset + index * 8), pte);
}

uint64_t Device::read_ggtt(uint64_t index) {
  uint32_t off = static_cast<uint32_t>(kGgttOffset + index * 8);
  return p_->mmio_read32(off) | uint64_t{p_->mmio_read32(off + 4)} << 32;
}

void Device::flush_ggtt() {
  (void)read_ggtt(kGgttEntries - 1);
  p_->mmio_write32(reg::GFX_FLSH_CNTL_GEN6, 1);
}

void Device::write_fence(uint32_t index, uint64_t value) {
  p_->mmio_write64(reg::FENCE_REG_GEN6 + 8 * index, value);
}

uint64_t Device::seqno_gm(int e) const { return eng_[e].hwsp.gm + kHwspSeqno * 4; }

bool Device::seqno_passed(int e, uint32_t seqno) const {
  return static_cast<int32_t>(polled(hwsp(e)[kHwspSeqno]) - seqno) >= 0;
}

Result<void> Device::wait_seqno(int e, uint32_t seqno, uint64_t timeout_ns) {
  uint64_t deadline = p_->now_ns() + timeout_ns;
  for (;;) {
    // The value tested is the value waited on: a write in between ends the wait.
    uint32_t seen = polled(hwsp(e)[kHwspSeqno]);
    if (static_cast<int32_t>(seen - seqno) >= 0) return {};
    service_interrupts();
    if (eng_[e].faulted || (hook_ && hook_->faulted(e))) return tl::unexpected(Error::GpuFault);
    if (p_->now_ns() >= deadline) return tl::unexpected(Error::Timeout);
    timed_wait(&hwsp(e)[kHwspSeqno], seen, deadline);
  }
}

// The CSB mirror in the HWSP tells which context runs and which is pending,
// without an MMIO read.
bool Device::process_csb(int e, uint32_t watch_id) {
  Engine& en = eng_[e];
  bool started = false;
  uint32_t wp = polled(hwsp(e)[kHwspCsbWritePtr]);
  while (wp < kCsbEntries && en.csb_read != wp) {
    en.csb_read = csb_next(en.csb_read);
    en.csb_unacked++;
    uint32_t status = hwsp(e)[kHwspCsb0 + 2 * en.csb_read];
    uint32_t id = hwsp(e)[kHwspCsb0 + 2 * en.csb_read + 1];
    if (status & kCsbComplete) en.last_done = id;
    // A context starts (or, already running, takes its new tail): it is no
    // longer pending. The event may come after the ELSP write returned, when
    // a mediator held it back until the driver read the CSB.
    if ((status & (kCsbIdleToActive | kCsbLiteRestore)) && en.pending == id) en.pending = 0;
    if (status & kCsbIdleToActive) {
      en.running = id;
    } else if (status & kCsbActiveToIdle) {
      en.running = 0;
    }
    if ((status & (kCsbIdleToActive | kCsbLiteRestore)) && id == watch_id) started = true;
  }
  return started;
}

Result<void> Device::wait_port(int e) {
  Engine& en = eng_[e];
  // The port holds one running and one pending pair; a second pending one
  // would be refused, so wait for the pending context to start.
  uint64_t deadline = p_->now_ns() + 2'000'000'000ull;
  if (hook_) {
    // The scheduler may hold the submission back while others own the GPU:
    // no deadline but its hang detection. The seqno moves when it completes.
    while (hook_->busy(e)) {
      if (hook_->faulted(e)) return tl::unexpected(Error::GpuFault);
      timed_wait(&hwsp(e)[kHwspSeqno], polled(hwsp(e)[kHwspSeqno]), p_->now_ns() + 200'000);
    }
    return {};
  }
  for (;;) {
    uint32_t seen = polled(hwsp(e)[kHwspCsbWritePtr]);
    process_csb(e, 0);
    if (!en.pending) return {};
    if (en.csb_unacked >= kCsbEntries / 2) ack_csb(e);
    if (polled(hwsp(e)[kHwspCsbWritePtr]) != seen) continue;
    service_interrupts();
    if (en.faulted) return tl::unexpected(Error::GpuFault);
    if (p_->now_ns() >= deadline) return tl::unexpected(Error::Timeout);
    timed_wait(&hwsp(e)[kHwspCsbWritePtr], seen, deadline);
  }
}

void Device::elsp_submit(int e, uint32_t ctx_id, uint64_t desc) {
  Engine& en = eng_[e];
  if (hook_) {
    stats_.submissions++;
    return hook_->submit(e, desc);
  }
  uint32_t elsp = kEngineBase[e] + reg::RING_ELSP;
  uint64_t t0 = p_->now_ns();
  p_->mmio_write64(elsp, 0);
  p_->mmio_write64(elsp, desc);
  stats_.mmio_ns += p_->now_ns() - t0;
  stats_.submissions++;
  // Becoming active or a lite restore posts an event during the ELSP write;
  // without one the context waits in the pending slot. (Its completion may
  // already follow, so "running" alone cannot tell.)
  if (!process_csb(e, ctx_id)) en.pending = ctx_id;
}

void Device::ack_csb(int e) {
  Engine& en = eng_[e];
  p_->mmio_write32(kEngineBase[e] + reg::RING_CONTEXT_STATUS_PTR, kCsbReadPtrMask << 16 | en.csb_read << 8);
  en.csb_unacked = 0;
}

void Device::set_gt_irqs(uint32_t per_engine) {
  uint32_t bits = (per_engine << gt_shift(0)) | (per_engine << gt_shift(1));
  p_->mmio_write32(reg::GEN8_GT_IMR0, ~bits);
  p_->mmio_write32(reg::GEN8_GT_IER0, bits);
}

bool Device::context_done(int e, uint32_t ctx_id) {
  process_csb(e, 0);
  return eng_[e].last_done == ctx_id;
}

void Device::reset_engine(int e) {
  p_->mmio_write32(reg::GEN6_GDRST, e == 0 ? kGdrstRender : kGdrstBlt);
  Engine& en = eng_[e];
  // The reset cleared the engine's registers, its HWSP address among them.
  p_->mmio_write32(kEngineBase[e] + reg::RING_HWS_PGA, static_cast<uint32_t>(en.hwsp.gm));
  en.csb_read = kCsbPtrEmpty;
  en.csb_unacked = 0;
  en.running = en.pending = en.last_done = 0;
  en.faulted = false;
  hwsp(e)[kHwspCsbWritePtr] = kCsbPtrEmpty;
}

void Device::timed_wait(const volatile uint32_t* addr, uint32_t seen, uint64_t deadline) {
  uint64_t t0 = p_->now_ns();
  p_->wait(addr, seen, deadline);
  stats_.wait_ns += p_->now_ns() - t0;
}

void Device::enable_display_irq(int pipe, uint32_t bits) {
  de_ier_[pipe] |= bits;
  p_->mmio_write32(reg::GEN8_DE_PIPE_IMR + pipe * reg::kDePipeStride, ~de_ier_[pipe]);
  p_->mmio_write32(reg::GEN8_DE_PIPE_IER + pipe * reg::kDePipeStride, de_ier_[pipe]);
}

void Device::service_interrupts() {
  if (hook_ || !p_->take_interrupt()) return;  // a hooked driver owns no interrupt
  stats_.interrupts++;
  p_->mmio_write32(reg::GEN8_MASTER_IRQ, 0);
  uint32_t master = p_->mmio_read32(reg::GEN8_MASTER_IRQ);
  if (master & (kMasterGtRcs | kMasterGtBcs)) {
    uint32_t iir = p_->mmio_read32(reg::GEN8_GT_IIR0);
    p_->mmio_write32(reg::GEN8_GT_IIR0, iir);
    for (int e = 0; e < kNumEngines; ++e)
      if (iir & (kGtError << gt_shift(e))) eng_[e].faulted = true;
  }
  for (int pipe = 0; pipe < kNumPipes; ++pipe) {
    if (!(master & master_de_pipe(pipe))) continue;
    uint32_t reg_iir = reg::GEN8_DE_PIPE_IIR + pipe * reg::kDePipeStride;
    uint32_t iir = p_->mmio_read32(reg_iir);
    p_->mmio_write32(reg_iir, iir);
    if (iir & kDePipeVblank) stats_.vblanks++;
    if (iir & kDePipeFlipDone) {
      flip_done_[pipe]++;
      stats_.flips_done++;
    }
  }
  p_->mmio_write32(reg::GEN8_MASTER_IRQ, kMasterEnable);
}

}  // namespace drv
