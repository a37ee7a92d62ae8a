// otfuse: the command-line tool of OTFuse Studio.
#include <cstring>
#include <iostream>
#include <string>
#include <vector>

#include "commands.h"
#include "otfuse/error.h"
#include "otfuse/runtime.h"

namespace {

const char* kUsage = R"(usage: otfuse <command> [options]

commands:
  data list                         datasets found, and where
  data import cifar10 PATH          import CIFAR-10 (official tarball, folder, or image folder)
  info MODEL                        architecture, layers, shapes, parameters, stored metadata
  eval [--dataset D] [--json] MODEL...
                                    test accuracy and loss of each model and their ensemble
  train --arch A --dataset D --out FILE [--epochs N] [--seed S] ...
                                    train a parent model
  fuse [--mode weights|activations] [--anchor I] [--weights W,...] ... A B [C ...]
                                    OT fusion of two or more models with baselines
                                    (--finetune-epochs N: then fine-tune OT fusion and vanilla)
  sweep A B --modes ... --seeds ... --out-dir DIR [--emit-jobs FILE]
                                    a grid of fusions, here or as jobs for parallel/Slurm
  collect DIR                       mean ± std over seeds of a folder of fuse results
  scenario NAME [options]           one-command experiments of the paper (skill-transfer,
                                    table-one, compression)
  finetune MODEL --out FILE [--epochs N] [--lr X] ...
                                    continue training a model from its weights
  prune MODEL --width F --out FILE  structured magnitude pruning to a fraction of every layer
  compare [--t T] [--points N] [--repair none|exact|closed] [--json] [--csv F] A B
                                    every alignment method on one pair, with REPAIR

common options: --data-dir DIR (default $OTFUSE_DATA_DIR, else ~/.local/share/otfuse/datasets)
environment: OTFUSE_THREADS sets the number of threads (default: all cores)
Ctrl-C (or SIGTERM) stops train, finetune, eval and fuse cleanly: exit code 130, no file written.
run 'otfuse <command> --help' for a command's options.
)";

}  // namespace

int main(int argc, char** argv) {
  otfuse::preferPassiveOpenMpWait(argv);
  using namespace otfuse::cli;
  if (argc < 2 || !std::strcmp(argv[1], "--help") || !std::strcmp(argv[1], "-h")) {
    std::cout << kUsage;
    return argc < 2 ? 2 : 0;
  }
  std::string command = argv[1];
  std::vector<std::string> rest(argv + 2, argv + argc);
  try {
    otfuse::initRuntime();
    installInterruptHandler();
    using Fn = int (*)(Args&);
    struct Entry {
      const char* name;
      Fn fn;
      std::set<std::string> flags;
    };
    const Entry table[] = {
        {"data", cmdData, {"help"}},
        {"info", cmdInfo, {"help", "json"}},
        {"eval", cmdEval, {"help", "json", "no-progress", "per-class"}},
        {"train", cmdTrain, {"help", "json", "no-progress", "no-augment"}},
        {"fuse", cmdFuse, {"help", "json", "no-progress", "ot-output-layer", "no-eval", "sequential", "finetune-no-augment"}},
        {"finetune", cmdFinetune, {"help", "json", "no-progress", "no-augment"}},
        {"sweep", cmdSweep, {"help", "json", "no-progress", "resume"}},
        {"collect", cmdCollect, {"help", "json", "across-pairs"}},
        {"scenario", cmdScenario, scenarioFlags()},
        {"prune", cmdPrune, {"help", "json"}},
        {"compare", cmdCompare, {"help", "json", "no-progress"}},
    };
    for (const auto& e : table) {
      if (command == e.name) {
        Args args(rest, e.flags);
        return e.fn(args);
      }
    }
    std::cerr << "otfuse: unknown command '" << command << "'\n" << kUsage;
    return 2;
  } catch (const otfuse::Cancelled&) {
    std::cerr << "\notfuse: cancelled; no output file was written or changed\n";
    return 130;
  } catch (const otfuse::Error& e) {
    std::cerr << "otfuse: " << e.what() << '\n';
    return 1;
  } catch (const std::exception& e) {
    std::cerr << "otfuse: internal error: " << e.what() << '\n';
    return 3;
  }
}
