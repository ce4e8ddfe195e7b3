// What the 3D workloads share: their vertex format, meshes built on the CPU
// into one vertex and one index buffer, a depth buffer, per-draw constant
// blocks (double-buffered by frame parity, as the batches are), and frame
// set-up on the render engine. Freestanding; math from common/fmath.h.
#pragma once

#include <cstdint>

#include "common/fmath.h"
#include "driver/gpu_buffer.h"
#include "workloads/workload.h"

namespace wl {

struct Vertex3d {
  float x, y, z;
  float nx, ny, nz;
  uint32_t color;  // 0xAARRGGBB
  float u, v;
};

// A mesh inside the shared buffers, drawn as an indexed triangle list.
struct Mesh {
  uint32_t first_index = 0, index_count = 0;
  int32_t base_vertex = 0;
  float radius = 1;  // of its bounding sphere, about the origin
};

struct PointLight {
  fm::Vec4 pos;  // w = 0: directional (towards xyz), 1: a point light at xyz
  fm::Vec3 color;
  float attenuation;
};

class Scene3d {
 public:
  drv::Result<void> init(Frame2d& frame, uint32_t max_vertices, uint32_t max_indices, uint32_t max_draws);
  void fini();

  // ---- meshes, at init ----
  Mesh sphere(float r, uint32_t slices, uint32_t stacks, uint32_t color);
  Mesh torus(float r, float tube, uint32_t slices, uint32_t sides, uint32_t color);
  Mesh box(float half, uint32_t color);
  // An n x n grid of quads in the y = 0 plane, `size` wide, uv repeating `uv` times.
  Mesh grid(float size, uint32_t n, float uv, uint32_t color);
  bool full() const { return overflow_; }

  // ---- per frame ----
  // Binds the back buffer of frame `i` and the depth buffer, clears both,
  // and binds the shared vertex and index buffers.
  void begin(uint32_t i, gen8::CmdWriter& w, uint32_t clear_color);
  // Writes a constant block for the next draw and binds it; false when the
  // frame has used all its blocks.
  bool constants(gen8::CmdWriter& w, const fm::Mat4& view_proj, const fm::Mat4& model,
                 const PointLight* lights, uint32_t n_lights, fm::Vec3 ambient, const float diffuse[4]);
  // Binds the shared vertex buffer again after a draw from another one.
  void rebind_vertices(gen8::CmdWriter& w) const;
  void draw(gen8::CmdWriter& w, const Mesh& m) const {
    w.primitive(gen8::r3d::kTopoTriList, m.index_count, m.first_index, true, m.base_vertex);
  }
  drv::Context& ctx() { return frame_->ctx(); }

 private:
  Mesh begin_mesh() const;
  void end_mesh(Mesh& m, float radius);
  void vertex(const Vertex3d& v);
  void index(uint32_t i);
  // Indices of the mesh's (cols + 1) x (rows + 1) vertex lattice, two
  // triangles per cell.
  void lattice(uint32_t cols, uint32_t rows);

  Frame2d* frame_ = nullptr;
  drv::GpuBuffer vb_, ib_, cb_;
  drv::Bo depth_;
  uint64_t depth_va_ = 0;
  uint32_t max_vertices_ = 0, max_indices_ = 0, max_draws_ = 0;
  uint32_t n_vertices_ = 0, n_indices_ = 0;
  uint32_t parity_ = 0, used_ = 0;
  bool overflow_ = false;
};

}  // namespace wl
