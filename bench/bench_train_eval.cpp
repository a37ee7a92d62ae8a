// Times otfuse's evaluation of MLPNet on the 10,000 MNIST test images and one training epoch
// of MLPNet (batch 64, SGD lr 0.01, momentum 0.5); if CIFAR-10 is installed, also training
// the VGG11 with every width halved (vgg:32,M,64,M,128,128,M,256,256,M,256,256,M,bn, called
// vgg11_bn_half before issue 9; bench_train_eval.py builds the same) on the first 2,560 training images (20 steps of 128, SGD lr 0.05, momentum 0.9,
// no augmentation) and its evaluation on the 10,000 test images. Prints one JSON line; bench_train_eval.sh compares it with the same work
// done by PyTorch from Python.
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
    // VGG training steps on CIFAR-10 (convolutions, BatchNorm; large activations).
    double vggTime = -1, vggLoss = 0, vggEvalTime = -1;
    if (otfuse::findDataset("cifar10", otfuse::resolveDataDir(dataDir)).found) {
      otfuse::Dataset cifar = otfuse::loadDataset("cifar10", otfuse::Split::Train, dataDir);
      otfuse::Dataset cifarTest = otfuse::loadDataset("cifar10", otfuse::Split::Test, dataDir);
      otfuse::TrainOptions v;
      v.epochs = 1;
      v.batchSize = 128;
      v.limit = 2560;
      v.learningRate = 0.05;
      v.momentum = 0.9;
      v.augment = false;
      const otfuse::Architecture vgg = otfuse::parseArchitecture("vgg:32,M,64,M,128,128,M,256,256,M,256,256,M,bn");
      vggTime = 1e30;
      for (int r = 0; r < repeats + 1; ++r) {  // the first run warms up
        otfuse::Model m = otfuse::Model::initialize(vgg, uint64_t(r));
        start = std::chrono::steady_clock::now();
        vggLoss = otfuse::trainModel(m, cifar, nullptr, v).back().trainLoss;
        if (r > 0) vggTime = std::min(vggTime, seconds(start));
      }
      // Evaluation on the 10,000 test images in batches of 1,000 (as `otfuse eval` does).
      otfuse::Model m = otfuse::Model::initialize(vgg, 0);
      vggEvalTime = 1e30;
      for (int r = 0; r < repeats + 1; ++r) {
        start = std::chrono::steady_clock::now();
        otfuse::evaluate(m, cifarTest, 1000);
        if (r > 0) vggEvalTime = std::min(vggEvalTime, seconds(start));
      }
    }
    std::printf(
        "{\"impl\": \"otfuse\", \"threads\": %d, \"load_s\": %.4f, \"eval_s\": %.4f, "
        "\"train_epoch_s\": %.4f, \"train_loss\": %.4f, \"test_accuracy_after_epoch\": %.2f, "
        "\"vgg_train_s\": %.4f, \"vgg_train_loss\": %.4f, \"vgg_eval_s\": %.4f}\n",
        threads, loadTime, evalTime, trainTime, trainLoss, accuracy, vggTime, vggLoss, vggEvalTime);
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_train_eval: %s\n", e.what());
    return 1;
  }
}
