// Times otfuse's evaluation of MLPNet on the 10,000 MNIST test images and one training epoch
// of MLPNet (batch 64, SGD lr 0.01, momentum 0.5). Prints one JSON line; bench_train_eval.sh
// compares it with the same work done by PyTorch from Python.
// usage: bench_train_eval [--data-dir DIR] [--repeats N]
#include <ATen/Parallel.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "otfuse/data/dataset.h"
#include "otfuse/error.h"
#include "otfuse/train/train.h"

namespace {

double seconds(std::chrono::steady_clock::time_point since) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - since).count();
}

}  // namespace

int main(int argc, char** argv) {
  std::string dataDir;
  int repeats = 3;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--data-dir")) dataDir = argv[i + 1];
    if (!std::strcmp(argv[i], "--repeats")) repeats = std::max(1, std::atoi(argv[i + 1]));
  }
  try {
    const int threads = otfuse::initRuntime();
    auto start = std::chrono::steady_clock::now();
    otfuse::Dataset train = otfuse::loadDataset("mnist", otfuse::Split::Train, dataDir);
    otfuse::Dataset test = otfuse::loadDataset("mnist", otfuse::Split::Test, dataDir);
    const double loadTime = seconds(start);
    const otfuse::Architecture arch = otfuse::parseArchitecture("mlpnet");

    // Evaluation: best of `repeats` (the first run also warms up the allocator and BLAS).
    otfuse::Model model = otfuse::Model::initialize(arch, 0);
    double evalTime = 1e30, accuracy = 0;
    for (int r = 0; r < repeats + 1; ++r) {
      start = std::chrono::steady_clock::now();
      accuracy = otfuse::evaluate(model, test, 1000).accuracy;
      if (r > 0) evalTime = std::min(evalTime, seconds(start));
    }

    // One training epoch from fresh weights, best of `repeats`.
    otfuse::TrainOptions o;
    o.epochs = 1;
    o.batchSize = 64;
    o.learningRate = 0.01;
    o.momentum = 0.5;
    o.augment = false;
    double trainTime = 1e30, trainLoss = 0;
    for (int r = 0; r < repeats; ++r) {
      otfuse::Model m = otfuse::Model::initialize(arch, uint64_t(r));
      start = std::chrono::steady_clock::now();
      trainLoss = otfuse::trainModel(m, train, nullptr, o).back().trainLoss;
      trainTime = std::min(trainTime, seconds(start));
      if (r == repeats - 1) accuracy = otfuse::evaluate(m, test, 1000).accuracy;
    }
    std::printf(
        "{\"impl\": \"otfuse\", \"threads\": %d, \"load_s\": %.4f, \"eval_s\": %.4f, "
        "\"train_epoch_s\": %.4f, \"train_loss\": %.4f, \"test_accuracy_after_epoch\": %.2f}\n",
        threads, loadTime, evalTime, trainTime, trainLoss, accuracy);
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_train_eval: %s\n", e.what());
    return 1;
  }
}
