// The render engine: executes 3DPRIMITIVE and the clear of
// 3DSTATE_CLEAR_PARAMS against the context's 3D state. A draw is processed in
// chunks of primitives: vertex fetch, transform and lighting, clipping and
// setup on the engine thread; then the triangles are binned into 64x64
// screen tiles and the tiles rasterized by the worker pool. Each tile keeps
// its triangles in submission order, so the bytes written do not depend on
// the number of threads.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <vector>

#include "common/gen8/layout.h"
#include "hw/gm_view.h"
#include "hw/gtt_walk.h"
#include "hw/host_mem.h"
#include "hw/raster.h"
#include "hw/render_state.h"
#include "hw/worker_pool.h"

namespace hw {

class RenderEngine {
 public:
  // `threads`: the worker pool's size, 0 for one per core.
  RenderEngine(HostMemory& mem, unsigned threads);

  struct Outcome {
    gen8::Fault fault = gen8::Fault::None;
    uint64_t detail = 0;  // the faulting address or index
    bool stopped = false;
    uint64_t pixels = 0;  // render-target pixels written
  };
  // The GM spaces of the running context; `priv`: the command's buffer is
  // privileged (GGTT bindings may be used).
  struct Spaces {
    AddressSpace& ggtt;
    AddressSpace& ppgtt;
    bool priv;
  };
  Outcome draw(const RenderState& s, const uint32_t* d, const Spaces& sp, const std::atomic<bool>& stop);
  Outcome clear(const RenderState& s, const uint32_t* d, const Spaces& sp, const std::atomic<bool>& stop);
  // Forgets resolved surfaces: at every point where the engine drops its
  // cached translations, and on a context switch.
  void invalidate() { views_.clear(); }
  unsigned threads() const { return pool_.size(); }

 private:
  struct Cached {
    Binding b;
    std::unique_ptr<GmView> view;
  };
  struct Target;
  tl::expected<const GmView*, Outcome> view(const Binding& b, uint64_t offset, uint64_t bytes,
                                            const Spaces& sp);
  tl::expected<const GmView*, Outcome> surface_view(const Surface& s, uint32_t format,
                                                    const Spaces& sp);
  tl::expected<Target, Outcome> target(const RenderState& s, const Spaces& sp, bool need_depth);
  // Rasterizes tris_ over the draw rectangle with the pool.
  uint64_t rasterize(const PixelPipe& pp, const Tile& rect);

  HostMemory& mem_;
  WorkerPool pool_;
  std::vector<Cached> views_;
  std::vector<SetupTri> tris_;
  std::vector<std::vector<uint32_t>> bins_;
  std::vector<uint32_t> active_;
};

}  // namespace hw
