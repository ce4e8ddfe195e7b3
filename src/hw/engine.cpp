#include "hw/engine.h"

#include <spdlog/spdlog.h>

#include <chrono>
#include <cstring>
#include <vector>

namespace hw {

using gen8::Fault;
using gen8::Op;

namespace {
constexpr uint32_t kMaxCmdDwords = 1024;

uint64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

bool sem_satisfied(gen8::SemOp op, uint32_t mem, uint32_t data) {
  switch (op) {
    case gen8::SemOp::Greater: return mem > data;
    case gen8::SemOp::GreaterEq: return mem >= data;
    case gen8::SemOp::Less: return mem < data;
    case gen8::SemOp::LessEq: return mem <= data;
    case gen8::SemOp::Equal: return mem == data;
    case gen8::SemOp::NotEqual: return mem != data;
  }
  return false;
}

// The execution log's slot for a register offset: its gen8::kRegs index, or
// the shared slot past the end for offsets not in the table.
size_t lri_slot(uint32_t reg) {
  const int i = gen8::find_reg(reg);
  return i < 0 ? gen8::kNumRegs : static_cast<size_t>(i);
}
}  // namespace

Engine::Engine(Gpu& gpu, int index)
    : gpu_(gpu), index_(index), base_(gen8::kEngineBase[index]) {
  if (index == 0) render_ = std::make_unique<RenderEngine>(gpu.memory(), gpu.cfg_.render_threads);
  thread_ = std::thread([this] { thread_main(); });
}

Engine::~Engine() {
  {
    std::lock_guard lk(gpu_.lock());
    shutdown_ = true;
    stop_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

// ---- MMIO side (Gpu::mu_ held) ----

bool Engine::elsp_write(uint32_t v) {
  auto r = sm_.port_write(v);
  if (!r.complete) return false;
  if (!r.accepted) {
    spdlog::warn("engine {}: ELSP submission refused (invalid element 0 or both slots busy)",
                 gen8::kEngineNames[index_]);
    return false;
  }
  if (r.lite_restore) ++lite_gen_;
  bool msi = false;
  for (int i = 0; i < r.n_events; ++i) msi |= post_csb_locked(r.events[i]);
  cv_.notify_all();
  return msi;
}

uint32_t Engine::csb_ptr() const { return csb_wp_; }

// A CSB entry lands in the register slot and in the HWSP mirror, then the
// context-switch interrupt follows.
bool Engine::post_csb_locked(const gen8::CsbEvent& ev) {
  uint32_t wp = gen8::csb_next(csb_wp_);
  csb_[wp] = ev.status | static_cast<uint64_t>(ev.ctx_id) << 32;
  csb_wp_ = wp;
  AddressSpace hws = AddressSpace::ggtt(gpu_);
  uint64_t page = gpu_.regs().get(base_ + gen8::reg::RING_HWS_PGA) & ~0xFFFull;
  uint32_t pair[2] = {ev.status, ev.ctx_id};
  WalkFault f;
  mem_write(hws, page + gen8::kHwspCsb0 * 4 + wp * 8, pair, sizeof pair, &f);
  mem_write(hws, page + gen8::kHwspCsbWritePtr * 4, &wp, 4, &f);
  return gpu_.raise_gt_locked(index_, gen8::kGtCtxSwitch);
}

uint32_t Engine::read_live(uint32_t rel, uint32_t dw) const {
  namespace r = gen8::reg;
  std::lock_guard lk(state_mu_);
  auto half = [dw](uint64_t v) { return static_cast<uint32_t>(dw ? v >> 32 : v); };
  if (rel >= r::CS_GPR0 && rel < r::CS_GPR0 + 8 * gen8::kNumGprs)
    return half(st_.gpr[(rel - r::CS_GPR0) / 8]);
  if (rel >= r::RING_PDP_LDW0 && rel < r::RING_PDP_LDW0 + 32) {
    uint32_t n = (rel - r::RING_PDP_LDW0) / 8;
    return static_cast<uint32_t>((rel & 4) ? st_.pdp[n] >> 32 : st_.pdp[n]);
  }
  if (rel >= r::RING_CONTEXT_STATUS_BUF && rel < r::RING_CONTEXT_STATUS_BUF + 8 * gen8::kCsbEntries)
    return half(csb_[(rel - r::RING_CONTEXT_STATUS_BUF) / 8]);
  switch (rel) {
    case r::RING_TAIL: return st_.tail;
    case r::RING_HEAD: return st_.head;
    case r::RING_START: return st_.start;
    case r::RING_CTL: return st_.ctl;
    case r::RING_ACTHD: return static_cast<uint32_t>(cmd_addr_);
    case r::RING_BBADDR: return depth_ ? static_cast<uint32_t>(stack_[depth_].addr) : 0;
    case r::RING_INSTPM: return st_.instpm;
    case r::RING_EXECLIST_STATUS:
    case r::RING_EXECLIST_STATUS + 4: return half(sm_.status());
    case r::RING_TIMESTAMP: return half(gpu_.timestamp());
    case r::RING_CTX_TIMESTAMP: return st_.ctx_timestamp;
    default: return 0;
  }
}

void Engine::stop_and_wait(std::unique_lock<std::mutex>& lk) {
  stop_ = true;
  cv_.notify_all();
  cv_.wait(lk, [this] { return !busy_; });
}

void Engine::reset_locked() {
  sm_.reset();
  for (auto& e : csb_) e = 0;
  csb_wp_ = gen8::kCsbPtrEmpty;
  hung_ = false;
  fault_ = {};
  ++lite_gen_;
  {
    std::lock_guard lk(state_mu_);
    st_ = {};
    depth_ = 0;
    cmd_addr_ = 0;
  }
  stop_ = false;
  cv_.notify_all();
}

// ---- the engine thread ----

void Engine::thread_main() {
  std::unique_lock lk(gpu_.lock());
  for (;;) {
    cv_.wait(lk, [this] { return shutdown_ || (!stop_ && !hung_ && sm_.current()); });
    if (shutdown_) return;
    gen8::ElspElement el = *sm_.current();
    busy_ = true;
    lk.unlock();
    run_element(el);
    lk.lock();
    busy_ = false;
    cv_.notify_all();
  }
}

// The context's address spaces, built once per context load (domain lookups
// take locks) and rebuilt when LRI changes the PPGTT root.
AddressSpace& Engine::space(bool ggtt) {
  if (ggtt) {
    if (!as_ggtt_) as_ggtt_.emplace(AddressSpace::ggtt(gpu_));
    return *as_ggtt_;
  }
  if (!as_ppgtt_) as_ppgtt_.emplace(AddressSpace::ppgtt(gpu_, st_.pml4(), gpu_.domain(st_.second_stage)));
  return *as_ppgtt_;
}

bool Engine::mem_read(AddressSpace& as, uint64_t addr, void* dst, uint64_t len, WalkFault* f) {
  auto* out = static_cast<uint8_t*>(dst);
  auto r = as.pieces(addr, len, [&](uint64_t hpa, uint64_t done, uint64_t n) {
    return gpu_.memory().dma_read(hpa, out + done, n);
  });
  if (!r) *f = r.error();
  return r.has_value();
}

bool Engine::mem_write(AddressSpace& as, uint64_t addr, const void* src, uint64_t len,
                       WalkFault* f) {
  auto* in = static_cast<const uint8_t*>(src);
  auto r = as.pieces(addr, len, [&](uint64_t hpa, uint64_t done, uint64_t n) {
    return gpu_.memory().dma_write(hpa, in + done, n);
  });
  if (!r) *f = r.error();
  return r.has_value();
}

void Engine::run_element(const gen8::ElspElement& el) {
  uint64_t t0 = now_ns();
  run_counters_ = {};
  uint32_t seen_lite;
  {
    std::lock_guard lk(gpu_.lock());
    seen_lite = lite_gen_;
  }
  Step outcome = Step::Next;
  uint32_t* page = nullptr;
  uint32_t* page3d = nullptr;
  {
    std::lock_guard lk(state_mu_);
    lrca_ = el.lrca();
    depth_ = 0;
  }
  auto reg_page = gpu_.ggtt_translate(el.lrca() + gen8::kCtxRegStatePage * gen8::kPageSize);
  auto page_3d = render_ ? gpu_.ggtt_translate(el.lrca() + gen8::r3d::kCtx3dPage * gen8::kPageSize)
                         : tl::expected<uint64_t, Fault>(0);
  if ((el.lo & gen8::kDescAddrModeMask) != gen8::kDescAddrModeLegacy64 ||
      !(el.lo & gen8::kDescPrivilege) || !reg_page || !page_3d) {
    outcome = fault(Fault::BadContext, el.lo);
  } else {
    page = reinterpret_cast<uint32_t*>(gpu_.memory().dma(*reg_page, gen8::kPageSize));
    EngineState s = load_state(page);
    if (render_) {
      page3d = reinterpret_cast<uint32_t*>(gpu_.memory().dma(*page_3d, gen8::kPageSize));
      rstate_ = load_render_state(page3d, s.ctx_control & gen8::kCtxCtrlRestoreInhibit);
      render_->invalidate();
    }
    {
      std::lock_guard lk(state_mu_);
      st_ = s;
    }
    uint32_t size = gen8::ring_size(s.ctl);
    if (!(s.ctl & gen8::kRingCtlEnable) || (s.start & 0xFFF) || s.head >= size || s.tail >= size ||
        (s.tail & 7) || (s.head & 3) || uint64_t{s.start} + size > gen8::kGmSize)
      outcome = fault(Fault::BadRing, s.ctl);
    else if (s.second_stage && !gpu_.domain(s.second_stage))
      outcome = fault(Fault::BadContext, s.second_stage);
  }

  as_ggtt_.reset();
  as_ppgtt_.reset();
  std::unique_lock<std::mutex> done_lk;
  uint32_t d[kMaxCmdDwords];
  while (outcome == Step::Next) {
    if (stopping()) {
      outcome = Step::Stopped;
      break;
    }
    AddressSpace* as;
    uint64_t addr;
    uint32_t size = gen8::ring_size(st_.ctl);
    if (depth_ == 0) {
      if (st_.head == st_.tail) {
        std::unique_lock lk(gpu_.lock());
        if (lite_gen_ == seen_lite) {
          // Ring drained: the context completes. The lock is held until its
          // CSB event is posted, so a lite restore cannot slip in between.
          done_lk = std::move(lk);
          break;
        }
        seen_lite = lite_gen_;
        uint32_t tail = image_tail(page);
        if (tail < size && !(tail & 7)) {
          std::lock_guard sl(state_mu_);
          st_.tail = tail;
          continue;
        }
        lk.unlock();
        outcome = fault(Fault::BadRing, tail);
        break;
      }
      as = &space(true);
      addr = uint64_t{st_.start} + st_.head;
    } else {
      as = &space(stack_[depth_].ggtt);
      addr = stack_[depth_].addr;
    }
    cmd_addr_ = addr;
    WalkFault wf;
    if (!mem_read(*as, addr, &d[0], 4, &wf)) {
      outcome = fault(wf.code, 0, wf.address);
      break;
    }
    const gen8::CmdDesc* c = gen8::decode(d[0]);
    if (!c) {
      outcome = fault(Fault::UnknownCommand, d[0]);
      break;
    }
    uint32_t len = gen8::cmd_length(*c, d[0]);
    if (!len) {
      outcome = fault(Fault::BadLength, d[0]);
      break;
    }
    bool ok = true;
    if (depth_ == 0) {
      uint32_t avail = (st_.tail + size - st_.head) % size;
      if (len * 4 > avail) {
        outcome = fault(Fault::BadLength, d[0]);
        break;
      }
      for (uint32_t i = 1; i < len && ok; ++i)
        ok = mem_read(*as, st_.start + (st_.head + 4 * i) % size, &d[i], 4, &wf);
      std::lock_guard sl(state_mu_);
      st_.head = (st_.head + len * 4) % size;
    } else {
      ok = mem_read(*as, addr + 4, &d[1], 4 * (len - 1), &wf);
      std::lock_guard sl(state_mu_);
      stack_[depth_].addr += len * 4;
    }
    if (!ok) {
      outcome = fault(wf.code, d[0], wf.address);
      break;
    }
    outcome = execute(*c, d, len, depth_);
  }

  uint64_t busy = now_ns() - t0;
  run_counters_.busy_ns = busy;
  if (outcome != Step::Next) {
    std::lock_guard lk(gpu_.lock());
    gpu_.account_locked(el.lrca(), run_counters_);
    return;
  }
  {
    std::lock_guard sl(state_mu_);
    st_.ctx_timestamp += static_cast<uint32_t>(busy / 80);
  }
  save_state(st_, page);
  if (page3d) save_render_state(rstate_, page3d);
  gpu_.account_locked(el.lrca(), run_counters_);
  bool msi = false;
  gen8::CsbEvent ev[2];
  int n = sm_.complete(ev);
  for (int i = 0; i < n; ++i) msi |= post_csb_locked(ev[i]);
  done_lk.unlock();
  if (msi) gpu_.send_msi();
}

Engine::Step Engine::fault(Fault code, uint32_t header, uint64_t detail) {
  uint64_t at = cmd_addr_;
  spdlog::warn("engine {}: fault {} at 0x{:x}, header 0x{:08x}, detail 0x{:x}",
               gen8::kEngineNames[index_], static_cast<uint32_t>(code), at, header, detail);
  run_counters_.faults++;
  bool msi;
  {
    std::lock_guard lk(gpu_.lock());
    hung_ = true;
    fault_ = {code, header, at, detail};
    auto& regs = gpu_.regs();
    regs.set(base_ + gen8::reg::RING_IPEIR, static_cast<uint32_t>(code));
    regs.set(base_ + gen8::reg::RING_IPEHR, header);
    regs.set(base_ + gen8::reg::RING_EIR,
             regs.get(base_ + gen8::reg::RING_EIR) | (1u << static_cast<uint32_t>(code)));
    if (code == Fault::PageFault || code == Fault::DmaRefused || code == Fault::LargePage) {
      regs.set(gen8::reg::GEN8_RING_FAULT_REG, 1u | static_cast<uint32_t>(index_) << 12);
      regs.set(gen8::reg::GEN8_FAULT_TLB_DATA0, static_cast<uint32_t>(detail >> 12));
      regs.set(gen8::reg::GEN8_FAULT_TLB_DATA1, static_cast<uint32_t>(detail >> 44));
    }
    msi = gpu_.raise_gt_locked(index_, gen8::kGtError);
  }
  if (msi) gpu_.send_msi();
  return Step::Fault;
}

bool Engine::register_allowed(uint32_t reg, bool priv) const {
  int i = gen8::find_reg(reg);
  if (i < 0) return false;
  const auto& r = gen8::kRegs[i];
  if (r.scope == gen8::Scope::Engine && r.instance != index_) return false;
  return (r.flags & (priv ? gen8::kCmd : gen8::kNonPriv)) != 0;
}

// Command-buffer writable registers are engine state in the context image
// (static_assert in gpu.cpp), so LRI/LRM only ever touch st_.
bool Engine::write_register(uint32_t reg, uint32_t v) {
  namespace r = gen8::reg;
  uint32_t rel = reg - base_;
  std::lock_guard lk(state_mu_);
  if (rel >= r::CS_GPR0 && rel < r::CS_GPR0 + 8 * gen8::kNumGprs) {
    uint64_t& g = st_.gpr[(rel - r::CS_GPR0) / 8];
    g = (rel & 4) ? (g & 0xFFFFFFFFull) | uint64_t{v} << 32 : (g & ~0xFFFFFFFFull) | v;
    return true;
  }
  if (rel >= r::RING_PDP_LDW0 && rel < r::RING_PDP_LDW0 + 32) {
    uint64_t& p = st_.pdp[(rel - r::RING_PDP_LDW0) / 8];
    p = (rel & 4) ? (p & 0xFFFFFFFFull) | uint64_t{v} << 32 : (p & ~0xFFFFFFFFull) | v;
    as_ppgtt_.reset();
    if (render_) render_->invalidate();
    return true;
  }
  if (rel == r::RING_INSTPM) {
    st_.instpm = gen8::apply_write(gen8::kRegs[gen8::find_reg(reg)], st_.instpm, v);
    return true;
  }
  return false;
}

uint32_t Engine::read_register(uint32_t reg) const {
  return read_live(reg - base_, (reg - gen8::kRegs[gen8::find_reg(reg)].offset) / 4);
}

bool Engine::check_access(const gen8::CmdDesc& c, const uint32_t* d, uint32_t len, bool priv,
                          Fault* why, uint64_t* detail) {
  for (uint8_t i = 0; i < c.n_addr; ++i) {
    gen8::Access a = gen8::field_access(c, c.addr[i], d, len, priv);
    if (!a.ok) {
      *why = c.type == gen8::kType2d   ? Fault::BadBlit
             : c.type == gen8::kType3d ? Fault::BadState
                                       : Fault::BadLength;
      return false;
    }
    if (a.used && a.ggtt && !priv) {
      *why = Fault::GgttSelect;
      *detail = a.addr;
      return false;
    }
  }
  for (uint32_t i = 0;; ++i) {
    int64_t reg = gen8::reg_operand(c, d, len, i);
    if (reg < 0) break;
    if (!register_allowed(static_cast<uint32_t>(reg), priv)) {
      *why = Fault::Register;
      *detail = static_cast<uint64_t>(reg);
      return false;
    }
  }
  return true;
}

Engine::Step Engine::post_sync_write(const gen8::Access& a, const void* data, uint64_t len,
                                     uint32_t hdr) {
  uint64_t addr = a.addr;
  if (a.index_mode) {
    uint64_t off = a.addr & 0xFFF;
    if (off + len > gen8::kPageSize) return fault(Fault::PageFault, hdr, a.addr);
    addr = lrca_ + gen8::kCtxPpHwspPage * gen8::kPageSize + off;
  }
  WalkFault f;
  if (!mem_write(space(a.ggtt), addr, data, len, &f)) return fault(f.code, hdr, f.address);
  return Step::Next;
}

uint64_t Engine::lri_count(uint32_t reg) const {
  return lri_log_[lri_slot(reg)].load(std::memory_order_relaxed);
}

Engine::Step Engine::execute(const gen8::CmdDesc& c, const uint32_t* d, uint32_t len, int depth) {
  // Logged before any check: the log shows what reached the engine, even a
  // write the engine then refuses (and faults on).
  if (c.op == Op::MI_LOAD_REGISTER_IMM)
    for (uint32_t i = 1; i + 1 < len; i += 2)
      lri_log_[lri_slot(d[i] & gen8::kRegOffsetMask)].fetch_add(1, std::memory_order_relaxed);
  bool priv = depth == 0 || stack_[depth].privileged;
  if (!(c.engines & gen8::kEngineBit[index_])) return fault(Fault::WrongEngine, d[0]);
  if ((c.flags & gen8::kPrivOnly) && !priv) return fault(Fault::Privileged, d[0]);
  Fault why;
  uint64_t detail = 0;
  if (!check_access(c, d, len, priv, &why, &detail)) return fault(why, d[0], detail);
  run_counters_.commands++;

  // Translations are cached until a batch starts, a flush command, or the
  // next context load (docs/hw-spec.md): GTT updates by the CPU become
  // visible at those points, as on hardware after a TLB invalidation.
  if (c.op == Op::MI_BATCH_BUFFER_START || c.op == Op::MI_FLUSH_DW || c.op == Op::PIPE_CONTROL ||
      c.op == Op::MI_UPDATE_GTT) {
    if (as_ggtt_) as_ggtt_->flush();
    if (as_ppgtt_) as_ppgtt_->flush();
    if (render_) render_->invalidate();
  }
  bool msi = false;
  switch (c.op) {
    case Op::MI_NOOP:
    case Op::MI_ARB_CHECK:
      break;
    case Op::MI_USER_INTERRUPT: {
      std::lock_guard lk(gpu_.lock());
      msi = gpu_.raise_gt_locked(index_, gen8::kGtUser);
      break;
    }
    case Op::MI_BATCH_BUFFER_END: {
      if (depth == 0) return fault(Fault::BadBatchEnd, d[0]);
      std::lock_guard sl(state_mu_);
      depth_--;
      break;
    }
    case Op::MI_BATCH_BUFFER_START: {
      gen8::Access a = gen8::field_access(c, c.addr[0], d, len, priv);
      bool second = (d[0] & gen8::kBbSecondLevel) != 0;
      int target = depth == 0 ? 1 : (second ? depth + 1 : depth);
      if ((depth == 0 && second) || target > 2) return fault(Fault::BatchDepth, d[0]);
      std::lock_guard sl(state_mu_);
      stack_[target] = Level{a.addr, a.ggtt, a.ggtt && priv};
      depth_ = target;
      st_.bb_addr = a.addr;
      break;
    }
    case Op::MI_STORE_DATA_IMM:
    case Op::MI_STORE_DATA_INDEX: {
      gen8::Access a = gen8::field_access(c, c.addr[0], d, len, priv);
      uint32_t first = c.op == Op::MI_STORE_DATA_IMM ? 3 : 2;
      Step s = post_sync_write(a, &d[first], a.size, d[0]);
      if (s != Step::Next) return s;
      break;
    }
    case Op::MI_LOAD_REGISTER_IMM:
      for (uint32_t i = 1; i + 1 < len; i += 2)
        if (!write_register(d[i] & gen8::kRegOffsetMask, d[i + 1]))
          return fault(Fault::Register, d[0], d[i]);
      break;
    case Op::MI_LOAD_REGISTER_MEM:
    case Op::MI_STORE_REGISTER_MEM: {
      gen8::Access a = gen8::field_access(c, c.addr[0], d, len, priv);
      AddressSpace& as = space(a.ggtt);
      WalkFault f;
      uint32_t reg = d[1] & gen8::kRegOffsetMask, v;
      if (c.op == Op::MI_STORE_REGISTER_MEM) {
        v = read_register(reg);
        if (!mem_write(as, a.addr, &v, 4, &f)) return fault(f.code, d[0], f.address);
      } else {
        if (!mem_read(as, a.addr, &v, 4, &f)) return fault(f.code, d[0], f.address);
        if (!write_register(reg, v)) return fault(Fault::Register, d[0], reg);
      }
      break;
    }
    case Op::MI_FLUSH_DW: {
      gen8::Access a = gen8::field_access(c, c.addr[0], d, len, priv);
      if (a.used) {
        uint64_t v = (d[0] & gen8::kFlushDwOpMask) == gen8::kFlushDwOpTimestamp
                         ? gpu_.timestamp()
                         : (len == 5 ? (uint64_t{d[4]} << 32 | d[3]) : d[3]);
        Step s = post_sync_write(a, &v, a.size, d[0]);
        if (s != Step::Next) return s;
      }
      if (d[0] & gen8::kFlushDwNotify) {
        std::lock_guard lk(gpu_.lock());
        msi = gpu_.raise_gt_locked(index_, gen8::kGtNotify);
      }
      break;
    }
    case Op::PIPE_CONTROL: {
      gen8::Access a = gen8::field_access(c, c.addr[0], d, len, priv);
      if (a.used) {
        uint32_t op = d[1] & gen8::kPcOpMask;
        uint64_t v = op == gen8::kPcOpWriteImm    ? (uint64_t{d[5]} << 32 | d[4])
                     : op == gen8::kPcOpTimestamp ? gpu_.timestamp()
                                                  : 0;
        Step s = post_sync_write(a, &v, a.size, d[0]);
        if (s != Step::Next) return s;
      }
      if ((d[1] & gen8::kPcLriPostSync) && !write_register(d[2] & gen8::kRegOffsetMask, d[4]))
        return fault(Fault::Register, d[0], d[2]);
      if (d[1] & gen8::kPcNotify) {
        std::lock_guard lk(gpu_.lock());
        msi = gpu_.raise_gt_locked(index_, gen8::kGtNotify);
      }
      break;
    }
    case Op::MI_SEMAPHORE_WAIT: {
      Step s = semaphore_wait(d, priv);
      if (s != Step::Next) return s;
      break;
    }
    case Op::MI_DISPLAY_FLIP: {
      uint32_t plane = gen8::flip_plane(d);
      int pipe = gen8::flip_pipe(plane);
      if (pipe < 0) return fault(Fault::BadLength, d[0], plane);
      std::lock_guard lk(gpu_.lock());
      msi = gpu_.flip_locked(pipe, d[1], d[2] & ~0xFFFu, (d[2] & gen8::kFlipAsync) != 0);
      break;
    }
    case Op::MI_UPDATE_GTT: {
      uint32_t first = d[1] / 8;
      if (d[1] % 8 || uint64_t{first} + (len - 2) / 2 > gen8::kGgttEntries)
        return fault(Fault::PageFault, d[0], d[1]);
      for (uint32_t i = 0; i < (len - 2) / 2; ++i)
        gpu_.ggtt_write_entry(first + i, uint64_t{d[3 + 2 * i]} << 32 | d[2 + 2 * i]);
      break;
    }
    case Op::XY_COLOR_BLT:
    case Op::XY_SRC_COPY_BLT: {
      Step s = blit(c, d, len, priv);
      if (s != Step::Next) return s;
      break;
    }
    case Op::_3DSTATE_CLEAR_PARAMS:
    case Op::_3DSTATE_DEPTH_BUFFER:
    case Op::_3DSTATE_VERTEX_BUFFERS:
    case Op::_3DSTATE_VERTEX_ELEMENTS:
    case Op::_3DSTATE_INDEX_BUFFER:
    case Op::_3DSTATE_SCISSOR:
    case Op::_3DSTATE_CONSTANT:
    case Op::_3DSTATE_VIEWPORT:
    case Op::_3DSTATE_TEXTURE:
    case Op::_3DSTATE_BLEND:
    case Op::_3DSTATE_DEPTH_STENCIL:
    case Op::_3DSTATE_RASTER:
    case Op::_3DSTATE_RENDER_TARGET:
    case Op::_3DPRIMITIVE: {
      Step s = render(c, d, len, priv);
      if (s != Step::Next) return s;
      break;
    }
    case Op::kCount:
      break;
  }
  if (msi) gpu_.send_msi();
  return Step::Next;
}

Engine::Step Engine::render(const gen8::CmdDesc& c, const uint32_t* d, uint32_t len, bool priv) {
  if (is_state_command(c.op)) {
    const Fault f = apply_state(rstate_, c, d, len, priv);
    return f == Fault::None ? Step::Next : fault(f, d[0]);
  }
  const RenderEngine::Spaces sp{space(true), space(false), priv};
  const RenderEngine::Outcome o = c.op == Op::_3DPRIMITIVE ? render_->draw(rstate_, d, sp, stop_)
                                                            : render_->clear(rstate_, d, sp, stop_);
  run_counters_.pixels += o.pixels;
  if (o.stopped) return Step::Stopped;
  return o.fault == Fault::None ? Step::Next : fault(o.fault, d[0], o.detail);
}

Engine::Step Engine::semaphore_wait(const uint32_t* d, bool priv) {
  const auto& c = gen8::cmd(Op::MI_SEMAPHORE_WAIT);
  gen8::Access a = gen8::field_access(c, c.addr[0], d, 4, priv);
  auto op = static_cast<gen8::SemOp>((d[0] >> gen8::kSemOpShift) & 7);
  if (static_cast<uint32_t>(op) > static_cast<uint32_t>(gen8::SemOp::NotEqual))
    return fault(Fault::BadLength, d[0]);
  AddressSpace& as = space(a.ggtt);
  // Bounded by the stop flag, so an engine reset always completes.
  while (!stopping()) {
    uint32_t v;
    WalkFault f;
    if (!mem_read(as, a.addr, &v, 4, &f)) return fault(f.code, d[0], f.address);
    if (sem_satisfied(op, v, d[1])) return Step::Next;
    std::this_thread::sleep_for(std::chrono::microseconds(20));
  }
  return Step::Stopped;
}

Engine::Step Engine::blit(const gen8::CmdDesc& c, const uint32_t* d, uint32_t len, bool priv) {
  bool copy = c.op == Op::XY_SRC_COPY_BLT;
  uint32_t rop = d[1] & gen8::kRopMask;
  if ((d[1] & gen8::kBltDepthMask) != gen8::kBltDepth32 ||
      rop != (copy ? gen8::kRopSrcCopy : gen8::kRopPatCopy) ||
      (d[0] & (gen8::kBltDstTiled | gen8::kBltSrcTiled)) || (d[1] & 3) || (copy && (d[7] & 3)))
    return fault(Fault::BadBlit, d[0]);
  gen8::Access dst = gen8::field_access(c, c.addr[0], d, len, priv);
  if (dst.size == 0) return Step::Next;
  gen8::Access src = copy ? gen8::field_access(c, c.addr[1], d, len, priv) : gen8::Access{};
  if ((dst.addr & 3) || (copy && (src.addr & 3))) return fault(Fault::BadBlit, d[0]);
  uint32_t w = (d[3] & 0xFFFF) - (d[2] & 0xFFFF), h = (d[3] >> 16) - (d[2] >> 16);
  uint64_t dpitch = d[1] & 0xFFFF, spitch = copy ? (d[7] & 0xFFFF) : 0;
  AddressSpace das = space(dst.ggtt);
  AddressSpace sas = space(copy ? src.ggtt : dst.ggtt);
  WalkFault f;
  thread_local std::vector<uint32_t> row;
  row.resize(w);
  if (!copy)
    for (auto& p : row) p = d[6];
  // Overlapping copies go bottom-up when the destination lies after the source.
  bool reverse = copy && dst.addr > src.addr;
  for (uint32_t i = 0; i < h; ++i) {
    if (stopping()) return Step::Stopped;
    uint32_t y = reverse ? h - 1 - i : i;
    if (copy && !mem_read(sas, src.addr + y * spitch, row.data(), w * 4ull, &f))
      return fault(f.code, d[0], f.address);
    if (!mem_write(das, dst.addr + y * dpitch, row.data(), w * 4ull, &f))
      return fault(f.code, d[0], f.address);
  }
  run_counters_.pixels += uint64_t{w} * h;
  return Step::Next;
}

}  // namespace hw
