#include "gvt/execlist.h"

#include <algorithm>

#include "common/gen8/layout.h"

namespace gvt {

using namespace gen8;

ExeclistSm::Submit VirtualExeclist::port_write(uint32_t v, uint64_t hwsp_gm, const GmWrite& write) {
  ExeclistSm::Submit r = sm_.port_write(v);
  for (int i = 0; i < r.n_events; ++i) post(r.events[i], hwsp_gm, write);
  return r;
}

int VirtualExeclist::complete(uint64_t hwsp_gm, const GmWrite& write) {
  CsbEvent ev[2];
  int n = sm_.complete(ev);
  for (int i = 0; i < n; ++i) post(ev[i], hwsp_gm, write);
  return n;
}

// At most five unread entries: with six, the write pointer would be back
// where the guest's read pointer is, and a full buffer would look empty.
bool VirtualExeclist::post(const CsbEvent& ev, uint64_t hwsp_gm, const GmWrite& write) {
  if (!deferred_.empty() || unread_ == kMaxUnread) {
      if (deferred_.size() < kMaxDeferred) {
      deferred_.push_back(ev);
      deferred_total_++;
      return false;
    }
    overwritten_++;
  }
  write_entry(ev, hwsp_gm, write);
  return true;
}

int VirtualExeclist::read_ptr_write(uint32_t rp, uint64_t hwsp_gm, const GmWrite& write) {
  if (rp >= kCsbEntries || wp_ >= kCsbEntries) return 0;  // nothing written, or no entry named
  unread_ = (wp_ + kCsbEntries - rp) % kCsbEntries;
  int n = 0;
  while (!deferred_.empty() && unread_ < kMaxUnread) {
    write_entry(deferred_.front(), hwsp_gm, write);
    deferred_.pop_front();
    ++n;
  }
  return n;
}

// The entry first, then the write pointer: a guest that sees the pointer
// move finds the entry already there.
void VirtualExeclist::write_entry(const CsbEvent& ev, uint64_t hwsp_gm, const GmWrite& write) {
  unread_ = std::min<uint32_t>(unread_ + 1, kCsbEntries);
  uint32_t wp = csb_next(wp_);
  csb_[wp] = ev.status | uint64_t{ev.ctx_id} << 32;
  wp_ = wp;
  ++events_;
  uint32_t pair[2] = {ev.status, ev.ctx_id};
  write(hwsp_gm + kHwspCsb0 * 4 + wp * 8, pair, sizeof pair);
  write(hwsp_gm + kHwspCsbWritePtr * 4, &wp, 4);
}

void VirtualExeclist::reset() {
  const uint64_t events = events_, deferred = deferred_total_, overwritten = overwritten_;
  *this = VirtualExeclist{};
  events_ = events;
  deferred_total_ = deferred;
  overwritten_ = overwritten;
}

}  // namespace gvt
