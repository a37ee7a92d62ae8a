// otfuse fuse: OT fusion of two models with the paper's Table-1 baselines.
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <optional>

#include "commands.h"
#include "otfuse/data/dataset.h"
#include "otfuse/engine/table_one.h"
#include "otfuse/error.h"
#include "otfuse/fusion/fusion.h"
#include "otfuse/fusion/report.h"
#include "otfuse/io/checkpoint.h"
#include "otfuse/train/train.h"

namespace otfuse::cli {
namespace {

const char* kHelp = R"(usage: otfuse fuse [options] A B
Aligns model A onto the anchor B with optimal transport, layer by layer, and averages them
(Singh & Jaggi 2020). Prints the paper's Table-1 row: A, B, prediction ensemble, vanilla
average and OT fusion test accuracy, and the time taken.

options:
  --dataset D          mnist | fashion-mnist | cifar10 | folder:PATH (default: from the model)
  --arch SPEC          architecture of both files (default: inferred)
  --mode M             weights (default) | activations
  --solver S           exact (default) | sinkhorn
  --eps E              Sinkhorn regularization (default 0.01)
  --sinkhorn-max-iter N  Sinkhorn iteration limit per layer (default 10000); a layer that
                       reaches it is reported (table, JSON) as an approximate plan
  --sinkhorn-tol X     Sinkhorn tolerance on the L1 marginal error (default 1e-9)
  --samples K          activation samples from the training set (default 200)
  --seed S             seed for choosing the activation samples (default 0)
  --samples-file F     use the inputs stored in F (a tensor [K,C,H,W]) instead
  --metric M           euclidean (default) | sqeuclidean | cosine
  --normalize N        none (default) | max | mean | median | log1p
  --marginals M        uniform (default) | l1 | l2
  --t T                weight of the anchor B (default 0.5)
  --ot-output-layer    solve OT on the output layer too (as the reference code does)
  --ensemble R         logsoftmax (default, the paper's) | prob
  --bn-batches N       BatchNorm models: also report OT fusion and vanilla averaging with the
                       running statistics re-estimated on N training batches (default 20, 0 off)
  --out FILE           write the fused model (zip state_dict, loadable by torch.load)
  --report FILE        write every per-layer result (costs, plans, marginals, stats) as JSON
  --plans-dir DIR      write each layer's plan as CSV
  --no-eval            fuse only (no test-set evaluation)
  --json               print the result as JSON instead of a table
  --no-progress        no progress bar
  --data-dir DIR       where datasets live
)";

// Output destinations are checked before any work, so a typo costs nothing and no output is
// half done when another one fails.
void checkOutputFile(const std::string& option, const std::string& path) {
  namespace fs = std::filesystem;
  if (path.empty()) throw Error("--" + option + " expects a file name");
  const fs::path p(path);
  const fs::path dir = p.has_parent_path() ? p.parent_path() : fs::path(".");
  std::error_code ec;
  if (!fs::is_directory(dir, ec))
    throw FileError(path, "the folder " + dir.string() + " does not exist (--" + option + ")");
  if (fs::is_directory(p, ec))
    throw FileError(path, "is a folder; --" + option + " expects a file name");
  if (::access(dir.c_str(), W_OK) != 0)
    throw FileError(path, "cannot write in the folder " + dir.string() + " (--" + option + ")");
}

void checkOutputFolder(const std::string& option, const std::string& path) {
  namespace fs = std::filesystem;
  if (path.empty()) throw Error("--" + option + " expects a folder name");
  std::error_code ec;
  const fs::path p(path);
  if (fs::exists(p, ec)) {
    if (!fs::is_directory(p, ec))
      throw FileError(path, "exists and is not a folder (--" + option + ")");
    return;
  }
  const fs::path parent = p.has_parent_path() ? p.parent_path() : fs::path(".");
  if (!fs::is_directory(parent, ec))
    throw FileError(path, "cannot be created: the folder " + parent.string() +
                              " does not exist (--" + option + ")");
}

at::Tensor loadSamples(const std::string& path) {
  StateDict tensors = loadTensors(path);
  if (tensors.size() != 1)
    throw FileError(path, "expected a single tensor of input samples [K, C, H, W], found " +
                              std::to_string(tensors.size()) + " tensors");
  at::Tensor x = tensors.begin()->second;
  if (x.dim() != 4) throw FileError(path, "the input samples must have shape [K, C, H, W]");
  return x.to(at::kFloat).contiguous();
}

}  // namespace

int cmdFuse(Args& args) {
  if (args.flag("help")) {
    std::cout << kHelp;
    return 0;
  }
  args.requireKnown({"dataset", "arch", "mode", "solver", "eps", "samples", "seed",
                     "samples-file", "metric", "normalize", "marginals", "t", "ensemble", "out",
                     "report", "plans-dir", "data-dir", "bn-batches",
                     "sinkhorn-max-iter", "sinkhorn-tol"});
  if (args.positional().size() != 2) throw Error("fuse needs two model files A and B (see --help)");
  const std::string pathA = args.positional()[0], pathB = args.positional()[1];

  // Every option is checked before any work: a bad value is a message and exit code 1, and
  // no file is written.
  FusionOptions opt;
  opt.mode = parseAlignMode(args.get("mode", "weights"));
  opt.solver = parseSolver(args.get("solver", "exact"));
  opt.epsilon = args.getDouble("eps", opt.epsilon);
  if (!(opt.epsilon > 0) || !std::isfinite(opt.epsilon))
    throw Error("--eps must be a positive number, got '" + args.get("eps") + "'");
  opt.sinkhornMaxIterations = static_cast<int>(args.getInt("sinkhorn-max-iter", opt.sinkhornMaxIterations));
  opt.sinkhornTolerance = args.getDouble("sinkhorn-tol", opt.sinkhornTolerance);
  if (opt.sinkhornMaxIterations < 1) throw Error("--sinkhorn-max-iter must be at least 1");
  if (!(opt.sinkhornTolerance > 0)) throw Error("--sinkhorn-tol must be positive");
  opt.metric = ot::parseMetric(args.get("metric", "euclidean"));
  opt.normalization = ot::parseNormalization(args.get("normalize", "none"));
  opt.marginals = parseMarginals(args.get("marginals", "uniform"));
  opt.t = args.getDouble("t", opt.t);
  if (!(opt.t >= 0 && opt.t <= 1))
    throw Error("--t (the weight of the anchor B) must lie in [0, 1], got '" + args.get("t") + "'");
  opt.otOutputLayer = args.flag("ot-output-layer");
  const long long samples = args.getInt("samples", 200);
  if (samples < 1 || samples > 1000000)
    throw Error("--samples must be between 1 and 1000000, got " + std::to_string(samples));
  const long long seedArg = args.getInt("seed", 0);
  if (seedArg < 0) throw Error("--seed must be non-negative, got " + std::to_string(seedArg));
  const uint64_t seed = static_cast<uint64_t>(seedArg);
  const long long bnBatches = args.getInt("bn-batches", 20);
  if (bnBatches < 0 || bnBatches > 1000000)
    throw Error("--bn-batches must be between 0 and 1000000, got " + std::to_string(bnBatches));
  const std::string ruleName = args.get("ensemble", "logsoftmax");
  if (ruleName != "logsoftmax" && ruleName != "prob")
    throw Error("--ensemble expects logsoftmax or prob, got '" + ruleName + "'");
  const EnsembleRule rule =
      ruleName == "prob" ? EnsembleRule::ProbabilityMean : EnsembleRule::LogSoftmaxMean;
  const bool json = args.flag("json"), evaluateModels = !args.flag("no-eval");
  const std::string dataDir = args.get("data-dir");
  if (args.has("out")) checkOutputFile("out", args.get("out"));
  if (args.has("report")) checkOutputFile("report", args.get("report"));
  if (args.has("plans-dir")) checkOutputFolder("plans-dir", args.get("plans-dir"));

  ProgressBar bar;
  ProgressFn progress;
  if (!args.flag("no-progress"))
    progress = [&bar](const Progress& p) { bar.update(p.stage, p.done, p.total, p.message); };

  Model a = Model::load(pathA, args.get("arch"));
  Model b = Model::load(pathB, args.get("arch"));
  if (std::string why = fusionIncompatibility(a, b); !why.empty())
    throw Error("cannot fuse " + pathA + " (A) onto " + pathB + " (B): " + why);
  const std::string datasetName = args.get("dataset", b.architecture().inputKind());

  at::Tensor inputs;
  if (opt.mode == AlignMode::Activations) {
    if (args.has("samples-file")) {
      inputs = loadSamples(args.get("samples-file"));
    } else {
      Dataset train = loadDataset(datasetName, Split::Train, dataDir);
      inputs = sampleInputs(train, int(samples), seed);
    }
  }

  FusionResult fused = fuse(a, b, opt, inputs, progress, interruptFlag());
  bar.finish();

  FusionSummary summary;
  summary.models = {pathA, pathB};
  summary.architecture = b.architecture().name;
  summary.dataset = datasetName;
  summary.options = opt;
  summary.samples = opt.mode == AlignMode::Activations ? int(inputs.size(0)) : 0;
  summary.seed = seed;
  summary.fusionSeconds = fused.seconds;
  summary.plans = planStatus(fused.layers);
  // An approximate plan is never accepted silently (also when --json goes to a pipe).
  if (!summary.plans.ok()) std::fprintf(stderr, "warning: %s\n", summary.plans.text(opt).c_str());

  if (evaluateModels) {
    Dataset test = loadDataset(datasetName, Split::Test, dataDir);
    std::optional<Dataset> train;
    TableOneOptions t1;
    t1.ensembleRule = rule;
    t1.t = opt.t;
    t1.bnBatches = static_cast<int>(bnBatches);
    t1.seed = seed;
    evaluateTableOne(
        a, b, fused.fused, test,
        [&]() -> const Dataset& {
          if (!train) train = loadDataset(datasetName, Split::Train, dataDir);
          return *train;
        },
        t1, summary, progress, interruptFlag());
    bar.finish();
  }

  if (args.has("out")) {
    saveCheckpoint(args.get("out"), fused.fused.state());
  }
  if (args.has("report")) writeFileAtomically(args.get("report"), reportJson(summary, &fused.layers, true));
  if (args.has("plans-dir")) writePlansCsv(args.get("plans-dir"), fused.layers);

  if (json) {
    std::cout << reportJson(summary, &fused.layers, false);
    return 0;
  }
  std::printf("OT fusion of %s (A, aligned) onto %s (B, anchor)\n", pathA.c_str(), pathB.c_str());
  std::printf("architecture %s, dataset %s, mode %s, solver %s", summary.architecture.c_str(),
              datasetName.c_str(), toString(opt.mode).c_str(), toString(opt.solver).c_str());
  if (opt.solver == Solver::Sinkhorn) std::printf(" (eps %g)", opt.epsilon);
  if (opt.mode == AlignMode::Activations) std::printf(", %d samples", summary.samples);
  std::printf(", t = %g\n\n", opt.t);
  if (evaluateModels) {
    const char* rows[][2] = {{"model_0", "model A"},
                             {"model_1", "model B"},
                             {"ensemble", "prediction ensemble"},
                             {"vanilla", "vanilla average"},
                             {"fused", "OT fusion"},
                             {"vanilla_bn", "vanilla + BN re-est."},
                             {"fused_bn", "OT fusion + BN re-est."}};
    std::printf("%-22s %10s %10s\n", "", "accuracy", "loss");
    for (const auto& row : rows) {
      auto it = summary.accuracy.find(row[0]);
      if (it == summary.accuracy.end()) {
        if (std::string(row[0]).find("_bn") == std::string::npos)
          std::printf("%-22s %10s %10s\n", row[1], "n/a", "n/a");
        continue;
      }
      std::printf("%-22s %9.2f%% %10.4f\n", row[1], it->second, summary.loss[row[0]]);
    }
    std::printf("\n");
  }
  std::printf("plans: %s\n", summary.plans.text(opt).c_str());
  std::printf("fusion %.3f s", summary.fusionSeconds);
  if (evaluateModels) std::printf(", evaluation of the fused model %.3f s", summary.evaluationSeconds);
  std::printf("\n");
  for (const auto& r : fused.layers) {
    std::printf("  %-20s %4lldx%-4lld %s  OT cost %.5g  entropy %.3f  mass on best match %.3f\n",
                r.name.c_str(), static_cast<long long>(r.corrected.rows()),
                static_cast<long long>(r.corrected.cols()),
                r.identity ? "identity" : r.reused ? "reused  " : ot::toString(r.status).c_str(),
                r.otCost, r.entropy, r.massOnBest);
  }
  return 0;
}

}  // namespace otfuse::cli
