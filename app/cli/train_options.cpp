#include "train_options.h"

#include <cmath>
#include <cstdio>

#include "otfuse/error.h"

namespace otfuse::cli {

std::set<std::string> trainOptionNames(const std::string& p) {
  return {p + "epochs", p + "batch-size", p + "lr",   p + "momentum",
          p + "weight-decay", p + "schedule", p + "seed", p + "limit"};
}

TrainOptions parseTrainOptions(const Args& args, const std::string& p, TrainOptions o) {
  const long long epochs = args.getInt(p + "epochs", o.epochs);
  if (epochs < 1 || epochs > 100000)
    throw Error("--" + p + "epochs must be between 1 and 100000, got " + std::to_string(epochs));
  o.epochs = int(epochs);
  const long long batch = args.getInt(p + "batch-size", o.batchSize);
  if (batch < 1 || batch > 1000000)
    throw Error("--" + p + "batch-size must be between 1 and 1000000, got " + std::to_string(batch));
  o.batchSize = int(batch);
  o.learningRate = args.getDouble(p + "lr", o.learningRate);
  if (!(o.learningRate > 0) || !std::isfinite(o.learningRate))
    throw Error("--" + p + "lr (the learning rate) must be a positive number, got '" +
                args.get(p + "lr") + "'");
  o.momentum = args.getDouble(p + "momentum", o.momentum);
  if (!(o.momentum >= 0) || !std::isfinite(o.momentum))
    throw Error("--" + p + "momentum must be a non-negative number, got '" + args.get(p + "momentum") + "'");
  o.weightDecay = args.getDouble(p + "weight-decay", o.weightDecay);
  if (!(o.weightDecay >= 0) || !std::isfinite(o.weightDecay))
    throw Error("--" + p + "weight-decay must be a non-negative number, got '" +
                args.get(p + "weight-decay") + "'");
  o.schedule = args.get(p + "schedule", o.schedule);
  if (o.schedule != "constant" && o.schedule != "step" && o.schedule != "cosine")
    throw Error("--" + p + "schedule: unknown learning-rate schedule '" + o.schedule +
                "' (known: constant, step, cosine)");
  if (args.flag(p + "no-augment")) o.augment = false;
  const long long seed = args.getInt(p + "seed", (long long)o.seed);
  if (seed < 0) throw Error("--" + p + "seed must be non-negative, got " + std::to_string(seed));
  o.seed = uint64_t(seed);
  o.limit = args.getInt(p + "limit", o.limit);
  if (o.limit < 0) throw Error("--" + p + "limit must be non-negative, got " + std::to_string(o.limit));
  return o;
}

std::string trainOptionsHelp(const std::string& p, const TrainOptions& d,
                             const std::string& seedMeaning) {
  auto line = [](const std::string& opt, const std::string& text) {
    char buf[512];
    std::snprintf(buf, sizeof buf, "  %-22s %s\n", opt.c_str(), text.c_str());
    return std::string(buf);
  };
  auto num = [](double v) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%g", v);
    return std::string(buf);
  };
  std::string s;
  s += line("--" + p + "epochs N", "default " + std::to_string(d.epochs));
  s += line("--" + p + "batch-size N", "default " + std::to_string(d.batchSize));
  s += line("--" + p + "lr X", "learning rate, default " + num(d.learningRate));
  s += line("--" + p + "momentum X",
            "default " + num(d.momentum) + " (the paper's MNIST setting; use 0.9 for CIFAR-10)");
  s += line("--" + p + "weight-decay X", "default " + num(d.weightDecay));
  s += line("--" + p + "schedule S",
            "constant (default), step (x0.1 at 50 % and 75 % of the epochs), cosine");
  s += line("--" + p + "no-augment", "no random crop/flip (augmentation applies to 3x32x32 data only)");
  s += line("--" + p + "seed S", seedMeaning + " (default " + std::to_string(d.seed) + ")");
  s += line("--" + p + "limit N", "train on the first N training images only (default: all)");
  return s;
}

}  // namespace otfuse::cli
