// libFuzzer target: arbitrary bytes as a guest image. A load may only ever
// write inside [min_gpa, ram_size); ASan catches anything else.
#include <cstdint>
#include <cstdlib>
#include <vector>

#include "hv/elf_loader.h"

namespace {
constexpr uint64_t kRamSize = 16ull << 20;
constexpr uint64_t kMinGpa = 0x100000;
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // Static: zeroing 16 MiB per input would dominate the run time.
  static std::vector<uint8_t> ram(kRamSize);
  auto img = hv::load_elf({data, size}, ram.data(), ram.size(), kMinGpa);
  if (img && (img->lowest < kMinGpa || img->highest > kRamSize || img->lowest >= img->highest ||
              img->entry < img->lowest || img->entry >= img->highest))
    std::abort();
  return 0;
}
