// A write software may poll: the GPU (or the host, for a guest) writes a
// 4-byte word last (a seqno, a CSB write pointer) and software reads what was
// written before it only after seeing that word (drv::polled). A release
// store puts that ordering in the memory model, and lets ThreadSanitizer see
// it. An aligned qword (a post-sync immediate whose low dword is the seqno)
// is one release store too; longer writes are plain copies.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

namespace common {

inline void store_for_pollers(uint8_t* dst, const void* src, size_t len) {
  if (len == 4 && reinterpret_cast<uintptr_t>(dst) % 4 == 0) {
    uint32_t v;
    std::memcpy(&v, src, 4);
    __atomic_store_n(reinterpret_cast<uint32_t*>(dst), v, __ATOMIC_RELEASE);
  } else if (len == 8 && reinterpret_cast<uintptr_t>(dst) % 8 == 0) {
    uint64_t v;
    std::memcpy(&v, src, 8);
    __atomic_store_n(reinterpret_cast<uint64_t*>(dst), v, __ATOMIC_RELEASE);
  } else if (len) {
    std::memcpy(dst, src, len);
  }
}

}  // namespace common
