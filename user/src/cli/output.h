// Output helpers of the command line: the one error printer, tty detection.
#pragma once

#include <string_view>

#include "core/error.h"

namespace ckpt::cli {

// "ckpt-user: <context>: <strerror>" on stderr: the one message of a failed
// command.
void print_error(const Error& error);
// Text to stdout or stderr, written out completely.
void print_out(std::string_view text);
void print_err(std::string_view text);
bool stdout_is_terminal();

}  // namespace ckpt::cli
