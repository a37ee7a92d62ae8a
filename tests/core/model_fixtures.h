#pragma once
// Models for the fusion and matching invariants: planted permutations applied independently of
// the code under test (not with otfuse::permuteModel), BatchNorm vectors away from the identity,
// noisy copies, random inputs, and the distances the tests compare with.
#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "otfuse/models/model.h"

namespace otfuse::testing {

inline double maxAbs(const at::Tensor& a, const at::Tensor& b) {
  return (a.to(at::kDouble) - b.to(at::kDouble)).abs().max().item<double>();
}

// Largest |a - b| relative to the largest |b|.
inline double relDiff(const at::Tensor& a, const at::Tensor& b) {
  return maxAbs(a, b) / std::max(1e-30, b.to(at::kDouble).abs().max().item<double>());
}

// One random permutation per neuron group (undefined for groups no layer writes), drawn from
// `gen` (which callers may go on drawing from) or from a generator seeded with `seed`.
inline std::vector<at::Tensor> randomPerms(const Architecture& arch, at::Generator& gen) {
  std::vector<at::Tensor> perms(arch.numGroups);
  for (const auto& l : arch.layers)
    if (l.outGroup >= 0 && !perms[l.outGroup].defined())
      perms[l.outGroup] = at::randperm(l.outFeatures, gen, at::kLong);
  return perms;
}
inline std::vector<at::Tensor> randomPerms(const Architecture& arch, uint64_t seed) {
  auto gen = at::make_generator<at::CPUGeneratorImpl>(seed);
  return randomPerms(arch, gen);
}

// `m` with every group g consistently permuted by perms[g]: the outputs of every layer writing
// it (weights, bias, BatchNorm vectors) and the inputs of every layer reading it. Neuron
// perms[g][j] of m ends at position j. Functionally equal to m.
inline Model permutedWith(const Model& m, const std::vector<at::Tensor>& perms) {
  const Architecture& arch = m.architecture();
  StateDict s = m.state().clone();
  for (const auto& l : arch.layers) {
    at::Tensor w = s.at(l.weight);
    if (l.outGroup >= 0) {
      const at::Tensor& p = perms[l.outGroup];
      w = w.index_select(0, p);
      if (!l.bias.empty()) s.set(l.bias, s.at(l.bias).index_select(0, p));
      for (const auto& k : l.perNeuron) s.set(k, s.at(k).index_select(0, p));
    }
    if (l.inGroup >= 0) {
      const at::Tensor& p = perms[l.inGroup];
      if (l.kind == LayerKind::Linear && l.inSpatial > 1)
        w = w.reshape({w.size(0), -1, l.inSpatial}).index_select(1, p).reshape({w.size(0), -1});
      else
        w = w.index_select(1, p);
    }
    s.set(l.weight, w.contiguous());
  }
  return Model(arch, std::move(s));
}

inline Model permutedCopy(const Model& m, uint64_t seed) {
  return permutedWith(m, randomPerms(m.architecture(), seed));
}

// BatchNorm affine parameters and running statistics away from the identity, so that a BN
// vector left unpermuted or misaligned changes the function.
inline Model withRandomBatchNorm(Model m, uint64_t seed) {
  auto gen = at::make_generator<at::CPUGeneratorImpl>(seed);
  for (const auto& l : m.architecture().layers) {
    if (l.perNeuron.empty()) continue;
    m.state().set(l.perNeuron[0], at::empty({l.outFeatures}).uniform_(0.5, 1.5, gen));
    m.state().set(l.perNeuron[1], at::empty({l.outFeatures}).uniform_(-0.2, 0.2, gen));
    m.state().set(l.perNeuron[2], at::empty({l.outFeatures}).uniform_(-0.2, 0.2, gen));
    m.state().set(l.perNeuron[3], at::empty({l.outFeatures}).uniform_(0.5, 1.5, gen));
  }
  return m;
}

// m with Gaussian noise of `sigma` times each tensor's standard deviation on every float
// tensor (running variances kept positive): a different model whose plans onto m are not
// trivial.
inline Model noisy(const Model& m, uint64_t seed, double sigma) {
  auto gen = at::make_generator<at::CPUGeneratorImpl>(seed);
  StateDict s = m.state().clone();
  const std::string var = "running_var";
  for (const auto& [k, t] : m.state()) {
    if (!at::isFloatingType(t.scalar_type()) || t.numel() < 2) continue;
    at::Tensor v = t + at::randn(t.sizes(), gen) * (sigma * t.std().item<double>());
    if (k.size() >= var.size() && k.compare(k.size() - var.size(), var.size(), var) == 0)
      v = v.abs() + 0.1;
    s.set(k, v);
  }
  return Model(m.architecture(), std::move(s));
}

// n standard-normal inputs of the architecture's shape.
inline at::Tensor randomInputs(const Architecture& a, int n, uint64_t seed) {
  auto gen = at::make_generator<at::CPUGeneratorImpl>(seed);
  return at::randn({n, a.inChannels, a.inHeight, a.inWidth}, gen);
}

}  // namespace otfuse::testing
