// Gen8 interrupt registers: GEN8_MASTER_IRQ, GT group 0 and the display
// engine pipe groups 0..2, each group being ISR/IMR/IIR/IER.
//
// Semantics:
//  - An event latches into IIR only the bits that IMR leaves clear (IMR
//    powers on all ones). ISR holds the raw bits of the group's last event;
//    it is informational and read-only.
//  - IIR is write-1-to-clear; IMR and IER store the value written.
//  - Pending = master enabled (bit 31) and some group has IIR & IER != 0.
//  - A master read is bit 31 plus summary bits: kMasterGtRcs (GT IIR & IER &
//    0xFFFF), kMasterGtBcs (GT IIR & IER & 0xFFFF0000), master_de_pipe(p)
//    (pipe p IIR & IER). A master write changes only bit 31.
//
// MSI is edge-triggered: the device gets one message per edge, so a bit left
// pending with no new edge would never be delivered (the classic lost
// interrupt). Every mutating call therefore returns "send an MSI now":
//  a) raise: master enabled and the newly latched bits & IER != 0;
//  b) master write: enable goes 0 -> 1 while something is pending;
//  c) IIR write: master enabled and still pending after the clear, so that a
//     handler clearing one bit while another waits gets a new edge;
//  d) IER write: master enabled and newly enabled bits & IIR != 0;
//  e) IMR write: never.
// The caller sends the MSI after dropping its locks.
//
// Not thread-safe: the device holds its lock around every call.
#pragma once

#include <array>
#include <cstdint>

#include "common/gen8/layout.h"

namespace gen8 {

class InterruptController {
 public:
  InterruptController() { reset(); }

  // True for the dword-aligned offsets of the master and group registers.
  bool owns(uint32_t offset) const;
  // Offsets not owned read 0 and ignore writes.
  uint32_t read(uint32_t offset) const;
  bool write(uint32_t offset, uint32_t v);

  bool raise_gt(uint32_t bits);
  // An invalid pipe is ignored.
  bool raise_de(int pipe, uint32_t bits);

  bool pending() const;

  // GT reset: the GT group returns to power-on; display groups and master stay.
  void reset_gt();
  // Power-on: every register.
  void reset();

 private:
  struct Group {
    uint32_t isr = 0;
    uint32_t imr = gen8::kAll;
    uint32_t iir = 0;
    uint32_t ier = 0;
  };
  static constexpr int kGt = 0;  // groups_[0] is GT, groups_[1 + p] is DE pipe p
  static constexpr int kNumGroups = 1 + gen8::kNumPipes;

  static int group_of(uint32_t offset);
  bool master_enabled() const { return master_ & gen8::kMasterEnable; }
  bool raise(Group& g, uint32_t bits);

  std::array<Group, kNumGroups> groups_{};
  uint32_t master_ = 0;
};

}  // namespace gen8
