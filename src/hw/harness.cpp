#include "hw/harness.h"

#include <spdlog/spdlog.h>

#include <cstring>
#include <thread>

#include "common/gen8/encode.h"

namespace hw {

using namespace gen8;

Harness::Harness(Gpu& gpu) : gpu_(gpu), msis_(std::make_shared<std::atomic<uint64_t>>(0)) {
  gpu_.cfg_write(pci::COMMAND, 2, pci::kCmdMem | pci::kCmdMaster);
  gpu_.cfg_write(pci::MSI_ADDR_LO, 4, 0xFEE00000u);
  gpu_.cfg_write(pci::MSI_DATA, 2, 0x40);
  gpu_.cfg_write(pci::MSI_CTRL, 2, pci::kMsiEnable);
  auto counter = msis_;
  gpu_.set_msi_handler([counter](uint64_t, uint32_t) { counter->fetch_add(1); });
  gpu_.mmio_write(reg::GEN8_GT_IMR0, 4, 0);
  gpu_.mmio_write(reg::GEN8_GT_IER0, 4, kAll);
  for (int p = 0; p < kNumPipes; ++p) {
    gpu_.mmio_write(reg::GEN8_DE_PIPE_IMR + p * reg::kDePipeStride, 4, 0);
    gpu_.mmio_write(reg::GEN8_DE_PIPE_IER + p * reg::kDePipeStride, 4, kAll);
  }
  gpu_.mmio_write(reg::GEN8_MASTER_IRQ, 4, kMasterEnable);
  pml4_ = alloc_host(kPageSize).hpa;
  for (int e = 0; e < kNumEngines; ++e) {
    hwsp_[e] = alloc_ggtt(kPageSize);
    hwsp(e)[kHwspCsbWritePtr] = kCsbPtrEmpty;
    gpu_.mmio_write(kEngineBase[e] + reg::RING_HWS_PGA, 4, hwsp_[e].gm);
  }
}

Harness::~Harness() { gpu_.set_msi_handler(nullptr); }

uint64_t Harness::msis() const { return msis_->load(); }

Harness::Buffer Harness::alloc_host(uint64_t bytes) {
  uint64_t pages = (bytes + kPageSize - 1) / kPageSize;
  auto hpa = gpu_.memory().alloc_pages(pages);
  if (!hpa) {
    spdlog::error("harness: {}", hpa.error());
    return {};
  }
  return Buffer{0, *hpa, pages * kPageSize, gpu_.memory().base() + *hpa};
}

Harness::Buffer Harness::alloc_ggtt(uint64_t bytes) {
  Buffer b = alloc_host(bytes);
  if (!b.cpu) return b;
  b.gm = next_gm_;
  next_gm_ += b.size;
  for (uint64_t i = 0; i < b.size / kPageSize; ++i)
    gpu_.mmio_write(kGgttOffset + (b.gm / kPageSize + i) * 8, 8,
                    (b.hpa + i * kPageSize) | kPtePresent);
  return b;
}

uint64_t Harness::table_entry(uint64_t table_hpa, unsigned idx, bool create) {
  auto* t = reinterpret_cast<uint64_t*>(gpu_.memory().base() + table_hpa);
  if (!(t[idx] & kPtePresent) && create) t[idx] = alloc_host(kPageSize).hpa | kPtePresent | kPteRw;
  return t[idx] & kPteAddrMask;
}

void Harness::ppgtt_map(uint64_t va, uint64_t hpa, uint64_t bytes) {
  for (uint64_t off = 0; off < bytes; off += kPageSize) {
    uint64_t a = va + off, table = pml4_;
    for (int level = 3; level >= 1; --level) table = table_entry(table, (a >> (12 + 9 * level)) & 511, true);
    auto* pt = reinterpret_cast<uint64_t*>(gpu_.memory().base() + table);
    pt[(a >> 12) & 511] = (hpa + off) | kPtePresent | kPteRw;
  }
}

Harness::Context Harness::make_context(int engine, uint32_t ring_bytes) {
  Context c;
  c.engine = engine;
  c.image = alloc_ggtt((engine == 0 ? kCtxRcsPages : kCtxBcsPages) * kPageSize);
  c.ring = alloc_ggtt(ring_bytes);
  c.ctx_id = next_ctx_id_++;
  uint32_t* r = c.regs();
  r[ctx::CONTEXT_CONTROL] = kCtxCtrlRestoreInhibit;
  r[ctx::RING_START] = static_cast<uint32_t>(c.ring.gm);
  r[ctx::RING_CTL] = ring_ctl(ring_bytes);
  r[ctx::PDP0_UDW] = static_cast<uint32_t>(pml4_ >> 32);
  r[ctx::PDP0_LDW] = static_cast<uint32_t>(pml4_);
  return c;
}

void Harness::emit(Context& c, std::span<const uint32_t> cmds) {
  uint32_t* r = c.regs();
  uint32_t size = ring_size(r[ctx::RING_CTL]), tail = r[ctx::RING_TAIL];
  uint32_t n = static_cast<uint32_t>(cmds.size()), padded = (n + 1) & ~1u;
  uint32_t used = (tail + size - r[ctx::RING_HEAD]) % size;
  if ((padded * 4) + used + 8 > size) {
    spdlog::error("harness: ring full ({} bytes used of {})", used, size);
    return;
  }
  auto* ring = reinterpret_cast<uint32_t*>(c.ring.cpu);
  for (uint32_t i = 0; i < padded; ++i) {
    ring[tail / 4] = i < n ? cmds[i] : header(Op::MI_NOOP, 1);
    tail = (tail + 4) % size;
  }
  r[ctx::RING_TAIL] = tail;
}

void Harness::submit(const Context& c, const Context* second) {
  auto desc = [](const Context& x) {
    return static_cast<uint64_t>(x.ctx_id) << 32 |
           (x.lrca() | kDescValid | kDescAddrModeLegacy64 | kDescPrivilege);
  };
  uint32_t elsp = kEngineBase[c.engine] + reg::RING_ELSP;
  gpu_.mmio_write(elsp, 8, second ? desc(*second) : 0);
  gpu_.mmio_write(elsp, 8, desc(c));
}

bool Harness::wait_idle(int engine, std::chrono::milliseconds timeout) {
  auto end = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < end) {
    if (gpu_.engine_idle(engine)) return true;
    if (gpu_.last_fault(engine).code != Fault::None) return false;
    std::this_thread::sleep_for(std::chrono::microseconds(50));
  }
  return false;
}

bool Harness::wait_fault(int engine, std::chrono::milliseconds timeout) {
  auto end = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < end) {
    if (gpu_.last_fault(engine).code != Fault::None) return true;
    std::this_thread::sleep_for(std::chrono::microseconds(50));
  }
  return false;
}

std::vector<uint64_t> Harness::read_csb(int engine) {
  std::vector<uint64_t> out;
  const uint32_t* h = hwsp(engine);
  uint32_t wp = h[kHwspCsbWritePtr];
  while (csb_read_[engine] != wp && wp < kCsbEntries) {
    uint32_t i = csb_next(csb_read_[engine]);
    out.push_back(h[kHwspCsb0 + 2 * i] | static_cast<uint64_t>(h[kHwspCsb0 + 2 * i + 1]) << 32);
    csb_read_[engine] = i;
  }
  return out;
}

void Harness::reset_engine(int engine) {
  gpu_.mmio_write(reg::GEN6_GDRST, 4, engine == 0 ? kGdrstRender : kGdrstBlt);
  // An engine reset clears the engine's registers, HWS_PGA included.
  csb_read_[engine] = kCsbPtrEmpty;
  hwsp(engine)[kHwspCsbWritePtr] = kCsbPtrEmpty;
  gpu_.mmio_write(kEngineBase[engine] + reg::RING_HWS_PGA, 4, hwsp_[engine].gm);
}

}  // namespace hw
