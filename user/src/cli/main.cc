// ckpt-user: the command line.  Parses, sets the log level, runs one
// subcommand; the subcommand prints its result and its one error message.
#include <CLI/CLI.hpp>

#include <algorithm>
#include <exception>
#include <string_view>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "cli/output.h"
#include "core/log.h"
#include "kmod/device.h"
#include "version.h"

int main(int argc, char** argv) {
  using namespace ckpt;
  CLI::App app("ckpt-user: checkpoint process trees frozen in a cgroup, with ckpt.ko",
               "ckpt-user");
  app.set_version_flag("--version", std::string("ckpt-user ") + kVersion + " (ckpt ABI " +
                                        std::to_string(kmod::kAbiVersion) + ")");
  cli::CommonArgs common;
  cli::add_common_flags(app, common);
  std::vector<std::string> args;  // without argv[0], up to the first "--"
  for (int i = 1; i < argc; ++i) {
    if (!common.has_dashes && std::string_view(argv[i]) == "--") {
      common.has_dashes = true;
      continue;
    }
    (common.has_dashes ? common.after_dashes : args).emplace_back(argv[i]);
  }
  app.require_subcommand(1);

  std::vector<cli::Command> commands;
  commands.push_back(cli::add_check_command(app, common));
  commands.push_back(cli::add_run_command(app, common));
  commands.push_back(cli::add_show_command(app, common));
  commands.push_back(cli::add_dump_command(app, common));

  try {
    std::reverse(args.begin(), args.end());  // CLI11 takes them reversed
    app.parse(args);
  } catch (const CLI::ParseError& e) {
    int code = app.exit(e);  // prints help, version or the parse error
    return code == 0 ? cli::kExitOk : cli::kExitUsage;
  }
  log::set_level(common.verbose >= 2  ? log::Level::debug
                 : common.verbose == 1 ? log::Level::info
                                : log::Level::warn);
  try {
    for (const auto& c : commands)
      if (c.app->parsed())
        return c.run();
  } catch (const std::exception& e) {
    cli::print_error(Error::msg(std::string("internal error: ") + e.what()));
    return cli::kExitFailure;
  }
  return cli::kExitUsage;
}
