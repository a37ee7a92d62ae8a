// otfuse finetune: continues training a model (fused, vanilla average, a parent) from its
// weights and saves the result.
#include <cstdio>
#include <filesystem>
#include <iostream>

#include "commands.h"
#include "json_out.h"
#include "model_files.h"
#include "otfuse/data/dataset.h"
#include "otfuse/engine/finetune_models.h"
#include "otfuse/error.h"
#include "otfuse/io/checkpoint.h"
#include "output_files.h"
#include "train_options.h"

namespace otfuse::cli {
namespace {

const char* kHelpFormat = R"(usage: otfuse finetune MODEL --out FILE [--epochs N] [options]

Continues training MODEL (any model file otfuse reads: a fused model, a vanilla average, a
parent) from its weights with SGD, with a fresh optimizer state (no momentum carried over),
the learning-rate schedule restarted and the data order drawn from --seed. Prints the test
accuracy before fine-tuning (epoch 0) and after every epoch, and saves a zip checkpoint
{"model_state_dict", "test_accuracy", "test_loss", "epoch", "arch", "dataset",
"finetuned_from", ...} that Python's torch.load reads. MODEL itself is never changed.
BatchNorm models: training starts from the running statistics stored in MODEL (for a fused
BatchNorm model write it with --out-model fused_bn, the default) and updates them as
PyTorch's train mode does (momentum 0.1).

required:
  --out FILE             checkpoint to write (atomically: temporary file, then rename; nothing
                         is written when the run fails or is cancelled)
options:
%s  --checkpoint-every-epoch DIR
                         also write DIR/epoch_<k>.pt after every epoch (atomically; on Ctrl-C
                         the epochs already finished stay); --save-each-epoch DIR is the same
  --dataset D            mnist | fashion-mnist | cifar10 | folder:PATH (default: the dataset
                         the checkpoint's metadata names, else guessed from the input shape)
  --arch SPEC            architecture of MODEL (default: inferred)
  --test-limit N         evaluate on the first N test images only (default: all)
  --json                 print {"model", "out", "dataset", "points": [{"epoch", "train_loss",
                         "test_accuracy", "test_loss", "lr"}...], "checkpoints"} instead
                         (epoch 0 = before fine-tuning; its train_loss and lr are null)
  --no-progress          no progress bar on stderr
  --data-dir DIR         where datasets live (default $OTFUSE_DATA_DIR, else
                         ~/.local/share/otfuse/datasets)

example:
  otfuse fuse a.pt b.pt --out fused.pt && otfuse finetune fused.pt --epochs 5 --lr 0.005 --out ft.pt
)";

std::string number(double v) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

}  // namespace

int cmdFinetune(Args& args) {
  if (args.flag("help")) {
    std::string help = kHelpFormat;
    TrainOptions d;
    d.epochs = 5;
    help.replace(help.find("%s"), 2, trainOptionsHelp("", d, "seed of the data order and augmentation"));
    std::cout << help;
    return 0;
  }
  std::set<std::string> known = trainOptionNames();
  known.insert({"out", "dataset", "arch", "data-dir", "checkpoint-every-epoch", "save-each-epoch",
                "test-limit"});
  args.requireKnown(known);
  if (args.positional().size() != 1)
    throw Error("otfuse finetune takes exactly one model file, got " +
                std::to_string(args.positional().size()) + " (see --help)");
  const std::string path = args.positional().front();
  if (!args.has("out") || args.get("out").empty())
    throw Error("otfuse finetune needs --out FILE (see --help)");
  TrainOptions defaults;
  defaults.epochs = 5;
  const TrainOptions o = parseTrainOptions(args, "", defaults);
  const std::string out = args.get("out");
  checkOutputFile("out", out);
  {
    namespace fs = std::filesystem;
    std::error_code ec;
    if (fs::exists(out, ec) && fs::equivalent(out, path, ec))
      throw Error("--out " + out + " is the input model; write the fine-tuned model to another file");
  }
  if (args.has("checkpoint-every-epoch") && args.has("save-each-epoch"))
    throw Error("give --checkpoint-every-epoch or --save-each-epoch (the same option), not both");
  const std::string epochDir =
      args.has("checkpoint-every-epoch") ? args.get("checkpoint-every-epoch") : args.get("save-each-epoch");
  if (args.has("checkpoint-every-epoch") || args.has("save-each-epoch"))
    checkOutputFolder(args.has("checkpoint-every-epoch") ? "checkpoint-every-epoch" : "save-each-epoch",
                      epochDir);
  const long long testLimit = args.getInt("test-limit", 0);
  if (testLimit < 0) throw Error("--test-limit must be non-negative, got " + std::to_string(testLimit));

  ModelFile file = loadModelFile(path, args.get("arch"));
  const DatasetChoice dataset = chooseDataset(args, {&file});
  const std::string dataDir = args.get("data-dir");
  Dataset train = loadDataset(dataset.name, Split::Train, dataDir, interruptFlag());
  Dataset test = firstImages(loadDataset(dataset.name, Split::Test, dataDir, interruptFlag()), testLimit);

  const bool json = args.flag("json");
  ProgressBar bar;
  ProgressFn progress;
  if (!args.flag("no-progress"))
    progress = [&bar](const Progress& p) { bar.update(p.stage, p.done, p.total, p.message); };
  if (!json)
    std::printf("fine-tuning %s (%s) on %s: %d epochs, lr %g, momentum %g, weight decay %g, "
                "schedule %s, batch size %d, seed %llu%s\n",
                path.c_str(), file.model.architecture().name.c_str(), describe(dataset).c_str(),
                o.epochs, o.learningRate, o.momentum, o.weightDecay, o.schedule.c_str(),
                o.batchSize, (unsigned long long)o.seed,
                o.limit > 0 ? (", first " + std::to_string(o.limit) + " training images").c_str() : "");

  Model model = file.model.clone();
  std::map<std::string, std::string> metadata = {
      {"arch", model.architecture().name},
      {"dataset", dataset.name},
      {"finetuned_from", path},
      {"finetune_lr", number(o.learningRate)},
      {"finetune_seed", std::to_string(o.seed)},
  };
  std::vector<std::string> checkpoints;
  std::vector<FinetunePoint> points;
  auto onPoint = [&](const FinetunePoint& p) {
    bar.finish();
    if (json) return;
    if (p.epoch == 0)
      std::printf("epoch %3d  (before fine-tuning)               test accuracy %6.2f %%  test loss %.4f\n",
                  p.epoch, p.accuracy, p.loss);
    else
      std::printf("epoch %3d  lr %-8g  train loss %.4f  test accuracy %6.2f %%  test loss %.4f\n",
                  p.epoch, p.learningRate, p.trainLoss, p.accuracy, p.loss);
    std::fflush(stdout);
  };
  auto afterEpoch = [&](int epoch) {
    if (epochDir.empty()) return;
    std::filesystem::create_directories(epochDir);
    const std::string file =
        (std::filesystem::path(epochDir) / ("epoch_" + std::to_string(epoch) + ".pt")).string();
    // points is filled after the call returns; the epoch's numbers are the last onPoint's.
    std::map<std::string, std::string> md = metadata;
    md["epoch"] = std::to_string(epoch);
    saveCheckpoint(file, model.state(), md);
    checkpoints.push_back(file);
  };
  points = finetuneInPlace(
      model, train, test, o, progress, interruptFlag(),
      [&](const FinetunePoint& p) {
        metadata["test_accuracy"] = number(p.accuracy);
        metadata["test_loss"] = number(p.loss);
        onPoint(p);
      },
      afterEpoch);
  bar.finish();
  metadata["epoch"] = std::to_string(o.epochs);
  saveCheckpoint(out, model.state(), metadata);

  if (json) {
    std::cout << "{\"model\": " << jsonString(path) << ", \"out\": " << jsonString(out)
              << ", \"dataset\": " << jsonString(dataset.name) << ",\n \"options\": {\"epochs\": "
              << o.epochs << ", \"lr\": " << jsonNumber(o.learningRate)
              << ", \"momentum\": " << jsonNumber(o.momentum)
              << ", \"weight_decay\": " << jsonNumber(o.weightDecay)
              << ", \"schedule\": " << jsonString(o.schedule) << ", \"batch_size\": " << o.batchSize
              << ", \"seed\": " << o.seed << ", \"limit\": " << o.limit << "},\n \"points\": [";
    for (size_t i = 0; i < points.size(); ++i) {
      const auto& p = points[i];
      std::cout << (i ? ",\n  " : "\n  ") << "{\"epoch\": " << p.epoch
                << ", \"train_loss\": " << (p.epoch == 0 ? "null" : jsonNumber(p.trainLoss))
                << ", \"test_accuracy\": " << jsonNumber(p.accuracy)
                << ", \"test_loss\": " << jsonNumber(p.loss)
                << ", \"lr\": " << (p.epoch == 0 ? "null" : jsonNumber(p.learningRate)) << "}";
    }
    std::cout << "],\n \"checkpoints\": [";
    for (size_t i = 0; i < checkpoints.size(); ++i)
      std::cout << (i ? ", " : "") << jsonString(checkpoints[i]);
    std::cout << "]}\n";
  } else {
    std::printf("saved %s (test accuracy %.2f %% after %d epochs, %.2f %% before)\n", out.c_str(),
                points.back().accuracy, o.epochs, points.front().accuracy);
    if (!checkpoints.empty())
      std::printf("per-epoch checkpoints: %s/epoch_1.pt .. epoch_%d.pt\n", epochDir.c_str(), o.epochs);
  }
  return 0;
}

}  // namespace otfuse::cli
