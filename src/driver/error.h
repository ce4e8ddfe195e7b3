// Driver error codes (no exceptions in the driver).
#pragma once

#include <tl/expected.hpp>

namespace drv {

enum class Error {
  NoDevice,      // PCI probe found no supported GPU
  NoMemory,      // the platform has no pages left
  NoSpace,       // no free graphics-memory range of that size
  BadArgument,
  Timeout,       // the GPU did not complete in time (hang)
  GpuFault,      // the engine reported a fault
  RingFull,
};

const char* error_name(Error e);

template <class T>
using Result = tl::expected<T, Error>;

}  // namespace drv
