// Guest self-tests, selected with test=NAME (see selftests.cpp for what each
// needs from the host). Each ends with report_summary() and EXIT.
#pragma once

#include "common/vmm_abi.h"
#include "guest/cmdline.h"

namespace guest {

// Returns false if `name` is not a test (nothing has run then).
bool selftest_exists(const char* name);
[[noreturn]] void run_selftest(const char* name, Cmdline& cmdline, const vmm_abi::BootInfo& boot);
// "exceptions if msi wait pci timer pages hostile"
const char* selftest_names();

}  // namespace guest
