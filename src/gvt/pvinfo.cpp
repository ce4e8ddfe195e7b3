#include "gvt/pvinfo.h"

#include <spdlog/spdlog.h>

namespace gvt {

namespace pvi = gen8::pvinfo;

uint32_t PvInfoPage::read(uint32_t off) {
  aware_ = true;
  switch (off) {
    case pvi::MAGIC: return static_cast<uint32_t>(pvi::kMagic);
    case pvi::MAGIC + 4: return static_cast<uint32_t>(pvi::kMagic >> 32);
    case pvi::VERSION_MAJOR: return pvi::kVersionMajor | uint32_t{pvi::kVersionMinor} << 16;
    case pvi::VGT_ID: return id_;
    case pvi::VGT_CAPS: return pvi::kCapFullPpgtt | pvi::kCapHwspEmulation;
    case pvi::MAPPABLE_BASE: return static_cast<uint32_t>(slice_.low_base);
    case pvi::MAPPABLE_SIZE: return static_cast<uint32_t>(slice_.low_size);
    case pvi::NONMAPPABLE_BASE: return static_cast<uint32_t>(slice_.high_base);
    case pvi::NONMAPPABLE_SIZE: return static_cast<uint32_t>(slice_.high_size);
    case pvi::FENCE_NUM: return slice_.fences;
    case pvi::DISPLAY_READY: return display_ready_;
    case pvi::CURSOR_X_HOT: return cursor_hot_[0];
    case pvi::CURSOR_Y_HOT: return cursor_hot_[1];
    default: return 0;
  }
}

void PvInfoPage::write(uint32_t off, uint32_t v) {
  if (off == pvi::DISPLAY_READY) {
    display_ready_ = v == 1;
  } else if (off == pvi::G2V_NOTIFY) {
    notify(v);
  } else if (off == pvi::CURSOR_X_HOT || off == pvi::CURSOR_Y_HOT) {
    cursor_hot_[off == pvi::CURSOR_Y_HOT] = v;
  } else if (off >= pvi::PDP0_LO && off < pvi::PDP0_LO + 32) {
    uint64_t& p = pdp_[(off - pvi::PDP0_LO) / 8];
    p = (off & 4) ? (p & 0xFFFFFFFFull) | uint64_t{v} << 32 : (p & ~0xFFFFFFFFull) | v;
  } else {
    ++dropped_;
    spdlog::debug("vgpu {}: write to PV info 0x{:x} dropped", id_, off);
  }
}

void PvInfoPage::notify(uint32_t v) {
  last_g2v_ = v;
  const bool create = v == pvi::kG2vPpgttL4Create;
  if (!create && v != pvi::kG2vPpgttL4Destroy) {
    ++ignored_g2v_;
    spdlog::debug("vgpu {}: g2v notification {} ignored", id_, v);
    return;
  }
  ++(create ? creates_ : destroys_);
  if (on_ppgtt_) on_ppgtt_(create, pdp_[0]);
}

void PvInfoPage::reset() {
  aware_ = display_ready_ = false;
  last_g2v_ = 0;
  cursor_hot_[0] = cursor_hot_[1] = ~0u;
  for (auto& p : pdp_) p = 0;
}

}  // namespace gvt
