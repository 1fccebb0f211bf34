#include "cli/commands.h"

namespace ckpt::cli {

void add_common_flags(CLI::App& app, CommonArgs& common) {
  app.add_flag("-v,--verbose", common.verbose, "More messages on stderr (-vv: debug)");
}

}  // namespace ckpt::cli
