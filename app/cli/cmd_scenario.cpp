// otfuse scenario NAME ...: one-command experiments of the paper. Each scenario lives in
// cmd_scenario_<name>.cpp as int cmdScenario<Name>(Args&); this file only dispatches.
#include <iostream>
#include <set>
#include <string>

#include "commands.h"
#include "otfuse/error.h"

namespace otfuse::cli {
namespace {

struct Scenario {
  const char* name;
  int (*fn)(Args&);
  const char* summary;
};

const Scenario kScenarios[] = {
    {"skill-transfer", cmdScenarioSkillTransfer,
     "the paper's Section 5.1: parents on a personalised split, fused at several t"},
    {"table-one", cmdScenarioTableOne,
     "the paper's Table 1 as mean ± std over K pairs of parents (different seeds)"},
    {"compression", cmdScenarioCompression,
     "reviewers' question: OT fusion into a narrower model vs pruning vs training from scratch"},
};

void printUsage(std::ostream& os) {
  os << "usage: otfuse scenario NAME [options]\n\nscenarios:\n";
  for (const auto& s : kScenarios) os << "  " << s.name << "\n      " << s.summary << "\n";
  os << "run 'otfuse scenario NAME --help' for a scenario's options.\n";
}

}  // namespace

std::set<std::string> scenarioFlags() {
  // The value-less options of every scenario (Args must know them before parsing).
  return {"help", "json", "no-progress"};
}

int cmdScenario(Args& args) {
  if (args.positional().empty()) {
    if (args.flag("help")) {
      printUsage(std::cout);
      return 0;
    }
    printUsage(std::cerr);
    return 2;
  }
  const std::string name = args.positional().front();
  for (const auto& s : kScenarios)
    if (name == s.name) return s.fn(args);
  std::string known;
  for (const auto& s : kScenarios) known += (known.empty() ? "" : ", ") + std::string(s.name);
  throw Error("unknown scenario '" + name + "' (known: " + known + ")");
}

}  // namespace otfuse::cli
