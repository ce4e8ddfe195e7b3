#include "cli/hw_spec.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <span>
#include <string_view>
#include <vector>

#include "common/gen8/cmds.h"
#include "common/gen8/layout.h"

namespace cli {

using nlohmann::json;

namespace {


struct FlagName {
  uint32_t bit;
  const char* name;
};

constexpr FlagName kRegFlags[] = {
    {gen8::kMasked, "masked"},
    {gen8::kCmd, "cmd_writable"},
    {gen8::kNonPriv, "nonpriv_writable"},
    {gen8::kInCtx, "in_context"},
    {gen8::kPtRoot, "pt_root"},
    {gen8::kLive, "live"},
    {gen8::kSide, "side_effect"},
    {gen8::kWriteOnly, "write_only"},
};

// Every flag a register carries must be named here, or it would vanish from the spec.
constexpr bool all_reg_flags_named() {
  uint32_t named = 0, used = 0;
  for (const auto& f : kRegFlags) named |= f.bit;
  for (const auto& r : gen8::kRegs) used |= r.flags;
  return (used & ~named) == 0;
}
static_assert(all_reg_flags_named());

std::span<const gen8::RegTemplate> templates(gen8::Scope s) {
  switch (s) {
    case gen8::Scope::Global:
      return gen8::kGlobalRegs;
    case gen8::Scope::Engine:
      return gen8::kEngineRegs;
    case gen8::Scope::Pipe:
      return gen8::kPipeRegs;
  }
  return {};
}

const char* scope_name(gen8::Scope s) {
  switch (s) {
    case gen8::Scope::Global:
      return "global";
    case gen8::Scope::Engine:
      return "engine";
    case gen8::Scope::Pipe:
      return "pipe";
  }
  return "";
}

// Offset of the register block an expanded register belongs to.
uint32_t block_base(const gen8::RegDesc& r) {
  switch (r.scope) {
    case gen8::Scope::Global:
      return 0;
    case gen8::Scope::Engine:
      return gen8::kEngineBase[r.instance];
    case gen8::Scope::Pipe:
      return r.instance * gen8::kPipeStride;
  }
  return 0;
}

// kRegs entries are expanded templates; the template says whether it is an array.
const gen8::RegTemplate& template_of(const gen8::RegDesc& r) {
  for (const auto& t : templates(r.scope))
    if (std::string_view(t.name) == r.name) return t;
  return templates(r.scope).front();  // unreachable: kRegs is expanded from these
}

json register_json(const gen8::RegDesc& r) {
  json j = {{"name", r.name},        {"offset", r.offset},
            {"width", r.width},      {"scope", scope_name(r.scope)},
            {"reset", r.reset},      {"ro_mask", r.ro_mask},
            {"w1c_mask", r.w1c_mask}};
  if (r.scope == gen8::Scope::Engine) j["engine"] = gen8::kEngineNames[r.instance];
  if (r.scope == gen8::Scope::Pipe) j["pipe"] = r.instance;
  const auto& t = template_of(r);
  if (t.count > 1) j["index"] = (r.offset - block_base(r) - t.offset) / t.stride;
  json policy = json::object();
  for (const auto& f : kRegFlags) policy[f.name] = (r.flags & f.bit) != 0;
  j["policy"] = policy;
  return j;
}

const char* type_name(uint8_t type) {
  switch (type) {
    case gen8::kTypeMi:
      return "mi";
    case gen8::kType2d:
      return "2d";
    default:
      return "3d";
  }
}

const char* space_name(gen8::Space s) {
  switch (s) {
    case gen8::Space::Batch:
      return "batch";
    case gen8::Space::GttBit:
      return "gtt_bit";
    case gen8::Space::PpgttBit:
      return "ppgtt_bit";
    case gen8::Space::Ggtt:
      return "ggtt";
  }
  return "";
}

const char* extent_name(gen8::Extent e) {
  switch (e) {
    case gen8::Extent::Fixed:
      return "fixed";
    case gen8::Extent::DataLen:
      return "data_len";
    case gen8::Extent::BltDst:
      return "blt_dst";
    case gen8::Extent::BltSrc:
      return "blt_src";
    case gen8::Extent::SizeDw:
      return "size_dword";
    case gen8::Extent::Surface:
      return "surface";
  }
  return "";
}

const char* regops_name(gen8::RegOps k) {
  switch (k) {
    case gen8::RegOps::None:
      return "none";
    case gen8::RegOps::Pairs:
      return "pairs";
    case gen8::RegOps::Single:
      return "single";
    case gen8::RegOps::PostSync:
      return "post_sync";
  }
  return "";
}

json address_json(const gen8::AddrField& f) {
  json j = {{"name", f.name},
            {"dword", f.dw},
            {"qword", f.qword},
            {"low_mask", f.lo_mask},
            {"space", space_name(f.space)},
            {"extent", extent_name(f.extent)},
            {"size", f.size}};
  if (f.space == gen8::Space::GttBit || f.space == gen8::Space::PpgttBit)
    j["select"] = {{"dword", f.sel_dw}, {"mask", f.sel_mask}};
  if (f.cond_mask) j["condition"] = {{"dword", f.cond_dw}, {"mask", f.cond_mask}};
  if (f.index_mask) j["index_mode"] = {{"dword", f.index_dw}, {"mask", f.index_mask}};
  return j;
}

std::vector<std::string> engine_list(uint8_t engines) {
  std::vector<std::string> out;
  for (int e = 0; e < gen8::kNumEngines; ++e)
    if (engines & gen8::kEngineBit[e]) out.emplace_back(gen8::kEngineNames[e]);
  return out;
}

json command_json(const gen8::CmdDesc& c) {
  json addr = json::array();
  for (uint8_t i = 0; i < c.n_addr; ++i) addr.push_back(address_json(c.addr[i]));
  json regs = {{"kind", regops_name(c.regs.kind)}};
  if (c.regs.kind != gen8::RegOps::None) regs["dword"] = c.regs.dw;
  if (c.regs.cond_mask) regs["condition"] = {{"dword", c.regs.cond_dw}, {"mask", c.regs.cond_mask}};
  return {{"name", c.name},
          {"header", c.header},
          {"type", type_name(c.type)},
          {"length",
           {{"field_bits", c.len.field_bits},
            {"min", c.len.min},
            {"max", c.len.max},
            {"step", c.len.step}}},
          {"engines", engine_list(c.engines)},
          {"privileged_only", (c.flags & gen8::kPrivOnly) != 0},
          {"guest_refused", (c.flags & gen8::kGuestRefused) != 0},
          {"not_in_ring", (c.flags & gen8::kNotInRing) != 0},
          {"starts_batch", (c.flags & gen8::kStartsBatch) != 0},
          {"ends_batch", (c.flags & gen8::kEndsBatch) != 0},
          {"address_fields", addr},
          {"register_operands", regs}};
}

json device_json() {
  json engines = json::array();
  for (int e = 0; e < gen8::kNumEngines; ++e)
    engines.push_back({{"name", gen8::kEngineNames[e]}, {"base", gen8::kEngineBase[e]}});
  return {{"pci",
           {{"vendor", gen8::pci::kVendorIntel},
            {"device", gen8::pci::kDeviceBdwGt2},
            {"revision", gen8::pci::kRevision},
            {"class", gen8::pci::kClassVga}}},
          {"bar0_size", gen8::kBar0Size},
          {"mmio_size", gen8::kMmioRegSpace},
          {"ggtt_offset", gen8::kGgttOffset},
          {"ggtt_entries", gen8::kGgttEntries},
          {"gm_size", gen8::kGmSize},
          {"aperture_size", gen8::kApertureSize},
          {"engines", engines},
          {"pipes", gen8::kNumPipes},
          {"pipe_stride", gen8::kPipeStride},
          {"fences", gen8::kNumFences}};
}

// ---- markdown ----

std::string hex(uint32_t v) { return v ? fmt::format("0x{:X}", v) : "0"; }

std::string reg_offset_cell(gen8::Scope s, uint32_t offset) {
  return s == gen8::Scope::Engine ? fmt::format("+0x{:X}", offset) : fmt::format("0x{:X}", offset);
}

std::string reg_scope_cell(gen8::Scope s, const gen8::RegTemplate& t) {
  std::string out = s == gen8::Scope::Global   ? "global"
                    : s == gen8::Scope::Engine ? "per engine"
                                               : "per pipe";
  if (t.count > 1) out += fmt::format(", {} at stride 0x{:X}", t.count, t.stride);
  return out;
}

std::string reg_policy_cell(const gen8::RegTemplate& t) {
  std::vector<std::string> parts;
  if (t.ro_mask) parts.push_back("ro " + hex(t.ro_mask));
  if (t.w1c_mask) parts.push_back("w1c " + hex(t.w1c_mask));
  for (const auto& f : kRegFlags)
    if (t.flags & f.bit) parts.emplace_back(f.name);
  return parts.empty() ? "rw" : fmt::format("{}", fmt::join(parts, ", "));
}

std::string length_cell(const gen8::LenRule& l) {
  if (l.field_bits == 0) return fmt::format("{}", l.min);
  std::string range =
      l.min == l.max ? fmt::format("{}", l.min) : fmt::format("{}..{}", l.min, l.max);
  if (l.step > 1) range += fmt::format(" step {}", l.step);
  return fmt::format("{} ({}-bit field)", range, l.field_bits);
}

std::string privilege_cell(const gen8::CmdDesc& c) {
  std::vector<std::string> parts{(c.flags & gen8::kPrivOnly) ? "privileged only" : "any"};
  if (c.flags & gen8::kGuestRefused) parts.emplace_back("guest refused");
  if (c.flags & gen8::kNotInRing) parts.emplace_back("not in ring");
  switch (c.regs.kind) {
    case gen8::RegOps::None:
      break;
    case gen8::RegOps::Pairs:
      parts.push_back(fmt::format("register pairs from dw{}", c.regs.dw));
      break;
    case gen8::RegOps::Single:
      parts.push_back(fmt::format("register at dw{}", c.regs.dw));
      break;
    case gen8::RegOps::PostSync:
      parts.push_back(fmt::format("register at dw{} if dw{} & {}", c.regs.dw, c.regs.cond_dw,
                                  hex(c.regs.cond_mask)));
      break;
  }
  return fmt::format("{}", fmt::join(parts, "; "));
}

std::string address_cell(const gen8::CmdDesc& c) {
  std::vector<std::string> fields;
  for (uint8_t i = 0; i < c.n_addr; ++i) {
    const auto& f = c.addr[i];
    std::string s = fmt::format("{}: dw{}{}, ", f.name, f.dw, f.qword ? " qword" : "");
    switch (f.space) {
      case gen8::Space::Batch:
        s += "batch's space";
        break;
      case gen8::Space::Ggtt:
        s += "GGTT";
        break;
      case gen8::Space::GttBit:
        s += fmt::format("GGTT if dw{} & {}", f.sel_dw, hex(f.sel_mask));
        break;
      case gen8::Space::PpgttBit:
        s += fmt::format("PPGTT if dw{} & {}", f.sel_dw, hex(f.sel_mask));
        break;
    }
    if (f.cond_mask) s += fmt::format(", used if dw{} & {}", f.cond_dw, hex(f.cond_mask));
    if (f.index_mask == gen8::kAll)
      s += ", PPHWSP index";
    else if (f.index_mask)
      s += fmt::format(", PPHWSP index if dw{} & {}", f.index_dw, hex(f.index_mask));
    switch (f.extent) {
      case gen8::Extent::Fixed:
        s += fmt::format(", {} B", f.size);
        break;
      case gen8::Extent::DataLen:
        s += fmt::format(", {} B + 4 B per extra dword", f.size);
        break;
      case gen8::Extent::BltDst:
        s += ", destination rectangle";
        break;
      case gen8::Extent::BltSrc:
        s += ", source rectangle";
        break;
      case gen8::Extent::SizeDw:
        s += fmt::format(", dw{} bytes", f.size);
        break;
      case gen8::Extent::Surface:
        s += fmt::format(", surface (pitch dw{}, size dw{})", f.size, f.size + 1);
        break;
    }
    fields.push_back(std::move(s));
  }
  return fields.empty() ? "none" : fmt::format("{}", fmt::join(fields, "; "));
}

}  // namespace

json hw_spec_json() {
  json regs = json::array();
  for (const auto& r : gen8::kRegs) regs.push_back(register_json(r));
  json cmds = json::array();
  for (const auto& c : gen8::kCmds) cmds.push_back(command_json(c));
  return {{"device", device_json()}, {"registers", regs}, {"commands", cmds}};
}

std::string hw_spec_markdown() {
  std::string out =
      "| name | offset | width | scope | reset | policy |\n"
      "|---|---|---|---|---|---|\n";
  for (gen8::Scope s : {gen8::Scope::Global, gen8::Scope::Engine, gen8::Scope::Pipe})
    for (const auto& t : templates(s))
      out += fmt::format("| {} | {} | {} | {} | {} | {} |\n", t.name, reg_offset_cell(s, t.offset),
                         t.width, reg_scope_cell(s, t), hex(t.reset), reg_policy_cell(t));
  out +=
      "\n| name | header | length | engines | privilege | address fields |\n"
      "|---|---|---|---|---|---|\n";
  for (const auto& c : gen8::kCmds)
    out +=
        fmt::format("| {} | 0x{:08X} | {} | {} | {} | {} |\n", c.name, c.header, length_cell(c.len),
                    fmt::join(engine_list(c.engines), ", "), privilege_cell(c), address_cell(c));
  return out;
}

}  // namespace cli
