// Buffers the 3D pipeline reads (vertex, index and constant buffers,
// textures): a buffer object bound in one context's PPGTT that the CPU
// fills, and a B8G8R8A8 texture on top of one. Freestanding.
#pragma once

#include <cstdint>

#include "common/gen8/encode.h"
#include "driver/context.h"

namespace drv {

class GpuBuffer {
 public:
  Result<void> init(Context& ctx, uint64_t bytes);
  void fini();
  uint64_t va() const { return va_; }
  uint64_t size() const { return size_; }
  // The CPU's view; writes are visible to the GPU's next read.
  void* cpu() const { return bo_.pages.cpu; }
  // Copies `n` bytes to `offset`; refuses a range outside the buffer.
  Result<void> upload(uint64_t offset, const void* src, uint64_t n);

 private:
  Context* ctx_ = nullptr;
  Bo bo_;
  uint64_t va_ = 0, size_ = 0;
};

class Texture2d {
 public:
  Result<void> init(Context& ctx, uint32_t width, uint32_t height);
  void fini() { buf_.fini(); }
  // `texels`: width x height B8G8R8A8 values, row by row.
  Result<void> upload(const uint32_t* texels) {
    return buf_.upload(0, texels, uint64_t{width_} * height_ * 4);
  }
  // Binds it for sampling; `flags`: gen8::r3d::kTexBilinear, kTexClamp.
  void bind(gen8::CmdWriter& w, uint32_t flags) const {
    w.texture(buf_.va(), width_ * 4, width_, height_, flags);
  }

 private:
  GpuBuffer buf_;
  uint32_t width_ = 0, height_ = 0;
};

}  // namespace drv
