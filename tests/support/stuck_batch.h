// What the scheduler and shadow-mode tests share: a guest context whose
// batch never ends, and a bounded wait for a condition other threads make
// true.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "common/gen8/layout.h"
#include "driver/context.h"
#include "driver/device.h"
#include "workloads/workload.h"

namespace test_support {

using clk = std::chrono::steady_clock;

// A blitter context whose one batch never ends: it waits on a semaphore
// nobody writes, or jumps to itself. The engine is held until a reset.
enum class Stuck { Semaphore, SelfLoop };

struct StuckBatch {
  drv::Context ctx;
  drv::Bo sem;
  uint64_t sem_va = 0;
  drv::Batch batch;
  drv::Device* dev = nullptr;

  ::testing::AssertionResult submit(drv::Device& d, Stuck how = Stuck::Semaphore) {
    dev = &d;
    if (!ctx.init(d, 1)) return ::testing::AssertionFailure() << "context";
    auto bo = d.create_bo(gen8::kPageSize, 0);
    if (!bo) return ::testing::AssertionFailure() << "bo";
    sem = *bo;
    auto va = ctx.bind(sem);
    if (!va) return ::testing::AssertionFailure() << "bind";
    sem_va = *va;
    if (!batch.init(ctx, gen8::kPageSize) || !batch.begin()) return ::testing::AssertionFailure() << "batch";
    if (!wl::submit_endless(batch, how == Stuck::Semaphore ? sem_va : 0))
      return ::testing::AssertionFailure() << "submit";
    return ::testing::AssertionSuccess();
  }
  ~StuckBatch() {
    if (!dev) return;
    batch.fini();
    if (sem_va) ctx.unbind(sem, sem_va);
    dev->destroy_bo(sem);
    ctx.fini();
  }
};

// Waits (bounded) for `done`.
template <typename F>
bool eventually(F done, std::chrono::seconds guard = std::chrono::seconds(30)) {
  const auto until = clk::now() + guard;
  while (!done()) {
    if (clk::now() > until) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  return true;
}

}  // namespace test_support
