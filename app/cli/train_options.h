#pragma once
// The SGD options shared by `otfuse train`, `otfuse finetune` and `otfuse fuse
// --finetune-epochs` (there with the prefix "finetune-": --finetune-lr, ...): one parser, one
// set of checks and messages, one help text.
#include <set>
#include <string>

#include "args.h"
#include "otfuse/train/train.h"

namespace otfuse::cli {

/// The option names (without "--"), each with `prefix`: epochs, batch-size, lr, momentum,
/// weight-decay, schedule, seed, limit. The flag PREFIXno-augment must be registered as a
/// flag of the command (main.cpp).
std::set<std::string> trainOptionNames(const std::string& prefix = "");

/// Reads the options above (and the flag no-augment) over `defaults`; throws otfuse::Error
/// naming the option for a malformed or out-of-range value (epochs 1..100000, batch size
/// 1..1000000, learning rate > 0, momentum/weight decay >= 0, seed/limit >= 0, known schedule).
TrainOptions parseTrainOptions(const Args& args, const std::string& prefix = "",
                               TrainOptions defaults = TrainOptions());

/// Help lines for those options, `indent`ed, naming the defaults.
std::string trainOptionsHelp(const std::string& prefix = "", const TrainOptions& defaults = TrainOptions(),
                             const std::string& seedMeaning =
                                 "seed of the initial weights, shuffling and augmentation");

}  // namespace otfuse::cli
