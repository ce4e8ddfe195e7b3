// The guest's EXIT codes (also GuestResult::status).
#pragma once

#include <cstdint>

namespace guest {

inline constexpr uint32_t kExitOk = 0;
inline constexpr uint32_t kExitTestFailed = 1;  // report_summary(): a self-test failed
inline constexpr uint32_t kExitBadBoot = 2;     // BootInfo magic/version/cpl3 wrong (crt0.S too)
inline constexpr uint32_t kExitBadCmdline = 3;  // unknown key, bad number, no mode
inline constexpr uint32_t kExitNoDevice = 4;    // no GPU at 00:02.0 / BARs missing
inline constexpr uint32_t kExitDriverInit = 5;  // drv::Device::init failed
inline constexpr uint32_t kExitWorkload = 6;    // wl::run failed (error text in GuestResult)
inline constexpr uint32_t kExitNoMemory = 7;    // the runtime's own allocations failed
inline constexpr uint32_t kExitReturned = 8;    // guest_entry fell through (a bug)
inline constexpr uint32_t kExitExceptionBase = 0x100;  // + vector, from exception.cpp

}  // namespace guest
