// otfuse fuse: OT fusion of two models with the paper's Table-1 baselines.
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <optional>

#include "commands.h"
#include "json_out.h"
#include "model_files.h"
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
  --dataset D          mnist | fashion-mnist | cifar10 | folder:PATH (default: the dataset
                       the checkpoints' metadata name, B's first; without one, guessed from
                       the input shape; the output says which and why)
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
  --out FILE           write the fused model: a zip checkpoint {"model_state_dict", ...} that
                       torch.load reads, with metadata saying which model it is (fusion_model,
                       fusion_model_description), its test_accuracy/test_loss row, dataset
  --out-model M        what --out writes: fused_bn (BatchNorm statistics re-estimated, the row
                       "OT fusion + BN re-est."; default for BatchNorm models) | fused (as
                       averaged, the row "OT fusion"; default otherwise)
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
                     "report", "plans-dir", "data-dir", "bn-batches", "out-model",
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
  const std::string outModel = args.get("out-model", "auto");
  if (outModel != "auto" && outModel != "fused" && outModel != "fused_bn")
    throw Error("--out-model expects fused_bn, fused or auto, got '" + outModel + "'");
  if (args.has("out-model") && !args.has("out"))
    throw Error("--out-model chooses what --out writes; give --out FILE too");
  if (outModel == "fused_bn" && bnBatches == 0)
    throw Error("--out-model fused_bn needs BatchNorm re-estimation; --bn-batches is 0");
  if (args.has("out")) checkOutputFile("out", args.get("out"));
  if (args.has("report")) checkOutputFile("report", args.get("report"));
  if (args.has("plans-dir")) checkOutputFolder("plans-dir", args.get("plans-dir"));

  ProgressBar bar;
  ProgressFn progress;
  if (!args.flag("no-progress"))
    progress = [&bar](const Progress& p) { bar.update(p.stage, p.done, p.total, p.message); };

  const ModelFile fileA = loadModelFile(pathA, args.get("arch"));
  const ModelFile fileB = loadModelFile(pathB, args.get("arch"));
  const Model& a = fileA.model;
  const Model& b = fileB.model;
  if (std::string why = fusionIncompatibility(a, b); !why.empty())
    throw Error("cannot fuse " + pathA + " (A) onto " + pathB + " (B): " + why);
  // The anchor's dataset first; a dataset named in either checkpoint beats a shape guess.
  const DatasetChoice dataset = chooseDataset(args, {&fileB, &fileA});
  const std::string& datasetName = dataset.name;
  // What --out writes: by default the model of the table's best row, i.e. with re-estimated
  // BatchNorm statistics for BatchNorm models (the averaged running statistics do not fit the
  // averaged weights).
  const bool batchNorm = b.hasBatchNorm();
  if (outModel == "fused_bn" && !batchNorm)
    throw Error("--out-model fused_bn: " + pathB + " has no BatchNorm layers; use fused");
  const std::string outKey =
      outModel == "auto" ? (batchNorm && bnBatches > 0 ? "fused_bn" : "fused") : outModel;

  std::optional<Dataset> trainData;  // loaded once, when first needed
  auto trainSet = [&]() -> const Dataset& {
    if (!trainData) trainData = loadDataset(datasetName, Split::Train, dataDir);
    return *trainData;
  };

  at::Tensor inputs;
  if (opt.mode == AlignMode::Activations) {
    inputs = args.has("samples-file") ? loadSamples(args.get("samples-file"))
                                       : sampleInputs(trainSet(), int(samples), seed);
  }

  FusionResult fused = fuse(a, b, opt, inputs, progress, interruptFlag());
  bar.finish();

  FusionSummary summary;
  summary.models = {pathA, pathB};
  summary.architecture = b.architecture().name;
  summary.dataset = datasetName;
  summary.datasetSource = dataset.reason;
  summary.options = opt;
  summary.samples = opt.mode == AlignMode::Activations ? int(inputs.size(0)) : 0;
  summary.seed = seed;
  summary.fusionSeconds = fused.seconds;
  summary.plans = planStatus(fused.layers);
  // An approximate plan is never accepted silently (also when --json goes to a pipe).
  if (!summary.plans.ok()) std::fprintf(stderr, "warning: %s\n", summary.plans.text(opt).c_str());

  TableOneOptions t1;
  t1.ensembleRule = rule;
  t1.t = opt.t;
  t1.bnBatches = static_cast<int>(bnBatches);
  t1.seed = seed;
  std::optional<Model> fusedBn;  // the model of the fused_bn row
  if (evaluateModels) {
    Dataset test = loadDataset(datasetName, Split::Test, dataDir);
    fusedBn = evaluateTableOne(a, b, fused.fused, test, trainSet, t1, summary, progress,
                               interruptFlag());
    bar.finish();
  }

  if (args.has("out")) {
    if (outKey == "fused_bn" && !fusedBn)  // --no-eval: re-estimate as the table would
      fusedBn = reestimateBatchNorm(fused.fused, trainSet(), t1, interruptFlag());
    const Model& written = outKey == "fused_bn" ? *fusedBn : fused.fused;
    saveCheckpoint(args.get("out"), written.state(),
                   fusedModelMetadata(summary, outKey, t1.bnBatches));
  }
  if (args.has("report")) writeFileAtomically(args.get("report"), reportJson(summary, &fused.layers, true));
  if (args.has("plans-dir")) writePlansCsv(args.get("plans-dir"), fused.layers);

  // Which model --out wrote, in words, with its row of the table.
  std::string outLine;
  if (args.has("out")) {
    const auto acc = summary.accuracy.find(outKey);
    outLine = std::string("wrote ") + args.get("out") + ": " +
              (outKey == "fused_bn" ? "OT fusion with BatchNorm statistics re-estimated (row "
                                      "\"OT fusion + BN re-est.\")"
                                    : "OT fusion as averaged (row \"OT fusion\")");
    if (acc != summary.accuracy.end()) {
      char buf[64];
      std::snprintf(buf, sizeof buf, ", test accuracy %.2f %%", acc->second);
      outLine += buf;
    }
    if (outModel == "auto")
      outLine += outKey == "fused_bn" ? "; --out-model fused writes the model as averaged"
                                      : "";
  }

  if (json) {
    std::string text = reportJson(summary, &fused.layers, false);
    if (args.has("out")) {  // one more member: {"path", "model", "accuracy", "loss"}
      const size_t close = text.rfind('}');
      std::string out = ",\n  \"out\": {\"path\": " + jsonString(args.get("out")) +
                        ", \"model\": " + jsonString(outKey);
      if (auto it = summary.accuracy.find(outKey); it != summary.accuracy.end())
        out += ", \"accuracy\": " + jsonNumber(it->second) +
               ", \"loss\": " + jsonNumber(summary.loss.at(outKey));
      text.insert(text.find_last_not_of(" \n", close - 1) + 1, out + "}");
    }
    std::cout << text;
    return 0;
  }
  std::printf("OT fusion of %s (A, aligned) onto %s (B, anchor)\n", pathA.c_str(), pathB.c_str());
  std::printf("dataset %s (%s)\n", datasetName.c_str(), dataset.reason.c_str());
  std::printf("architecture %s, mode %s, solver %s", summary.architecture.c_str(),
              toString(opt.mode).c_str(), toString(opt.solver).c_str());
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
  if (!outLine.empty()) std::printf("%s\n\n", outLine.c_str());
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
