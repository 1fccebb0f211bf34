#include "cli/output.h"

#include <unistd.h>

#include <string>

#include "core/file.h"

namespace ckpt::cli {

void print_error(const Error& error) { print_err("ckpt-user: " + error.message() + "\n"); }

void print_out(std::string_view text) { (void)write_all(STDOUT_FILENO, text); }

void print_err(std::string_view text) { (void)write_all(STDERR_FILENO, text); }

bool stdout_is_terminal() { return ::isatty(STDOUT_FILENO) == 1; }

}  // namespace ckpt::cli
