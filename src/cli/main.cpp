// The `gvirt` command. Every error ends as one sentence on stderr and a
// non-zero exit code: 2 for bad usage, 1 for anything else.
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <cctype>
#include <iostream>
#include <string>
#include <vector>

#include "cli/hw_spec.h"
#include "cli/selftest.h"

namespace {

constexpr int kExitFailure = 1;
constexpr int kExitUsage = 2;

int hw_spec(bool json) {
  if (json)
    std::cout << cli::hw_spec_json().dump(2) << '\n';
  else
    std::cout << cli::hw_spec_markdown();
  return 0;
}

int selftest(const std::string& png) {
  auto report = cli::run_selftest(png);
  if (!report) {
    fmt::print(stderr, "gvirt selftest: {}\n", report.error());
    return kExitFailure;
  }
  for (const auto& failure : report->failures) fmt::print(stderr, "gvirt selftest: {}\n", failure);
  fmt::print(
      "selftest {}: {}/{} checks passed, frame checksum {}, {} commands, {} pixels, {:.1f} ms{}\n",
      report->passed() ? "ok" : "FAILED", report->checks - report->failures.size(), report->checks,
      report->checksum.empty() ? "none" : report->checksum, report->commands, report->pixels,
      report->elapsed_ms, report->png.empty() ? "" : ", wrote " + report->png);
  return report->passed() ? 0 : kExitFailure;
}

int usage_error(std::string msg) {
  // CLI11 reports phrases, some over several lines: make one sentence of them.
  for (char& c : msg)
    if (c == '\n') c = ' ';
  while (!msg.empty() && (msg.back() == ' ' || msg.back() == '.')) msg.pop_back();
  if (msg.size() > 1 && std::isupper(static_cast<unsigned char>(msg[0])) &&
      std::islower(static_cast<unsigned char>(msg[1])))
    msg[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(msg[0])));
  std::cerr << fmt::format("gvirt: {} (see 'gvirt --help').", msg) << '\n';
  return kExitUsage;
}

std::string subcommand_names(const CLI::App& app) {
  std::vector<std::string> names;
  for (const CLI::App* sub : app.get_subcommands([](const CLI::App*) { return true; }))
    names.push_back(sub->get_name());
  return fmt::format("{}", fmt::join(names, ", "));
}

}  // namespace

int main(int argc, char** argv) {
  // stdout carries the command's output (JSON, tables): logs go to stderr.
  spdlog::set_default_logger(spdlog::stderr_color_st("gvirt"));
  spdlog::set_level(spdlog::level::warn);

  CLI::App app{"gvirt: full GPU virtualization with mediated pass-through", "gvirt"};
  // At most one here; "none" is reported after parsing, so that an unknown
  // flag or subcommand is named instead of "a subcommand is required".
  app.require_subcommand(0, 1);
  bool json = false;
  CLI::App* spec = app.add_subcommand("hw-spec", "Print the register and command tables.");
  spec->add_flag("--json", json, "As JSON (schema in docs/hw-spec.md) instead of markdown tables");
  std::string png = "selftest.png";
  CLI::App* self = app.add_subcommand("selftest", "Run the GPU model's self-check.");
  self->add_option("--png", png, "Where to write the scanned-out frame")->capture_default_str();

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e);  // --help
    const auto extras = app.remaining();
    if (app.get_subcommands().empty() && !extras.empty() && extras[0].rfind('-', 0) != 0)
      return usage_error(fmt::format("unknown subcommand '{}'; the subcommands are {}", extras[0],
                                     subcommand_names(app)));
    return usage_error(e.what());
  }
  if (*spec) return hw_spec(json);
  if (*self) return selftest(png);
  return usage_error("a subcommand is required: one of " + subcommand_names(app));
}
