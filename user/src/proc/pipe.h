// Pipe contents without consuming them.
//
// tee(2) duplicates the buffered bytes of a pipe into a private pipe, sized
// (F_SETPIPE_SZ) to at least the source's capacity so that one tee takes
// everything; the private pipe is then read.  The source is never read, so
// the real reader still finds its data.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>

#include "core/fd.h"
#include "core/result.h"

namespace ckpt::proc {

// F_GETPIPE_SZ.
Result<uint32_t> pipe_capacity(int fd);
// FIONREAD: bytes buffered.
Result<uint32_t> pipe_buffered(int fd);

// A read side for the pipe behind /proc/PID/fd/N, whichever end it is:
// open("/proc/PID/fd/N", O_RDONLY | O_NONBLOCK), which opens the same pipe
// (as for a FIFO).
Result<Fd> open_pipe_reader(pid_t pid, int fd);

// The bytes buffered in the pipe whose read side is @read_fd, left in place.
// An error if the bytes cannot all be captured (they are never truncated
// silently).
Result<std::string> peek_pipe(int read_fd);

}  // namespace ckpt::proc
