// otfuse scenario compression A B: OT fusion into a narrower model vs structured magnitude
// pruning vs a narrow model trained from scratch, at several kept widths, before and after the
// same fine-tuning budget (issue 10, section 3; engine/compression.h).
#include <cstdio>
#include <iostream>
#include <sstream>

#include "commands.h"
#include "json_out.h"
#include "otfuse/engine/compression.h"
#include "otfuse/error.h"
#include "otfuse/fusion/report.h"
#ifdef OTFUSE_CLI_PLOTS
#include "compression/compression_plot.h"
#endif

namespace otfuse::cli {
namespace {

const char* kHelp = R"(usage: otfuse scenario compression A B [options]

Compresses two wide parents into narrower models three ways and compares them at each kept
width w (a fraction of every hidden layer):
  OT fusion     A aligned onto the pruned copy of B at width w and averaged with it (the
                anchor B_w is what pruning gives, so fusion differs from pruning only by what
                it adds from A, and it costs no training)
  pruning       B pruned to w: the neurons with the largest incoming-weight norm kept
  from scratch  a fresh model of the narrow architecture trained --scratch-epochs epochs
Each is evaluated, then fine-tuned --finetune-epochs epochs (SGD, fresh optimizer, same seed
and budget for all three) and evaluated again. Prints the table width x method x
before/after (test accuracy, %).

options:
  --widths W,...         kept widths, fractions in (0, 1] (default 1,0.75,0.5,0.25)
  --finetune-epochs E    fine-tuning budget of every method (default 1; 0 = none)
  --scratch-epochs E2    training of the scratch models (default: B's "epoch" metadata, the
                         parents' budget; required when B does not store it)
  --lr X                 learning rate of fine-tuning and scratch training (default 0.01)
  --momentum X           default 0.5 (the paper's MNIST setting)
  --batch-size N         default 64
  --seed S               scratch initialization, shuffling, activation samples (default 0)
  --limit N              train on the first N training images only (default: all)
  --mode M               fusion ground cost: weights (default) | activations
  --solver S             exact (default) | sinkhorn;  --eps X  Sinkhorn epsilon (0.01)
  --samples K            activation samples (default 200)
  --t X                  weight of the anchor (pruned B) in the fused average (default 0.5)
  --dataset D            default: the parents' (their metadata, else their input shape)
  --arch SPEC            architecture of A and B instead of inferring it
  --json                 print {"dataset", "a": {"path", "accuracy"}, "b": {...},
                         "finetune_epochs", "scratch_epochs", "widths", "methods", "points":
                         [{"width", "method", "label", "architecture", "parameters", "before",
                         "after", "curve": [accuracy after each fine-tuning epoch]}], "seconds"}
  --csv FILE             the table as CSV: width,method,architecture,parameters,before,after
  --plot FILE            accuracy against kept width (.png or .pdf): dashed before, solid
                         after fine-tuning
  --no-progress          no progress bar on stderr
  --data-dir DIR         where datasets live
)";

std::vector<double> parseWidths(const std::string& text) {
  std::vector<double> out;
  std::stringstream ss(text);
  std::string item;
  while (std::getline(ss, item, ',')) {
    double v = 0;
    try {
      size_t used = 0;
      v = std::stod(item, &used);
      if (used != item.size()) throw std::invalid_argument(item);
    } catch (const std::exception&) {
      throw Error("--widths expects comma-separated fractions, e.g. 1,0.75,0.5,0.25; '" + item +
                  "' is not a number");
    }
    if (!(v > 0.0 && v <= 1.0))
      throw Error("--widths: " + item + " is not a kept fraction in (0, 1] (1 = the full width)");
    out.push_back(v);
  }
  if (out.empty()) throw Error("--widths is empty");
  return out;
}

std::string csvText(const CompressionResult& r) {
  std::string out = "width,method,architecture,parameters,before,after\n";
  for (const auto& p : r.points) {
    char line[512];
    std::snprintf(line, sizeof line, "%g,%s,\"%s\",%lld,%.4f,%.4f\n", p.width, p.method.c_str(),
                  p.architecture.c_str(), static_cast<long long>(p.parameters), p.before, p.after);
    out += line;
  }
  return out;
}

}  // namespace

int cmdScenarioCompression(Args& args) {
  if (args.flag("help")) {
    std::cout << kHelp;
    return 0;
  }
  args.requireKnown({"widths", "finetune-epochs", "scratch-epochs", "lr", "momentum",
                     "batch-size", "seed", "limit", "mode", "solver", "eps", "samples", "t",
                     "dataset", "arch", "csv", "plot", "data-dir"});
  const auto& pos = args.positional();  // "compression", A, B
  if (pos.size() != 3)
    throw Error("otfuse scenario compression expects two models A B (see --help)");
  CompressionRequest req;
  if (args.has("widths")) req.widths = parseWidths(args.get("widths"));
  req.finetuneEpochs = int(args.getInt("finetune-epochs", 1));
  req.scratchEpochs = int(args.getInt("scratch-epochs", -1));
  if (args.has("scratch-epochs") && req.scratchEpochs < 1)
    throw Error("--scratch-epochs must be at least 1");
  if (req.finetuneEpochs < 0) throw Error("--finetune-epochs must be >= 0");
  req.learningRate = args.getDouble("lr", req.learningRate);
  req.momentum = args.getDouble("momentum", req.momentum);
  req.batchSize = int(args.getInt("batch-size", req.batchSize));
  if (!(req.learningRate > 0)) throw Error("--lr must be positive");
  if (req.batchSize < 1) throw Error("--batch-size must be at least 1");
  const long long seed = args.getInt("seed", 0);
  if (seed < 0) throw Error("--seed must be >= 0");
  req.seed = uint64_t(seed);
  req.limit = args.getInt("limit", 0);
  if (req.limit < 0) throw Error("--limit must be >= 0");
  req.options.mode = parseAlignMode(args.get("mode", "weights"));
  req.options.solver = parseSolver(args.get("solver", "exact"));
  req.options.epsilon = args.getDouble("eps", req.options.epsilon);
  req.options.t = args.getDouble("t", req.options.t);
  if (!(req.options.t >= 0 && req.options.t <= 1)) throw Error("--t must be in [0, 1]");
  req.samples = int(args.getInt("samples", 200));
  if (req.samples < 1) throw Error("--samples must be at least 1");
  if (args.has("dataset")) {
    req.dataset = canonicalDatasetName(args.get("dataset"));
    if (req.dataset.empty())
      throw Error("unknown dataset '" + args.get("dataset") +
                  "' given with --dataset (known: mnist, fashion-mnist, cifar10, folder:<root>)");
  }
  req.dataDir = args.get("data-dir");
#ifndef OTFUSE_CLI_PLOTS
  if (args.has("plot"))
    throw Error("--plot needs the Qt plots, and this otfuse was built without the UI "
                "(OTFUSE_BUILD_UI=OFF); use --csv or --json and plot elsewhere");
#endif
  req.a = loadModel(pos[1], args.get("arch"));
  req.b = loadModel(pos[2], args.get("arch"));

  ProgressBar bar;
  ProgressFn progress;
  if (!args.flag("no-progress"))
    progress = [&bar](const Progress& p) { bar.update(p.stage, p.done, p.total, p.message); };
  CompressionResult r = runCompression(req, {}, progress, interruptFlag());
  bar.finish();

  if (args.has("csv")) writeFileAtomically(args.get("csv"), csvText(r));
#ifdef OTFUSE_CLI_PLOTS
  if (args.has("plot")) otfuse::ui::saveCompressionPlot(r, args.get("plot"));
#endif

  if (args.flag("json")) {
    std::cout << "{\"dataset\": " << jsonString(r.dataset) << ", \"a\": {\"path\": "
              << jsonString(pos[1]) << ", \"accuracy\": " << jsonNumber(r.accuracyA)
              << "}, \"b\": {\"path\": " << jsonString(pos[2])
              << ", \"accuracy\": " << jsonNumber(r.accuracyB)
              << "}, \"finetune_epochs\": " << r.finetuneEpochs
              << ", \"scratch_epochs\": " << r.scratchEpochs << ", \"widths\": [";
    for (size_t i = 0; i < req.widths.size(); ++i) std::cout << (i ? ", " : "") << jsonNumber(req.widths[i]);
    std::cout << "], \"methods\": [";
    for (size_t i = 0; i < compressionMethods().size(); ++i)
      std::cout << (i ? ", " : "") << jsonString(compressionMethods()[i]);
    std::cout << "], \"points\": [";
    for (size_t i = 0; i < r.points.size(); ++i) {
      const auto& p = r.points[i];
      std::cout << (i ? ", " : "") << "{\"width\": " << jsonNumber(p.width)
                << ", \"method\": " << jsonString(p.method)
                << ", \"label\": " << jsonString(compressionMethodLabel(p.method))
                << ", \"architecture\": " << jsonString(p.architecture)
                << ", \"parameters\": " << p.parameters << ", \"before\": " << jsonNumber(p.before)
                << ", \"after\": " << jsonNumber(p.after) << ", \"curve\": [";
      for (size_t k = 0; k < p.curve.size(); ++k) std::cout << (k ? ", " : "") << jsonNumber(p.curve[k]);
      std::cout << "]}";
    }
    std::cout << "], \"seconds\": " << jsonNumber(r.seconds, 4) << "}\n";
    return 0;
  }
  std::printf("compression on %s: A %s %.2f %%, B %s %.2f %% (B is pruned and is the fusion "
              "anchor)\nfine-tuning %d epoch(s) for every method; scratch models trained %d "
              "epoch(s)\n\n",
              r.dataset.c_str(), pos[1].c_str(), r.accuracyA, pos[2].c_str(), r.accuracyB,
              r.finetuneEpochs, r.scratchEpochs);
  std::printf("%6s  %-13s  %-20s  %10s  %8s  %8s\n", "width", "method", "architecture",
              "parameters", "before", "after");
  for (const auto& p : r.points)
    std::printf("%5.0f%%  %-13s  %-20s  %10lld  %7.2f%%  %7.2f%%\n", 100 * p.width,
                compressionMethodLabel(p.method).c_str(), p.architecture.c_str(),
                static_cast<long long>(p.parameters), p.before, p.after);
  std::printf("\n(%.0f s)\n", r.seconds);
  return 0;
}

}  // namespace otfuse::cli
