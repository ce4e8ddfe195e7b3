// The render engine's worker pool: `threads` threads in all, the caller of
// run() being one of them, so a pool of 1 runs everything inline. Work items
// are claimed in any order; callers make each item's result independent of
// which thread runs it (the render engine's tiles are disjoint).
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace hw {

class WorkerPool {
 public:
  // 0: one thread per core.
  explicit WorkerPool(unsigned threads);
  ~WorkerPool();
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  unsigned size() const { return static_cast<unsigned>(helpers_.size()) + 1; }
  // Calls fn(i) once for each i in [0, n), on every thread of the pool, and
  // returns when all calls have returned.
  void run(uint32_t n, const std::function<void(uint32_t)>& fn);

 private:
  void helper();
  void drain();

  std::mutex mu_;
  std::condition_variable cv_, done_cv_;
  const std::function<void(uint32_t)>* fn_ = nullptr;
  uint32_t n_ = 0;
  std::atomic<uint32_t> next_{0};
  uint64_t generation_ = 0;
  unsigned busy_ = 0;
  bool shutdown_ = false;
  std::vector<std::thread> helpers_;
};

}  // namespace hw
