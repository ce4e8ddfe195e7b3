#include "guest/guest_platform.h"

#include "guest/console.h"
#include "guest/mmio.h"
#include "guest/pages.h"
#include "guest/pv.h"
#include "guest/time.h"

namespace guest {

GuestPlatform::GuestPlatform(const PciDevice& gpu) : gpu_(gpu), irq_seen_(g_irq_count) {}

uint32_t GuestPlatform::cfg_read32(uint32_t off) {
  return pci_cfg_read32(gpu_.devfn, off);
}

void GuestPlatform::cfg_write32(uint32_t off, uint32_t v) {
  pci_cfg_write32(gpu_.devfn, off, v);
}

uint32_t GuestPlatform::mmio_read32(uint32_t off) {
  return guest::mmio_read32(gpu_.bar0 + off);
}

void GuestPlatform::mmio_write32(uint32_t off, uint32_t v) {
  guest::mmio_write32(gpu_.bar0 + off, v);
}

void GuestPlatform::mmio_write64(uint32_t off, uint64_t v) {
  guest::mmio_write64(gpu_.bar0 + off, v);
}

bool GuestPlatform::alloc_pages(uint64_t count, bool page_table, drv::Pages* out) {
  uint64_t phys = pages_alloc(count, page_table ? Pool::PageTable : Pool::General);
  if (!phys) return false;
  out->phys = phys;
  out->cpu = reinterpret_cast<void*>(phys);
  out->count = count;
  pages_in_use_ += count;
  return true;
}

void GuestPlatform::free_pages(const drv::Pages& p) {
  if (!p.count) return;
  if (pages_free(p.phys, p.count))
    pages_in_use_ -= p.count;
  else
    printf("guest: refused to free %llu pages at 0x%llx\n",
           static_cast<unsigned long long>(p.count), static_cast<unsigned long long>(p.phys));
}

uint64_t GuestPlatform::now_ns() { return guest::now_ns(); }

namespace {
constexpr uint64_t kSpinNs = 30'000;
}  // namespace

void GuestPlatform::wait(const volatile uint32_t* addr, uint32_t expected, uint64_t deadline_ns) {
  // An MSI the driver has not taken yet: return at once, its bottom half
  // runs next. (An MSI landing after this check still ends the WAIT: the VMM
  // returns early for any MSI injected since the previous WAIT returned.)
  if (g_irq_count != irq_seen_ || *addr != expected) return;
  uint64_t deadline_tsc = ns_to_tsc(deadline_ns);
  // A tiny batch completes within microseconds: polling memory at CPL3 costs
  // nothing, a WAIT costs an exit. Spin briefly first, as the host build does.
  uint64_t spin_end = tsc_deadline_in(kSpinNs);
  while (rdtsc() < spin_end)
    if (g_irq_count != irq_seen_ || *addr != expected) return;
  if (rdtsc() >= deadline_tsc) return;
  pv_wait(addr, expected, deadline_tsc);
}

bool GuestPlatform::take_interrupt() {
  uint32_t now = g_irq_count;
  if (now == irq_seen_) return false;
  irq_seen_ = now;
  return true;
}

void GuestPlatform::log(const char* msg) {
  size_t n = 0;
  while (msg[n]) ++n;
  printf(n && msg[n - 1] == '\n' ? "drv: %s" : "drv: %s\n", msg);
}

}  // namespace guest
