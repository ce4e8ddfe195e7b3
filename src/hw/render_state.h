// The render engine's 3D state: the payloads of the 3DSTATE_* commands, kept
// at fixed slots of the context image's 3D page (common/gen8/render3d.h), so
// a context carries all of it and restore-inhibit starts it from zero.
#pragma once

#include <cstdint>

#include "common/gen8/cmds.h"
#include "common/gen8/layout.h"
#include "common/gen8/render3d.h"

namespace hw {

// A GM range the state names, in the space of the buffer that set it.
struct Binding {
  uint64_t addr = 0;
  uint64_t bytes = 0;
  bool ggtt = false;
};

struct Surface {
  Binding mem;
  uint32_t pitch = 0, width = 0, height = 0, format = 0;
};

struct RenderState {
  uint32_t w[gen8::r3d::slot::kDwords] = {};

  bool has(uint32_t flag) const { return (w[gen8::r3d::slot::FLAGS] & flag) != 0; }
  Surface render_target() const { return surface(gen8::r3d::slot::RENDER_TARGET, gen8::r3d::flag::RENDER_TARGET); }
  Surface depth_buffer() const { return surface(gen8::r3d::slot::DEPTH_BUFFER, gen8::r3d::flag::DEPTH_BUFFER); }
  Surface texture() const { return surface(gen8::r3d::slot::TEXTURE, gen8::r3d::flag::TEXTURE); }
  bool texture_enabled() const {
    return has(gen8::r3d::flag::TEXTURE) && (w[gen8::r3d::slot::TEXTURE + 4] & gen8::r3d::kTexEnable);
  }
  Binding vertex_buffer(uint32_t i, uint32_t* pitch) const;
  Binding index_buffer(uint32_t* format) const;
  Binding constants() const;
  uint32_t element_count() const { return w[gen8::r3d::slot::VERTEX_ELEMENTS]; }
  uint32_t element(uint32_t i) const { return w[gen8::r3d::slot::VERTEX_ELEMENTS + 1 + i]; }
  float viewport(uint32_t i) const;  // x, y, width, height, min depth, max depth
  uint32_t depth_stencil() const { return w[gen8::r3d::slot::DEPTH_STENCIL]; }
  uint32_t raster() const { return w[gen8::r3d::slot::RASTER]; }
  gen8::r3d::Blend blend() const { return static_cast<gen8::r3d::Blend>(w[gen8::r3d::slot::BLEND]); }
  // The scissor rectangle [x1, x2) x [y1, y2); unbounded when never set.
  void scissor(uint32_t* x1, uint32_t* y1, uint32_t* x2, uint32_t* y2) const;

 private:
  Surface surface(uint32_t slot, uint32_t flag) const;
  Binding binding(uint32_t slot, uint32_t flag, uint32_t size_dw) const;
};

// Stores a 3DSTATE_* command (already checked against the table, so its
// address extents are sane) from a buffer of privilege `priv`. Returns
// Fault::BadState for a malformed payload, else Fault::None.
gen8::Fault apply_state(RenderState& s, const gen8::CmdDesc& c, const uint32_t* d, uint32_t len,
                        bool priv);
bool is_state_command(gen8::Op op);
// Draw-time checks of what a context image may hold (the CPU writes it):
// a set surface of `format` with sane dimensions; a vertex element.
bool valid_surface(const Surface& s, uint32_t format);
bool valid_element(uint32_t e);

// The context image's 3D page (1024 dwords).
RenderState load_render_state(const uint32_t* page, bool restore_inhibit);
void save_render_state(const RenderState& s, uint32_t* page);

}  // namespace hw
