// otfuse scenario <name>: whole experiments as one command; each lives in
// cmd_scenario_<name>.cpp.
#include <iostream>

#include "commands.h"
#include "otfuse/error.h"

namespace otfuse::cli {

int cmdScenarioTableOne(Args& args);

namespace {
const char* kHelp = R"(usage: otfuse scenario <name> [options]
scenarios:
  table-one --seeds K    the paper's Table 1 (A, B, ensemble, vanilla, OT fusion) as mean ± std
                         over K pairs of parents trained from different seeds
run 'otfuse scenario <name> --help' for a scenario's options.
)";
}  // namespace

int cmdScenario(Args& args) {
  const auto& pos = args.positional();
  if (pos.empty()) {
    std::cout << kHelp;
    return args.flag("help") ? 0 : 2;
  }
  if (pos[0] == "table-one") return cmdScenarioTableOne(args);
  throw Error("unknown scenario '" + pos[0] + "' (see otfuse scenario --help)");
}

}  // namespace otfuse::cli
