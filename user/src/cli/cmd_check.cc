// ckpt-user check [--json] [--device PATH]
#include <memory>

#include "check/report.h"
#include "cli/commands.h"
#include "cli/output.h"
#include "core/error.h"
#include "kmod/device.h"

namespace ckpt::cli {

Command add_check_command(CLI::App& app, CommonArgs& common) {
  struct Options {
    bool json = false;
    std::string device = kmod::kDevicePath;
  };
  auto opt = std::make_shared<Options>();
  CLI::App* sub = app.add_subcommand(
      "check", "Report what this system supports for checkpointing, with a verdict");
  add_common_flags(*sub, common);
  sub->add_flag("--json", opt->json, "Machine-readable output");
  sub->add_option("--device", opt->device, "The ckpt device")->capture_default_str();
  sub->footer("Exit status: 0 when ready, 1 when not.");
  return {sub, [opt, &common] {
            if (common.has_dashes) {
              print_error(Error::msg("check: unexpected arguments after '--'"));
              return kExitUsage;
            }
            check::Report report = check::run_checks(check::CheckOptions{opt->device});
            if (opt->json)
              print_out(check::render_json(report).dump(2) + "\n");
            else
              print_out(check::render_text(report));
            return report.ready() ? kExitOk : kExitFailure;
          }};
}

}  // namespace ckpt::cli
