// `selftest`: what a vGPU must provide before any command reaches the GPU.
// On a mediated vGPU submission may not exist yet (an ELSP write stops the
// VM's GPU), so this workload never submits: it checks ballooning, GGTT
// mappings through the aperture, vblank interrupts and, behind the mediator,
// that out-of-bounds accesses are refused; then it draws each frame with the
// CPU through the aperture and flips by MMIO.
#include "workloads/selftest.h"

#include "common/gen8/layout.h"
#include "workloads/registry.h"

namespace wl {

namespace {

using namespace gen8;
using drv::Error;

constexpr uint32_t W = Frame2d::kWidth, H = Frame2d::kHeight;

// A colour per vGPU id (0: native or pass-through).
constexpr uint32_t kBackground[8] = {0x00404850u, 0x00B03030u, 0x0030A040u, 0x003050C0u,
                                     0x00C0A030u, 0x00A040C0u, 0x0030B0B0u, 0x00C07030u};

void rect(uint32_t* px, uint32_t x0, uint32_t y0, uint32_t x1, uint32_t y1, uint32_t color) {
  for (uint32_t y = y0; y < y1; ++y)
    for (uint32_t x = x0; x < x1; ++x) px[y * W + x] = color;
}

// Seven-segment digits: bit 0 is segment a (top), then b..f clockwise, g the middle.
constexpr uint8_t kSegments[10] = {0x3F, 0x06, 0x5B, 0x4F, 0x66, 0x6D, 0x7D, 0x07, 0x7F, 0x6F};
constexpr uint32_t kDigitW = 72, kDigitH = 160, kStroke = 18, kDigitPitch = 96;  // 10 digits fit

void digit(uint32_t* px, uint32_t x, uint32_t y, uint32_t d, uint32_t color) {
  const uint32_t w = kDigitW, h = kDigitH, t = kStroke, m = y + h / 2;
  const uint32_t seg[7][4] = {{x, y, x + w, y + t},
                              {x + w - t, y, x + w, m},
                              {x + w - t, m, x + w, y + h},
                              {x, y + h - t, x + w, y + h},
                              {x, m, x + t, y + h},
                              {x, y, x + t, m},
                              {x, m - t / 2, x + w, m + t / 2}};
  for (int s = 0; s < 7; ++s)
    if (kSegments[d] & (1u << s)) rect(px, seg[s][0], seg[s][1], seg[s][2], seg[s][3], color);
}

// The GM ranges the driver allocates from: the vGPU's two slices behind the
// mediator, else all of low and high GM.
struct GmRange {
  uint64_t base, size;
  bool holds(uint64_t gm, uint64_t bytes) const {
    return gm >= base && bytes <= size && gm - base <= size - bytes;
  }
};
GmRange mappable(const drv::PvInfo& pv) {
  return pv.present ? GmRange{pv.mappable_base, pv.mappable_size} : GmRange{0, kApertureSize};
}
GmRange hidden(const drv::PvInfo& pv) {
  return pv.present ? GmRange{pv.hidden_base, pv.hidden_size}
                    : GmRange{kApertureSize, kGmSize - kApertureSize};
}

// A GM page in [lo, hi) that the vGPU does not own, or `hi` if it owns all of it.
uint64_t foreign_gm(const drv::PvInfo& pv, uint64_t lo, uint64_t hi) {
  const GmRange m = mappable(pv), h = hidden(pv);
  const uint64_t candidates[] = {lo, m.base + m.size, h.base + h.size};
  for (uint64_t gm : candidates)
    if (gm >= lo && gm < hi && !m.holds(gm, kPageSize) && !h.holds(gm, kPageSize)) return gm;
  return hi;
}

// Distinct per qword and per vGPU, so a page mapped at the wrong place shows.
uint64_t pattern(uint64_t i, uint32_t vgt_id) {
  const uint32_t k = 2 * static_cast<uint32_t>(i) + 1, salt = vgt_id * 0x9E3779B9u;
  return uint64_t{hash32(k ^ salt)} << 32 | hash32((k + 1) ^ salt);
}

constexpr uint64_t kApertureTestBytes = 16ull << 20;
// A frame beyond any guest's RAM, still a well-formed entry.
constexpr uint64_t kBeyondRam = 0x7F'FFFF'F000ull;
static_assert((kBeyondRam & kPteAddrMask) == kBeyondRam);
constexpr uint32_t kMarker = 0x5E1F7E57u;
constexpr uint32_t kVblanks = 3;

class Selftest final : public Registered<Selftest> {
 public:
  const Info& info() const override { return info_; }
  const char* failure() const override { return failure_; }

  drv::Result<void> init(drv::Device& dev, Frame2d& frame, Latency*) override {
    dev_ = &dev;
    fr_ = &frame;
    if (auto r = check_gm(); !r) return r;
    if (auto r = check_aperture(); !r) return r;
    if (dev.pv().present)
      if (auto r = probe_refusals(); !r) return r;
    // Last: under sync flips its waits also take the flip-done of the DSPSURF
    // probe, so each frame's flip then waits for its own.
    return check_vblanks();
  }

  drv::Result<void> frame(uint32_t i) override {
    auto* pixels = reinterpret_cast<uint32_t*>(dev_->aperture_ptr(fr_->back(i)));
    selftest_draw(pixels, dev_->pv().vgt_id, i);
    return fr_->flip_now(i);
  }

  void fini() override {
    dev_ = nullptr;
    fr_ = nullptr;
    failure_ = nullptr;
  }

 private:
  drv::Result<void> fail(Error e, const char* why) {
    failure_ = why;
    return tl::unexpected(e);
  }

  // Ballooning: the driver's GGTT objects land in the vGPU's own ranges.
  drv::Result<void> check_gm() {
    const drv::PvInfo& pv = dev_->pv();
    if (pv.present && (!pv.mappable_size || !pv.hidden_size))
      return fail(Error::NoSpace, "the PV info page gives an empty GM range");
    auto mbo = dev_->create_bo(kPageSize, drv::kBoGgtt | drv::kBoMappable);
    if (!mbo) return tl::unexpected(mbo.error());
    const bool m_ok = mappable(pv).holds(mbo->gm, mbo->size);
    dev_->destroy_bo(*mbo);
    if (!m_ok)
      return fail(Error::NoSpace, "a mappable GGTT object lies outside the mappable GM range");
    auto hbo = dev_->create_bo(kPageSize, drv::kBoGgtt);
    if (!hbo) return tl::unexpected(hbo.error());
    const bool h_ok = hidden(pv).holds(hbo->gm, hbo->size);
    dev_->destroy_bo(*hbo);
    if (!h_ok)
      return fail(Error::NoSpace, "a non-mappable GGTT object lies outside the hidden GM range");
    return {};
  }

  // GGTT entries and the aperture: what the CPU writes through the aperture
  // reads back there and is in the object's own pages.
  drv::Result<void> check_aperture() {
    auto bo = dev_->create_bo(kApertureTestBytes, drv::kBoGgtt | drv::kBoMappable);
    if (!bo) return tl::unexpected(bo.error());
    const uint32_t id = dev_->pv().vgt_id;
    const uint64_t n = bo->size / 8;
    volatile uint64_t* ap = reinterpret_cast<volatile uint64_t*>(dev_->aperture_ptr(*bo));
    const volatile uint64_t* mem = static_cast<const volatile uint64_t*>(bo->pages.cpu);
    for (uint64_t i = 0; i < n; ++i) ap[i] = pattern(i, id);
    bool read_back = true, landed = true;
    for (uint64_t i = 0; i < n; ++i) read_back &= ap[i] == pattern(i, id);
    for (uint64_t i = 0; i < n; ++i) landed &= mem[i] == pattern(i, id);
    dev_->destroy_bo(*bo);
    if (!read_back) return fail(Error::GpuFault, "aperture reads differ from aperture writes");
    if (!landed)
      return fail(Error::GpuFault, "aperture writes missed the object's pages (wrong GGTT frames)");
    return {};
  }

  // Accesses the mediator must refuse, one of each kind; the host counts
  // each refusal in its JSON. Only behind the mediator: on bare hardware or
  // in pass-through they would corrupt the real GPU's state.
  drv::Result<void> probe_refusals() {
    auto bo = dev_->create_bo(kPageSize, drv::kBoGgtt | drv::kBoMappable);
    if (!bo) return tl::unexpected(bo.error());
    auto r = probe_with(*bo);
    dev_->destroy_bo(*bo);
    return r;
  }

  drv::Result<void> probe_with(const drv::Bo& bo) {
    drv::Platform& p = dev_->platform();
    const drv::PvInfo& pv = dev_->pv();
    const uint64_t foreign = foreign_gm(pv, 0, kGmSize);
    const uint64_t foreign_ap = foreign_gm(pv, 0, kApertureSize);
    if (foreign == kGmSize || foreign_ap == kApertureSize)
      return fail(Error::BadArgument, "the vGPU owns all of GM: nothing to probe");
    auto pte_off = [](uint64_t gm) {
      return static_cast<uint32_t>(kGgttOffset + gm / kPageSize * 8);
    };
    auto read_pte = [&](uint32_t off) {
      return p.mmio_read32(off) | uint64_t{p.mmio_read32(off + 4)} << 32;
    };
    uint64_t* page = static_cast<uint64_t*>(bo.pages.cpu);
    for (uint64_t i = 0; i < kPageSize / 8; ++i) page[i] = pattern(i, pv.vgt_id);

    // A GGTT entry outside the vGPU's GM: dropped, and reads as 0.
    const uint64_t pte = bo.pages.phys | kPtePresent;
    p.mmio_write64(pte_off(foreign), pte);
    if (read_pte(pte_off(foreign)) == pte)
      return fail(Error::BadArgument, "a GGTT entry outside the vGPU's GM was accepted");

    // An own entry naming a frame beyond the VM's RAM (the mediator maps its
    // scratch page), then the good entry again: the page is back.
    const uint64_t saved = read_pte(pte_off(bo.gm));
    p.mmio_write64(pte_off(bo.gm), kBeyondRam | kPtePresent);
    p.mmio_write64(pte_off(bo.gm), saved);
    const volatile uint64_t* ap =
        reinterpret_cast<const volatile uint64_t*>(dev_->aperture_ptr(bo));
    bool restored = true;
    for (uint64_t i = 0; i < kPageSize / 8; ++i) restored &= ap[i] == pattern(i, pv.vgt_id);
    if (!restored)
      return fail(Error::GpuFault,
                  "a GGTT entry rewritten after a refused frame does not map its page");

    // A plane surface outside the vGPU's GM, at once replaced by the good one.
    const uint32_t good = p.mmio_read32(reg::DSPSURF);
    p.mmio_write32(reg::DSPSURF, static_cast<uint32_t>(foreign));
    p.mmio_write32(reg::DSPSURF, good);
    if (p.mmio_read32(reg::DSPSURF) != good)
      return fail(Error::BadArgument, "DSPSURF did not take the good surface back");

    // The aperture outside the vGPU's slice: the write is dropped.
    volatile uint32_t* other = reinterpret_cast<volatile uint32_t*>(p.aperture() + foreign_ap);
    *other = kMarker;
    if (*other == kMarker)
      return fail(Error::BadArgument, "an aperture write outside the vGPU's slice was not refused");
    return {};
  }

  drv::Result<void> check_vblanks() {
    drv::Platform& p = dev_->platform();
    dev_->enable_display_irq(0, kDePipeVblank);
    const uint64_t start = dev_->stats().vblanks;
    const uint64_t deadline = p.now_ns() + 2'000'000'000ull;
    while (dev_->stats().vblanks - start < kVblanks) {
      if (p.now_ns() >= deadline) return fail(Error::Timeout, "no vblank interrupts");
      static const volatile uint32_t never_changes = 0;
      p.wait(&never_changes, 0, deadline);
      dev_->service_interrupts();
    }
    return {};
  }

  Info info_{"selftest",
             "vGPU bring-up checks without submission; CPU-drawn frames flipped by MMIO"};
  drv::Device* dev_ = nullptr;
  Frame2d* fr_ = nullptr;
  const char* failure_ = nullptr;
};

Selftest g_selftest;

}  // namespace

void selftest_draw(uint32_t* pixels, uint32_t vgt_id, uint32_t frame) {
  rect(pixels, 0, 0, W, H, kBackground[vgt_id % 8]);
  uint32_t digits[10], n = 0;
  for (uint32_t v = vgt_id; n == 0 || v; v /= 10) digits[n++] = v % 10;
  const uint32_t x0 = (W - n * kDigitPitch + (kDigitPitch - kDigitW)) / 2, y0 = (H - kDigitH) / 2;
  for (uint32_t k = 0; k < n; ++k)
    digit(pixels, x0 + k * kDigitPitch, y0, digits[n - 1 - k], 0x00FFFFFFu);
  const uint32_t x = tri(frame * 8, W - 64);
  rect(pixels, x, H - 96, x + 64, H - 32, 0x00FFFFFFu);
}

Workload& selftest_workload() { return g_selftest; }

}  // namespace wl
