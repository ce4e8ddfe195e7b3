#include "driver/gpu_buffer.h"

namespace drv {

Result<void> GpuBuffer::init(Context& ctx, uint64_t bytes) {
  auto bo = ctx.device().create_bo(bytes, 0);
  if (!bo) return tl::unexpected(bo.error());
  bo_ = *bo;
  auto va = ctx.bind(bo_);
  if (!va) {
    ctx.device().destroy_bo(bo_);
    return tl::unexpected(va.error());
  }
  ctx_ = &ctx;
  va_ = *va;
  size_ = bytes;
  return {};
}

void GpuBuffer::fini() {
  if (!ctx_) return;
  ctx_->unbind(bo_, va_);
  ctx_->device().destroy_bo(bo_);
  ctx_ = nullptr;
}

Result<void> GpuBuffer::upload(uint64_t offset, const void* src, uint64_t n) {
  if (!ctx_ || offset > size_ || n > size_ - offset) return tl::unexpected(Error::BadArgument);
  __builtin_memcpy(static_cast<uint8_t*>(bo_.pages.cpu) + offset, src, n);
  return {};
}

Result<void> Texture2d::init(Context& ctx, uint32_t width, uint32_t height) {
  width_ = width;
  height_ = height;
  return buf_.init(ctx, uint64_t{width} * height * 4);
}

}  // namespace drv
