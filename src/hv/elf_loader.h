// The guest image loader: a static x86-64 ELF executable copied into guest
// RAM. The image is guest-controlled input, so every field is checked before
// a single byte is written.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <tl/expected.hpp>
#include <vector>

namespace hv {

struct ElfImage {
  uint64_t entry;
  uint64_t lowest, highest;  // loaded range [lowest, highest)
};

// Loads every non-empty PT_LOAD segment at its p_vaddr (the guest runs
// identity-mapped, so a virtual address is a guest-physical one): p_filesz
// bytes are copied and the rest of p_memsz is zeroed. Segments must lie in
// [min_gpa, ram_size) and not overlap; the entry point must lie in the file
// bytes of an executable segment. RAM is untouched on refusal.
tl::expected<ElfImage, std::string> load_elf(std::span<const uint8_t> file, uint8_t* ram,
                                             uint64_t ram_size, uint64_t min_gpa);

// A whole regular file of 1 byte to 64 MiB.
tl::expected<std::vector<uint8_t>, std::string> read_file(const std::string& path);

}  // namespace hv
