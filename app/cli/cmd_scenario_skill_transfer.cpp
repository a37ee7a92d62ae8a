// otfuse scenario skill-transfer: the paper's Section 5.1 (heterogeneous data) in one command.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <sstream>

#include "commands.h"
#include "otfuse/engine/skill_transfer.h"
#include "otfuse/error.h"
#include "otfuse/fusion/report.h"

namespace otfuse::cli {
namespace {

const char* kHelp = R"(usage: otfuse scenario skill-transfer [options]

The paper's skill-transfer experiment (Singh & Jaggi 2020, Section 5.1). The training images
are split as in the authors' code ("personal" split): model A gets every image of a special
class plus a fraction p of each other class, model B the rest (never the special class). Both
are trained, then A is aligned onto B and averaged with weight t for B (several t, towards B,
which saw most of the data). Prints overall accuracy, accuracy on the special class and on the
other classes for A, B, their prediction ensemble, vanilla averaging and OT fusion at each t.
With --seeds K the whole experiment runs K times (split seed s, A trained with seed 2s, B with
2s + 1) and every number is mean ± sample standard deviation.

options:
  --special-class C     default 4 (the authors' default)
  --fraction P          fraction of each other class that goes to A, in [0, 1] (default 0.1)
  --arch SPEC           architecture of both parents (default mlpnet; see otfuse train --help)
  --dataset D           mnist (default), fashion-mnist, cifar10 or folder:ROOT
  --epochs N            training epochs of each parent (default 10)
  --lr X                learning rate (default 0.01)
  --momentum X          default 0.5
  --batch-size N        default 64
  --limit N             split and train on the first N training images only (default: all)
  --seeds K             repetitions (default 1)
  --seed S              first seed (default 0): seeds S .. S + K - 1
  --t T1,T2,...         weights of B (default 0.5,0.7,0.9)
  --mode M              weights (default) or activations
  --solver S            exact (default) or sinkhorn, with --eps E (default 0.01)
  --samples N           activations mode: training images sampled (default 200)
  --ensemble RULE       logsoftmax (default) or prob
  --out-dir DIR         keep the trained parents in DIR and reuse them when run again with the
                        same settings (file names encode every training setting)
  --report FILE         also write the JSON to FILE (atomically)
  --json                print JSON instead of the table: settings, seeds, classes, train
                        sizes, and per row {key, label, t, overall, special, others: {mean,
                        std, values}, per_class: {mean, std}, confusion (summed over seeds)}
  --no-progress         no progress bar on stderr
  --data-dir DIR        where datasets live

example (the paper's setting on MNIST, about a minute per epoch pair on two cores):
  otfuse scenario skill-transfer --epochs 10 --out-dir runs/skill
)";

std::vector<double> parseList(const std::string& name, const std::string& text) {
  std::vector<double> out;
  std::stringstream ss(text);
  std::string item;
  while (std::getline(ss, item, ',')) {
    size_t used = 0;
    double v = 0;
    try {
      v = std::stod(item, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (item.empty() || used != item.size())
      throw Error("--" + name + " expects comma-separated numbers, got '" + text + "'");
    out.push_back(v);
  }
  if (out.empty()) throw Error("--" + name + " expects at least one number");
  return out;
}

// `text` right-aligned in `width` characters (UTF-8 aware: "±" is one character).
std::string padLeft(const std::string& text, size_t width) {
  size_t chars = 0;
  for (unsigned char c : text) chars += (c & 0xC0) != 0x80;
  return chars >= width ? text : std::string(width - chars, ' ') + text;
}

std::string cell(const SeedStat& s, bool withStd) {
  char buf[48];
  if (!std::isfinite(s.mean)) return "-";
  if (withStd)
    std::snprintf(buf, sizeof buf, "%6.2f ± %4.2f", s.mean, s.std);
  else
    std::snprintf(buf, sizeof buf, "%6.2f", s.mean);
  return buf;
}

}  // namespace

int cmdScenarioSkillTransfer(Args& args) {
  if (args.flag("help")) {
    std::cout << kHelp;
    return 0;
  }
  args.requireKnown({"special-class", "fraction", "arch", "dataset", "epochs", "lr", "momentum",
                     "batch-size", "limit", "seeds", "seed", "t", "mode", "solver", "eps",
                     "samples", "ensemble", "out-dir", "report", "data-dir"});
  if (args.positional().size() > 1)
    throw Error("otfuse scenario skill-transfer takes no further arguments, got '" +
                args.positional()[1] + "' (see --help)");
  SkillTransferRequest r;
  r.specialClass = int(args.getInt("special-class", r.specialClass));
  if (r.specialClass < 0)
    throw Error("--special-class must be a class index (0 or more), got " +
                args.get("special-class"));
  r.fraction = args.getDouble("fraction", r.fraction);
  if (!(r.fraction >= 0.0 && r.fraction <= 1.0))
    throw Error("--fraction must be in [0, 1], got " + args.get("fraction"));
  r.arch = args.get("arch", r.arch);
  r.dataset = args.get("dataset", r.dataset);
  r.dataDir = args.get("data-dir");
  r.epochs = int(args.getInt("epochs", r.epochs));
  if (r.epochs < 1 || r.epochs > 100000) throw Error("--epochs must be between 1 and 100000");
  r.learningRate = args.getDouble("lr", r.learningRate);
  if (!(r.learningRate > 0) || !std::isfinite(r.learningRate))
    throw Error("--lr must be a positive number");
  r.momentum = args.getDouble("momentum", r.momentum);
  if (!(r.momentum >= 0)) throw Error("--momentum must be non-negative");
  r.batchSize = int(args.getInt("batch-size", r.batchSize));
  if (r.batchSize < 1 || r.batchSize > 1000000)
    throw Error("--batch-size must be between 1 and 1000000");
  r.limit = args.getInt("limit", 0);
  if (r.limit < 0) throw Error("--limit must be non-negative");
  r.seeds = int(args.getInt("seeds", 1));
  if (r.seeds < 1 || r.seeds > 1000) throw Error("--seeds must be between 1 and 1000");
  const long long seed = args.getInt("seed", 0);
  if (seed < 0) throw Error("--seed must be non-negative");
  r.firstSeed = uint64_t(seed);
  if (args.has("t")) r.ts = parseList("t", args.get("t"));
  for (double t : r.ts)
    if (!(t >= 0.0 && t <= 1.0)) throw Error("--t values must lie in [0, 1], got " + args.get("t"));
  r.options.mode = parseAlignMode(args.get("mode", "weights"));
  r.options.solver = parseSolver(args.get("solver", "exact"));
  r.options.epsilon = args.getDouble("eps", r.options.epsilon);
  if (!(r.options.epsilon > 0)) throw Error("--eps must be positive");
  r.samples = int(args.getInt("samples", r.samples));
  if (r.samples < 1) throw Error("--samples must be at least 1");
  const std::string rule = args.get("ensemble", "logsoftmax");
  if (rule != "logsoftmax" && rule != "prob")
    throw Error("--ensemble expects logsoftmax or prob, got '" + rule + "'");
  r.probabilityEnsemble = rule == "prob";
  r.cacheDir = args.get("out-dir");
  const std::string report = args.get("report");
  if (!report.empty()) {  // fail before hours of training, not after
    const std::filesystem::path parent = std::filesystem::path(report).parent_path();
    if (!parent.empty() && !std::filesystem::is_directory(parent))
      throw FileError(report, "the folder " + parent.string() + " does not exist");
  }

  ProgressBar bar;
  ProgressFn progress;
  if (!args.flag("no-progress"))
    progress = [&bar](const Progress& p) { bar.update(p.stage, p.done, p.total, p.message); };
  SkillTransferResult res = runSkillTransfer(r, progress, interruptFlag());
  bar.finish();
  const std::string json = skillTransferJson(res);
  if (!report.empty()) writeFileAtomically(report, json);
  if (args.flag("json")) {
    std::cout << json;
    return 0;
  }

  const bool withStd = r.seeds > 1;
  std::printf("skill transfer on %s (%s, %d epoch%s per parent, %d seed%s), special class %d",
              r.dataset.c_str(), r.arch.c_str(), r.epochs, r.epochs == 1 ? "" : "s", r.seeds,
              r.seeds == 1 ? "" : "s", r.specialClass);
  if (size_t(r.specialClass) < res.classes.size() &&
      res.classes[size_t(r.specialClass)] != std::to_string(r.specialClass))
    std::printf(" (%s)", res.classes[size_t(r.specialClass)].c_str());
  std::printf(", fraction %g\n", r.fraction);
  std::printf("  training images split: %lld; A: %lld (every image of class %d + %g %% of each "
              "other class), B: %lld (no image of class %d)\n",
              static_cast<long long>(res.trainImages), static_cast<long long>(res.trainSizeA),
              r.specialClass, 100 * r.fraction, static_cast<long long>(res.trainSizeB),
              r.specialClass);
  std::printf("  test images: %lld, %lld of class %d; fusion: %s mode, %s OT, A aligned onto B, t "
              "= weight of B\n",
              static_cast<long long>(res.testImages), static_cast<long long>(res.specialTestImages),
              r.specialClass, toString(r.options.mode).c_str(), toString(r.options.solver).c_str());
  if (res.parentsLoaded > 0)
    std::printf("  parents: %d loaded from %s, %d trained\n", res.parentsLoaded,
                r.cacheDir.c_str(), res.parentsTrained);
  size_t labelWidth = 24;
  for (const auto& row : res.rows) labelWidth = std::max(labelWidth, row.label.size());
  std::printf("\n%-*s %15s %15s %15s\n", int(labelWidth), "accuracy in %", "overall",
              ("class " + std::to_string(r.specialClass)).c_str(), "other classes");
  for (const auto& row : res.rows)
    std::printf("%-*s %s %s %s\n", int(labelWidth), row.label.c_str(),
                padLeft(cell(row.overall, withStd), 15).c_str(),
                padLeft(cell(row.special, withStd), 15).c_str(),
                padLeft(cell(row.others, withStd), 15).c_str());
  if (withStd) std::printf("(mean ± sample standard deviation over the %d seeds)\n", r.seeds);
  std::printf("\n(%.0f s)\n", res.seconds);
  return 0;
}

}  // namespace otfuse::cli
