#include "hw/worker_pool.h"

namespace hw {

WorkerPool::WorkerPool(unsigned threads) {
  if (threads == 0) threads = std::thread::hardware_concurrency();
  if (threads == 0) threads = 1;
  for (unsigned i = 1; i < threads; ++i) helpers_.emplace_back([this] { helper(); });
}

WorkerPool::~WorkerPool() {
  {
    std::lock_guard lk(mu_);
    shutdown_ = true;
  }
  cv_.notify_all();
  for (auto& t : helpers_) t.join();
}

void WorkerPool::drain() {
  for (uint32_t i; (i = next_.fetch_add(1, std::memory_order_relaxed)) < n_;) (*fn_)(i);
}

void WorkerPool::run(uint32_t n, const std::function<void(uint32_t)>& fn) {
  if (helpers_.empty() || n <= 1) {
    for (uint32_t i = 0; i < n; ++i) fn(i);
    return;
  }
  {
    std::lock_guard lk(mu_);
    fn_ = &fn;
    n_ = n;
    next_.store(0, std::memory_order_relaxed);
    busy_ = static_cast<unsigned>(helpers_.size());
    ++generation_;
  }
  cv_.notify_all();
  drain();
  // Every helper checks in for this generation, so none still holds `fn`.
  std::unique_lock lk(mu_);
  done_cv_.wait(lk, [this] { return busy_ == 0; });
  fn_ = nullptr;
}

void WorkerPool::helper() {
  uint64_t seen = 0;
  std::unique_lock lk(mu_);
  for (;;) {
    cv_.wait(lk, [&] { return shutdown_ || generation_ != seen; });
    if (shutdown_) return;
    seen = generation_;
    lk.unlock();
    drain();
    lk.lock();
    if (--busy_ == 0) done_cv_.notify_one();
  }
}

}  // namespace hw
