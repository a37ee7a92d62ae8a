#pragma once
// The otfuse subcommands. Each takes the arguments after its name and returns the exit code;
// each lives in cmd_<name>.cpp.
#include "args.h"
#include "otfuse/runtime.h"

namespace otfuse::cli {

/// Set by the first Ctrl-C (SIGINT) or SIGTERM once installInterruptHandler() ran; long
/// computations poll it and throw Cancelled, so nothing is half-written. A second Ctrl-C
/// ends the process at once.
const CancelFlag* interruptFlag();
void installInterruptHandler();

int cmdData(Args& args);   // data list | data import cifar10 PATH
int cmdInfo(Args& args);   // info MODEL
int cmdEval(Args& args);   // eval [--dataset D] [--json] MODEL...
int cmdTrain(Args& args);  // train --arch A --dataset D --out F ...
int cmdFuse(Args& args);   // fuse ... A B
int cmdSweep(Args& args);    // sweep A B --modes ... --out-dir DIR [--emit-jobs FILE]
int cmdCollect(Args& args);  // collect DIR
int cmdFinetune(Args& args);  // finetune MODEL --out F [--epochs N] ...
int cmdScenario(Args& args);  // scenario NAME ... (dispatcher, cmd_scenario.cpp)
/// Value-less options of every scenario (for parsing `otfuse scenario`).
std::set<std::string> scenarioFlags();
int cmdScenarioSkillTransfer(Args& args);  // scenario skill-transfer ...
int cmdScenarioTableOne(Args& args);  // scenario table-one --seeds K ...
int cmdScenarioCompression(Args& args);  // scenario compression A B ...
int cmdPrune(Args& args);  // prune MODEL --width F --out FILE
int cmdCompare(Args& args);  // compare A B: every alignment method side by side

}  // namespace otfuse::cli
