// The GuestResult page at vmm_abi::kResult, and the one way out of the guest.
#pragma once

#include <cstdint>

#include "common/vmm_abi.h"

namespace guest {

vmm_abi::GuestResult& result();
// Zeroes the page and sets its magic (guest_entry does this first).
void result_init();
// Sets GuestResult.error (truncated to fit) and prints it as "error: ...".
void result_error(const char* fmt, ...) __attribute__((format(printf, 1, 2)));
// Sets GuestResult.status, flushes the console and writes EXIT.
[[noreturn]] void guest_exit(uint32_t status);

}  // namespace guest
