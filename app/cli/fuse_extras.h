#pragma once
// The experiments `otfuse fuse` runs after the Table-1 row (issue 10):
//  --finetune-epochs N [--finetune-lr X ...] [--finetune-csv FILE]: OT fusion and the vanilla
//     average fine-tuned with the same budget, test accuracy per epoch (epoch 0 = before), the
//     parents and the ensemble as reference lines;
//  --seeds K (activations mode): the fusion repeated with activation-sampling seeds
//     seed..seed+K-1, every row as mean ± sample std (n - 1) with the per-seed values.
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "args.h"
#include "otfuse/data/dataset.h"
#include "otfuse/engine/finetune.h"
#include "otfuse/engine/table_one.h"
#include "otfuse/fusion/options.h"
#include "otfuse/fusion/report.h"
#include "otfuse/models/model.h"
#include "otfuse/train/train.h"

namespace otfuse::cli {

std::set<std::string> fuseExtraOptionNames();

struct FuseExtras {
  bool finetune = false;
  TrainOptions finetuneOptions;
  std::string finetuneCsv;
  int seeds = 1;
  bool repeatSeeds = false;  // activations mode with --seeds K > 1
  std::string seedsNote;     // why --seeds did not repeat anything (weights mode)
};

/// Reads and checks the options (Error naming the option); prints the --seeds note for
/// weights mode on stderr.
FuseExtras parseFuseExtras(const Args& args, const FusionOptions& opt, bool evaluate);

struct FuseExtrasInput {
  const std::vector<Model>& models;
  int anchor;
  const std::vector<double>& weights;
  const FusionOptions& opt;
  bool pairPath;
  bool sequential;
  int samples;
  uint64_t seed;
  const TableOneOptions& t1;
  const Model& fused;
  const Model* fusedBn;  // the fused_bn row's model, when computed
  const Dataset* test;   // null with --no-eval
  std::function<const Dataset&()> train;
  const FusionSummary& summary;  // the first seed's row
};

struct FuseExtrasResult {
  std::map<std::string, std::vector<FinetunePoint>> finetune;  // "fused", "vanilla"
  std::map<std::string, std::string> startRow;                 // series -> table row
  std::vector<uint64_t> seeds;                                 // seeds run (first = --seed)
  std::vector<std::map<std::string, double>> seedAccuracy, seedLoss;  // per seed, per row
};

FuseExtrasResult runFuseExtras(const FuseExtras& extras, const FuseExtrasInput& in,
                               const ProgressFn& progress, const CancelFlag* cancel);

/// Every row key a Table-1 summary can have (parents: summary.models, summary.anchor), in
/// display order, with its label.
std::vector<std::pair<std::string, std::string>> allTableRows(const FusionSummary& summary,
                                                              bool pairLabels);
/// The rows of allTableRows the summary has.
std::vector<std::pair<std::string, std::string>> tableRows(const FusionSummary& summary,
                                                           bool pairLabels);

void printFuseExtras(const FuseExtras& extras, const FuseExtrasResult& r,
                     const FusionSummary& summary, bool pairLabels);
/// `json` with members "finetune" and/or "seeds" added before its closing brace.
std::string appendFuseExtrasJson(const std::string& json, const FuseExtras& extras,
                                 const FuseExtrasResult& r, const FusionSummary& summary);

}  // namespace otfuse::cli
