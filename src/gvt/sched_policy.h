// The vGPU scheduling policy (upstream sched_policy.c): weighted time slices
// balanced over a window. Each round hands every client its weight's share
// of the balance window; a client holds the GPU while it has work and time
// left, and a new round starts when every client with work has used its
// time (deficit round robin). Pure: no threads and no clock of its own, so
// its tests run on a simulated clock. The mediator's scheduler (gvt.cpp)
// charges each owner the time it held the GPU and asks, at every tick, who
// should hold it next.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <vector>

namespace gvt {

struct SchedParams {
  uint64_t tick_ns = 1'000'000;        // how often the owner is reconsidered
  uint64_t balance_ns = 100'000'000;   // the window over which weights hold
  // A workload that runs longer than this on an engine is hung: the engine is
  // reset and only its owner pays. Set above the slowest legitimate batch.
  uint64_t drain_timeout_ns = 1'000'000'000;
};

class SchedPolicy {
 public:
  using Id = uint32_t;

  explicit SchedPolicy(const SchedParams& p = {}) : p_(p) {}
  // A client starts with a full allocation. Weights are relative (> 0).
  void add(Id id, uint32_t weight);
  void remove(Id id);
  // `ns` of GPU ownership, charged to `id` (its time left may go negative:
  // the overrun is paid back in the next window).
  void charge(Id id, uint64_t ns);
  // Who should own the GPU now. The current owner keeps it while it has
  // work and time left; otherwise the next client in round-robin order with
  // work and time left, after a new round if nobody has any (work-conserving:
  // the GPU never idles while someone has work). nullopt: nobody has work.
  std::optional<Id> pick(std::optional<Id> current, const std::function<bool(Id)>& has_work);
  // Time left in the current window (tests, statistics).
  int64_t left_ns(Id id) const;

 private:
  struct Client {
    Id id;
    uint32_t weight;
    int64_t left;
  };
  int64_t allocation(const Client& c) const;
  // A new round: every client's allocation is added to what it has left.
  // Overruns carry over (paid back), but unused time does not pile up beyond
  // one allocation, so a client that idled cannot later hold the GPU for a
  // long burst.
  void refill();
  Client* find(Id id);
  std::optional<Id> next_with_time(size_t start, const std::function<bool(Id)>& has_work) const;

  SchedParams p_;
  std::vector<Client> clients_;  // in round-robin order
};

}  // namespace gvt
