// The subcommands of ckpt-user.  Each add_*_command() registers its options
// on the CLI11 app (the options live in the returned closure: there is no
// global options struct) and returns what main needs to run it.
//
// Extension point: a new subcommand is a cmd_NAME.cc with its
// add_NAME_command(), listed in main.cc: check, run, dump (on top of
// src/dump/), show (on top of src/image/).
#pragma once

#include <CLI/CLI.hpp>

#include <functional>
#include <string>
#include <vector>

namespace ckpt::cli {

struct Command {
  CLI::App* app;              // the parsed subcommand
  std::function<int()> run;   // returns the exit status; prints its own errors
};

// Exit statuses shared by all subcommands.
inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;
inline constexpr int kExitUsage = 2;

// What every subcommand may use, owned by main and passed explicitly:
// -v, accepted before or after the subcommand name ("ckpt-user -v check",
// "ckpt-user check -v"), and the arguments after the first "--", which
// main splits off before CLI11 parses the rest (CLI11 2.1 hands them to
// the parent app, not to the subcommand).
struct CommonArgs {
  int verbose = 0;
  std::vector<std::string> after_dashes;
  bool has_dashes = false;
};
void add_common_flags(CLI::App& app, CommonArgs& common);

Command add_check_command(CLI::App& app, CommonArgs& common);
Command add_run_command(CLI::App& app, CommonArgs& common);
Command add_show_command(CLI::App& app, CommonArgs& common);
Command add_dump_command(CLI::App& app, CommonArgs& common);

}  // namespace ckpt::cli
