#include "gvt/vreg.h"

#include <spdlog/spdlog.h>

namespace gvt {

uint32_t VirtualRegs::read(uint32_t offset) {
  int i = gen8::find_reg(offset);
  if (i < 0) {
    ++unknown_;
    spdlog::debug("vgpu: read of unknown register 0x{:x} ignored", offset);
    return 0;
  }
  return (gen8::kRegs[i].flags & gen8::kWriteOnly) ? 0 : file_.get(offset);
}

void VirtualRegs::write(uint32_t offset, uint32_t value) {
  int i = gen8::find_reg(offset);
  if (i < 0) {
    ++unknown_;
    spdlog::debug("vgpu: write of unknown register 0x{:x} = 0x{:x} ignored", offset, value);
    return;
  }
  file_.set(offset, gen8::apply_write(gen8::kRegs[i], file_.get(offset), value));
}

std::vector<RegDiff> VirtualRegs::diff_golden() const {
  std::vector<RegDiff> out;
  for (const auto& r : gen8::kRegs)
    for (uint32_t dw = 0; dw < r.width / 4u; ++dw) {
      uint32_t off = r.offset + 4 * dw, v = file_.get(off);
      if (v != r.reset) out.push_back({r.name, off, r.reset, v});
    }
  return out;
}

}  // namespace gvt
