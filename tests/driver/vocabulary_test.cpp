// Every ring and batch the driver emits, for every workload, passes the
// vocabulary check built from the command table: the driver never emits what
// the mediator's scanner will refuse.
#include <string>
#include <vector>

#include "common/gen8/vocabulary.h"
#include "driver_fixture.h"
#include "workloads/workload.h"

namespace drv::test {
namespace {

struct Seen {
  int rings = 0, batches = 0;
  std::vector<std::string> violations;
};

void check(void* user, int engine, bool ring, const uint32_t* dw, uint32_t n) {
  auto* s = static_cast<Seen*>(user);
  (ring ? s->rings : s->batches)++;
  gen8::Violation v = gen8::vocabulary_check(dw, n, engine, ring);
  if (v.found)
    s->violations.push_back(std::string(ring ? "ring" : "batch") + ": " + v.reason + " at dword " +
                            std::to_string(v.dword));
}

class Vocabulary : public DriverTest {};

TEST_F(Vocabulary, EveryWorkloadEmitsOnlyWhatTheScannerAccepts) {
  for (int i = 0; i < wl::workload_count(); ++i) {
    const char* name = wl::workload_info(i).name;
    if (wl::workload_info(i).hostile) continue;  // made to hang
    SCOPED_TRACE(name);
    Seen seen;
    dev.set_emit_observer(check, &seen);
    VblankPump pump(*gpu);  // selftest waits for vblanks
    wl::Params p;
    p.frames = 3;
    wl::Result r = wl::run(dev, name, p, nullptr);
    ASSERT_TRUE(r.ok) << r.error;
    // selftest never submits, so emits nothing; every other workload does.
    const bool emits = std::string(name) != "selftest";
    EXPECT_EQ(seen.rings > 0, emits);
    EXPECT_EQ(seen.batches > 0, emits);
    EXPECT_TRUE(seen.violations.empty()) << seen.violations.front();
  }
}

// The check itself refuses each class the driver must never emit.
TEST(VocabularyCheck, RefusesWhatTheDriverMustNotEmit) {
  using namespace gen8;
  auto refused = [](auto build, bool ring, int engine = 1) {
    uint32_t buf[32];
    CmdWriter w(buf, 32);
    build(w);
    if (!ring) w.bb_end();
    return vocabulary_check(buf, w.size(), engine, ring).found;
  };
  EXPECT_TRUE(refused([](CmdWriter& w) { w.store_data_index(0x40, 1); }, true));
  EXPECT_TRUE(refused([](CmdWriter& w) { w.update_gtt(0, 0); }, true));
  EXPECT_TRUE(refused([](CmdWriter& w) { w.semaphore_wait(0x1000, 1, SemOp::Equal, true); }, true));
  EXPECT_TRUE(refused([](CmdWriter& w) { w.store_dword(0x1000, 1, true); }, false));
  EXPECT_TRUE(refused([](CmdWriter& w) { w.pipe_control(0x1000, 1, true, false); }, true, 1));
  EXPECT_TRUE(refused([](CmdWriter& w) { w.display_flip(0, 4096, 0x100000, true); }, false));
  EXPECT_TRUE(refused([](CmdWriter& w) { w.bb_end(); }, true));
  EXPECT_TRUE(refused([](CmdWriter& w) { w.dw(0x0C000000u); }, true));
  // 3D: render engine only, and a surface must have a sane extent.
  EXPECT_TRUE(refused([](CmdWriter& w) { w.render_target(0x1000, 256, 64, 64); }, false, 1));
  EXPECT_TRUE(refused([](CmdWriter& w) { w.render_target(0x1000, 16, 64, 64); }, false, 0));
  EXPECT_FALSE(refused([](CmdWriter& w) { w.render_target(0x1000, 256, 64, 64); }, false, 0));
  uint32_t idx[] = {header(Op::MI_FLUSH_DW, 4) | kFlushDwOpWriteImm | kFlushDwStoreIndex, 0x40, 0, 1};
  EXPECT_TRUE(vocabulary_check(idx, 4, 1, true).found);
  uint32_t no_end[] = {header(Op::MI_NOOP, 1)};
  EXPECT_TRUE(vocabulary_check(no_end, 1, 1, false).found);
  // What the driver does emit passes.
  EXPECT_FALSE(refused([](CmdWriter& w) { w.flush_dw(0x1000, 1, true, false); }, true));
  EXPECT_FALSE(refused([](CmdWriter& w) { w.color_blt(0x1000, 64, 0, 0, 4, 4, 1); }, false));
}

}  // namespace
}  // namespace drv::test
