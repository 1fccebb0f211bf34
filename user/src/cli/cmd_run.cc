// ckpt-user run --cgroup NAME [--v1] [--detach] -- CMD [ARGS...]
#include <fmt/format.h>

#include <cerrno>
#include <memory>

#include "cli/commands.h"
#include "cli/output.h"
#include "core/parse.h"
#include "run/launcher.h"

namespace ckpt::cli {
namespace {

// As env(1) and timeout(1): 125 when ckpt-user fails, 126 when the command
// cannot be executed, 127 when it is not found.
constexpr int kExitRunFailed = 125;
constexpr int kExitCannotExec = 126;
constexpr int kExitNotFound = 127;

}  // namespace

Command add_run_command(CLI::App& app, CommonArgs& common) {
  auto req = std::make_shared<run::RunRequest>();
  CLI::App* sub = app.add_subcommand(
      "run", "Start a command in a fresh cgroup, ready to be checkpointed");
  add_common_flags(*sub, common);
  sub->add_option("--cgroup", req->cgroup,
                  "The cgroup to create: a name under the cgroup mount, or an absolute path")
      ->required();
  sub->add_flag("--v1", req->v1, "Use the cgroup v1 freezer hierarchy instead of cgroup v2");
  sub->add_flag("--detach", req->detach,
                "Do not wait: print the pid and return, leaving the command running "
                "in its own session");
  // The command: after "--" (split off by main), or from the first
  // non-option on, options included.
  sub->prefix_command();
  sub->footer(
      "Usage: ckpt-user run --cgroup NAME [--v1] [--detach] -- CMD [ARGS...]\n\n"
      "Exit status: the command's (128+N if killed by signal N); 0 with --detach;\n"
      "125 if ckpt-user failed, 126 if CMD cannot be executed, 127 if it is not found.");
  return {sub, [req, sub, &common] {
            std::vector<std::string> argv = sub->remaining();
            if (common.has_dashes) {
              if (!argv.empty()) {
                print_error(Error::msg("run: unexpected arguments before '--': " + argv.front()));
                return kExitUsage;
              }
              argv = common.after_dashes;
            }
            if (argv.empty()) {
              print_error(Error::msg("run: no command given (ckpt-user run --cgroup NAME -- CMD)"));
              return kExitUsage;
            }
            req->argv = std::move(argv);
            auto status = run::run(*req, [&](pid_t pid, const std::string& path) {
              std::string line = fmt::format("pid {} in {}\n", pid, path);
              // With --detach the pid is the result; otherwise stdout is the
              // command's own.
              if (req->detach)
                print_out(line);
              else
                print_err(line);
            });
            if (!status) {
              print_error(std::move(status).error().context("run"));
              return kExitRunFailed;
            }
            if (status->exec_errno != 0) {
              print_error(Error::sys(status->exec_errno, "run: cannot execute " + quote(req->argv[0])));
              return status->exec_errno == ENOENT ? kExitNotFound : kExitCannotExec;
            }
            return status->exit_status;
          }};
}

}  // namespace ckpt::cli
