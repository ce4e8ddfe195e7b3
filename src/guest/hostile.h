// test=hostile: a guest that attacks the mediator through its own vGPU with
// hand-built submissions (hostile.cpp says what the host must expect).
#pragma once

#include "guest/cmdline.h"

namespace guest {

[[noreturn]] void test_hostile(Cmdline& cl);

}  // namespace guest
