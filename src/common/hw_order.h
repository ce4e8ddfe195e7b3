// Memory shared between software and the (modelled) hardware is ordered by
// the hardware's protocol: the GPU writes a seqno or a CSB write pointer last,
// software polls it and only then touches what the GPU used. ThreadSanitizer
// cannot see that ordering through plain polled loads, so the model marks
// each DMA write as a release and the driver marks each polled read as an
// acquire of the same address. Both are no-ops outside TSan builds (and in
// the freestanding guest build).
#pragma once

#if defined(__SANITIZE_THREAD__)
#include <sanitizer/tsan_interface.h>
#define GVIRT_HW_RELEASE(p) __tsan_release(const_cast<void*>(static_cast<const volatile void*>(p)))
#define GVIRT_HW_ACQUIRE(p) __tsan_acquire(const_cast<void*>(static_cast<const volatile void*>(p)))
#else
#define GVIRT_HW_RELEASE(p) ((void)(p))
#define GVIRT_HW_ACQUIRE(p) ((void)(p))
#endif
