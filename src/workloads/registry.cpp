#include "workloads/registry.h"

namespace wl {

namespace {
Workload* const kAll[] = {&fill_workload(),        &desktop2d_workload(), &submit_workload(),
                          &ppgtt_churn_workload(), &selftest_workload(),  &lights_workload(),
                          &arena_workload(),       &hang_workload()};
}

Workload* const* registry() { return kAll; }
int registry_size() { return static_cast<int>(sizeof kAll / sizeof kAll[0]); }

}  // namespace wl
