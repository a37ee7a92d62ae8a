// N-model OT fusion speed (issue 9): six full-width VGG11s (the paper's, no BatchNorm, spec
// vgg11) fused onto one anchor, weights mode, exact OT — fuseMany against the same fusion done
// pairwise (fuseSequential) in the same run — then the paper's MNIST MLPNet for N = 2..8.
//
// Models: VGG11 weights are not trained here (a CIFAR-10 VGG11 takes hours on this CPU): the
// anchor is a PyTorch-default random initialization and every other model a copy of it with
// its neurons randomly permuted group by group and Gaussian noise of --noise times each
// tensor's standard deviation added, so every plan has to find a permutation in noisy costs
// (not trivial, not an identity). MLPNets are trained on MNIST for --mlp-epochs epochs each
// (seeds 0..7) when MNIST is installed, else random-initialized (timings only).
// Prints the time per layer and in all, peak RSS (getrusage) after each phase, and for the
// MLPNets the test accuracy of the fused model and of the prediction ensemble for every N.
// --streams instead compares the residual stream maps (FusionOptions::streamMap) on ResNet18:
// the aligned model is the anchor with noise added and its neurons permuted (a planted
// permutation), and the table gives, per choice and mode, the share of stream neurons (and of
// all hidden neurons) whose map sends them to their planted partner, and the relative
// distance of the aligned model (t = 0) from the anchor's weights.
// usage: bench_fuse_many [--models 6] [--noise 0.5] [--mlp-max 8] [--mlp-epochs 1]
//                        [--skip-sequential] [--skip-mlp] [--streams] [--streams-noise 0.5,1]
//                        [--data-dir DIR]
#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>
#include <ATen/Parallel.h>
#include <sys/resource.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "otfuse/data/dataset.h"
#include "otfuse/error.h"
#include "otfuse/fusion/fusion.h"
#include "otfuse/models/model.h"
#include "otfuse/runtime.h"
#include "otfuse/train/train.h"

#include "core/model_fixtures.h"  // tests/core: planted permutations, random BatchNorm

using namespace otfuse;

namespace {

double seconds(std::chrono::steady_clock::time_point since) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - since).count();
}

double peakRssMb() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return u.ru_maxrss / 1024.0;  // Linux: kilobytes
}

// `m` with Gaussian noise of sigma x (each weight's std) on every layer's weight, then every
// neuron group consistently permuted (outputs of its writers, inputs of its readers; the test
// fixtures' permutedWith). Permutations and noise come from one generator seeded with `seed`.
Model permutedNoisyCopy(const Model& m, uint64_t seed, double sigma,
                        std::vector<at::Tensor>* permsOut = nullptr) {
  auto gen = at::make_generator<at::CPUGeneratorImpl>(seed);
  const std::vector<at::Tensor> perms = testing::randomPerms(m.architecture(), gen);
  StateDict s = m.state().clone();
  for (const auto& l : m.architecture().layers) {
    const at::Tensor& w = s.at(l.weight);
    s.set(l.weight, w + at::randn(w.sizes(), gen) * (sigma * w.std().item<double>()));
  }
  if (permsOut) *permsOut = perms;
  return testing::permutedWith(Model(m.architecture(), std::move(s)), perms);
}

// The stream-map comparison (--streams).
void compareStreamMaps(const std::string& spec, const std::vector<double>& noises) {
  const Architecture arch = parseArchitecture(spec);
  Model b = testing::withRandomBatchNorm(Model::initialize(arch, 3), 4);
  auto gen = at::make_generator<at::CPUGeneratorImpl>(5);
  const at::Tensor samples = at::randn({64, arch.inChannels, arch.inHeight, arch.inWidth}, gen);
  std::printf("\n%s: stream maps against a planted permutation (A = anchor + noise, permuted)\n",
              spec.c_str());
  std::printf("%6s %-12s %-8s %9s %9s %9s\n", "noise", "mode", "stream", "stream ok",
              "all ok", "||A'-B||");
  for (double noise : noises) {
    std::vector<at::Tensor> perms;
    // A's neuron j of group g is B's neuron perms[g][j].
    Model a = permutedNoisyCopy(b, 77, noise, &perms);
    for (AlignMode mode : {AlignMode::Weights, AlignMode::Activations}) {
      for (StreamMap how : {StreamMap::FirstWriter, StreamMap::Average, StreamMap::SummedCost}) {
        FusionOptions opt;
        opt.mode = mode;
        opt.streamMap = how;
        opt.t = 0;  // A aligned onto B
        FusionResult r = fuse(a, b, opt, samples);
        std::vector<bool> counted(arch.numGroups, false);
        long streamOk = 0, streamAll = 0, ok = 0, all = 0;
        for (const auto& l : r.layers) {
          if (l.outGroup < 0 || counted[l.outGroup]) continue;
          counted[l.outGroup] = true;
          auto p = perms[l.outGroup].accessor<int64_t, 1>();
          for (Eigen::Index j = 0; j < l.corrected.rows(); ++j) {
            Eigen::Index best;
            l.corrected.row(j).maxCoeff(&best);
            const bool hit = best == p[j];
            ok += hit;
            ++all;
            if (l.stream >= 0) {
              streamOk += hit;
              ++streamAll;
            }
          }
        }
        double num = 0, den = 0;
        for (const auto& l : arch.layers) {
          num += (r.fused.state().at(l.weight) - b.state().at(l.weight)).square().sum().item<double>();
          den += b.state().at(l.weight).square().sum().item<double>();
        }
        std::printf("%6.2f %-12s %-8s %8.1f%% %8.1f%% %9.3f\n", noise, toString(mode).c_str(),
                    toString(how).c_str(), 100.0 * streamOk / streamAll, 100.0 * ok / all,
                    std::sqrt(num / den));
      }
    }
  }
}

// Per layer: the seconds its alignment took, summed over the aligned models.
std::vector<double> perLayer(const MultiFusionResult& r, size_t layers) {
  std::vector<double> t(layers, 0.0);
  for (const auto& model : r.layers)
    for (size_t l = 0; l < model.size(); ++l) t[l] += model[l].seconds;
  return t;
}

}  // namespace

int main(int argc, char** argv) {
  preferPassiveOpenMpWait(argv);
  std::setvbuf(stdout, nullptr, _IOLBF, 0);
  int n = 6, mlpMax = 8, mlpEpochs = 1;
  double noise = 0.5;
  bool sequential = true, mlp = true, streams = false;
  std::vector<double> streamNoise = {0.5, 1.0, 1.5, 2.0, 2.5, 3.0};
  std::string dataDir;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "%s needs a value\n", a.c_str());
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--models") n = std::stoi(next());
    else if (a == "--noise") noise = std::stod(next());
    else if (a == "--mlp-max") mlpMax = std::stoi(next());
    else if (a == "--mlp-epochs") mlpEpochs = std::stoi(next());
    else if (a == "--data-dir") dataDir = next();
    else if (a == "--skip-sequential") sequential = false;
    else if (a == "--skip-mlp") mlp = false;
    else if (a == "--streams") streams = true;
    else if (a == "--streams-noise") {
      streamNoise.clear();
      std::string list = next();
      for (size_t p = 0; p < list.size();) {
        size_t q = list.find(',', p);
        streamNoise.push_back(std::stod(list.substr(p, q - p)));
        p = q == std::string::npos ? list.size() : q + 1;
      }
    }
    else {
      std::fprintf(stderr,
                   "usage: bench_fuse_many [--models 6] [--noise 0.5] [--mlp-max 8] "
                   "[--mlp-epochs 1] [--skip-sequential] [--skip-mlp] [--streams] [--streams-noise a,b,..] "
                   "[--data-dir DIR]\n");
      return 2;
    }
  }
  try {
    const int threads = initRuntime();
    std::printf("threads %d (LibTorch intra-op; OTFUSE_THREADS overrides), peak RSS at start %.0f MB\n",
                threads, peakRssMb());
    if (streams) {
      compareStreamMaps("resnet18", streamNoise);
      return 0;
    }

    // --- Six VGG11s onto one anchor. ---
    const Architecture vgg = parseArchitecture("vgg11");
    auto start = std::chrono::steady_clock::now();
    std::vector<Model> models;
    models.push_back(Model::initialize(vgg, 0));
    for (int i = 1; i < n; ++i) models.push_back(permutedNoisyCopy(models[0], 1000 + i, noise));
    std::printf("%d x %s (%lld parameters each; anchor random init, the others permuted copies + "
                "noise %.2f std), built in %.1f s, peak RSS %.0f MB\n",
                n, vgg.name.c_str(), static_cast<long long>(models[0].parameterCount()), noise,
                seconds(start), peakRssMb());
    FusionOptions opt;  // weights mode, exact OT, uniform marginals, Euclidean
    MultiFusionResult many = fuseMany(models, 0, {}, opt);
    const double rssMany = peakRssMb();
    std::vector<double> layerMany = perLayer(many, vgg.layers.size());
    MultiFusionResult seq;
    std::vector<double> layerSeq;
    if (sequential) {
      seq = fuseSequential(models, 0, {}, opt);
      layerSeq = perLayer(seq, vgg.layers.size());
    }
    std::printf("\n%-14s %9s %9s %s\n", "layer", "fuseMany", "pairwise", "(s, summed over the aligned models)");
    for (size_t l = 0; l < vgg.layers.size(); ++l) {
      const LayerResult& r = many.layers[1][l];
      char pairwise[32] = "-";
      if (sequential) std::snprintf(pairwise, sizeof pairwise, "%.3f", layerSeq[l]);
      std::printf("%-14s %9.3f %9s  %lldx%lld plan\n", vgg.layers[l].name.c_str(), layerMany[l],
                  pairwise, static_cast<long long>(r.corrected.rows()),
                  static_cast<long long>(r.corrected.cols()));
    }
    int permutations = 0, plans = 0;
    for (const auto& model : many.layers)
      for (const auto& r : model) {
        if (r.identity) continue;
        ++plans;
        permutations += r.massOnBest > 1 - 1e-12;
      }
    std::printf("\nsix-VGG11 fusion (%d models onto model 0, weights mode, exact OT): fuseMany %.2f s",
                n, many.seconds);
    if (sequential) std::printf(", pairwise sequential %.2f s (ratio %.2f)", seq.seconds, seq.seconds / many.seconds);
    std::printf("\n  %d of %d plans are permutations; peak RSS after fuseMany %.0f MB", permutations,
                plans, rssMany);
    if (sequential) std::printf(", after the pairwise run %.0f MB", peakRssMb());
    std::printf("\n");
    // The noise-free part of each copy is the anchor permuted: the fused model should be close to
    // the anchor. Relative distance of the first conv's weights.
    {
      at::NoGradGuard g;
      const at::Tensor f = many.fused.state().at("features.0.weight");
      const at::Tensor a0 = models[0].state().at("features.0.weight");
      std::printf("  ||fused - anchor|| / ||anchor|| on features.0: %.3f (noise per copy %.2f)\n",
                  ((f - a0).norm() / a0.norm()).item<double>(), noise);
    }
    models.clear();
    many = MultiFusionResult();
    seq = MultiFusionResult();

    // --- MLPNet N = 2..8 on MNIST. ---
    if (mlp && mlpMax >= 2) {
      const Architecture mlpnet = parseArchitecture("mlpnet");
      const bool haveMnist = findDataset("mnist", resolveDataDir(dataDir)).found;
      Dataset train, test;
      if (haveMnist) {
        train = loadDataset("mnist", Split::Train, dataDir);
        test = loadDataset("mnist", Split::Test, dataDir);
      }
      std::vector<Model> nets;
      start = std::chrono::steady_clock::now();
      for (int i = 0; i < mlpMax; ++i) {
        Model m = Model::initialize(mlpnet, 500 + i);
        if (haveMnist && mlpEpochs > 0) {
          TrainOptions o;
          o.epochs = mlpEpochs;
          o.batchSize = 64;
          o.learningRate = 0.01;
          o.momentum = 0.5;
          o.augment = false;
          o.seed = i;
          trainModel(m, train, nullptr, o);
        }
        nets.push_back(std::move(m));
      }
      std::printf("\nMLPNet x %d: %s in %.1f s\n", mlpMax,
                  haveMnist && mlpEpochs > 0
                      ? ("trained " + std::to_string(mlpEpochs) + " epoch(s) each on MNIST").c_str()
                      : "random init (MNIST not found: timings only)",
                  seconds(start));
      std::printf("%3s %10s %12s %8s %12s %10s %10s\n", "N", "fuseMany s", "sequential s",
                  "fused %", "sequential %", "ensemble %", "parents %");
      for (int k = 2; k <= mlpMax; ++k) {
        std::vector<Model> first(nets.begin(), nets.begin() + k);
        MultiFusionResult r = fuseMany(first, 0, {}, opt);
        MultiFusionResult s = fuseSequential(first, 0, {}, opt);
        if (haveMnist) {
          double mean = 0;
          for (int j = 0; j < k; ++j) mean += evaluate(nets[j], test).accuracy / k;
          std::printf("%3d %10.3f %12.3f %8.2f %12.2f %10.2f %10.2f\n", k, r.seconds, s.seconds,
                      evaluate(r.fused, test).accuracy, evaluate(s.fused, test).accuracy,
                      evaluateEnsemble(first, test).accuracy, mean);
        } else {
          std::printf("%3d %10.3f %12.3f %8s %12s %10s %10s\n", k, r.seconds, s.seconds, "-", "-",
                      "-", "-");
        }
      }
      std::printf("peak RSS %.0f MB\n", peakRssMb());
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_fuse_many: %s\n", e.what());
    return 1;
  }
  return 0;
}
