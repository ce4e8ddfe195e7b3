// The payloads of the render engine's 3D commands (the table entries are in
// cmds.h), the context image's 3D state page and the constant-buffer layout.
// A fixed-function pipeline: docs/hw-spec.md, "Render engine", says what is
// modelled. Shared by the model, the driver's encoders and the tests.
#pragma once

#include <cstdint>

namespace gen8::r3d {

// Surface formats (dw5 of RENDER_TARGET, DEPTH_BUFFER, TEXTURE bits 3:0).
inline constexpr uint32_t kFmtBgra8 = 1;  // B8G8R8A8_UNORM, little-endian 0xAARRGGBB
inline constexpr uint32_t kFmtD32F = 2;   // D32_FLOAT, depth buffers only

// 3DSTATE_CLEAR_PARAMS dw1; dw2 colour (0xAARRGGBB), dw3 depth (float bits).
inline constexpr uint32_t kClearColor = 1u << 0;
inline constexpr uint32_t kClearDepth = 1u << 1;

// 3DSTATE_VERTEX_BUFFERS dw1: buffer index, pitch in bytes.
inline constexpr uint32_t kNumVertexBuffers = 4;
inline constexpr uint32_t kVbIndexShift = 26;
inline constexpr uint32_t kVbPitchMask = 0xFFF;

// 3DSTATE_VERTEX_ELEMENTS: one dword per element (at most 8).
inline constexpr uint32_t kMaxVertexElements = 8;
enum class Semantic : uint32_t { Position = 0, Normal = 1, Color = 2, TexCoord = 3 };
enum class VeFormat : uint32_t { Float1 = 1, Float2 = 2, Float3 = 3, Float4 = 4, Unorm8x4 = 5 };
constexpr uint32_t vertex_element(uint32_t buffer, Semantic s, VeFormat f, uint32_t offset) {
  return (offset & 0xFFF) | (buffer & 3) << 16 | static_cast<uint32_t>(s) << 20 |
         static_cast<uint32_t>(f) << 24;
}
constexpr uint32_t ve_offset(uint32_t e) { return e & 0xFFF; }
constexpr uint32_t ve_buffer(uint32_t e) { return (e >> 16) & 3; }
constexpr Semantic ve_semantic(uint32_t e) { return static_cast<Semantic>((e >> 20) & 7); }
constexpr VeFormat ve_format(uint32_t e) { return static_cast<VeFormat>((e >> 24) & 7); }
constexpr uint32_t ve_bytes(VeFormat f) { return f == VeFormat::Unorm8x4 ? 4 : 4 * static_cast<uint32_t>(f); }

// 3DSTATE_INDEX_BUFFER dw1.
inline constexpr uint32_t kIndex16 = 1, kIndex32 = 2;

// 3DSTATE_TEXTURE dw5.
inline constexpr uint32_t kTexEnable = 1u << 31;
inline constexpr uint32_t kTexBilinear = 1u << 4;
inline constexpr uint32_t kTexClamp = 1u << 5;  // else wrap (repeat)

// 3DSTATE_DEPTH_STENCIL dw1: test enable, write enable, compare function.
inline constexpr uint32_t kDepthTest = 1u << 0;
inline constexpr uint32_t kDepthWrite = 1u << 1;
inline constexpr uint32_t kDepthFuncShift = 4;
enum class DepthFunc : uint32_t { Always = 0, Less = 1, LessEqual = 2, Greater = 3, GreaterEqual = 4, Equal = 5, NotEqual = 6, Never = 7 };

// 3DSTATE_RASTER dw1.
enum class Cull : uint32_t { None = 0, Back = 1, Front = 2 };
inline constexpr uint32_t kCullMask = 3;
inline constexpr uint32_t kFrontCw = 1u << 2;  // front faces wind clockwise on screen; else CCW
inline constexpr uint32_t kFlatShading = 1u << 3;  // else Gouraud
inline constexpr uint32_t kLighting = 1u << 4;

// 3DSTATE_BLEND dw1.
enum class Blend : uint32_t { Opaque = 0, Alpha = 1, Additive = 2 };

// 3DPRIMITIVE (Gen8 layout): dw1 topology and access type, dw2 vertex count,
// dw3 start vertex (or first index), dw4 instance count, dw5 start instance,
// dw6 base vertex (signed, added to each index).
inline constexpr uint32_t kTopoTriList = 0x04;
inline constexpr uint32_t kTopoTriStrip = 0x05;
inline constexpr uint32_t kTopoMask = 0x3F;
inline constexpr uint32_t kPrimIndexed = 1u << 8;  // "random" vertex access

// The constant buffer (3DSTATE_CONSTANT), in floats. Matrices are column-major.
namespace cb {
inline constexpr uint32_t kMvp = 0;        // clip position = MVP * position
inline constexpr uint32_t kModel = 16;     // world position; its upper 3x3 turns normals
inline constexpr uint32_t kAmbient = 32;   // rgb, light added to every lit vertex
inline constexpr uint32_t kDiffuse = 36;   // rgba, the colour of vertices without a colour element
inline constexpr uint32_t kLightCount = 40;  // a uint32, at most kMaxLights
inline constexpr uint32_t kLights = 44;    // kLightCount x kLightFloats
// A light: position xyz and w (w = 0: a directional light towards xyz; 1: a
// point light at xyz), then colour rgb and the attenuation k: 1 / (1 + k d^2).
inline constexpr uint32_t kLightFloats = 8;
inline constexpr uint32_t kMaxLights = 8;
constexpr uint32_t bytes(uint32_t lights) { return 4 * (kLights + lights * kLightFloats); }
}  // namespace cb

// The 3D state page of an RCS context image (page kCtx3dPage): every 3D
// command stores its payload at a fixed slot, so the state is data. FLAGS
// says which slots were set; GGTT which addresses a privileged buffer set
// (they are GGTT addresses). Restore-inhibit starts from all zero.
inline constexpr uint32_t kCtx3dPage = 2;
namespace slot {
inline constexpr uint32_t FLAGS = 0x00;
inline constexpr uint32_t GGTT = 0x01;
inline constexpr uint32_t RENDER_TARGET = 0x08;   // 5: address lo/hi, pitch, size, format
inline constexpr uint32_t DEPTH_BUFFER = 0x10;    // 5
inline constexpr uint32_t VIEWPORT = 0x18;        // 6
inline constexpr uint32_t SCISSOR = 0x20;         // 2
inline constexpr uint32_t CONSTANT = 0x24;        // 3
inline constexpr uint32_t INDEX_BUFFER = 0x28;    // 4
inline constexpr uint32_t TEXTURE = 0x30;         // 5
inline constexpr uint32_t DEPTH_STENCIL = 0x38;   // 1
inline constexpr uint32_t RASTER = 0x39;          // 1
inline constexpr uint32_t BLEND = 0x3A;           // 1
inline constexpr uint32_t VERTEX_ELEMENTS = 0x40; // count, then 8 elements
inline constexpr uint32_t VERTEX_BUFFERS = 0x50;  // 4 x 4: dw1 (index, pitch), address lo/hi, size
inline constexpr uint32_t kDwords = 0x60;
}  // namespace slot
// FLAGS and GGTT bits.
namespace flag {
inline constexpr uint32_t RENDER_TARGET = 1u << 0;
inline constexpr uint32_t DEPTH_BUFFER = 1u << 1;
inline constexpr uint32_t VIEWPORT = 1u << 2;
inline constexpr uint32_t SCISSOR = 1u << 3;
inline constexpr uint32_t CONSTANT = 1u << 4;
inline constexpr uint32_t INDEX_BUFFER = 1u << 5;
inline constexpr uint32_t TEXTURE = 1u << 6;
inline constexpr uint32_t VERTEX_BUFFER0 = 1u << 8;  // buffer i: bit 8 + i
}  // namespace flag

}  // namespace gen8::r3d
