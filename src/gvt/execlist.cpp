#include "gvt/execlist.h"

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

// The entry first, then the write pointer: a guest that sees the pointer
// move finds the entry already there.
void VirtualExeclist::post(const CsbEvent& ev, uint64_t hwsp_gm, const GmWrite& write) {
  uint32_t wp = csb_next(wp_);
  csb_[wp] = ev.status | uint64_t{ev.ctx_id} << 32;
  wp_ = wp;
  ++events_;
  uint32_t pair[2] = {ev.status, ev.ctx_id};
  write(hwsp_gm + kHwspCsb0 * 4 + wp * 8, pair, sizeof pair);
  write(hwsp_gm + kHwspCsbWritePtr * 4, &wp, 4);
}

void VirtualExeclist::reset() { *this = VirtualExeclist{}; }

}  // namespace gvt
