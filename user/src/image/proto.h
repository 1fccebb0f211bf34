// The generated metadata messages (ckpt_image.proto).  Include this, not
// ckpt_image.pb.h: glibc's <signal.h> defines a function-like macro
// sigmask(sig) (deprecated) that breaks the generated Thread::sigmask() and
// SignalFd::sigmask() accessors when <signal.h> comes first.  <signal.h> is
// included here first, so its include guard keeps the macro from coming back.
#pragma once

#include <signal.h>
#ifdef sigmask
#undef sigmask
#endif

#include "image/ckpt_image.pb.h"  // IWYU pragma: export
