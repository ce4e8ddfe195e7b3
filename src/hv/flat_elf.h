// Wraps raw machine code in a minimal ELF64 executable loaded at `base`: how
// the KVM snippet tests and the VMM benchmarks run hand-assembled guests
// through the same loader as the real guest image.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

namespace hv {

std::vector<uint8_t> make_flat_elf(std::span<const uint8_t> code, uint64_t base);

}  // namespace hv
