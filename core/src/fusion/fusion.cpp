// OT fusion (weights and activations alignment) and the vanilla-averaging baseline.
#include "otfuse/fusion/fusion.h"

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cmath>

#include "otfuse/error.h"

namespace otfuse {
namespace {

using RowMajor = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

double secondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// 2-D tensor (any float dtype) -> Eigen matrix (double).
ot::Matrix toEigen(const at::Tensor& t) {
  at::Tensor d = t.to(at::kDouble).contiguous();
  return Eigen::Map<const RowMajor>(d.data_ptr<double>(), d.size(0), d.size(1));
}

at::Tensor toTensor(const ot::Matrix& m) {
  at::Tensor t = at::empty({m.rows(), m.cols()}, at::kDouble);
  Eigen::Map<RowMajor>(t.data_ptr<double>(), m.rows(), m.cols()) = m;
  return t;
}

// A neuron map T~ (nA x nB). When T~ is a scaled permutation (exact OT with uniform
// marginals and equal widths: one non-zero per row and column) it is also kept as an index, so
// applying it is a gather, O(n d), instead of a dense product, O(n^2 d); the result is the
// same: column j of T~ has its single entry T~[index[j], j] = scale[j].
struct NeuronMap {
  at::Tensor dense;  // double [nA, nB]
  at::Tensor index;  // int64 [nB], defined for permutations
  at::Tensor scale;  // double [nB]
  bool defined() const { return dense.defined(); }
};

NeuronMap makeMap(const ot::Matrix& m) {
  NeuronMap map;
  map.dense = toTensor(m);
  if (m.rows() != m.cols()) return map;
  std::vector<int64_t> index(m.cols(), -1);
  std::vector<double> scale(m.cols(), 0.0);
  std::vector<bool> used(m.rows(), false);
  for (Eigen::Index j = 0; j < m.cols(); ++j) {
    for (Eigen::Index i = 0; i < m.rows(); ++i) {
      if (m(i, j) == 0.0) continue;
      if (index[j] >= 0 || used[i]) return map;  // not a permutation
      index[j] = i;
      scale[j] = m(i, j);
      used[i] = true;
    }
    if (index[j] < 0) return map;
  }
  map.index = at::tensor(index, at::kLong);
  map.scale = at::tensor(scale, at::kDouble);
  return map;
}

NeuronMap identityMap(int64_t n) {
  NeuronMap map;
  map.dense = at::eye(n, at::kDouble);
  map.index = at::arange(n, at::kLong);
  map.scale = at::ones({n}, at::kDouble);
  return map;
}

// x [..., nA] (last axis = A's neurons) -> [..., nB] = x T~.
at::Tensor applyOnLastAxis(const at::Tensor& x, const NeuronMap& map) {
  if (map.index.defined()) return x.index_select(x.dim() - 1, map.index) * map.scale;
  return at::matmul(x, map.dense);
}

// Re-indexes the input axis of a layer's weight (double) with the map of the group it reads.
at::Tensor alignInput(const at::Tensor& w, const NeuronMap& map, const LayerInfo& l) {
  const int64_t out = w.size(0);
  const int64_t nB = map.dense.size(1);
  if (l.kind == LayerKind::Conv2d) {
    // (out, in, kh, kw) -> (out, kh*kw, in) T~ -> (out, nB, kh, kw)
    const int64_t kh = w.size(2), kw = w.size(3);
    at::Tensor x = w.reshape({out, w.size(1), kh * kw}).permute({0, 2, 1});
    return applyOnLastAxis(x, map).permute({0, 2, 1}).reshape({out, nB, kh, kw});
  }
  if (l.inSpatial > 1) {
    // Linear after flatten: (out, C*s) -> (out, s, C) T~ -> (out, C_B*s), channel-major.
    const int64_t s = l.inSpatial;
    at::Tensor x = w.reshape({out, w.size(1) / s, s}).permute({0, 2, 1});
    return applyOnLastAxis(x, map).permute({0, 2, 1}).reshape({out, nB * s});
  }
  return applyOnLastAxis(w, map);
}

// T~^T applied on the output axis: (nA, ...) -> (nB, ...).
at::Tensor alignOutput(const at::Tensor& x, const NeuronMap& map) {
  auto shape = x.sizes().vec();
  shape[0] = map.dense.size(1);
  at::Tensor rows = x.reshape({x.size(0), -1});
  if (map.index.defined())
    return (rows.index_select(0, map.index) * map.scale.unsqueeze(1)).reshape(shape);
  return at::matmul(map.dense.t(), rows).reshape(shape);
}

// Importance marginals: a neuron's mass is the l1 / l2 norm of its incoming weights over the
// layer's total. Zero and tiny masses (issue 8): every neuron keeps at least kMinMassShare of
// the uniform share 1/n, then the masses are renormalized. So a dead neuron (an all-zero
// incoming row) or a nearly dead one still takes part in the plan — it neither vanishes from
// the exact solver's plan nor leaves a column of T empty, which made the correction divide
// 0 by 0 — and it carries almost no weight. Layers whose norms are all zero get uniform masses.
constexpr double kMinMassShare = 1e-3;

ot::Vector marginal(MarginalKind kind, const at::Tensor& incoming, bool outputLayer) {
  const int64_t n = incoming.size(0);
  if (kind == MarginalKind::Uniform || outputLayer) return ot::uniform(int(n));
  at::Tensor rows = incoming.reshape({n, -1});
  at::Tensor w = kind == MarginalKind::ImportanceL1 ? rows.abs().sum(1) : rows.norm(2, 1);
  w = w.to(at::kDouble).contiguous();
  ot::Vector v = Eigen::Map<const Eigen::VectorXd>(w.data_ptr<double>(), n);
  const double total = v.sum();
  if (!(total > 0) || !std::isfinite(total)) return ot::uniform(int(n));
  v = (v / total).cwiseMax(kMinMassShare / double(n));
  return v / v.sum();
}

void planStatistics(LayerResult& r) {
  const double total = r.plan.sum();
  r.otCost = (r.plan.array() * r.cost.array()).sum();
  double h = 0;
  for (Eigen::Index j = 0; j < r.plan.cols(); ++j)
    for (Eigen::Index i = 0; i < r.plan.rows(); ++i) {
      double p = r.plan(i, j) / total;
      if (p > 0) h -= p * std::log(p);
    }
  r.entropy = h;
  r.massOnBest = r.plan.rowwise().maxCoeff().sum() / total;
}

// Per-neuron rows used as the ground-cost points of a layer.
at::Tensor neuronRows(const at::Tensor& activation) {
  // [K, n] or [K, n, H, W] -> [n, K*H*W]
  return activation.transpose(0, 1).reshape({activation.size(1), -1});
}

}  // namespace

PlanStatus planStatus(const std::vector<LayerResult>& layers) {
  PlanStatus s;
  for (const auto& r : layers) {
    if (r.identity || r.reused || r.plan.size() == 0) continue;
    ++s.solved;
    s.maxMarginalError = std::max(s.maxMarginalError, r.marginalError);
    if (r.status == ot::Status::IterationLimit) s.atIterationLimit.push_back(r.name);
  }
  return s;
}

std::string PlanStatus::text(const FusionOptions& o) const {
  const bool sinkhorn = o.solver == Solver::Sinkhorn;
  const std::string solver = sinkhorn ? "Sinkhorn" : "exact OT";
  const std::string of = std::to_string(solved) + " solved layer" + (solved == 1 ? "" : "s");
  char err[32];
  std::snprintf(err, sizeof err, "%.2g", maxMarginalError);
  if (ok()) {
    return sinkhorn ? "Sinkhorn converged on all " + of + " (marginal error " + err + ")"
                    : "exact OT optimal on all " + of;
  }
  std::string names;
  for (size_t i = 0; i < atIterationLimit.size(); ++i) names += (i ? ", " : "") + atIterationLimit[i];
  return solver + " stopped at its iteration limit" +
         (sinkhorn ? " (" + std::to_string(o.sinkhornMaxIterations) + ")" : std::string()) + " on " +
         names + " of " + of + ": those plans are approximate (marginal error up to " + err + ")";
}

std::string fusionIncompatibility(const Model& a, const Model& b) {
  const Architecture& archA = a.architecture();
  const Architecture& archB = b.architecture();
  const auto& la = archA.layers;
  const auto& lb = archB.layers;
  const std::string rule = "; the models must have the same layer structure (widths may differ)";
  auto names = [](const std::vector<LayerInfo>& ls) {
    std::string out;
    for (const auto& l : ls) out += (out.empty() ? "" : ", ") + l.name;
    return out;
  };
  if (la.size() != lb.size()) {
    const bool aLonger = la.size() > lb.size();
    const LayerInfo& extra = aLonger ? la[lb.size()] : lb[la.size()];
    return "A (" + archA.name + ") has " + std::to_string(la.size()) + " weight layers (" +
           names(la) + ") and B (" + archB.name + ") has " + std::to_string(lb.size()) + " (" +
           names(lb) + "): layer " + extra.name + " of " + (aLonger ? "A" : "B") +
           " has no counterpart" + rule;
  }
  auto kind = [](const LayerInfo& l) { return l.kind == LayerKind::Linear ? "Linear" : "Conv2d"; };
  for (size_t i = 0; i < la.size(); ++i) {
    const auto& x = la[i];
    const auto& y = lb[i];
    if (x.name != y.name || x.kind != y.kind || x.kernelH != y.kernelH ||
        x.inSpatial != y.inSpatial || x.inGroup != y.inGroup || x.outGroup != y.outGroup ||
        x.bias.empty() != y.bias.empty() || x.perNeuron.size() != y.perNeuron.size()) {
      return "layer " + x.name + " (" + kind(x) + ") of A (" + archA.name +
             ") does not correspond to layer " + y.name + " (" + kind(y) + ") of B (" +
             archB.name + ")" + rule;
    }
  }
  if (archA.family != archB.family)
    return "A is a " + archA.family + " (" + archA.name + ") and B a " + archB.family + " (" +
           archB.name + ")" + rule;
  if (la.back().outFeatures != lb.back().outFeatures)
    return "the output layer " + la.back().name + " has " + std::to_string(la.back().outFeatures) +
           " classes in A and " + std::to_string(lb.back().outFeatures) + " in B";
  if (archA.inChannels != archB.inChannels || archA.inHeight != archB.inHeight ||
      archA.inWidth != archB.inWidth)
    return "the models take different inputs (" + std::to_string(archA.inChannels) + "x" +
           std::to_string(archA.inHeight) + "x" + std::to_string(archA.inWidth) + " and " +
           std::to_string(archB.inChannels) + "x" + std::to_string(archB.inHeight) + "x" +
           std::to_string(archB.inWidth) + ")";
  return "";
}

AlignMode parseAlignMode(const std::string& s) {
  if (s == "weights" || s == "wts") return AlignMode::Weights;
  if (s == "activations" || s == "acts") return AlignMode::Activations;
  throw Error("unknown alignment mode '" + s + "' (weights, activations)");
}
Solver parseSolver(const std::string& s) {
  if (s == "exact" || s == "emd") return Solver::Exact;
  if (s == "sinkhorn") return Solver::Sinkhorn;
  throw Error("unknown solver '" + s + "' (exact, sinkhorn)");
}
MarginalKind parseMarginals(const std::string& s) {
  if (s == "uniform") return MarginalKind::Uniform;
  if (s == "l1") return MarginalKind::ImportanceL1;
  if (s == "l2") return MarginalKind::ImportanceL2;
  throw Error("unknown marginals '" + s + "' (uniform, l1, l2)");
}
std::string toString(AlignMode m) { return m == AlignMode::Weights ? "weights" : "activations"; }
std::string toString(Solver s) { return s == Solver::Exact ? "exact" : "sinkhorn"; }
std::string toString(MarginalKind m) {
  return m == MarginalKind::Uniform ? "uniform" : m == MarginalKind::ImportanceL1 ? "l1" : "l2";
}

FusionResult fuse(const Model& a, const Model& b, const FusionOptions& opt,
                  const at::Tensor& samples, const ProgressFn& progress,
                  const CancelFlag* cancel) {
  const auto start = std::chrono::steady_clock::now();
  if (std::string why = fusionIncompatibility(a, b); !why.empty())
    throw Error("cannot fuse A onto B: " + why);
  if (!(opt.t >= 0 && opt.t <= 1)) throw Error("the anchor weight t must lie in [0, 1]");
  at::NoGradGuard noGrad;
  const Architecture& arch = b.architecture();
  const auto& layers = arch.layers;

  std::vector<at::Tensor> actsA, actsB;
  if (opt.mode == AlignMode::Activations) {
    if (!samples.defined() || samples.size(0) < 1)
      throw Error("activations mode needs input samples (none were given)");
    if (progress) progress({"activations", 0, 1, ""});
    a.forward(samples, &actsA);
    b.forward(samples, &actsB);
    throwIfCancelled(cancel);
  }

  FusionResult result;
  std::vector<NeuronMap> maps(arch.numGroups);
  StateDict fused = b.state().clone();
  const double t = opt.t;

  for (size_t li = 0; li < layers.size(); ++li) {
    throwIfCancelled(cancel);
    const auto layerStart = std::chrono::steady_clock::now();
    const LayerInfo& l = layers[li];
    const LayerInfo& la = a.architecture().layers[li];
    if (progress) progress({"align " + l.name, static_cast<long long>(li), static_cast<long long>(layers.size()), ""});

    at::Tensor wA = a.state().at(la.weight).to(at::kDouble);
    at::Tensor wB = b.state().at(l.weight).to(at::kDouble);
    if (l.inGroup >= 0) wA = alignInput(wA, maps[l.inGroup], l);
    at::Tensor bA = la.bias.empty() ? at::Tensor() : a.state().at(la.bias).to(at::kDouble);

    LayerResult r;
    r.name = l.name;
    r.outGroup = l.outGroup;
    const bool output = l.outGroup < 0;
    NeuronMap map;
    if (output && !opt.otOutputLayer) {
      const int64_t n = l.outFeatures;
      r.identity = true;
      r.plan = ot::Matrix::Identity(n, n) / double(n);
      r.corrected = ot::Matrix::Identity(n, n);
      r.mu = r.nu = ot::uniform(int(n));
      r.cost = ot::Matrix::Zero(n, n);
      map = identityMap(n);
    } else if (!output && maps[l.outGroup].defined()) {
      r.reused = true;
      map = maps[l.outGroup];
      r.corrected = toEigen(map.dense);
    } else {
      at::Tensor xA, xB;
      if (opt.mode == AlignMode::Weights) {
        xA = wA.reshape({wA.size(0), -1});
        xB = wB.reshape({wB.size(0), -1});
        if (bA.defined()) {
          xA = at::cat({xA, bA.unsqueeze(1)}, 1);
          xB = at::cat({xB, b.state().at(l.bias).to(at::kDouble).unsqueeze(1)}, 1);
        }
      } else {
        xA = neuronRows(actsA[li]);
        xB = neuronRows(actsB[li]);
      }
      r.cost = ot::groundCost(toEigen(xA), toEigen(xB), opt.metric);
      ot::normalizeCost(r.cost, opt.normalization);
      r.mu = marginal(opt.marginals, a.state().at(la.weight), output);
      r.nu = marginal(opt.marginals, b.state().at(l.weight), output);
      ot::Result sol;
      if (opt.solver == Solver::Exact) {
        ot::ExactOptions eo;
        eo.cancel = cancel;  // a large layer stops mid-solve, not only between layers
        sol = ot::exact(r.mu, r.nu, r.cost, eo);
      } else {
        ot::SinkhornOptions so;
        so.epsilon = opt.epsilon;
        so.tolerance = opt.sinkhornTolerance;
        so.maxIterations = opt.sinkhornMaxIterations;
        so.cancel = cancel;
        sol = ot::sinkhorn(r.mu, r.nu, r.cost, so);
      }
      if (sol.status == ot::Status::InvalidInput || sol.status == ot::Status::Infeasible) {
        throw Error("optimal transport failed at layer " + l.name + ": " + sol.message);
      }
      r.status = sol.status;
      r.iterations = sol.iterations;
      r.marginalError = sol.marginalError;
      r.plan = std::move(sol.plan);
      // Correction T~ = T diag(1/nu), with nu measured on the plan (the authors' "proper
      // marginals"): the same as the target nu for exact plans (to rounding), and it keeps
      // every column of T~ a convex combination for a Sinkhorn plan that did not converge.
      const ot::Vector received = r.plan.colwise().sum().transpose();
      if (!(received.minCoeff() > 0))
        throw Error("optimal transport at layer " + l.name +
                    " gave a neuron of B no mass; cannot average into it");
      r.corrected = r.plan * received.cwiseInverse().asDiagonal();
      map = makeMap(r.corrected);
      if (!output) maps[l.outGroup] = map;
    }
    if (r.plan.size() > 0) planStatistics(r);

    auto blend = [&](const at::Tensor& alignedA, const at::Tensor& fromB) {
      return ((1.0 - t) * alignedA + t * fromB).to(at::kFloat).contiguous();
    };
    fused.set(l.weight, blend(alignOutput(wA, map), wB));
    if (!l.bias.empty())
      fused.set(l.bias, blend(alignOutput(bA, map), b.state().at(l.bias).to(at::kDouble)));
    for (size_t k = 0; k < l.perNeuron.size(); ++k) {
      at::Tensor vA = a.state().at(la.perNeuron[k]).to(at::kDouble);
      fused.set(l.perNeuron[k],
                blend(alignOutput(vA, map), b.state().at(l.perNeuron[k]).to(at::kDouble)));
    }
    r.seconds = secondsSince(layerStart);
    result.layers.push_back(std::move(r));
  }
  if (progress) progress({"align", static_cast<long long>(layers.size()), static_cast<long long>(layers.size()), ""});
  result.fused = Model(arch, std::move(fused));
  result.seconds = secondsSince(start);
  return result;
}

Model vanillaAverage(const Model& a, const Model& b, double t) {
  if (a.architecture().name != b.architecture().name)
    throw Error("vanilla averaging needs two models of one architecture; got " +
                a.architecture().name + " and " + b.architecture().name);
  at::NoGradGuard noGrad;
  StateDict out;
  for (const auto& [key, tb] : b.state()) {
    const at::Tensor& ta = a.state().at(key);
    if (ta.sizes() != tb.sizes())
      throw Error("vanilla averaging: " + key + " has different shapes in the two models");
    if (at::isFloatingType(tb.scalar_type()))
      out.set(key, ((1.0 - t) * ta.to(at::kDouble) + t * tb.to(at::kDouble)).to(tb.scalar_type()));
    else
      out.set(key, tb.clone());
  }
  return Model(b.architecture(), std::move(out));
}

std::vector<Model> progressiveAlignment(const Model& a, const FusionResult& result) {
  at::NoGradGuard noGrad;
  const auto& layers = a.architecture().layers;
  if (result.layers.size() != layers.size())
    throw Error("progressive alignment: the fusion result does not belong to this model");
  std::vector<NeuronMap> maps(a.architecture().numGroups);
  std::vector<Model> out;
  for (size_t upto = 0; upto < layers.size(); ++upto) {
    const LayerResult& r = result.layers[upto];
    if (layers[upto].outGroup >= 0) maps[layers[upto].outGroup] = makeMap(r.corrected);
    // A with layers 0..upto aligned on their outputs; inputs re-indexed wherever the group
    // they read has been aligned.
    StateDict s = a.state().clone();
    std::vector<bool> aligned(a.architecture().numGroups, false);
    for (size_t li = 0; li <= upto; ++li)
      if (layers[li].outGroup >= 0) aligned[layers[li].outGroup] = true;
    for (size_t li = 0; li < layers.size(); ++li) {
      const LayerInfo& l = layers[li];
      at::Tensor w = s.at(l.weight).to(at::kDouble);
      if (l.inGroup >= 0 && aligned[l.inGroup]) w = alignInput(w, maps[l.inGroup], l);
      bool outAligned = l.outGroup >= 0 && aligned[l.outGroup];
      if (outAligned) {
        const NeuronMap& map = maps[l.outGroup];
        w = alignOutput(w, map);
        if (!l.bias.empty()) s.set(l.bias, alignOutput(s.at(l.bias).to(at::kDouble), map).to(at::kFloat));
        for (const auto& k : l.perNeuron)
          s.set(k, alignOutput(s.at(k).to(at::kDouble), map).to(at::kFloat));
      }
      s.set(l.weight, w.to(at::kFloat).contiguous());
    }
    // Shapes follow B's widths once aligned; describe the result with B's architecture only if
    // widths agree (they do for equal-width fusion, the case this view is meant for).
    out.emplace_back(a.architecture(), std::move(s));
  }
  return out;
}

at::Tensor sampleInputs(const Dataset& train, int count, uint64_t seed) {
  if (count < 1) throw Error("the number of activation samples must be positive");
  if (count > train.size())
    throw Error("asked for " + std::to_string(count) + " activation samples but " + train.name +
                " has only " + std::to_string(train.size()) + " training images");
  auto gen = at::make_generator<at::CPUGeneratorImpl>(seed);
  at::Tensor idx = at::randperm(train.size(), gen, at::kLong).slice(0, 0, count);
  return train.normalized(idx);
}

}  // namespace otfuse
