// Weight matching (Git Re-Basin), activation matching and REPAIR; see fusion/matching.h.
#include "otfuse/fusion/matching.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <numeric>
#include <random>

#include "ot/lapjv.h"
#include "otfuse/error.h"
#include "otfuse/fusion/average.h"

namespace otfuse {

MatchMethod parseMatchMethod(const std::string& s) {
  if (s == "weight-matching" || s == "weights" || s == "wm") return MatchMethod::WeightMatching;
  if (s == "activation-matching" || s == "activations" || s == "am")
    return MatchMethod::ActivationMatching;
  throw Error("unknown matching method '" + s + "' (weight-matching, activation-matching)");
}
RepairMode parseRepairMode(const std::string& s) {
  if (s == "none") return RepairMode::None;
  if (s == "exact") return RepairMode::Exact;
  if (s == "closed" || s == "closed-form") return RepairMode::ClosedForm;
  throw Error("unknown REPAIR variant '" + s + "' (none, exact, closed)");
}
std::string toString(MatchMethod m) {
  return m == MatchMethod::WeightMatching ? "weight-matching" : "activation-matching";
}
std::string toString(RepairMode m) {
  return m == RepairMode::None ? "none" : m == RepairMode::Exact ? "exact" : "closed";
}

namespace {

using RowMajor = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

double secondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

ot::Matrix toEigen(const at::Tensor& t) {
  at::Tensor d = t.to(at::kDouble).contiguous();
  return Eigen::Map<const RowMajor>(d.data_ptr<double>(), d.size(0), d.size(1));
}

// The BatchNorm tensors weight matching counts: the affine weight and bias (trained
// parameters), not the running statistics.
size_t affineCount(const LayerInfo& l) { return std::min<size_t>(l.perNeuron.size(), 2); }

// Weight of layer l with the input axis re-indexed by perm (undefined: as is). Any dtype.
at::Tensor permuteInput(const at::Tensor& w, const LayerInfo& l, const at::Tensor& perm) {
  if (!perm.defined()) return w;
  if (l.kind == LayerKind::Linear && l.inSpatial > 1)
    return w.reshape({w.size(0), -1, l.inSpatial}).index_select(1, perm).reshape({w.size(0), -1});
  return w.index_select(1, perm);
}

at::Tensor permuteOutput(const at::Tensor& x, const at::Tensor& perm) {
  return perm.defined() ? x.index_select(0, perm) : x;
}

// The weight with the input channels as the first axis: [in channels, everything else].
at::Tensor inputMajor(const at::Tensor& w, const LayerInfo& l) {
  if (l.kind == LayerKind::Linear && l.inSpatial > 1)
    return w.reshape({w.size(0), -1, l.inSpatial}).transpose(0, 1).reshape({w.size(1) / l.inSpatial, -1});
  if (w.dim() == 4) return w.transpose(0, 1).reshape({w.size(1), -1});
  return w.t();
}

void checkSameShapes(const Model& a, const Model& b, const char* what) {
  if (std::string why = fusionIncompatibility(a, b); !why.empty())
    throw Error(std::string(what) + ": " + why);
  const auto& la = a.architecture().layers;
  const auto& lb = b.architecture().layers;
  for (size_t i = 0; i < la.size(); ++i)
    if (a.state().at(la[i].weight).sizes() != b.state().at(lb[i].weight).sizes())
      throw Error(std::string(what) + " needs equal widths: layer " + la[i].name +
                  " has different shapes in A and B (permutations cannot map them)");
}

// Per group: writers and readers (layer indices, forward order).
struct Groups {
  std::vector<std::vector<size_t>> writers, readers;
  std::vector<int64_t> size;
};
Groups groupsOf(const Architecture& arch) {
  Groups g;
  g.writers.resize(arch.numGroups);
  g.readers.resize(arch.numGroups);
  g.size.assign(arch.numGroups, 0);
  for (size_t li = 0; li < arch.layers.size(); ++li) {
    const LayerInfo& l = arch.layers[li];
    if (l.outGroup >= 0) {
      g.writers[l.outGroup].push_back(li);
      g.size[l.outGroup] = l.outFeatures;
    }
    if (l.inGroup >= 0) g.readers[l.inGroup].push_back(li);
  }
  return g;
}

// LAP maximizing sum_j S[j, p[j]] (S: B's neurons x A's neurons, double tensor).
at::Tensor maximizeAssignment(const at::Tensor& similarity, const CancelFlag* cancel) {
  const int n = int(similarity.size(0));
  at::Tensor c = (-similarity).to(at::kDouble).contiguous();
  ot::detail::LapSolution sol = ot::detail::solveLap(c.data_ptr<double>(), n, cancel);
  return at::tensor(std::vector<int64_t>(sol.rowToCol.begin(), sol.rowToCol.end()), at::kLong);
}

double assignmentValue(const at::Tensor& similarity, const at::Tensor& perm) {
  return similarity.gather(1, perm.unsqueeze(1)).sum().item<double>();
}

// Per-layer results for the views from the groups' permutations and similarities.
std::vector<LayerResult> layerResults(const Architecture& arch, const Groups& groups,
                                      const std::vector<at::Tensor>& perms,
                                      const std::vector<at::Tensor>& similarity,
                                      const std::vector<double>& seconds) {
  std::vector<LayerResult> out(arch.layers.size());
  for (size_t li = 0; li < arch.layers.size(); ++li) {
    const LayerInfo& l = arch.layers[li];
    LayerResult& r = out[li];
    r.name = l.name;
    r.outGroup = l.outGroup;
    const int64_t n = l.outFeatures;
    r.mu = r.nu = ot::uniform(int(n));
    if (l.outGroup < 0) {
      r.identity = true;
      r.corrected = ot::Matrix::Identity(n, n);
      r.plan = r.corrected / double(n);
      r.cost = ot::Matrix::Zero(n, n);
      r.massOnBest = 1;
      r.entropy = std::log(double(n));
      continue;
    }
    const int g = l.outGroup;
    const auto& w = groups.writers[g];
    if (w.size() > 1) {
      r.stream = g;
      for (size_t k : w) r.streamWriters.push_back(arch.layers[k].name);
      r.mapFrom = r.streamWriters;
      r.reused = w.front() != li;
    }
    r.corrected = ot::Matrix::Zero(n, n);
    auto p = perms[g].accessor<int64_t, 1>();
    for (int64_t j = 0; j < n; ++j) r.corrected(p[j], j) = 1.0;
    r.plan = r.corrected / double(n);
    r.cost = -toEigen(similarity[g]).transpose();  // rows A's neurons
    r.otCost = (r.plan.array() * r.cost.array()).sum();
    r.entropy = std::log(double(n));
    r.massOnBest = 1;
    r.seconds = seconds[g];
  }
  return out;
}

// [K, n] or [K, n, H, W] -> [n, K*H*W]
at::Tensor neuronRows(const at::Tensor& act) {
  return act.transpose(0, 1).reshape({act.size(1), -1});
}

}  // namespace

Model permuteModel(const Model& a, const std::vector<at::Tensor>& perms) {
  at::NoGradGuard noGrad;
  StateDict s = a.state().clone();
  for (const auto& l : a.architecture().layers) {
    at::Tensor w = s.at(l.weight);
    if (l.outGroup >= 0) {
      const at::Tensor& p = perms.at(l.outGroup);
      w = permuteOutput(w, p);
      if (!l.bias.empty()) s.set(l.bias, permuteOutput(s.at(l.bias), p).contiguous());
      for (const auto& k : l.perNeuron) s.set(k, permuteOutput(s.at(k), p).contiguous());
    }
    if (l.inGroup >= 0) w = permuteInput(w, l, perms.at(l.inGroup));
    s.set(l.weight, w.contiguous());
  }
  return Model(a.architecture(), std::move(s));
}

double weightMatchingObjective(const Model& a, const Model& b, const std::vector<at::Tensor>& perms) {
  at::NoGradGuard noGrad;
  const auto& layers = b.architecture().layers;
  double total = 0;
  auto dot = [](const at::Tensor& x, const at::Tensor& y) {
    return (x.to(at::kDouble) * y.to(at::kDouble)).sum().item<double>();
  };
  for (const auto& l : layers) {
    const at::Tensor pOut = l.outGroup >= 0 ? perms.at(l.outGroup) : at::Tensor();
    const at::Tensor pIn = l.inGroup >= 0 ? perms.at(l.inGroup) : at::Tensor();
    at::Tensor w = permuteInput(permuteOutput(a.state().at(l.weight), pOut), l, pIn);
    total += dot(w, b.state().at(l.weight));
    if (!l.bias.empty()) total += dot(permuteOutput(a.state().at(l.bias), pOut), b.state().at(l.bias));
    for (size_t k = 0; k < affineCount(l); ++k)
      total += dot(permuteOutput(a.state().at(l.perNeuron[k]), pOut), b.state().at(l.perNeuron[k]));
  }
  return total;
}

MatchingResult weightMatching(const Model& a, const Model& b, const MatchingOptions& opt,
                              const CancelFlag* cancel) {
  const auto start = std::chrono::steady_clock::now();
  checkSameShapes(a, b, "weight matching");
  at::NoGradGuard noGrad;
  const Architecture& arch = b.architecture();
  const auto& layers = arch.layers;
  const Groups groups = groupsOf(arch);
  std::vector<at::Tensor> perms(arch.numGroups);
  for (int g = 0; g < arch.numGroups; ++g)
    if (groups.size[g] > 0) perms[g] = at::arange(groups.size[g], at::kLong);
  // Double copies of both models' tensors, once.
  auto dbl = [](const Model& m, const std::string& key) { return m.state().at(key).to(at::kDouble); };

  // Similarity of group g (B's neurons x A's neurons) with the other permutations fixed.
  auto similarity = [&](int g) {
    at::Tensor s = at::zeros({groups.size[g], groups.size[g]}, at::kDouble);
    for (size_t li : groups.writers[g]) {
      const LayerInfo& l = layers[li];
      const at::Tensor pIn = l.inGroup >= 0 ? perms[l.inGroup] : at::Tensor();
      at::Tensor wa = permuteInput(dbl(a, l.weight), l, pIn);
      at::Tensor wb = dbl(b, l.weight);
      s += at::mm(wb.reshape({wb.size(0), -1}), wa.reshape({wa.size(0), -1}).t());
      if (!l.bias.empty()) s += at::outer(dbl(b, l.bias), dbl(a, l.bias));
      for (size_t k = 0; k < affineCount(l); ++k)
        s += at::outer(dbl(b, l.perNeuron[k]), dbl(a, l.perNeuron[k]));
    }
    for (size_t li : groups.readers[g]) {
      const LayerInfo& l = layers[li];
      const at::Tensor pOut = l.outGroup >= 0 && l.outGroup != g ? perms[l.outGroup] : at::Tensor();
      at::Tensor wa = inputMajor(permuteOutput(dbl(a, l.weight), pOut), l);
      at::Tensor wb = inputMajor(dbl(b, l.weight), l);
      s += at::mm(wb, wa.t());
    }
    return s;
  };

  MatchingResult result;
  result.objective.push_back(weightMatchingObjective(a, b, perms));
  std::vector<int> order;
  for (int g = 0; g < arch.numGroups; ++g)
    if (groups.size[g] > 0) order.push_back(g);
  std::mt19937_64 rng(opt.seed);
  std::vector<double> seconds(arch.numGroups, 0.0);
  for (int sweep = 0; sweep < std::max(1, opt.maxIterations); ++sweep) {
    std::shuffle(order.begin(), order.end(), rng);
    bool improved = false;
    for (int g : order) {
      throwIfCancelled(cancel);
      const auto t0 = std::chrono::steady_clock::now();
      at::Tensor s = similarity(g);
      at::Tensor candidate = maximizeAssignment(s, cancel);
      const double before = assignmentValue(s, perms[g]);
      const double after = assignmentValue(s, candidate);
      // Re-Basin's rule: keep the new permutation only if it is better by more than rounding.
      if (after > before + 1e-12 * std::max(1.0, std::abs(before))) {
        perms[g] = candidate;
        improved = true;
      }
      result.objective.push_back(weightMatchingObjective(a, b, perms));
      seconds[g] += secondsSince(t0);
    }
    ++result.sweeps;
    if (!improved) break;
  }
  std::vector<at::Tensor> finalSimilarity(arch.numGroups);
  for (int g : order) finalSimilarity[g] = similarity(g);
  result.perms = perms;
  result.layers = layerResults(arch, groups, perms, finalSimilarity, seconds);
  result.seconds = secondsSince(start);
  return result;
}

MatchingResult activationMatching(const Model& a, const Model& b, const at::Tensor& samples,
                                  const CancelFlag* cancel) {
  const auto start = std::chrono::steady_clock::now();
  checkSameShapes(a, b, "activation matching");
  if (!samples.defined() || samples.size(0) < 2)
    throw Error("activation matching needs at least two input samples");
  at::NoGradGuard noGrad;
  const Architecture& arch = b.architecture();
  const Groups groups = groupsOf(arch);
  std::vector<at::Tensor> actsA, actsB;
  a.forward(samples, &actsA);
  b.forward(samples, &actsB);
  throwIfCancelled(cancel);
  // Standardized rows: every neuron's values minus their mean, divided by their std (a
  // constant neuron stays zero and correlates with nothing).
  auto standardized = [&](const std::vector<at::Tensor>& acts, int g) {
    std::vector<at::Tensor> parts;
    for (size_t li : groups.writers[g]) parts.push_back(neuronRows(acts[li]).to(at::kDouble));
    at::Tensor x = at::cat(parts, 1);
    x = x - x.mean(1, true);
    at::Tensor sd = x.square().mean(1, true).sqrt();
    return x / at::where(sd > 1e-12, sd, at::ones_like(sd));
  };
  MatchingResult result;
  result.perms.resize(arch.numGroups);
  std::vector<at::Tensor> corr(arch.numGroups);
  std::vector<double> seconds(arch.numGroups, 0.0);
  for (int g = 0; g < arch.numGroups; ++g) {
    if (groups.size[g] == 0) continue;
    throwIfCancelled(cancel);
    const auto t0 = std::chrono::steady_clock::now();
    at::Tensor za = standardized(actsA, g), zb = standardized(actsB, g);
    corr[g] = at::mm(zb, za.t()) / double(za.size(1));  // B x A correlations
    result.perms[g] = maximizeAssignment(corr[g], cancel);
    seconds[g] = secondsSince(t0);
  }
  result.layers = layerResults(arch, groups, result.perms, corr, seconds);
  result.seconds = secondsSince(start);
  return result;
}

MultiFusionResult matchMany(const std::vector<Model>& models, int anchor,
                            const std::vector<double>& weights, MatchMethod method,
                            const MatchingOptions& options, const at::Tensor& samples,
                            const ProgressFn& progress, const CancelFlag* cancel) {
  const auto start = std::chrono::steady_clock::now();
  const int n = int(models.size());
  if (n < 2) throw Error("matching needs at least two models (got " + std::to_string(n) + ")");
  if (anchor < 0 || anchor >= n)
    throw Error("the anchor is model " + std::to_string(anchor) + ", but there are " +
                std::to_string(n) + " models");
  MultiFusionResult result;
  result.anchor = anchor;
  result.weights = normalizedWeights(weights, models.size());
  result.layers.resize(n);
  std::vector<Model> aligned;
  for (int i = 0; i < n; ++i) {
    if (i == anchor) {
      aligned.push_back(models[i]);
      continue;
    }
    if (progress) progress({"match " + toString(method), i, n, "model " + std::to_string(i)});
    MatchingResult r = method == MatchMethod::WeightMatching
                           ? weightMatching(models[i], models[anchor], options, cancel)
                           : activationMatching(models[i], models[anchor], samples, cancel);
    aligned.push_back(permuteModel(models[i], r.perms));
    result.layers[i] = std::move(r.layers);
  }
  result.fused = vanillaAverageMany(aligned, result.weights, anchor);
  result.seconds = secondsSince(start);
  return result;
}

// --- REPAIR ---

namespace {

// Per hidden layer: per-channel sums over `inputs` of z, z^2 (and z_A z_B for a pair), and the
// number of values per channel. `only` >= 0: that layer alone.
struct Moments {
  std::vector<at::Tensor> sumA, sqA, sumB, sqB, cross;
  std::vector<double> count;
};

Moments moments(const Model& a, const Model* b, const at::Tensor& inputs, int batchSize,
                long only, const CancelFlag* cancel) {
  at::NoGradGuard noGrad;
  const auto& layers = a.architecture().layers;
  const size_t L = layers.size();
  Moments m;
  m.sumA.resize(L), m.sqA.resize(L), m.sumB.resize(L), m.sqB.resize(L), m.cross.resize(L);
  m.count.assign(L, 0.0);
  auto add = [](at::Tensor& acc, const at::Tensor& x) { acc = acc.defined() ? acc + x : x; };
  if (batchSize < 1) batchSize = 500;
  for (int64_t i = 0; i < inputs.size(0); i += batchSize) {
    throwIfCancelled(cancel);
    const at::Tensor x = inputs.slice(0, i, std::min<int64_t>(i + batchSize, inputs.size(0)));
    std::vector<at::Tensor> actsA, actsB;
    a.forward(x, &actsA);
    if (b) b->forward(x, &actsB);
    for (size_t li = 0; li < L; ++li) {
      if (layers[li].outGroup < 0 || (only >= 0 && size_t(only) != li)) continue;
      const at::Tensor ra = neuronRows(actsA[li]).to(at::kDouble);
      add(m.sumA[li], ra.sum(1));
      add(m.sqA[li], ra.square().sum(1));
      m.count[li] += double(ra.size(1));
      if (b) {
        const at::Tensor rb = neuronRows(actsB[li]).to(at::kDouble);
        add(m.sumB[li], rb.sum(1));
        add(m.sqB[li], rb.square().sum(1));
        add(m.cross[li], (ra * rb).sum(1));
      }
    }
  }
  return m;
}

void checkRepairable(const Model& m) {
  if (m.hasBatchNorm())
    throw Error("REPAIR is for networks without BatchNorm (" + m.architecture().name +
                " has BatchNorm: re-estimate its BatchNorm statistics instead)");
}

}  // namespace

LayerStatistics preActivationStatistics(const Model& m, const at::Tensor& inputs, int batchSize) {
  Moments mo = moments(m, nullptr, inputs, batchSize, -1, nullptr);
  LayerStatistics s;
  s.mean.resize(mo.count.size());
  s.var.resize(mo.count.size());
  for (size_t li = 0; li < mo.count.size(); ++li) {
    if (!mo.sumA[li].defined()) continue;
    s.mean[li] = mo.sumA[li] / mo.count[li];
    s.var[li] = (mo.sqA[li] / mo.count[li] - s.mean[li].square()).clamp_min(0.0);
  }
  return s;
}

ParentStatistics parentStatistics(const Model& alignedA, const Model& b, const at::Tensor& inputs,
                                  int batchSize) {
  checkSameShapes(alignedA, b, "REPAIR");
  Moments mo = moments(alignedA, &b, inputs, batchSize, -1, nullptr);
  ParentStatistics p;
  const size_t L = mo.count.size();
  p.a.mean.resize(L), p.a.var.resize(L), p.b.mean.resize(L), p.b.var.resize(L), p.cov.resize(L);
  for (size_t li = 0; li < L; ++li) {
    if (!mo.sumA[li].defined()) continue;
    const double n = mo.count[li];
    p.a.mean[li] = mo.sumA[li] / n;
    p.b.mean[li] = mo.sumB[li] / n;
    p.a.var[li] = (mo.sqA[li] / n - p.a.mean[li].square()).clamp_min(0.0);
    p.b.var[li] = (mo.sqB[li] / n - p.b.mean[li].square()).clamp_min(0.0);
    p.cov[li] = mo.cross[li] / n - p.a.mean[li] * p.b.mean[li];
  }
  return p;
}

Model repairMerged(const Model& merged, const ParentStatistics& parents, double t, RepairMode mode,
                   const at::Tensor& inputs, const CancelFlag* cancel) {
  if (mode == RepairMode::None) return merged;
  checkRepairable(merged);
  at::NoGradGuard noGrad;
  Model out = merged.clone();
  const auto& layers = out.architecture().layers;
  constexpr double kMinStd = 1e-8;
  for (size_t li = 0; li < layers.size(); ++li) {
    const LayerInfo& l = layers[li];
    if (l.outGroup < 0) continue;
    if (!parents.a.mean.at(li).defined()) throw Error("REPAIR: no parent statistics for " + l.name);
    const at::Tensor targetMean = (1.0 - t) * parents.a.mean[li] + t * parents.b.mean[li];
    const at::Tensor sA = parents.a.var[li].sqrt(), sB = parents.b.var[li].sqrt();
    const at::Tensor targetStd = (1.0 - t) * sA + t * sB;
    at::Tensor mean, sd;
    if (mode == RepairMode::Exact) {
      // The merged network as corrected so far (layers before li), measured at layer li.
      Moments mo = moments(out, nullptr, inputs, 500, long(li), cancel);
      mean = mo.sumA[li] / mo.count[li];
      sd = (mo.sqA[li] / mo.count[li] - mean.square()).clamp_min(0.0).sqrt();
    } else {
      // Closed form (methods.h): the merged pre-activation as the interpolation of the
      // parents' on the same input.
      mean = targetMean;
      const at::Tensor var = (1.0 - t) * (1.0 - t) * parents.a.var[li] + t * t * parents.b.var[li] +
                             2.0 * t * (1.0 - t) * parents.cov[li];
      sd = var.clamp_min(0.0).sqrt();
    }
    const at::Tensor ok = (sd > kMinStd) & (targetStd > kMinStd);
    const at::Tensor scale = at::where(ok, targetStd / sd.clamp_min(kMinStd), at::ones_like(sd));
    at::Tensor w = out.state().at(l.weight).to(at::kDouble);
    std::vector<int64_t> shape(w.dim(), 1);
    shape[0] = w.size(0);
    out.state().set(l.weight, (w * scale.reshape(shape)).to(at::kFloat).contiguous());
    if (!l.bias.empty()) {
      const at::Tensor b = out.state().at(l.bias).to(at::kDouble);
      const at::Tensor shifted = (b - mean) * scale + targetMean;
      out.state().set(l.bias, at::where(ok, shifted, b).to(at::kFloat).contiguous());
    }
    throwIfCancelled(cancel);
  }
  return out;
}

Model repairMerged(const Model& merged, const Model& alignedA, const Model& b, double t,
                   RepairMode mode, const at::Tensor& inputs, const CancelFlag* cancel) {
  if (mode == RepairMode::None) return merged;
  checkRepairable(merged);
  return repairMerged(merged, parentStatistics(alignedA, b, inputs), t, mode, inputs, cancel);
}

Model repairMergedMany(const Model& merged, const std::vector<Model>& aligned,
                       const std::vector<double>& weights, RepairMode mode,
                       const at::Tensor& inputs, const CancelFlag* cancel) {
  if (mode == RepairMode::None) return merged;
  checkRepairable(merged);
  if (aligned.size() < 2 || aligned.size() != weights.size())
    throw Error("REPAIR needs two or more aligned parents and one weight per parent (got " +
                std::to_string(aligned.size()) + " parents, " + std::to_string(weights.size()) +
                " weights)");
  if (aligned.size() == 2)
    return repairMerged(merged, aligned[0], aligned[1], weights[1], mode, inputs, cancel);
  if (mode == RepairMode::ClosedForm)
    throw Error("closed-form REPAIR is defined for two parents (it needs their covariance); "
                "use exact REPAIR for " + std::to_string(aligned.size()) + " models");
  // The exact variant only needs the targets: fold them into one "parent" and use t = 0.
  ParentStatistics targets;
  for (size_t i = 0; i < aligned.size(); ++i) {
    throwIfCancelled(cancel);
    const LayerStatistics s = preActivationStatistics(aligned[i], inputs);
    if (i == 0) {
      targets.a.mean.resize(s.mean.size());
      targets.a.var.resize(s.var.size());
    }
    for (size_t li = 0; li < s.mean.size(); ++li) {
      if (!s.mean[li].defined()) continue;
      const at::Tensor mean = weights[i] * s.mean[li], sd = weights[i] * s.var[li].sqrt();
      targets.a.mean[li] = targets.a.mean[li].defined() ? targets.a.mean[li] + mean : mean;
      targets.a.var[li] = targets.a.var[li].defined() ? targets.a.var[li] + sd : sd;  // std sum
    }
  }
  for (at::Tensor& v : targets.a.var)
    if (v.defined()) v = v.square();  // repairMerged reads a variance
  targets.b = targets.a;
  return repairMerged(merged, targets, 0.0, mode, inputs, cancel);
}

}  // namespace otfuse
