// Shared fixture for tests that drive the GPU model through its BARs.
#pragma once

#include <gtest/gtest.h>

#include <array>
#include <cstring>
#include <memory>
#include <span>

#include "common/gen8/encode.h"
#include "hw/gpu.h"
#include "hw/harness.h"

namespace hw::test {

// A command buffer built with the table's encoders.
struct Cmds {
  Cmds() = default;
  // The writer points into this object's own buffer, so copies re-emit.
  Cmds(const Cmds& o) { *this = o; }
  Cmds& operator=(const Cmds& o) {
    w = gen8::CmdWriter{buf.data(), static_cast<uint32_t>(buf.size())};
    for (uint32_t v : o.span()) w.dw(v);
    return *this;
  }
  std::array<uint32_t, 4096> buf{};
  gen8::CmdWriter w{buf.data(), static_cast<uint32_t>(buf.size())};
  gen8::CmdWriter* operator->() { return &w; }
  std::span<const uint32_t> span() const { return {buf.data(), w.size()}; }
};

class GpuTest : public ::testing::Test {
 protected:
  static constexpr int kRcs = 0, kBcs = 1;
  static constexpr uint64_t kVa = 0x10000000;  // PPGTT scratch addresses start here

  void SetUp() override {
    auto g = Gpu::create(GpuConfig{512ull << 20, false});
    ASSERT_TRUE(g) << g.error();
    gpu = std::move(*g);
    h = std::make_unique<Harness>(*gpu);
  }
  void TearDown() override {
    h.reset();
    gpu.reset();
  }

  // Host pages mapped in the PPGTT at `va`.
  Harness::Buffer ppgtt_buf(uint64_t va, uint64_t bytes) {
    Harness::Buffer b = h->alloc_host(bytes);
    h->ppgtt_map(va, b.hpa, b.size);
    b.gm = va;
    return b;
  }
  // Copies `cmds` into `b` and returns a ring that starts it as a batch.
  Cmds batch_start(Harness::Buffer& b, std::span<const uint32_t> cmds, bool ppgtt) {
    std::memcpy(b.cpu, cmds.data(), cmds.size_bytes());
    Cmds r;
    r->bb_start(b.gm, ppgtt);
    return r;
  }
  // Runs `cmds` as a PPGTT (unprivileged) batch on `engine`; returns the context.
  Harness::Context run_ppgtt_batch(int engine, std::span<const uint32_t> cmds) {
    auto ctx = h->make_context(engine);
    auto b = ppgtt_buf(kVa + 0x800000 + batches_++ * 0x10000, 0x10000);
    auto r = batch_start(b, cmds, true);
    h->run(ctx, r.span());
    return ctx;
  }
  gen8::Fault fault_of(int engine) { return gpu->last_fault(engine).code; }
  uint32_t reg(uint32_t off) { return static_cast<uint32_t>(gpu->mmio_read(off, 4)); }

  std::unique_ptr<Gpu> gpu;
  std::unique_ptr<Harness> h;
  int batches_ = 0;
};

}  // namespace hw::test
