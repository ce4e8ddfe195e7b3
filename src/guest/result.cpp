#include "guest/result.h"

#include <cstdarg>
#include <cstring>

#include "guest/console.h"
#include "guest/pv.h"

namespace guest {

vmm_abi::GuestResult& result() {
  return *reinterpret_cast<vmm_abi::GuestResult*>(vmm_abi::kResult);
}

void result_init() {
  std::memset(&result(), 0, sizeof(vmm_abi::GuestResult));
  result().magic = vmm_abi::kResultMagic;
}

void result_error(const char* fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(result().error, sizeof result().error, fmt, ap);
  va_end(ap);
  printf("error: %s\n", result().error);
}

void guest_exit(uint32_t status) {
  result().magic = vmm_abi::kResultMagic;
  result().status = status;
  console_flush();
  pv_exit(status);
}

}  // namespace guest
