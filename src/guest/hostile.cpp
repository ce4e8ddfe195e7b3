// test=hostile kind=lri|sdi|blit|index|elsp|toctou|loop|semaphore|ppgtt-leaf|ppgtt-edit
//              [engine=rcs|bcs] [iterations=N]
//
// The driver comes up as in workload mode (on a vGPU: the PV info page, the
// GM ballooned). The test then builds a logical ring context by hand with the
// driver's public API, as drv::Context does but without a PPGTT: a
// restore-inhibited image and a ring in the GGTT, the ring holding the
// hostile commands and then a seqno post-sync to the driver's HWSP, submitted
// with one ELSP write sequence. The ring is privileged: its addresses are GGTT.
//
// Every kind needs a PV info page: on bare hardware (or in pass-through) it
// would do real harm, so without one it is SKIPped (EXIT 0).
//
// What the host must expect on a vGPU (default engine in brackets):
//
//   kind=lri    [bcs]  MI_LOAD_REGISTER_IMM GEN6_GDRST = full reset (a
//                      register not writable from a command buffer)
//   kind=sdi    [rcs]  MI_STORE_DATA_IMM (GGTT) to GM 0x1000, the host's slice
//   kind=blit   [bcs only] XY_SRC_COPY_BLT into an own buffer from the page
//                      just past the vGPU's aperture slice (the next vGPU's;
//                      the page just before the slice if it ends the aperture)
//   kind=index  [rcs]  PIPE_CONTROL (on bcs: MI_FLUSH_DW) with an index-mode
//                      post-sync
//   kind=elsp   [bcs]  a valid context submitted with LRCA GM 0x1000 (outside
//                      the vGPU's GM) in its descriptor
//     The mediator must refuse the submission and put the vGPU into failsafe,
//     and the host stop the VM: its status is "failsafe: <reason>". The guest
//     cannot tell; if it still runs 2 s later it reports FAIL (saying whether
//     the hostile submission completed or how waiting for it failed), EXIT 1.
//
//   kind=toctou [bcs]  N times (iterations, default 1000) the ring starts a
//                      privileged GGTT batch
//                        LRI CS_GPR0 = i; SDI (GGTT) marker = i; BB_END
//     and as soon as the ELSP write returns the guest overwrites that LRI with
//     LRI GEN6_GDRST = full reset (same length); after completion it puts the
//     original back. The mediator scanned and copied the batch during the ELSP
//     write, so every run must be the original: the guest checks that the
//     marker reads i each time. The host must see the VM end ok, and the GPU
//     model's execution log (hw::Gpu::lri_count) show N LRIs to the engine's
//     CS_GPR0 and none to GEN6_GDRST. GuestResult.submissions is N.
//
//   kind=loop      [bcs]  a PPGTT batch (drv::Context and drv::Batch, so it
//   kind=semaphore [bcs]  runs unscanned) that never ends: MI_BATCH_BUFFER_START
//                         to itself, or MI_SEMAPHORE_WAIT for a value nobody
//                         writes. Every command is legal; the scheduler must
//                         reset the engine at its drain timeout and the vGPU go
//                         to failsafe ("<engine>: the GPU hung ..."), the VM
//                         stopped. If it still runs 60 s later it reports FAIL.
//
//   kind=ppgtt-leaf [bcs] maps a page of its PPGTT onto GPA 4 GiB (outside
//                         any VM's RAM here: where a naive translation would
//                         reach the host or another VM), then a PPGTT batch
//                         stores there and then to a page of its own. In
//                         shadow mode the leaf is refused (the store goes to
//                         the vGPU's scratch page) and the guest reports PASS
//                         when its own store landed; in 2-stage mode the
//                         second stage faults the GPU and the vGPU goes to
//                         failsafe. Either way nothing outside its RAM changes.
//
//   kind=ppgtt-edit [bcs] N times (iterations, default 200) submits a store
//                         through a PPGTT page and, with that batch perhaps
//                         still queued, remaps the page to its other frame and
//                         submits a second store: the second always lands in
//                         the new frame, and the first in the old frame or the
//                         new, never a stale or foreign page.
#include "guest/hostile.h"

#include "common/gen8/encode.h"
#include "common/gen8/layout.h"
#include "driver/context.h"
#include "driver/device.h"
#include "guest/console.h"
#include "guest/exit_codes.h"
#include "guest/guest_platform.h"
#include "guest/pci.h"
#include "guest/report.h"
#include "guest/result.h"
#include "workloads/workload.h"

namespace guest {
namespace {

using namespace gen8;

constexpr uint64_t kWaitNs = 2'000'000'000ull;
constexpr uint64_t kForeignGm = 0x1000;  // in the host's slice: never a vGPU's
constexpr uint32_t kRingBytes = 4096;
constexpr uint32_t kMaxDwords = 24;  // hostile commands plus the post-sync

enum class Kind { Lri, Sdi, Blit, Index, Elsp, Toctou, Loop, Semaphore, PpgttLeaf, PpgttEdit };
struct KindInfo {
  const char* name;
  Kind kind;
  int engine;  // the default
};
constexpr KindInfo kKinds[] = {{"lri", Kind::Lri, 1},
                               {"sdi", Kind::Sdi, 0},
                               {"blit", Kind::Blit, 1},
                               {"index", Kind::Index, 0},
                               {"elsp", Kind::Elsp, 1},
                               {"toctou", Kind::Toctou, 1},
                               {"loop", Kind::Loop, 1},
                               {"semaphore", Kind::Semaphore, 1},
                               {"ppgtt-leaf", Kind::PpgttLeaf, 1},
                               {"ppgtt-edit", Kind::PpgttEdit, 1}};

char g_err[128];
drv::Device g_dev;

[[noreturn]] void exit_with(uint32_t code, const char* msg) {
  result_error("%s", msg);
  guest_exit(code);
}

[[noreturn]] void finish() {
  result().submissions = g_dev.stats().submissions;
  guest_exit(report_summary());
}

void bring_up() {
  PciDevice gpu;
  if (!pci_find(pci::kVendorIntel, pci::kDeviceBdwGt2, &gpu) || !gpu.bar0 || !gpu.bar2)
    exit_with(kExitNoDevice, "no GPU (8086:1616) with BAR0 and BAR2 on PCI bus 0");
  static GuestPlatform platform(gpu);
  if (auto r = g_dev.init(platform); !r) {
    snprintf(g_err, sizeof g_err, "driver init: %s", drv::error_name(r.error()));
    exit_with(kExitDriverInit, g_err);
  }
}

drv::Bo make_bo(uint64_t bytes) {
  auto bo = g_dev.create_bo(bytes, drv::kBoGgtt);
  if (!bo) {
    report(false, "a %llu-byte GGTT object: %s", static_cast<unsigned long long>(bytes),
           drv::error_name(bo.error()));
    finish();
  }
  return *bo;
}

// A logical ring context built by hand: drv::Context's image without its
// PPGTT. The pages come zeroed, so the ring head and tail and the PDPs are 0.
struct RawContext {
  int engine = 0;
  uint32_t id = 0;
  drv::Bo image, ring;
  uint32_t tail = 0;

  uint32_t* regs() { return image.dwords() + kCtxRegStatePage * kPageSize / 4; }
};

void init_context(RawContext& c, int engine) {
  c.engine = engine;
  c.id = g_dev.new_ctx_id();
  c.image = make_bo((engine == 0 ? kCtxRcsPages : kCtxBcsPages) * kPageSize);
  c.ring = make_bo(kRingBytes);
  uint32_t* r = c.regs();
  r[ctx::CONTEXT_CONTROL] = kCtxCtrlRestoreInhibit;
  r[ctx::RING_START] = static_cast<uint32_t>(c.ring.gm);
  r[ctx::RING_CTL] = ring_ctl(kRingBytes);
}

// Appends `cmds` and a seqno post-sync to the ring and submits the context
// with `lrca` in its descriptor. Returns the seqno that marks completion.
uint32_t submit(RawContext& c, const uint32_t* cmds, uint32_t n, uint64_t lrca) {
  uint32_t buf[kMaxDwords];
  CmdWriter w(buf, kMaxDwords);
  for (uint32_t i = 0; i < n; ++i) w.dw(cmds[i]);
  const uint32_t seqno = g_dev.alloc_seqno(c.engine);
  if (c.engine == 0)
    w.pipe_control(g_dev.seqno_gm(c.engine), seqno, true, false);
  else
    w.flush_dw(g_dev.seqno_gm(c.engine), seqno, true, false);
  if (w.size() & 1) w.noop();  // the tail is qword aligned
  if (auto r = g_dev.wait_port(c.engine); !r) {
    report(false, "the execlist port never freed: %s", drv::error_name(r.error()));
    finish();
  }
  for (uint32_t i = 0; i < w.size(); ++i) {
    c.ring.dwords()[c.tail / 4] = buf[i];
    c.tail = (c.tail + 4) % kRingBytes;
  }
  c.regs()[ctx::RING_TAIL] = c.tail;
  g_dev.elsp_submit(
      c.engine, c.id,
      uint64_t{c.id} << 32 | lrca | kDescValid | kDescAddrModeLegacy64 | kDescPrivilege);
  return seqno;
}

// The hostile commands of `kind` on engine `e`; returns their dword count.
uint32_t hostile_cmds(Kind kind, int e, uint32_t* out) {
  CmdWriter w(out, kMaxDwords);
  switch (kind) {
    case Kind::Lri:
      w.lri(reg::GEN6_GDRST, kGdrstFull);
      break;
    case Kind::Sdi:
      w.store_dword(kForeignGm, 0xBAD, true);
      break;
    case Kind::Blit: {
      const drv::PvInfo& pv = g_dev.pv();
      uint64_t src = pv.mappable_base + pv.mappable_size;
      if (src + kPageSize > kApertureSize) src = pv.mappable_base - kPageSize;
      // 16 x 16 pixels, 1 KiB at a 64-byte pitch on both sides.
      w.src_copy_blt(make_bo(kPageSize).gm, 64, 0, 0, 16, 16, src, 64, 0, 0);
      report_info("copying from GM 0x%llx (own aperture 0x%llx +0x%llx)",
                  static_cast<unsigned long long>(src),
                  static_cast<unsigned long long>(pv.mappable_base),
                  static_cast<unsigned long long>(pv.mappable_size));
      break;
    }
    case Kind::Index:
      if (e == 0) {
        w.pipe_control(0x100, 0xBAD, true, false);
        out[1] |= kPcStoreIndex;
      } else {
        w.flush_dw(0x100, 0xBAD, true, false);
        out[0] |= kFlushDwStoreIndex;
      }
      break;
    case Kind::Elsp:  // the descriptor is the attack
    case Kind::Toctou:
    case Kind::Loop:
    case Kind::Semaphore:
    case Kind::PpgttLeaf:
    case Kind::PpgttEdit:
      break;
  }
  return w.size();
}

void run_toctou(RawContext& c, uint64_t n) {
  const int e = c.engine;
  const drv::Bo batch = make_bo(kPageSize), marker = make_bo(kPageSize);
  volatile uint32_t* bb = batch.dwords();
  const volatile uint32_t* mark = marker.dwords();
  uint32_t forbidden[3], start[3];
  CmdWriter fw(forbidden, 3), sw(start, 3);
  fw.lri(reg::GEN6_GDRST, kGdrstFull);
  sw.bb_start(batch.gm, false);  // GGTT: privileged, so the mediator copies it
  uint64_t ran = 0, i = 1;
  for (; i <= n; ++i) {
    uint32_t orig[8];
    CmdWriter w(orig, 8);
    w.lri(kEngineBase[e] + reg::CS_GPR0, static_cast<uint32_t>(i));
    w.store_dword(marker.gm, static_cast<uint32_t>(i), true);
    w.bb_end();
    for (uint32_t k = 0; k < w.size(); ++k) bb[k] = orig[k];
    const uint32_t seqno = submit(c, start, sw.size(), c.image.gm);
    // The ELSP write has returned: the mediator has what it will run.
    for (uint32_t k = 0; k < fw.size(); ++k) bb[k] = forbidden[k];
    if (auto r = g_dev.wait_seqno(e, seqno, kWaitNs); !r) {
      report(false, "iteration %llu did not complete: %s", static_cast<unsigned long long>(i),
             drv::error_name(r.error()));
      break;
    }
    if (*mark == i)
      ++ran;
    else if (i - ran <= 5)
      report_info("iteration %llu: the marker reads %u", static_cast<unsigned long long>(i), *mark);
  }
  report(ran == n, "%llu of %llu iterations ran the original batch",
         static_cast<unsigned long long>(ran), static_cast<unsigned long long>(n));
}

void init_ppgtt_context(drv::Context& ctx, int e) {
  if (auto r = ctx.init(g_dev, e); !r) {
    report(false, "a context: %s", drv::error_name(r.error()));
    finish();
  }
}

// A page of the guest's own, outside the GGTT; bound in `ctx`'s PPGTT when
// `va` asks for its address.
drv::Bo own_page(drv::Context& ctx, uint64_t* va = nullptr) {
  auto bo = g_dev.create_bo(kPageSize, 0);
  drv::Result<uint64_t> v = bo ? drv::Result<uint64_t>(0) : tl::unexpected(bo.error());
  if (bo && va) v = ctx.bind(*bo);
  if (!v) {
    report(false, "a PPGTT page: %s", drv::error_name(v.error()));
    finish();
  }
  if (va) *va = *v;
  return *bo;
}

// Runs `build`'s stores in a PPGTT batch of `b` (begun here) and returns
// the seqno; a failure ends the test.
template <class Build>
uint32_t submit_stores(drv::Batch& b, Build&& build) {
  drv::Result<uint32_t> s = 0u;
  if (auto r = b.begin(); !r) {
    s = tl::unexpected(r.error());
  } else {
    build(b.cmds());
    s = b.submit();
  }
  if (!s) {
    report(false, "submitting: %s", drv::error_name(s.error()));
    finish();
  }
  return *s;
}

constexpr uint64_t kForeignGpa = 4ull << 30;
constexpr uint64_t kHostileVa = 0x7000'0000'0000ull;  // far above what bind hands out

void run_ppgtt_leaf(int e) {
  drv::Context ctx;
  drv::Batch batch;
  init_ppgtt_context(ctx, e);
  uint64_t mine_va;
  const drv::Bo mine = own_page(ctx, &mine_va);
  if (!ctx.ppgtt().map(kHostileVa, kForeignGpa, kPageSize) || !batch.init(ctx, kPageSize)) {
    report(false, "mapping GPA 0x%llx", static_cast<unsigned long long>(kForeignGpa));
    finish();
  }
  report_info("PPGTT 0x%llx -> GPA 0x%llx", static_cast<unsigned long long>(kHostileVa),
              static_cast<unsigned long long>(kForeignGpa));
  const uint32_t s = submit_stores(batch, [&](CmdWriter& w) {
    w.store_dword(kHostileVa, 0xBAD, false);
    w.store_dword(mine_va, 0x600D, false);
  });
  auto r = ctx.wait(s);
  report(r && mine.dwords()[0] == 0x600D,
         "the foreign store went nowhere and the guest's own landed (%s)",
         r ? "completed" : drv::error_name(r.error()));
}

void run_ppgtt_edit(int e, uint64_t n) {
  drv::Context ctx;
  drv::Batch batch[2];
  init_ppgtt_context(ctx, e);
  const drv::Bo page[2] = {own_page(ctx), own_page(ctx)};
  for (auto& b : batch)
    if (!b.init(ctx, kPageSize)) {
      report(false, "a batch");
      finish();
    }
  uint64_t ok = 0;
  for (uint64_t i = 1; i <= n; ++i) {
    const int from = static_cast<int>(i & 1), to = from ^ 1;
    volatile uint32_t* old_word = page[from].dwords();
    volatile uint32_t* new_word = page[to].dwords();
    const uint32_t before = *old_word, first = static_cast<uint32_t>(i), second = first + 1'000'000;
    if (!ctx.ppgtt().map(kHostileVa, page[from].pages.phys, kPageSize)) break;
    submit_stores(batch[0], [&](CmdWriter& w) { w.store_dword(kHostileVa, first, false); });
    // The edit, with the first store perhaps still queued.
    if (!ctx.ppgtt().map(kHostileVa, page[to].pages.phys, kPageSize)) break;
    const uint32_t s =
        submit_stores(batch[1], [&](CmdWriter& w) { w.store_dword(kHostileVa, second, false); });
    if (auto r = ctx.wait(s); !r) {
      report(false, "iteration %llu did not complete: %s", static_cast<unsigned long long>(i),
             drv::error_name(r.error()));
      break;
    }
    const bool good = *new_word == second && (*old_word == before || *old_word == first);
    ok += good;
    if (!good && i - ok <= 5)
      report_info("iteration %llu: old frame %u (was %u), new frame %u",
                  static_cast<unsigned long long>(i), *old_word, before, *new_word);
  }
  report(ok == n,
         "%llu of %llu edits were seen by the next submission, with no stale or foreign page",
         static_cast<unsigned long long>(ok), static_cast<unsigned long long>(n));
}

// A PPGTT batch that never ends; only the host's drain timeout stops it.
void run_endless(Kind kind, int e) {
  drv::Context ctx;
  drv::Batch batch;
  init_ppgtt_context(ctx, e);
  const drv::Bo sem = make_bo(kPageSize);
  auto sem_va = ctx.bind(sem);
  if (!sem_va || !batch.init(ctx, kPageSize) || !batch.begin()) {
    report(false, "binding the semaphore and the batch");
    finish();
  }
  auto s = wl::submit_endless(batch, kind == Kind::Semaphore ? *sem_va : 0);
  if (!s) {
    report(false, "submitting: %s", drv::error_name(s.error()));
    finish();
  }
  report_info("a batch that never ends is on %s", kEngineNames[e]);
  auto r = ctx.wait(*s, 60'000'000'000ull);
  report(false, "the endless batch was not stopped (%s)", r ? "it completed" : drv::error_name(r.error()));
}

}  // namespace

void test_hostile(Cmdline& cl) {
  const char* name = cl.get("kind");
  const KindInfo* info = nullptr;
  for (const KindInfo& k : kKinds)
    if (name && str_eq(k.name, name)) info = &k;
  if (!info)
    exit_with(kExitBadCmdline,
              "hostile: kind must be lri, sdi, blit, index, elsp, toctou, loop, semaphore, "
              "ppgtt-leaf or ppgtt-edit");
  int engine = info->engine;
  if (const char* en = cl.get("engine")) {
    if (str_eq(en, "rcs"))
      engine = 0;
    else if (str_eq(en, "bcs"))
      engine = 1;
    else
      exit_with(kExitBadCmdline, "hostile: engine must be rcs or bcs");
  }
  if (info->kind == Kind::Blit && engine != 1)
    exit_with(kExitBadCmdline, "hostile: blits run on bcs only");
  uint64_t iterations = 0;
  if ((info->kind == Kind::Toctou || info->kind == Kind::PpgttEdit) &&
      (!cl.get_u64("iterations", info->kind == Kind::Toctou ? 1000 : 200, &iterations, g_err,
                   sizeof g_err) ||
       iterations == 0 || iterations > 1'000'000))
    exit_with(kExitBadCmdline, "hostile: iterations must be 1 to 1000000");
  if (const char* k = cl.first_unused()) {
    snprintf(g_err, sizeof g_err, "unknown argument \"%s\" for test=hostile kind=%s", k, name);
    exit_with(kExitBadCmdline, g_err);
  }

  report_prefix_push("hostile");
  report_prefix_push(info->name);
  bring_up();
  if (!g_dev.pv().present) {
    report_skip("no PV info page: on bare hardware a hostile submission does real harm");
    finish();
  }
  if (info->kind == Kind::Loop || info->kind == Kind::Semaphore) {
    run_endless(info->kind, engine);
    finish();
  }
  if (info->kind == Kind::PpgttLeaf) {
    run_ppgtt_leaf(engine);
    finish();
  }
  if (info->kind == Kind::PpgttEdit) {
    run_ppgtt_edit(engine, iterations);
    finish();
  }
  RawContext c;
  init_context(c, engine);
  report_info("vGPU %u, %s, context 0x%llx, ring 0x%llx", g_dev.pv().vgt_id, kEngineNames[engine],
              static_cast<unsigned long long>(c.image.gm),
              static_cast<unsigned long long>(c.ring.gm));
  if (info->kind == Kind::Toctou) {
    run_toctou(c, iterations);
    finish();
  }
  uint32_t cmds[kMaxDwords];
  const uint32_t n = hostile_cmds(info->kind, engine, cmds);
  const uint64_t lrca = info->kind == Kind::Elsp ? kForeignGm : c.image.gm;
  const uint32_t seqno = submit(c, cmds, n, lrca);
  auto r = g_dev.wait_seqno(engine, seqno, kWaitNs);
  report(false, "the hostile submission was not stopped (%s)",
         r ? "it completed" : drv::error_name(r.error()));
  finish();
}

}  // namespace guest
