// Keeps docs/hw-spec.md and the constexpr tables in agreement: the doc's
// register table has one row per register template and its command table one
// row per command, at the table's offsets and headers, and nothing else.
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "common/gen8/cmds.h"
#include "common/gen8/regs.h"

namespace {

using Row = std::vector<std::string>;

std::string read_doc() {
  std::ifstream in(std::string(GVIRT_SOURCE_DIR) + "/docs/hw-spec.md");
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string trim(const std::string& s) {
  size_t b = s.find_first_not_of(" \t"), e = s.find_last_not_of(" \t");
  return b == std::string::npos ? "" : s.substr(b, e - b + 1);
}

Row cells(const std::string& line) {
  Row out;
  std::stringstream ss(line.substr(1));  // past the leading '|'
  std::string cell;
  while (std::getline(ss, cell, '|')) out.push_back(trim(cell));
  return out;
}

// Body rows of every markdown table whose header row is `header`.
std::vector<Row> table_rows(const std::string& doc, const std::string& header, int* tables) {
  std::vector<Row> rows;
  std::stringstream ss(doc);
  std::string line;
  bool in_table = false;
  *tables = 0;
  while (std::getline(ss, line)) {
    if (trim(line) == header) {
      in_table = true;
      ++*tables;
      std::getline(ss, line);  // the |---| separator
      continue;
    }
    if (in_table && trim(line).rfind('|', 0) == 0)
      rows.push_back(cells(trim(line)));
    else
      in_table = false;
  }
  return rows;
}

uint32_t parse_hex(std::string s) {
  if (!s.empty() && s[0] == '+') s.erase(0, 1);
  return static_cast<uint32_t>(std::strtoul(s.c_str(), nullptr, 16));
}

// First word of the scope cell: "global", "per engine" or "per pipe".
std::string scope_kind(const std::string& cell) { return cell.substr(0, cell.find(',')); }

template <size_t N>
void add_templates(std::map<std::pair<std::string, std::string>, uint32_t>& out,
                   const gen8::RegTemplate (&t)[N], const char* scope) {
  for (const auto& r : t) out[{scope, r.name}] = r.offset;
}

TEST(HwSpecDoc, RegisterTableMatchesTheTemplates) {
  std::map<std::pair<std::string, std::string>, uint32_t> want, got;
  add_templates(want, gen8::kGlobalRegs, "global");
  add_templates(want, gen8::kEngineRegs, "per engine");
  add_templates(want, gen8::kPipeRegs, "per pipe");

  int tables = 0;
  auto rows = table_rows(read_doc(), "| name | offset | width | scope | reset | policy |", &tables);
  ASSERT_EQ(tables, 1);
  for (const Row& r : rows) {
    ASSERT_EQ(r.size(), 6u) << "malformed register row: " << r[0];
    auto key = std::make_pair(scope_kind(r[3]), r[0]);
    EXPECT_TRUE(got.emplace(key, parse_hex(r[1])).second) << "duplicate row " << r[0];
  }
  for (const auto& [key, offset] : want) {
    auto it = got.find(key);
    if (it == got.end()) {
      ADD_FAILURE() << key.second << " (" << key.first << ") is missing from docs/hw-spec.md";
      continue;
    }
    EXPECT_EQ(it->second, offset) << key.second << " has the wrong offset in docs/hw-spec.md";
  }
  for (const auto& [key, offset] : got)
    EXPECT_TRUE(want.count(key)) << key.second << " (" << key.first
                                 << ") is in docs/hw-spec.md but not in the register table";
}

TEST(HwSpecDoc, CommandTableMatchesTheCommands) {
  std::map<std::string, uint32_t> want, got;
  for (const auto& c : gen8::kCmds) want[c.name] = c.header;

  int tables = 0;
  auto rows = table_rows(
      read_doc(), "| name | header | length | engines | privilege | address fields |", &tables);
  ASSERT_EQ(tables, 1);
  for (const Row& r : rows) {
    ASSERT_EQ(r.size(), 6u) << "malformed command row: " << r[0];
    EXPECT_TRUE(got.emplace(r[0], parse_hex(r[1])).second) << "duplicate row " << r[0];
  }
  for (const auto& [name, header] : want) {
    auto it = got.find(name);
    if (it == got.end()) {
      ADD_FAILURE() << name << " is missing from docs/hw-spec.md";
      continue;
    }
    EXPECT_EQ(it->second, header) << name << " has the wrong header in docs/hw-spec.md";
  }
  for (const auto& [name, header] : got)
    EXPECT_TRUE(want.count(name)) << name << " is in docs/hw-spec.md but not in the command table";
}

TEST(HwSpecDoc, HasTheDeviationsSection) {
  EXPECT_NE(read_doc().find("\n## Deviations from Gen8\n"), std::string::npos);
}

}  // namespace
