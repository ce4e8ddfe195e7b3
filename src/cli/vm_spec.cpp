#include "cli/vm_spec.h"

#include <fmt/format.h>

#include <charconv>
#include <sstream>

#include "common/vmm_abi.h"
#include "gvt/vgpu_types.h"
#include "workloads/workload.h"

namespace cli {

namespace {
template <class T>
bool parse_num(const std::string& s, T* out) {
  auto r = std::from_chars(s.data(), s.data() + s.size(), *out);
  return r.ec == std::errc() && r.ptr == s.data() + s.size();
}
}  // namespace

tl::expected<VmSpec, std::string> parse_vm_spec(const std::string& text) {
  VmSpec v;
  std::stringstream ss(text);
  std::string item;
  bool first = true;
  while (std::getline(ss, item, ',')) {
    if (first) {
      v.workload = item;
      first = false;
      if (!wl::find_workload(item.c_str()))
        return tl::unexpected(fmt::format("unknown workload '{}' in --vm; see 'gvirt workloads'", item));
      continue;
    }
    auto eq = item.find('=');
    std::string key = item.substr(0, eq), val = eq == std::string::npos ? "" : item.substr(eq + 1);
    if (eq == std::string::npos || val.empty())
      return tl::unexpected(fmt::format("--vm option '{}' needs a value (key=value)", item));
    if (key == "frames") {
      if (!parse_num(val, &v.frames) || v.frames == 0)
        return tl::unexpected(fmt::format("--vm frames must be a positive integer, not '{}'", val));
    } else if (key == "seconds") {
      double s = 0;
      if (!parse_num(val, &s) || s <= 0)
        return tl::unexpected(fmt::format("--vm seconds must be a positive number, not '{}'", val));
      v.seconds = s;
    } else if (key == "ram") {
      uint64_t max = vmm_abi::kMaxRam >> 20, min = vmm_abi::kMinRam >> 20;
      if (!parse_num(val, &v.ram_mib) || v.ram_mib < min || v.ram_mib > max)
        return tl::unexpected(fmt::format("--vm ram is in MiB, from {} to {}, not '{}'", min, max, val));
    } else if (key == "type") {
      if (!gvt::find_type(val))
        return tl::unexpected(fmt::format("unknown vGPU type '{}' in --vm; see 'gvirt types'", val));
      v.type = val;
    } else if (key == "ppgtt") {
      if (val != "shadow" && val != "2stage")
        return tl::unexpected(fmt::format("--vm ppgtt must be 'shadow' or '2stage', not '{}'", val));
      v.ppgtt = val;
    } else {
      return tl::unexpected(fmt::format("unknown --vm option '{}'", key));
    }
  }
  if (v.workload.empty()) return tl::unexpected(std::string("--vm needs a workload name first"));
  return v;
}

}  // namespace cli
