// CSB conformance: the same ELSP scripts, with the same hand-built contexts,
// run natively on the GPU model and as a guest on a vGPU; the context status
// events the guest reads from its HWSP mirror (and the execlist status and
// CSB registers) must be the same, bit for bit, after every step. A context
// is held running by a batch that waits on a semaphore dword in memory and
// released by writing that dword: no step depends on timing.
#include <gtest/gtest.h>

#include <array>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <ios>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "common/gen8/encode.h"
#include "common/gen8/layout.h"
#include "common/gen8/regs.h"
#include "driver/device.h"
#include "host/hw_platform.h"
#include "hw/gpu.h"
#include "support/mediated_host.h"

namespace gvt {
namespace {

using namespace gen8;

// What the guest can observe of one engine's execlist port after a step.
struct Snapshot {
  std::string step;
  std::vector<uint64_t> events;  // new HWSP CSB entries, oldest first: status | ctx id << 32
  uint32_t hwsp_wp = 0;          // the HWSP's CSB write pointer
  uint64_t status = 0;           // RING_EXECLIST_STATUS
  uint32_t status_ptr = 0;       // RING_CONTEXT_STATUS_PTR
  std::array<uint64_t, kCsbEntries> csb{};  // the CSB registers
  bool operator==(const Snapshot&) const = default;
};
using Trace = std::vector<Snapshot>;

std::string format(const Snapshot& s) {
  char buf[160];
  std::snprintf(buf, sizeof buf, "%-22s wp %u status 0x%016llx ptr 0x%x events", s.step.c_str(), s.hwsp_wp,
                static_cast<unsigned long long>(s.status), s.status_ptr);
  std::string out = buf;
  for (uint64_t e : s.events) {
    std::snprintf(buf, sizeof buf, " (0x%x, ctx 0x%x)", static_cast<uint32_t>(e), static_cast<uint32_t>(e >> 32));
    out += buf;
  }
  return out;
}

std::string format(const Trace& t) {
  std::string out;
  for (const auto& s : t) out += "  " + format(s) + "\n";
  return out;
}

// Raw execlist programming on one engine of whatever GPU `dev` drives (the
// model natively, a vGPU as a guest). The driver only provides memory (GGTT
// objects, which a guest's driver balloons into its slice) and the engine's
// HWSP; contexts, rings, batches and ELSP writes are built here.
class Rig {
 public:
  static constexpr uint32_t kRingBytes = 4096;
  static constexpr int kHolds = 8;
  static constexpr uint32_t kMarkers = 2048;  // byte offset of the markers in the semaphore page

  Rig(drv::Device& dev, int engine) : dev_(dev), p_(dev.platform()), engine_(engine) {
    auto sem = dev.create_bo(kPageSize, drv::kBoGgtt);
    auto batches = dev.create_bo(kPageSize, drv::kBoGgtt);
    EXPECT_TRUE(sem && batches);
    if (!sem || !batches) return;
    sem_ = *sem;
    batches_ = *batches;
    // Batch k waits until semaphore dword k reads 1. It is a privileged
    // (GGTT) batch: the mediator scans and copies it, the wait still polls
    // the guest's own dword.
    for (int k = 0; k < kHolds; ++k) {
      CmdWriter w(batches_.dwords() + k * 16, 16);
      w.semaphore_wait(sem_.gm + 4 * k, 1, SemOp::Equal, true);
      w.bb_end();
    }
    hwsp_ = const_cast<volatile uint32_t*>(dev.csb_write_ptr(engine)) - kHwspCsbWritePtr;
    hwsp_gm_ = static_cast<uint32_t>(dev.seqno_gm(engine) & ~(kPageSize - 1));
    ok_ = true;
  }
  ~Rig() {
    // Nothing may stay held past the script, whatever failed.
    for (int k = 0; k < kHolds; ++k) release(k);
    wait_idle();
    for (auto& [id, c] : ctxs_) {
      dev_.destroy_bo(c.ring);
      dev_.destroy_bo(c.image);
    }
    dev_.destroy_bo(batches_);
    dev_.destroy_bo(sem_);
  }
  bool ok() const { return ok_; }

  struct Ctx {
    drv::Bo image, ring;
    uint32_t id = 0, tail = 0;
    uint32_t* regs() const { return reinterpret_cast<uint32_t*>(image.pages.cpu) + kPageSize / 4; }
    uint64_t desc() const {
      return uint64_t{id} << 32 | image.gm | kDescValid | kDescAddrModeLegacy64 | kDescPrivilege;
    }
  };

  // Context `id` (created on first use): restore-inhibit, no PPGTT, a 4 KiB ring.
  Ctx& ctx(uint32_t id) {
    Ctx& c = ctxs_[id];
    if (c.id) return c;
    auto img = dev_.create_bo(uint64_t{engine_ == 0 ? kCtxRcsPages : kCtxBcsPages} * kPageSize, drv::kBoGgtt);
    auto ring = dev_.create_bo(kRingBytes, drv::kBoGgtt);
    EXPECT_TRUE(img && ring);
    if (!img || !ring) return c;
    c.id = id;
    c.image = *img;
    c.ring = *ring;
    uint32_t* r = c.regs();
    r[ctx::CONTEXT_CONTROL] = kCtxCtrlRestoreInhibit;
    r[ctx::RING_START] = static_cast<uint32_t>(c.ring.gm);
    r[ctx::RING_CTL] = ring_ctl(kRingBytes);
    return c;
  }
  // Appends MI_NOOPs to the ring and moves the image's tail past them.
  void noops(Ctx& c, uint32_t n) {
    std::vector<uint32_t> cmds(n, header(Op::MI_NOOP, 1));
    append(c, cmds);
  }
  // Appends a start of batch k: the context runs until release(k).
  void hold(Ctx& c, int k) {
    std::vector<uint32_t> cmds(4);
    CmdWriter w(cmds.data(), 4);
    w.bb_start(batches_.gm + k * 64, false);
    w.noop();
    append(c, cmds);
  }
  void release(int k) {
    if (ok_) std::atomic_ref<uint32_t>(sem_.dwords()[k]).store(1);
  }
  // Appends a store of 1 to marker dword k: whether the ring really ran.
  void mark(Ctx& c, int k) {
    std::vector<uint32_t> cmds(4);
    CmdWriter w(cmds.data(), 4);
    w.store_dword(sem_.gm + kMarkers + 4 * k, 1, true);
    append(c, cmds);
  }
  uint32_t marked(int k) const { return std::atomic_ref<uint32_t>(sem_.dwords()[kMarkers / 4 + k]).load(); }
  // One ELSP submission: element 1 (or none), then element 0.
  void submit(const Ctx& e0, const Ctx* e1 = nullptr) {
    const uint32_t elsp = kEngineBase[engine_] + reg::RING_ELSP;
    p_.mmio_write64(elsp, e1 ? e1->desc() : 0);
    p_.mmio_write64(elsp, e0.desc());
  }
  // An engine reset (GDRST), then what a driver does after one: the reset
  // cleared the engine's registers, HWS_PGA included, and the CSB starts over.
  void reset() {
    p_.mmio_write32(reg::GEN6_GDRST, engine_ == 0 ? kGdrstRender : kGdrstBlt);
    p_.mmio_write32(kEngineBase[engine_] + reg::RING_HWS_PGA, hwsp_gm_);
    hwsp_[kHwspCsbWritePtr] = kCsbPtrEmpty;
    read_ = kCsbPtrEmpty;
  }
  // Until the port has no element left: every held context must have been
  // released. A bounded wait, as a hang guard only.
  bool wait_idle() {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (read64(reg::RING_EXECLIST_STATUS) != 0) {
      if (std::chrono::steady_clock::now() > deadline) return false;
      std::this_thread::sleep_for(std::chrono::microseconds(50));
    }
    return true;
  }
  // Records what the guest sees now.
  void step(const std::string& name) {
    Snapshot s;
    s.step = name;
    s.hwsp_wp = drv::polled(hwsp_[kHwspCsbWritePtr]);
    // One step posts far fewer than six events, so none is overwritten unread.
    while (read_ != s.hwsp_wp && s.hwsp_wp < kCsbEntries) {
      read_ = csb_next(read_);
      s.events.push_back(hwsp_[kHwspCsb0 + 2 * read_] | uint64_t{hwsp_[kHwspCsb0 + 2 * read_ + 1]} << 32);
    }
    // As a driver does: tell the device how far the CSB is read.
    if (acks_ && read_ < kCsbEntries)
      p_.mmio_write32(kEngineBase[engine_] + reg::RING_CONTEXT_STATUS_PTR, kCsbReadPtrMask << 16 | read_ << 8);
    s.status = read64(reg::RING_EXECLIST_STATUS);
    s.status_ptr = p_.mmio_read32(kEngineBase[engine_] + reg::RING_CONTEXT_STATUS_PTR);
    for (uint32_t i = 0; i < kCsbEntries; ++i) s.csb[i] = read64(reg::RING_CONTEXT_STATUS_BUF + 8 * i);
    trace_.push_back(s);
  }
  void idle_step(const std::string& name) {
    EXPECT_TRUE(wait_idle()) << name << ": the engine never went idle";
    step(name);
  }
  // Once `n` events past the last step are in the HWSP mirror (a bounded
  // wait, as a hang guard only).
  void event_step(const std::string& name, uint32_t n) {
    auto unread = [&] {
      const uint32_t wp = drv::polled(hwsp_[kHwspCsbWritePtr]);
      if (wp >= kCsbEntries) return 0u;
      return read_ >= kCsbEntries ? wp + 1 : (wp + kCsbEntries - read_) % kCsbEntries;
    };
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (unread() < n && std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(std::chrono::microseconds(50));
    EXPECT_EQ(unread(), n) << name;
    step(name);
  }
  const Trace& trace() const { return trace_; }
  const Snapshot& last() const { return trace_.back(); }
  void set_acks(bool on) { acks_ = on; }

 private:
  void append(Ctx& c, const std::vector<uint32_t>& cmds) {
    uint32_t* ring = c.ring.dwords();
    for (uint32_t v : cmds) {
      ring[c.tail / 4] = v;
      c.tail = (c.tail + 4) % kRingBytes;
    }
    c.regs()[ctx::RING_TAIL] = c.tail;
  }
  uint64_t read64(uint32_t rel) {
    const uint32_t off = kEngineBase[engine_] + rel;
    return p_.mmio_read32(off) | uint64_t{p_.mmio_read32(off + 4)} << 32;
  }

  drv::Device& dev_;
  drv::Platform& p_;
  const int engine_;
  bool ok_ = false;
  drv::Bo sem_, batches_;
  volatile uint32_t* hwsp_ = nullptr;
  uint32_t hwsp_gm_ = 0;
  uint32_t read_ = kCsbPtrEmpty;
  bool acks_ = true;
  std::map<uint32_t, Ctx> ctxs_;
  Trace trace_;
};

constexpr uint32_t kA = 0xA1, kB = 0xB2, kC = 0xC3;
constexpr uint64_t ev(uint32_t status, uint32_t id) { return status | uint64_t{id} << 32; }

// RING_EXECLIST_STATUS as hw-spec.md defines it: the low dword's bits, the
// running context's id in the high dword.
void expect_status(const Rig& r, uint32_t bits, uint32_t running) {
  const uint64_t want = bits | uint64_t{running} << 32;
  EXPECT_EQ(r.last().status, want) << r.last().step << ": RING_EXECLIST_STATUS 0x" << std::hex
                                   << r.last().status << ", not 0x" << want;
}

struct Script {
  const char* name;
  void (*run)(Rig&);
  std::vector<uint64_t> events;  // the whole stream, as the execlist state machine defines it
};

const Script kScripts[] = {
    {"Single",
     [](Rig& r) {
       auto& a = r.ctx(kA);
       r.noops(a, 4);
       r.submit(a);
       r.idle_step("submit A");
     },
     {ev(kCsbIdleToActive, kA), ev(kCsbComplete | kCsbActiveToIdle, kA)}},
    {"Pair",
     [](Rig& r) {
       auto& a = r.ctx(kA);
       auto& b = r.ctx(kB);
       r.hold(a, 0);
       r.hold(b, 1);
       r.submit(a, &b);
       r.step("submit A+B, both held");
       expect_status(r, kElStatEl0Valid | kElStatEl1Valid | kElStatEl0Active, kA);
       r.release(0);
       r.event_step("release A", 1);
       expect_status(r, kElStatCurrentPtr | kElStatEl0Valid | kElStatEl1Valid | kElStatEl1Active, kB);
       r.release(1);
       r.idle_step("release B");
     },
     {ev(kCsbIdleToActive, kA), ev(kCsbElementSwitch | kCsbComplete, kA),
      ev(kCsbComplete | kCsbActiveToIdle, kB)}},
    {"LiteRestore",
     [](Rig& r) {
       auto& a = r.ctx(kA);
       r.hold(a, 0);
       r.submit(a);
       r.step("submit A, held");
       expect_status(r, kElStatEl0Valid | kElStatEl0Active, kA);
       r.noops(a, 4);  // a new tail for the running context
       r.submit(a);
       r.step("resubmit A");
       expect_status(r, kElStatEl0Valid | kElStatEl0Active, kA);
       r.release(0);
       r.idle_step("release A");
     },
     {ev(kCsbIdleToActive, kA), ev(kCsbPreempted | kCsbLiteRestore, kA),
      ev(kCsbComplete | kCsbActiveToIdle, kA)}},
    {"QueueFull",
     [](Rig& r) {
       auto& a = r.ctx(kA);
       auto& b = r.ctx(kB);
       auto& c = r.ctx(kC);
       r.hold(a, 0);
       r.noops(b, 4);
       r.noops(c, 4);
       r.submit(a);
       r.step("submit A, held");
       r.submit(b);
       r.step("submit B, pending");
       expect_status(r, kElStatQueueFull | kElStatEl0Valid | kElStatEl0Active, kA);
       r.submit(c);  // running and pending both taken: refused, no event
       r.step("submit C, refused");
       expect_status(r, kElStatQueueFull | kElStatEl0Valid | kElStatEl0Active, kA);
       r.release(0);
       r.idle_step("release A");
       r.submit(c);  // C was dropped, not queued: it runs now, once
       r.idle_step("submit C again");
     },
     {ev(kCsbIdleToActive, kA), ev(kCsbComplete | kCsbActiveToIdle, kA), ev(kCsbIdleToActive, kB),
      ev(kCsbComplete | kCsbActiveToIdle, kB), ev(kCsbIdleToActive, kC),
      ev(kCsbComplete | kCsbActiveToIdle, kC)}},
    {"EngineResetIdle",
     [](Rig& r) {
       auto& a = r.ctx(kA);
       auto& b = r.ctx(kB);
       r.noops(a, 4);
       r.submit(a);
       r.idle_step("submit A");
       r.reset();
       r.step("engine reset");
       r.noops(b, 4);
       r.submit(b);
       r.idle_step("submit B");  // its events start the CSB over, at entry 0
     },
     {ev(kCsbIdleToActive, kA), ev(kCsbComplete | kCsbActiveToIdle, kA), ev(kCsbIdleToActive, kB),
      ev(kCsbComplete | kCsbActiveToIdle, kB)}},
    {"EngineResetHeld",
     [](Rig& r) {
       auto& a = r.ctx(kA);
       auto& b = r.ctx(kB);
       r.hold(a, 0);
       r.submit(a);
       r.step("submit A, held");
       r.reset();  // A is dropped: it never completes, nothing of it is saved
       r.step("engine reset");
       r.hold(b, 1);
       r.mark(b, 0);
       r.submit(b);
       r.step("submit B, held");
       r.release(0);
       r.release(1);
       r.idle_step("release A and B");
       EXPECT_EQ(r.marked(0), 1u) << "B's ring did not run";
       EXPECT_EQ(a.regs()[ctx::RING_HEAD], 0u) << "the dropped context A was written back";
     },
     {ev(kCsbIdleToActive, kA), ev(kCsbIdleToActive, kB), ev(kCsbComplete | kCsbActiveToIdle, kB)}},
    {"CsbWraps",
     [](Rig& r) {
       // 16 events through 6 entries: the write pointer wraps twice.
       for (int i = 0; i < 8; ++i) {
         auto& c = r.ctx(i % 2 ? kB : kA);
         r.noops(c, 2);
         r.submit(c);
         r.idle_step("submit " + std::string(i % 2 ? "B" : "A") + " #" + std::to_string(i / 2));
       }
     },
     [] {
       std::vector<uint64_t> v;
       for (int i = 0; i < 8; ++i) {
         v.push_back(ev(kCsbIdleToActive, i % 2 ? kB : kA));
         v.push_back(ev(kCsbComplete | kCsbActiveToIdle, i % 2 ? kB : kA));
       }
       return v;
     }()},
};

std::vector<uint64_t> events(const Trace& t) {
  std::vector<uint64_t> v;
  for (const auto& s : t) v.insert(v.end(), s.events.begin(), s.events.end());
  return v;
}

Trace run_native(const Script& s, int engine) {
  SCOPED_TRACE("native");
  auto g = hw::Gpu::create(hw::GpuConfig{1ull << 30, false});
  EXPECT_TRUE(g) << g.error();
  if (!g) return {};
  host::HwPlatform plat(**g);
  drv::Device dev;
  auto init = dev.init(plat);
  EXPECT_TRUE(init) << drv::error_name(init.error());
  if (!init) return {};
  Trace t;
  {
    Rig r(dev, engine);
    if (r.ok()) s.run(r);
    t = r.trace();
  }
  dev.fini();
  return t;
}

Trace run_on_vgpu(const Script& s, int engine) {
  SCOPED_TRACE("on a vGPU");
  auto h = test_support::MediatedHost::create();
  EXPECT_TRUE(h) << h.error();
  if (!h) return {};
  auto vm = test_support::GuestVm::create((*h)->gpu(), (*h)->gvt());
  EXPECT_TRUE(vm) << vm.error();
  if (!vm) return {};
  drv::Device dev;
  auto init = dev.init((*vm)->guest());
  EXPECT_TRUE(init) << drv::error_name(init.error());
  if (!init) return {};
  Trace t;
  {
    Rig r(dev, engine);
    if (r.ok()) s.run(r);
    t = r.trace();
  }
  EXPECT_EQ((*vm)->vgpu().status(), "ok");
  EXPECT_EQ((*vm)->vgpu().traps().refused_submission, 0u);
  dev.fini();
  return t;
}

class CsbConformance : public ::testing::TestWithParam<std::tuple<int, int>> {};

// Unlike hardware, the virtual CSB never overwrites an entry the guest has
// not read: a guest that reads none of 16 events finds the first five (six
// would make a full buffer look empty), and the rest, in order, as it tells
// the vGPU what it has read.
class CsbUnread : public ::testing::TestWithParam<int> {};

TEST_P(CsbUnread, EntriesTheGuestHasNotReadAreNeverOverwritten) {
  const Script& wraps = kScripts[std::size(kScripts) - 1];
  ASSERT_STREQ(wraps.name, "CsbWraps");
  const int engine = GetParam();
  auto h = test_support::MediatedHost::create();
  ASSERT_TRUE(h) << h.error();
  auto vm = test_support::GuestVm::create((*h)->gpu(), (*h)->gvt());
  ASSERT_TRUE(vm) << vm.error();
  drv::Device dev;
  ASSERT_TRUE(dev.init((*vm)->guest()));
  Trace t;
  {
    Rig r(dev, engine);
    ASSERT_TRUE(r.ok());
    r.set_acks(false);
    for (int i = 0; i < 8; ++i) {
      auto& c = r.ctx(i % 2 ? kB : kA);
      r.noops(c, 2);
      r.submit(c);
      ASSERT_TRUE(r.wait_idle());
    }
    r.step("16 events, none read");
    EXPECT_EQ(r.last().events.size(), size_t{kCsbEntries - 1});
    r.set_acks(true);
    // Each step reads what is there, then tells the read pointer; the
    // waiting events follow that.
    size_t seen = r.last().events.size();
    for (int i = 0; i < 8 && seen < wraps.events.size(); ++i) {
      r.step("read, then told #" + std::to_string(i));
      EXPECT_LE(r.last().events.size(), size_t{kCsbEntries - 1});
      seen += r.last().events.size();
    }
    t = r.trace();
  }
  EXPECT_EQ(events(t), wraps.events) << format(t);
  EXPECT_EQ((*vm)->vgpu().status(), "ok");
  dev.fini();
}

INSTANTIATE_TEST_SUITE_P(Engines, CsbUnread, ::testing::Range(0, kNumEngines),
                         [](const auto& info) { return std::string(kEngineNames[info.param]); });

TEST_P(CsbConformance, GuestSeesTheNativeEventStream) {
  const Script& s = kScripts[std::get<0>(GetParam())];
  const int engine = std::get<1>(GetParam());
  const Trace native = run_native(s, engine);
  ASSERT_FALSE(native.empty());
  // The script did what it is named for.
  EXPECT_EQ(events(native), s.events) << format(native);
  const Trace guest = run_on_vgpu(s, engine);
  EXPECT_TRUE(guest == native) << "native:\n" << format(native) << "on a vGPU:\n" << format(guest);
}

INSTANTIATE_TEST_SUITE_P(Scripts, CsbConformance,
                         ::testing::Combine(::testing::Range(0, static_cast<int>(std::size(kScripts))),
                                            ::testing::Range(0, kNumEngines)),
                         [](const auto& info) {
                           return std::string(kScripts[std::get<0>(info.param)].name) + "_" +
                                  kEngineNames[std::get<1>(info.param)];
                         });

}  // namespace
}  // namespace gvt
