// otfuse scenario table-one: Table 1 as mean ± std over K pairs of parents, each trained from
// its own seeds (reviewer 3: whole experiments repeated, not only the activation sampling).
#include <cstdio>
#include <filesystem>
#include <iostream>

#include "commands.h"
#include "otfuse/engine/engine.h"
#include "otfuse/engine/sweep.h"
#include "otfuse/error.h"
#include "otfuse/fusion/report.h"
#include "sweep_options.h"

namespace otfuse::cli {
namespace {

const char* kHelp = R"(usage: otfuse scenario table-one [options]
Trains K pairs of parents (pair k: seeds 2k and 2k + 1), fuses each pair (A = seed 2k aligned
onto B = seed 2k + 1, activation samples drawn with seed k), and prints the paper's Table 1
(model A, model B, prediction ensemble, vanilla average, OT fusion) as mean ± std over the K
pairs, per fusion mode. Parents are cached in DIR/parents (a rerun with the same settings
trains nothing); each fusion's JSON result is DIR/results/<point>.json, the table
DIR/table.txt and DIR/table.csv (the same table `otfuse collect --across-pairs DIR/results`
prints).

options:
  --seeds K          number of parent pairs (default 3)
  --arch SPEC        architecture (default mlpnet; see otfuse train --help)
  --dataset D        mnist (default) | fashion-mnist | cifar10 | folder:PATH
  --epochs E         training epochs per parent (default 10, the paper's MNIST budget)
  --limit N          train on the first N training images only (default: all)
  --lr X             learning rate (default 0.01); --momentum X (default 0.5)
  --modes M,...      fusion modes (default weights,activations)
  --solver S         exact (default) | sinkhorn; --eps E (default 0.01)
  --t T              weight of B (default 0.5)
  --samples K        activation samples (default 200)
  --workers N        fusions at a time (default: the number of cores)
  --out-dir DIR      default table-one
  --json             print the table as JSON
  --no-progress      no progress output
  --data-dir DIR     where datasets live
)";

}  // namespace

int cmdScenarioTableOne(Args& args) {
  namespace fs = std::filesystem;
  if (args.flag("help")) {
    std::cout << kHelp;
    return 0;
  }
  args.requireKnown({"seeds", "arch", "dataset", "epochs", "limit", "lr", "momentum", "modes",
                     "solver", "eps", "t", "samples", "workers", "out-dir", "data-dir"});
  if (args.positional().size() > 1) throw Error("table-one takes no file arguments (see --help)");
  const long long k = args.getInt("seeds", 3);
  if (k < 1 || k > 1000) throw Error("--seeds (the number of parent pairs) must be between 1 and 1000");
  TrainRequest train;
  train.spec = args.get("arch", "mlpnet");
  train.dataset = canonicalDatasetName(args.get("dataset", "mnist"));
  if (train.dataset.empty()) throw Error("unknown dataset '" + args.get("dataset") + "'");
  train.dataDir = args.get("data-dir");
  train.epochs = int(args.getInt("epochs", 10));
  if (train.epochs < 1 || train.epochs > 100000) throw Error("--epochs must be between 1 and 100000");
  train.limit = args.getInt("limit", 0);
  if (train.limit < 0) throw Error("--limit must be non-negative");
  train.learningRate = args.getDouble("lr", train.learningRate);
  train.momentum = args.getDouble("momentum", train.momentum);
  const std::string outDir = args.get("out-dir", "table-one");
  const std::vector<std::string> modes =
      splitList(args.get("modes", "weights,activations"), "modes");
  const std::string solver = args.get("solver", "exact");
  const double eps = args.getDouble("eps", 0.01);
  const double t = args.getDouble("t", 0.5);
  const bool quiet = args.flag("no-progress");
  const CancelFlag* cancel = interruptFlag();

  // Parents, cached under a name that says how they were trained.
  const fs::path parentDir = fs::path(outDir) / "parents";
  std::error_code ec;
  fs::create_directories(parentDir, ec);
  if (ec) throw FileError(parentDir.string(), "cannot create the folder: " + ec.message());
  char budget[160];
  std::snprintf(budget, sizeof budget, "e%d_lr%g_m%g%s", train.epochs, train.learningRate,
                train.momentum,
                train.limit ? ("_limit" + std::to_string(train.limit)).c_str() : "");
  std::string stem = train.spec + "_" + train.dataset + "_" + budget;
  for (char& c : stem)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '-' && c != '_') c = '_';
  std::vector<std::string> parents;
  ProgressBar bar;
  for (long long s = 0; s < 2 * k; ++s) {
    const std::string path = (parentDir / (stem + "_seed" + std::to_string(s) + ".pt")).string();
    parents.push_back(path);
    if (fs::exists(path)) {
      if (!quiet) std::fprintf(stderr, "parent %lld of %lld: cached %s\n", s + 1, 2 * k, path.c_str());
      continue;
    }
    train.seed = uint64_t(s);
    ProgressFn progress;
    if (!quiet)
      progress = [&bar, s, k](const Progress& p) {
        bar.update("train parent " + std::to_string(s + 1) + "/" + std::to_string(2 * k) + ": " +
                       p.stage, p.done, p.total, p.message);
      };
    ModelPtr m = trainNewModel(train, progress, cancel);
    bar.finish();
    saveModel(m, path);  // atomic
  }

  // One fusion per pair and mode; pair k samples its activations with seed k.
  std::vector<SweepPoint> points;
  for (long long i = 0; i < k; ++i) {
    SweepAxes axes;
    axes.pairs = {{parents[size_t(2 * i)], parents[size_t(2 * i + 1)]}};
    axes.modes = modes;
    axes.solvers = {solver};
    axes.epsilons = {eps};
    axes.ts = {t};
    axes.seeds = {uint64_t(i)};
    for (auto& p : enumerateSweep(axes)) points.push_back(std::move(p));
  }
  SweepCommon common;
  common.dataset = train.dataset;
  common.dataDir = train.dataDir;
  common.arch = train.spec;
  common.samples = int(args.getInt("samples", 200));
  if (common.samples < 1) throw Error("--samples must be positive");
  SweepRunOptions run;
  run.workers = int(args.getInt("workers", 0));
  run.skipExisting = true;  // a fusion of cached parents with the same settings is reused
  const std::string resultDir = (fs::path(outDir) / "results").string();
  SweepProgressFn progress;
  if (!quiet)
    progress = [&bar](const SweepProgress& p) {
      bar.update("fuse", (long long)p.done, (long long)p.total, p.lastPoint);
    };
  const SweepRunResult result = runSweep(points, common, resultDir, run, progress, cancel);
  bar.finish();
  for (const auto& [name, why] : result.failures)
    std::fprintf(stderr, "otfuse: fusion %s failed: %s\n", name.c_str(), why.c_str());
  if (!result.failures.empty()) return 1;

  CollectOptions collect;
  collect.acrossModels = true;
  const CollectResult table = collectResults(resultDir, collect);
  writeFileAtomically((fs::path(outDir) / "table.txt").string(), collectTableText(table));
  writeFileAtomically((fs::path(outDir) / "table.csv").string(), collectTableCsv(table));
  if (args.flag("json")) {
    std::cout << collectTableJson(table);
  } else {
    std::printf("Table 1 over %lld pairs of %s parents (%s, %d epoch%s%s), mean ± std over the pairs\n\n",
                k, train.spec.c_str(), train.dataset.c_str(), train.epochs,
                train.epochs == 1 ? "" : "s",
                train.limit ? (", first " + std::to_string(train.limit) + " training images").c_str() : "");
    std::cout << collectTableText(table);
  }
  return 0;
}

}  // namespace otfuse::cli
