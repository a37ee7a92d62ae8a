// otfuse eval MODEL...: test accuracy and loss of each model and of their prediction ensemble.
#include <cmath>
#include <cstdio>
#include <iostream>

#include "commands.h"
#include "json_out.h"
#include "model_files.h"
#include "otfuse/data/dataset.h"
#include "otfuse/error.h"
#include "otfuse/models/model.h"
#include "otfuse/train/train.h"

namespace otfuse::cli {
namespace {

const char* kHelp = R"(usage: otfuse eval [options] MODEL...

Evaluates each model on the test split: accuracy (%) and mean cross-entropy loss. With two or
more models it also evaluates their prediction ensemble.

options:
  --dataset D            mnist, fashion-mnist, cifar10 or folder:ROOT (default: the dataset
                         the checkpoint's metadata names, as otfuse train stores it; without
                         one, guessed from the input shape: mnist for 1x28x28, cifar10 for
                         3x32x32). The output says which and why.
  --arch SPEC            architecture of every model instead of inferring it
  --batch-size N         evaluation batch size (default 1000)
  --ensemble RULE        logsoftmax: mean of log-softmax outputs, as the paper's code (default)
                         prob: mean of probabilities
  --json                 print {"dataset", "dataset_source", "classes": [names], "models":
                         [{"path", "accuracy", "loss", "per_class_accuracy": [...],
                         "confusion": [[...]...]}...], "ensemble": {the same but "path"}}
                         (accuracies in percent; per-class null for a class without test
                         images; confusion rows = true class, columns = predicted class)
  --per-class            also print each model's accuracy per class (a column per model)
  --no-progress          no progress bar on stderr
  --data-dir DIR         where datasets live (default $OTFUSE_DATA_DIR, else
                         ~/.local/share/otfuse/datasets)
)";

// "accuracy", "loss", "per_class_accuracy", "confusion" of one evaluation (no braces).
std::string resultJson(const EvalResult& r) {
  std::string out = "\"accuracy\": " + jsonNumber(r.accuracy) + ", \"loss\": " + jsonNumber(r.loss) +
                    ", \"per_class_accuracy\": [";
  const std::vector<double> perClass = r.perClassAccuracy();
  for (size_t c = 0; c < perClass.size(); ++c) out += (c ? ", " : "") + jsonNumber(perClass[c]);
  out += "], \"confusion\": [";
  for (Eigen::Index i = 0; i < r.confusion.rows(); ++i) {
    out += i ? ", [" : "[";
    for (Eigen::Index j = 0; j < r.confusion.cols(); ++j)
      out += (j ? ", " : "") + std::to_string(r.confusion(i, j));
    out += "]";
  }
  return out + "]";
}

}  // namespace

int cmdEval(Args& args) {
  if (args.flag("help")) {
    std::cout << kHelp;
    return 0;
  }
  args.requireKnown({"dataset", "arch", "batch-size", "ensemble", "data-dir"});
  const auto& paths = args.positional();
  if (paths.empty()) throw Error("otfuse eval expects at least one MODEL file (see --help)");
  const long long batchSize = args.getInt("batch-size", 1000);
  if (batchSize < 1 || batchSize > 1000000)
    throw Error("--batch-size must be between 1 and 1000000");
  const std::string ruleName = args.get("ensemble", "logsoftmax");
  EnsembleRule rule;
  if (ruleName == "logsoftmax")
    rule = EnsembleRule::LogSoftmaxMean;
  else if (ruleName == "prob")
    rule = EnsembleRule::ProbabilityMean;
  else
    throw Error("--ensemble expects logsoftmax or prob, got '" + ruleName + "'");

  std::vector<ModelFile> files;
  for (const auto& p : paths) files.push_back(loadModelFile(p, args.get("arch")));
  std::vector<const ModelFile*> byPreference;
  for (const auto& f : files) byPreference.push_back(&f);
  const DatasetChoice dataset = chooseDataset(args, byPreference);
  std::vector<Model> models;
  for (const auto& f : files) models.push_back(f.model);
  const std::string datasetName = dataset.name;
  Dataset test = loadDataset(datasetName, Split::Test, args.get("data-dir"));

  ProgressBar bar;
  ProgressFn progress;
  if (!args.flag("no-progress"))
    progress = [&bar](const Progress& p) { bar.update(p.stage, p.done, p.total, p.message); };
  std::vector<EvalResult> results;
  for (size_t i = 0; i < models.size(); ++i) {
    ProgressFn named = withStage(
        progress, "evaluate " + std::to_string(i + 1) + "/" + std::to_string(models.size()));
    results.push_back(evaluate(models[i], test, int(batchSize), named, interruptFlag()));
  }
  EvalResult ensemble;
  const bool withEnsemble = models.size() > 1;
  if (withEnsemble) ensemble = evaluateEnsemble(models, test, rule, int(batchSize), progress, interruptFlag());
  bar.finish();

  if (args.flag("json")) {
    std::cout << "{\"dataset\": " << jsonString(dataset.name)
              << ", \"dataset_source\": " << jsonString(dataset.reason) << ", \"classes\": [";
    for (size_t c = 0; c < test.classes.size(); ++c)
      std::cout << (c ? ", " : "") << jsonString(test.classes[c]);
    std::cout << "], \"models\": [";
    for (size_t i = 0; i < models.size(); ++i) {
      std::cout << (i ? ", " : "") << "{\"path\": " << jsonString(paths[i]) << ", "
                << resultJson(results[i]) << "}";
    }
    std::cout << "]";
    if (withEnsemble) {
      std::cout << ", \"ensemble\": {" << resultJson(ensemble) << "}";
    }
    std::cout << "}\n";
    return 0;
  }
  size_t width = 30;
  for (const auto& p : paths) width = std::max(width, p.size());
  std::printf("%s test split: %lld images (dataset %s)\n\n", test.name.c_str(),
              static_cast<long long>(test.size()), dataset.reason.c_str());
  std::printf("%-*s  %9s  %8s\n", int(width), "model", "accuracy", "loss");
  for (size_t i = 0; i < models.size(); ++i) {
    std::printf("%-*s  %7.2f %%  %8.4f\n", int(width), paths[i].c_str(), results[i].accuracy,
                results[i].loss);
  }
  if (withEnsemble) {
    const std::string label =
        std::string("ensemble (") +
        (rule == EnsembleRule::LogSoftmaxMean ? "mean log-softmax" : "mean prob") + ")";
    std::printf("%-*s  %7.2f %%  %8.4f\n", int(width), label.c_str(), ensemble.accuracy,
                ensemble.loss);
  }
  if (args.flag("per-class")) {
    std::vector<std::vector<double>> columns;
    for (const auto& r : results) columns.push_back(r.perClassAccuracy());
    if (withEnsemble) columns.push_back(ensemble.perClassAccuracy());
    std::printf("\naccuracy per class (%%): columns = the models in order%s\n",
                withEnsemble ? ", then the ensemble" : "");
    std::printf("%-12s %8s", "class", "images");
    for (size_t m = 0; m < columns.size(); ++m) {
      const std::string head = withEnsemble && m + 1 == columns.size()
                                   ? std::string("ensemble")
                                   : "model " + std::to_string(m + 1);
      std::printf("  %9s", head.c_str());
    }
    std::printf("\n");
    const Eigen::MatrixXi& confusion = results.front().confusion;
    for (Eigen::Index c = 0; c < confusion.rows(); ++c) {
      const std::string name = size_t(c) < test.classes.size()
                                   ? std::to_string(c) + " " + test.classes[size_t(c)]
                                   : std::to_string(c);
      std::printf("%-12.12s %8d", name.c_str(), confusion.row(c).sum());
      for (const auto& col : columns) {
        if (std::isfinite(col[size_t(c)]))
          std::printf("  %9.2f", col[size_t(c)]);
        else
          std::printf("  %9s", "-");
      }
      std::printf("\n");
    }
  }
  return 0;
}

}  // namespace otfuse::cli
