// otfuse train: trains a parent model and saves it as a zip-format checkpoint.
#include <algorithm>
#include <cctype>
#include <cstdio>
#include <iostream>
#include <sstream>

#include "commands.h"
#include "json_out.h"
#include "otfuse/data/dataset.h"
#include "otfuse/data/split.h"
#include "otfuse/error.h"
#include "otfuse/io/checkpoint.h"
#include "otfuse/models/model.h"
#include "otfuse/train/train.h"
#include "train_options.h"

namespace otfuse::cli {
namespace {

const char* kHelpFormat = R"(usage: otfuse train --arch SPEC --dataset D --out FILE [options]

Trains a model from fresh (seeded) weights with SGD, prints each epoch's mean training loss and
test accuracy, and saves a zip-format checkpoint {"model_state_dict", "test_accuracy", "epoch",
"arch", "seed", "dataset"} that Python's torch.load reads.

required:
  --arch SPEC            mlpnet, mlp:W1-W2-...[,bias][,cifar], mnistcnn, a VGG or a ResNet:
                         vgg11, vgg11_half, vgg11_doub, vgg11_quad, vgg13, vgg16, vgg19 (the
                           paper's configurations) or vgg:W,M,W,...,M (any; M = max-pool),
                           flags after "_" (named) or "," (vgg:): bn, bias, nobias (default),
                           nolinearbias, linearbias, tv (torchvision's classifier.0/3/6 head);
                           e.g. vgg11_bn_half, vgg:32,M,64,M,128,M,256,M,256,M,bn
                         resnet18, resnet34 (CIFAR, BatchNorm, no conv biases, linear with
                           bias) with flags: nobn, bias (conv biases), nobias (no bias
                           anywhere), nolinearbias, wN (base width N instead of 64: stages N,
                           2N, 4N, 8N); e.g. resnet18_nobn_nobias, resnet18_w16
  --dataset D            mnist, fashion-mnist, cifar10 or folder:ROOT
  --out FILE             checkpoint to write (atomically: temporary file, then rename)
options:
%s  --split personal       train on one part of the paper's personalised split of the training
                         images (after --limit): part A has every image of the special class
                         plus a fraction of each other class, part B the rest (no image of the
                         special class). The checkpoint's metadata records the split.
  --special-class C      the special class of --split personal (default 4)
  --fraction P           fraction of each other class that goes to A, in [0, 1] (default 0.1)
  --split-part A|B       which part to train on (required with --split)
  --split-seed S         seed of the split's random choice (default 0; independent of --seed,
                         so that A and B trained from different seeds share one split)
  --json                 print {"epochs": [{"epoch", "train_loss", "test_accuracy",
                         "test_loss", "lr"}...], "out"} instead of the text lines
  --no-progress          no progress bar on stderr
  --data-dir DIR         where datasets live (default $OTFUSE_DATA_DIR, else
                         ~/.local/share/otfuse/datasets)
)";

std::string fixed(double v, int digits) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", digits, v);
  return buf;
}

}  // namespace

int cmdTrain(Args& args) {
  if (args.flag("help")) {
    std::string help = kHelpFormat;
    help.replace(help.find("%s"), 2, trainOptionsHelp());
    std::cout << help;
    return 0;
  }
  std::set<std::string> known = trainOptionNames();
  known.insert({"arch", "dataset", "out", "data-dir", "split", "special-class", "fraction",
                "split-part", "split-seed"});
  args.requireKnown(known);
  if (!args.positional().empty())
    throw Error("otfuse train takes no positional arguments, got '" + args.positional().front() +
                "' (see --help)");
  for (const char* required : {"arch", "dataset", "out"}) {
    if (args.get(required).empty())
      throw Error(std::string("otfuse train needs --") + required + " (see --help)");
  }
  // Checked before loading any data (shared with otfuse finetune and fuse --finetune-*).
  TrainOptions o = parseTrainOptions(args);  // limit is cleared once a split applied it

  // --split personal: checked before any data is loaded (the class range after).
  const std::string splitName = args.get("split");
  PersonalSplitOptions split;
  char splitPart = 0;
  if (splitName.empty()) {
    for (const char* option : {"special-class", "fraction", "split-part", "split-seed"})
      if (args.has(option))
        throw Error(std::string("--") + option + " needs --split personal (see --help)");
  } else {
    if (splitName != "personal")
      throw Error("--split expects personal, got '" + splitName + "'");
    split.specialClass = int(args.getInt("special-class", split.specialClass));
    split.fraction = args.getDouble("fraction", split.fraction);
    if (!(split.fraction >= 0.0 && split.fraction <= 1.0))
      throw Error("--fraction must be in [0, 1], got " + args.get("fraction"));
    if (split.specialClass < 0)
      throw Error("--special-class must be a class index (0 or more), got " +
                  args.get("special-class"));
    const long long splitSeed = args.getInt("split-seed", 0);
    if (splitSeed < 0) throw Error("--split-seed must be non-negative");
    split.seed = uint64_t(splitSeed);
    const std::string part = args.get("split-part");
    if (part != "A" && part != "B" && part != "a" && part != "b")
      throw Error("--split personal needs --split-part A or B" +
                  (part.empty() ? std::string() : ", got '" + part + "'"));
    splitPart = char(std::toupper(static_cast<unsigned char>(part[0])));
  }

  const Architecture arch = parseArchitecture(args.get("arch"));
  const std::string datasetName = args.get("dataset");
  const std::string dataDir = args.get("data-dir");
  Dataset train = loadDataset(datasetName, Split::Train, dataDir);
  Dataset test = loadDataset(datasetName, Split::Test, dataDir);
  std::map<std::string, std::string> splitMetadata;
  if (splitPart) {
    const int classes = int(train.classes.size());
    if (split.specialClass >= classes)
      throw Error("--special-class " + std::to_string(split.specialClass) + " is out of range: " +
                  datasetName + " has " + std::to_string(classes) + " classes (0.." +
                  std::to_string(classes - 1) + ")");
    const int64_t n = o.limit > 0 ? std::min<int64_t>(o.limit, train.size()) : train.size();
    SplitIndices parts = personalSplit(train.labels.slice(0, 0, n), classes, split);
    const std::vector<int64_t>& mine = splitPart == 'A' ? parts.a : parts.b;
    if (mine.empty())
      throw Error(std::string("part ") + splitPart + " of the split has no training images");
    train = subsetOf(train, mine, std::string("personal split, part ") + splitPart);
    o.limit = 0;  // already applied before splitting
    splitMetadata = personalSplitMetadata(split, splitPart, int64_t(mine.size()));
    if (!args.flag("json"))
      std::printf("personal split (special class %d, fraction %g, split seed %llu): part %c, "
                  "%zu of %lld training images\n",
                  split.specialClass, split.fraction, static_cast<unsigned long long>(split.seed),
                  splitPart, mine.size(), static_cast<long long>(n));
  }
  Model model = Model::initialize(arch, o.seed);

  const bool json = args.flag("json");
  ProgressBar bar;
  ProgressFn progress;
  if (!args.flag("no-progress"))
    progress = [&bar](const Progress& p) { bar.update(p.stage, p.done, p.total, p.message); };
  auto onEpoch = [&](const EpochResult& r) {
    bar.finish();
    if (json) return;
    std::printf("epoch %3d  lr %-8g  train loss %.4f  test accuracy %6.2f %%  test loss %.4f\n",
                r.epoch, r.learningRate, r.trainLoss, r.testAccuracy, r.testLoss);
    std::fflush(stdout);
  };
  std::vector<EpochResult> results = trainModel(model, train, &test, o, progress, interruptFlag(), onEpoch);
  bar.finish();

  const EpochResult& last = results.back();
  std::map<std::string, std::string> metadata = {
      {"test_accuracy", fixed(last.testAccuracy, 2)},
      {"epoch", std::to_string(last.epoch)},
      {"arch", arch.name},
      {"seed", std::to_string(o.seed)},
      {"dataset", datasetName},
  };
  metadata.insert(splitMetadata.begin(), splitMetadata.end());
  const std::string out = args.get("out");
  saveCheckpoint(out, model.state(), metadata);

  if (json) {
    std::cout << "{\"epochs\": [";
    for (size_t i = 0; i < results.size(); ++i) {
      const auto& r = results[i];
      std::cout << (i ? ", " : "") << "{\"epoch\": " << r.epoch
                << ", \"train_loss\": " << jsonNumber(r.trainLoss)
                << ", \"test_accuracy\": " << jsonNumber(r.testAccuracy)
                << ", \"test_loss\": " << jsonNumber(r.testLoss)
                << ", \"lr\": " << jsonNumber(r.learningRate) << "}";
    }
    std::cout << "], \"out\": " << jsonString(out) << "}\n";
  } else {
    std::printf("saved %s (%s, test accuracy %.2f %%)\n", out.c_str(), arch.name.c_str(),
                last.testAccuracy);
  }
  return 0;
}

}  // namespace otfuse::cli
