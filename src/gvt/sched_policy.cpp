#include "gvt/sched_policy.h"

#include <algorithm>

namespace gvt {

int64_t SchedPolicy::allocation(const Client& c) const {
  uint64_t total = 0;
  for (const Client& o : clients_) total += o.weight;
  return std::max<int64_t>(1, total ? static_cast<int64_t>(p_.balance_ns * c.weight / total) : 0);
}

// Shares change with the set of clients: nobody keeps more than its new
// allocation.
void SchedPolicy::add(Id id, uint32_t weight) {
  remove(id);
  clients_.push_back({id, std::max(weight, 1u), 0});
  clients_.back().left = allocation(clients_.back());
  for (Client& c : clients_) c.left = std::min(c.left, allocation(c));
}

void SchedPolicy::remove(Id id) {
  std::erase_if(clients_, [id](const Client& c) { return c.id == id; });
}

SchedPolicy::Client* SchedPolicy::find(Id id) {
  auto it = std::find_if(clients_.begin(), clients_.end(), [id](const Client& c) { return c.id == id; });
  return it == clients_.end() ? nullptr : &*it;
}

void SchedPolicy::charge(Id id, uint64_t ns) {
  if (Client* c = find(id)) c->left -= static_cast<int64_t>(ns);
}

int64_t SchedPolicy::left_ns(Id id) const {
  for (const Client& c : clients_)
    if (c.id == id) return c.left;
  return 0;
}

void SchedPolicy::refill() {
  for (Client& c : clients_) {
    const int64_t a = allocation(c);
    c.left = std::clamp(c.left + a, -a, a);
  }
}

std::optional<SchedPolicy::Id> SchedPolicy::next_with_time(size_t start,
                                                           const std::function<bool(Id)>& has_work) const {
  for (size_t k = 0; k < clients_.size(); ++k) {
    const Client& c = clients_[(start + k) % clients_.size()];
    if (c.left > 0 && has_work(c.id)) return c.id;
  }
  return std::nullopt;
}

std::optional<SchedPolicy::Id> SchedPolicy::pick(std::optional<Id> current,
                                                 const std::function<bool(Id)>& has_work) {
  if (clients_.empty()) return std::nullopt;
  size_t start = 0;
  if (current) {
    auto it = std::find_if(clients_.begin(), clients_.end(), [&](const Client& c) { return c.id == *current; });
    if (it != clients_.end()) {
      if (it->left > 0 && has_work(it->id)) return it->id;
      start = static_cast<size_t>(it - clients_.begin()) + 1;
    }
  }
  if (auto id = next_with_time(start, has_work)) return id;
  if (std::none_of(clients_.begin(), clients_.end(), [&](const Client& c) { return has_work(c.id); }))
    return std::nullopt;
  // Everyone with work has used its time: the next round. Overruns can
  // leave a client without time even then; it waits for a later round.
  for (;;) {
    refill();
    if (auto id = next_with_time(start, has_work)) return id;
  }
}

}  // namespace gvt
