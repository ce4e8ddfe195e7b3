#include "gvt/host_tenant.h"

#include "gvt/gvt.h"

namespace gvt {

HostTenant::HostTenant(Gvt& gvt, uint32_t weight) : gvt_(gvt), weight_(weight) { gvt_.add_client(this); }

HostTenant::~HostTenant() { gvt_.remove_client(this); }

// The mediator tells completions by a context id unique per submission; the
// driver's own id (one per context) would match an earlier completion.
void HostTenant::submit(int e, uint64_t desc) {
  auto w = std::make_unique<Workload>();
  w->client = this;
  w->engine = e;
  w->host_ctx_id = gvt_.submit_port().new_host_ctx_id();
  w->desc = (desc & 0xFFFFFFFFull) | uint64_t{w->host_ctx_id} << 32;
  inflight_[e].fetch_add(1, std::memory_order_acq_rel);
  gvt_.submit_port().queue(std::move(w));
}

void HostTenant::complete(std::unique_ptr<Workload> w, bool ok) {
  if (!ok) faulted_[w->engine].store(true, std::memory_order_release);
  inflight_[w->engine].fetch_sub(1, std::memory_order_acq_rel);
}

}  // namespace gvt
