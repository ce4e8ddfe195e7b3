// Start-up at CPL3: zero .bss, then run the static constructors.
#pragma once

namespace guest {

void runtime_start();

}  // namespace guest
