// vGPU types, modelled on upstream GVT-g's GVTg_V5_x and scaled to this
// GPU's 512 MiB aperture and 4 GiB of graphics memory. A type fixes a slice
// of the aperture (low GM), a slice of the hidden GM, fences, a scheduling
// weight and a display resolution. The host keeps its own slice; the default
// type fits 7 VMs beside it (upstream's 64 MiB slices and 128 MiB host reserve
// fit only 6 in 512 MiB).
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

namespace gvt {

struct VgpuType {
  const char* name;      // as in `--vm W,type=NAME`
  const char* upstream;  // the GVTg_V5_x type it is modelled on
  uint64_t low_gm;       // aperture (CPU-visible) bytes
  uint64_t high_gm;      // hidden GM bytes
  uint32_t fences;
  uint32_t weight;       // scheduler share, 16 / n as upstream
  uint32_t width, height;
};

struct GmResources {
  uint64_t low_gm, high_gm;
  uint32_t fences;
};

inline constexpr uint64_t kMiB = 1ull << 20;
// What the host keeps for itself (its own workload and the mediator's shadow
// objects live in its high GM).
inline constexpr GmResources kHostReserve{64 * kMiB, 384 * kMiB, 4};

std::span<const VgpuType> vgpu_types();
const VgpuType* find_type(std::string_view name);  // by name or upstream name
const VgpuType& default_type();
// All of the GPU's graphics memory and fences.
GmResources total_resources();
// How many more instances of `t` fit in `free` resources.
uint32_t instances_that_fit(const VgpuType& t, const GmResources& free);

}  // namespace gvt
