#include "cli/hw_spec.h"

#include <gtest/gtest.h>

#include <map>
#include <string>

#include "common/gen8/cmds.h"
#include "common/gen8/layout.h"

namespace {

using nlohmann::json;

const json& spec() {
  static const json j = cli::hw_spec_json();
  return j;
}

// Absolute offset of every register entry with `name`.
std::multimap<std::string, uint32_t> reg_offsets() {
  std::multimap<std::string, uint32_t> m;
  for (const auto& r : spec()["registers"]) m.emplace(r["name"], r["offset"]);
  return m;
}

bool has_reg(const std::string& name, uint32_t offset) {
  auto m = reg_offsets();
  auto [lo, hi] = m.equal_range(name);
  for (auto it = lo; it != hi; ++it)
    if (it->second == offset) return true;
  return false;
}

uint32_t cmd_header(const std::string& name) {
  for (const auto& c : spec()["commands"])
    if (c["name"] == name) return c["header"];
  return 0xFFFFFFFFu;
}

TEST(HwSpec, OneRegisterEntryPerTableEntry) {
  const json& regs = spec()["registers"];
  ASSERT_EQ(regs.size(), gen8::kRegs.size());
  for (size_t i = 0; i < gen8::kRegs.size(); ++i) {
    const auto& r = gen8::kRegs[i];
    EXPECT_EQ(regs[i]["name"], r.name);
    EXPECT_EQ(regs[i]["offset"], r.offset);
    EXPECT_EQ(regs[i]["width"], r.width);
    EXPECT_EQ(regs[i]["reset"], r.reset);
    EXPECT_EQ(regs[i]["ro_mask"], r.ro_mask);
    EXPECT_EQ(regs[i]["w1c_mask"], r.w1c_mask);
    EXPECT_EQ(regs[i]["policy"]["masked"], (r.flags & gen8::kMasked) != 0);
    EXPECT_EQ(regs[i]["policy"]["nonpriv_writable"], (r.flags & gen8::kNonPriv) != 0);
  }
}

TEST(HwSpec, OneCommandEntryPerTableEntry) {
  const json& cmds = spec()["commands"];
  ASSERT_EQ(cmds.size(), gen8::kCmds.size());
  for (size_t i = 0; i < gen8::kCmds.size(); ++i) {
    const auto& c = gen8::kCmds[i];
    EXPECT_EQ(cmds[i]["name"], c.name);
    EXPECT_EQ(cmds[i]["header"], c.header);
    EXPECT_EQ(cmds[i]["length"]["min"], c.len.min);
    EXPECT_EQ(cmds[i]["length"]["max"], c.len.max);
    EXPECT_EQ(cmds[i]["address_fields"].size(), c.n_addr);
    EXPECT_EQ(cmds[i]["privileged_only"], (c.flags & gen8::kPrivOnly) != 0);
  }
}

TEST(HwSpec, EveryEntryIsNamed) {
  for (const char* list : {"registers", "commands"})
    for (const auto& e : spec()[list]) {
      ASSERT_TRUE(e["name"].is_string());
      EXPECT_FALSE(e["name"].get<std::string>().empty());
    }
  for (const auto& c : spec()["commands"])
    for (const auto& f : c["address_fields"]) EXPECT_FALSE(f["name"].get<std::string>().empty());
}

TEST(HwSpec, KnownI915NamesAtGen8Offsets) {
  EXPECT_TRUE(has_reg("RING_TAIL", 0x2030));
  EXPECT_TRUE(has_reg("RING_TAIL", 0x22030));
  EXPECT_TRUE(has_reg("RING_ELSP", 0x2230));
  EXPECT_TRUE(has_reg("RING_ELSP", 0x22230));
  EXPECT_TRUE(has_reg("RING_HWS_PGA", 0x2080));
  EXPECT_TRUE(has_reg("RING_CONTEXT_STATUS_PTR", 0x23A0));
  EXPECT_TRUE(has_reg("GEN8_MASTER_IRQ", 0x44200));
  EXPECT_TRUE(has_reg("GEN8_GT_IIR", 0x44308));
  EXPECT_TRUE(has_reg("GEN6_GDRST", 0x941C));
  EXPECT_TRUE(has_reg("DSPSURF", 0x7019C));
  EXPECT_TRUE(has_reg("DSPSURF", 0x7119C));
  EXPECT_TRUE(has_reg("PIPECONF", 0x70008));
  EXPECT_TRUE(has_reg("FENCE_REG_GEN6", 0x100000));
  EXPECT_TRUE(has_reg("FENCE_REG_GEN6", 0x100000 + 8 * 31));
  EXPECT_EQ(cmd_header("PIPE_CONTROL"), 0x7A000000u);
  EXPECT_EQ(cmd_header("MI_BATCH_BUFFER_START"), 0x18800000u);
  EXPECT_EQ(cmd_header("XY_COLOR_BLT"), 0x54000000u);
  EXPECT_EQ(cmd_header("XY_SRC_COPY_BLT"), 0x54C00000u);
  EXPECT_EQ(cmd_header("MI_LOAD_REGISTER_IMM"), 0x11000000u);
}

TEST(HwSpec, ScopesInstancesAndArrays) {
  for (const auto& r : spec()["registers"]) {
    const std::string scope = r["scope"];
    if (scope == "engine") {
      EXPECT_TRUE(r["engine"] == "rcs" || r["engine"] == "bcs") << r.dump();
    } else if (scope == "pipe") {
      EXPECT_LT(r["pipe"].get<int>(), gen8::kNumPipes) << r.dump();
    } else {
      EXPECT_EQ(scope, "global") << r.dump();
    }
  }
  // Array elements carry their index: CSB entry 5 of the blitter.
  bool found = false;
  for (const auto& r : spec()["registers"])
    if (r["offset"] == gen8::kBcsBase + gen8::reg::RING_CONTEXT_STATUS_BUF + 5 * 8) {
      found = true;
      EXPECT_EQ(r["name"], "RING_CONTEXT_STATUS_BUF");
      EXPECT_EQ(r["engine"], "bcs");
      EXPECT_EQ(r["index"], 5);
    }
  EXPECT_TRUE(found);
}

TEST(HwSpec, Device) {
  const json& d = spec()["device"];
  EXPECT_EQ(d["pci"]["vendor"], 0x8086);
  EXPECT_EQ(d["bar0_size"], 16u << 20);
  EXPECT_EQ(d["ggtt_offset"], 8u << 20);
  EXPECT_EQ(d["ggtt_entries"], 1u << 20);
  EXPECT_EQ(d["gm_size"], 4ull << 30);
  EXPECT_EQ(d["aperture_size"], 512u << 20);
  EXPECT_EQ(d["fences"], 32);
  EXPECT_EQ(d["pipes"], 3);
  ASSERT_EQ(d["engines"].size(), 2u);
  EXPECT_EQ(d["engines"][0]["name"], "rcs");
  EXPECT_EQ(d["engines"][0]["base"], 0x2000);
  EXPECT_EQ(d["engines"][1]["name"], "bcs");
  EXPECT_EQ(d["engines"][1]["base"], 0x22000);
}

TEST(HwSpec, AddressFields) {
  for (const auto& c : spec()["commands"]) {
    if (c["name"] == "MI_BATCH_BUFFER_START") {
      // A set bit 8 selects the PPGTT: the one inverted selector.
      const json& f = c["address_fields"][0];
      EXPECT_EQ(f["space"], "ppgtt_bit");
      EXPECT_EQ(f["select"]["mask"], gen8::kBbPpgtt);
    }
    if (c["name"] == "MI_FLUSH_DW") {
      const json& f = c["address_fields"][0];
      EXPECT_EQ(f["space"], "gtt_bit");
      EXPECT_EQ(f["select"]["dword"], 1);
      EXPECT_EQ(f["select"]["mask"], gen8::kFlushDwGgtt);
      EXPECT_EQ(f["condition"]["mask"], gen8::kFlushDwOpMask);
      EXPECT_EQ(f["index_mode"]["mask"], gen8::kFlushDwStoreIndex);
      EXPECT_EQ(f["extent"], "data_len");
      EXPECT_EQ(c["engines"], json::array({"bcs"}));
    }
    if (c["name"] == "XY_SRC_COPY_BLT") {
      ASSERT_EQ(c["address_fields"].size(), 2u);
      EXPECT_EQ(c["address_fields"][1]["extent"], "blt_src");
      EXPECT_EQ(c["address_fields"][1]["space"], "batch");
      EXPECT_FALSE(c["address_fields"][1].contains("select"));
    }
    if (c["name"] == "MI_LOAD_REGISTER_IMM") {
      EXPECT_EQ(c["register_operands"]["kind"], "pairs");
    }
  }
}

}  // namespace
