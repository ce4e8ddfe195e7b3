#include "hw/render_engine.h"

#include <algorithm>
#include <cstring>

namespace hw {

using gen8::Fault;
namespace r3d = gen8::r3d;

namespace {

constexpr int32_t kTileShift = 6;        // 64x64 pixel tiles
constexpr uint64_t kChunkTris = 4096;    // primitives set up between rasterizations
constexpr uint32_t kVertexCache = 1024;  // post-transform cache slots (direct mapped)
constexpr size_t kMaxViews = 32;         // resolved surfaces kept between draws

RenderEngine::Outcome bad_state(uint64_t detail = 0) { return {Fault::BadState, detail}; }

Tile intersect(Tile a, const Tile& b) {
  return {std::max(a.x0, b.x0), std::max(a.y0, b.y0), std::min(a.x1, b.x1), std::min(a.y1, b.y1)};
}

// The vertex a primitive's corner reads: 3DPRIMITIVE counts in vertices.
struct Fetch {
  const GmView* indices = nullptr;  // null: not indexed
  uint32_t index_bytes = 0;
  uint64_t start = 0;
  int64_t base = 0;
  int64_t vertex(uint64_t i) const {
    if (!indices) return static_cast<int64_t>(start + i);
    if (index_bytes == 2) {
      uint16_t v;
      std::memcpy(&v, indices->at(2 * i), 2);
      return v + base;
    }
    return int64_t{indices->dword(4 * i)} + base;
  }
};

}  // namespace

struct RenderEngine::Target {
  const GmView* color = nullptr;
  uint32_t color_pitch = 0, width = 0, height = 0;
  const GmView* depth = nullptr;
  uint32_t depth_pitch = 0;
  Tile rect{};
};

RenderEngine::RenderEngine(HostMemory& mem, unsigned threads) : mem_(mem), pool_(threads) {}

tl::expected<const GmView*, RenderEngine::Outcome> RenderEngine::view(const Binding& b,
                                                                        uint64_t offset,
                                                                        uint64_t bytes,
                                                                        const Spaces& sp) {
  // Privilege rule 2: an unprivileged batch reaches memory only through the
  // PPGTT, even with GGTT bindings a privileged buffer left in the context.
  if (b.ggtt && !sp.priv) return tl::unexpected(Outcome{Fault::GgttSelect, b.addr});
  const Binding want{b.addr + offset, bytes, b.ggtt};
  for (const Cached& c : views_)
    if (c.b.addr == want.addr && c.b.bytes == want.bytes && c.b.ggtt == want.ggtt) return c.view.get();
  auto v = GmView::map(b.ggtt ? sp.ggtt : sp.ppgtt, mem_, want.addr, bytes);
  if (!v) return tl::unexpected(Outcome{v.error().code, v.error().address});
  views_.push_back({want, std::make_unique<GmView>(std::move(*v))});
  return views_.back().view.get();
}

tl::expected<const GmView*, RenderEngine::Outcome> RenderEngine::surface_view(const Surface& s,
                                                                                uint32_t format,
                                                                                const Spaces& sp) {
  if (!valid_surface(s, format)) return tl::unexpected(bad_state());
  return view(s.mem, 0, s.mem.bytes, sp);
}

tl::expected<RenderEngine::Target, RenderEngine::Outcome> RenderEngine::target(
    const RenderState& s, const Spaces& sp, bool need_depth) {
  if (views_.size() > kMaxViews) invalidate();
  Target t;
  const Surface rt = s.render_target();
  auto cv = surface_view(rt, r3d::kFmtBgra8, sp);
  if (!cv) return tl::unexpected(cv.error());
  t.color = *cv;
  t.color_pitch = rt.pitch;
  t.width = rt.width;
  t.height = rt.height;
  uint32_t sx0, sy0, sx1, sy1;
  s.scissor(&sx0, &sy0, &sx1, &sy1);
  t.rect = intersect({0, 0, int32_t(rt.width), int32_t(rt.height)},
                     {int32_t(sx0), int32_t(sy0), int32_t(sx1), int32_t(sy1)});
  if (!need_depth) return t;
  const Surface db = s.depth_buffer();
  auto dv = surface_view(db, r3d::kFmtD32F, sp);
  if (!dv) return tl::unexpected(dv.error());
  t.depth = *dv;
  t.depth_pitch = db.pitch;
  t.rect = intersect(t.rect, {0, 0, int32_t(db.width), int32_t(db.height)});
  return t;
}

uint64_t RenderEngine::rasterize(const PixelPipe& pp, const Tile& rect) {
  if (tris_.empty()) return 0;
  const int32_t tx0 = rect.x0 >> kTileShift, ty0 = rect.y0 >> kTileShift;
  const int32_t ntx = ((rect.x1 - 1) >> kTileShift) - tx0 + 1;
  const int32_t nty = ((rect.y1 - 1) >> kTileShift) - ty0 + 1;
  if (bins_.size() < size_t(ntx) * nty) bins_.resize(size_t(ntx) * nty);
  active_.clear();
  for (uint32_t i = 0; i < tris_.size(); ++i) {
    const SetupTri& t = tris_[i];
    for (int32_t ty = (t.y0 >> kTileShift) - ty0; ty <= (t.y1 >> kTileShift) - ty0; ++ty)
      for (int32_t tx = (t.x0 >> kTileShift) - tx0; tx <= (t.x1 >> kTileShift) - tx0; ++tx) {
        auto& bin = bins_[size_t(ty) * ntx + tx];
        if (bin.empty()) active_.push_back(uint32_t(ty * ntx + tx));
        bin.push_back(i);
      }
  }
  std::atomic<uint64_t> written{0};
  pool_.run(static_cast<uint32_t>(active_.size()), [&](uint32_t k) {
    const uint32_t b = active_[k];
    const int32_t x = (tx0 + int32_t(b % ntx)) << kTileShift, y = (ty0 + int32_t(b / ntx)) << kTileShift;
    const Tile tile = intersect({x, y, x + (1 << kTileShift), y + (1 << kTileShift)}, rect);
    const auto& bin = bins_[b];
    written.fetch_add(raster_tile(pp, tris_.data(), bin.data(), uint32_t(bin.size()), tile),
                      std::memory_order_relaxed);
  });
  for (uint32_t b : active_) bins_[b].clear();
  return written.load(std::memory_order_relaxed);
}

RenderEngine::Outcome RenderEngine::draw(const RenderState& s, const uint32_t* d, const Spaces& sp,
                                         const std::atomic<bool>& stop) {
  const uint32_t topology = d[1] & r3d::kTopoMask;
  const bool indexed = (d[1] & r3d::kPrimIndexed) != 0;
  const uint64_t count = d[2];
  if (topology != r3d::kTopoTriList && topology != r3d::kTopoTriStrip) return bad_state(topology);
  if (d[4] == 0) return {};
  if (d[4] > 1) return bad_state(d[4]);  // instancing is not modelled
  const uint32_t ds = s.depth_stencil();
  const bool depth_test = ds & r3d::kDepthTest, depth_write = ds & r3d::kDepthWrite;
  auto tg = target(s, sp, depth_test || depth_write);
  if (!tg) return tg.error();

  // Constants: only the bytes the light count needs are read.
  const Binding cb = s.constants();
  if (!s.has(r3d::flag::CONSTANT) || cb.bytes < r3d::cb::bytes(0)) return bad_state();
  auto cv = view(cb, 0, std::min<uint64_t>(cb.bytes, r3d::cb::bytes(r3d::cb::kMaxLights)), sp);
  if (!cv) return cv.error();
  Constants k;
  if (!read_constants(**cv, &k)) return bad_state();

  VertexLayout layout;
  layout.count = s.element_count();
  layout.lighting = (s.raster() & r3d::kLighting) != 0;
  bool has_position = false;
  uint32_t stream_end[r3d::kNumVertexBuffers] = {};  // bytes a vertex reads, 0: unused
  for (uint32_t i = 0; i < layout.count; ++i) {
    const uint32_t e = layout.elements[i] = s.element(i);
    if (!valid_element(e) || !s.has(r3d::flag::VERTEX_BUFFER0 << r3d::ve_buffer(e))) return bad_state();
    has_position |= r3d::ve_semantic(e) == r3d::Semantic::Position;
    uint32_t& end = stream_end[r3d::ve_buffer(e)];
    end = std::max(end, r3d::ve_offset(e) + r3d::ve_bytes(r3d::ve_format(e)));
  }
  if (!has_position) return bad_state();

  const uint64_t prims = topology == r3d::kTopoTriList ? count / 3 : (count >= 3 ? count - 2 : 0);
  if (prims == 0) return {};

  Fetch fetch;
  fetch.start = d[3];
  fetch.base = static_cast<int32_t>(d[6]);
  if (indexed) {
    uint32_t fmt;
    const Binding ib = s.index_buffer(&fmt);
    if (!s.has(r3d::flag::INDEX_BUFFER) || (fmt != r3d::kIndex16 && fmt != r3d::kIndex32)) return bad_state();
    fetch.index_bytes = fmt == r3d::kIndex16 ? 2 : 4;
    if ((fetch.start + count) * fetch.index_bytes > ib.bytes) return bad_state(fetch.start + count);
    auto iv = view(ib, fetch.start * fetch.index_bytes, count * fetch.index_bytes, sp);
    if (!iv) return iv.error();
    fetch.indices = *iv;
  }
  // The vertex range the draw reads: every vertex must lie inside its buffers.
  int64_t lo = INT64_MAX, hi = INT64_MIN;
  if (!indexed) {
    lo = static_cast<int64_t>(fetch.start);
    hi = static_cast<int64_t>(fetch.start + count - 1);
  } else {
    for (uint64_t i = 0; i < count; ++i) {
      const int64_t v = fetch.vertex(i);
      lo = std::min(lo, v);
      hi = std::max(hi, v);
    }
  }
  if (lo < 0) return bad_state(static_cast<uint64_t>(lo));
  for (uint32_t b = 0; b < r3d::kNumVertexBuffers; ++b) {
    if (!stream_end[b]) continue;
    uint32_t pitch;
    const Binding vb = s.vertex_buffer(b, &pitch);
    const uint64_t first = pitch ? uint64_t(lo) : 0, last = pitch ? uint64_t(hi) : 0;
    if (last * pitch + stream_end[b] > vb.bytes) return bad_state(uint64_t(hi));
    auto vv = view(vb, first * pitch, (last - first) * pitch + stream_end[b], sp);
    if (!vv) return vv.error();
    layout.stream[b] = {*vv, pitch, first};
  }

  Sampler sampler;
  PixelPipe pp;
  pp.color = tg->color;
  pp.color_pitch = tg->color_pitch;
  pp.depth = tg->depth;
  pp.depth_pitch = tg->depth_pitch;
  pp.depth_test = depth_test;
  pp.depth_write = depth_write;
  pp.depth_func = static_cast<r3d::DepthFunc>((ds >> r3d::kDepthFuncShift) & 7);
  pp.blend = s.blend();
  pp.flat = (s.raster() & r3d::kFlatShading) != 0;
  if (s.texture_enabled()) {
    const Surface tex = s.texture();
    auto tv = surface_view(tex, r3d::kFmtBgra8, sp);
    if (!tv) return tv.error();
    const uint32_t flags = s.w[r3d::slot::TEXTURE + 4];
    sampler = {*tv, tex.width, tex.height, tex.pitch, (flags & r3d::kTexBilinear) != 0,
               (flags & r3d::kTexClamp) != 0};
    pp.texture = &sampler;
  }

  SetupParams sp3{0, 0, float(tg->width), float(tg->height), 0, 1, tg->rect.x0, tg->rect.y0,
                  tg->rect.x1, tg->rect.y1, s.raster() & r3d::kCullMask,
                  (s.raster() & r3d::kFrontCw) != 0};
  if (s.has(r3d::flag::VIEWPORT)) {
    sp3.vp_x = s.viewport(0);
    sp3.vp_y = s.viewport(1);
    sp3.vp_w = s.viewport(2);
    sp3.vp_h = s.viewport(3);
    sp3.min_z = s.viewport(4);
    sp3.max_z = s.viewport(5);
  }

  Outcome out;
  if (tg->rect.x0 >= tg->rect.x1 || tg->rect.y0 >= tg->rect.y1) return out;
  // Post-transform cache: shading is a pure function of the vertex index.
  std::vector<int64_t> tags(kVertexCache, -1);
  std::vector<ClipVertex> shaded(kVertexCache);
  auto vertex = [&](uint64_t i) -> const ClipVertex& {
    const int64_t v = fetch.vertex(i);
    const size_t slot = static_cast<size_t>(v) % kVertexCache;
    if (tags[slot] != v) {
      shaded[slot] = shade_vertex(layout, k, static_cast<uint64_t>(v));
      tags[slot] = v;
    }
    return shaded[slot];
  };
  for (uint64_t p0 = 0; p0 < prims; p0 += kChunkTris) {
    if (stop.load(std::memory_order_relaxed)) {
      out.stopped = true;
      return out;
    }
    tris_.clear();
    for (uint64_t p = p0; p < std::min(prims, p0 + kChunkTris); ++p) {
      // Strips alternate winding: odd triangles swap their last two corners,
      // keeping corner p as the provoking vertex.
      const uint64_t a = topology == r3d::kTopoTriList ? 3 * p : p;
      const bool odd = topology == r3d::kTopoTriStrip && (p & 1);
      const ClipVertex v0 = vertex(a);
      const ClipVertex v1 = vertex(odd ? a + 2 : a + 1);
      const ClipVertex v2 = vertex(odd ? a + 1 : a + 2);
      setup_triangle(v0, v1, v2, sp3, tris_);
    }
    out.pixels += rasterize(pp, tg->rect);
  }
  return out;
}

RenderEngine::Outcome RenderEngine::clear(const RenderState& s, const uint32_t* d, const Spaces& sp,
                                          const std::atomic<bool>& stop) {
  const bool color = d[1] & r3d::kClearColor, depth = d[1] & r3d::kClearDepth;
  auto tg = target(s, sp, depth);
  if (!tg) return tg.error();
  Outcome out;
  const Tile r = tg->rect;
  if (r.x0 >= r.x1 || r.y0 >= r.y1 || stop.load(std::memory_order_relaxed)) {
    out.stopped = stop.load(std::memory_order_relaxed);
    return out;
  }
  constexpr int32_t kBand = 16;  // rows per work item
  pool_.run(static_cast<uint32_t>((r.y1 - r.y0 + kBand - 1) / kBand), [&](uint32_t band) {
    for (int32_t y = r.y0 + int32_t(band) * kBand; y < std::min(r.y1, r.y0 + int32_t(band + 1) * kBand); ++y)
      for (int32_t x = r.x0; x < r.x1; ++x) {
        if (color) std::memcpy(tg->color->at(uint64_t(y) * tg->color_pitch + uint64_t(x) * 4), &d[2], 4);
        if (depth) std::memcpy(tg->depth->at(uint64_t(y) * tg->depth_pitch + uint64_t(x) * 4), &d[3], 4);
      }
  });
  if (color) out.pixels = uint64_t(r.x1 - r.x0) * uint64_t(r.y1 - r.y0);
  return out;
}

}  // namespace hw
