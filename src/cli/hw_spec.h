// `gvirt hw-spec`: the register and command tables of src/common/gen8,
// rendered from the constexpr tables themselves (never a copy), as JSON (the
// stable schema documented in docs/hw-spec.md, "Machine-readable spec") and as
// the markdown tables that docs/hw-spec.md carries.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

namespace cli {

// {"device": {...}, "registers": [one per gen8::kRegs entry],
//  "commands": [one per gen8::kCmds entry]}
nlohmann::json hw_spec_json();

// The "Registers" and "Commands" markdown tables: one register row per table
// template (engine registers at their engine-relative offset, pipe registers
// at pipe A's), one command row per command.
std::string hw_spec_markdown();

}  // namespace cli
