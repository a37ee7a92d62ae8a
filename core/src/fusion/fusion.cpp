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

// Ground cost between the rows of xA [nA, d] and xB [nB, d] (double tensors): the formula of
// ot::groundCost (Euclidean via ||x||^2 + ||y||^2 - 2 x.y clamped at 0, then sqrt unless
// squared; cosine 1 - cos, a zero vector at distance 1 from everything), with the product
// computed by LibTorch's BLAS on all its threads instead of Eigen's single-threaded GEMM. It
// dominated six-VGG11 fusion (512 x 4608 rows at the wide layers; bench/bench_fuse_many).
ot::Matrix groundCostOf(const at::Tensor& xA, const at::Tensor& xB, ot::Metric metric) {
  if (xA.size(1) != xB.size(1))
    throw Error("ground cost: point dimensions differ (" + std::to_string(xA.size(1)) + " vs " +
                std::to_string(xB.size(1)) + " columns)");
  const at::Tensor x = xA.to(at::kDouble).contiguous(), y = xB.to(at::kDouble).contiguous();
  at::Tensor d;
  if (metric == ot::Metric::Cosine) {
    auto inverse = [](const at::Tensor& n) {
      return at::where(n > 0, n.reciprocal(), at::zeros_like(n));
    };
    const at::Tensor ix = inverse(x.norm(2, 1)), iy = inverse(y.norm(2, 1));
    d = (1.0 - at::mm(x, y.t()) * ix.unsqueeze(1) * iy.unsqueeze(0)).clamp_min(0.0);
  } else {
    d = at::mm(x, y.t()) * -2.0;
    d = (d + x.square().sum(1).unsqueeze(1) + y.square().sum(1).unsqueeze(0)).clamp_min(0.0);
    if (metric == ot::Metric::Euclidean) d = d.sqrt();
  }
  return toEigen(d);
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
    // A stream's one plan (SummedCost) is shown at each of its sources: count it once.
    if (r.sharedPlan && !r.mapFrom.empty() && r.name != r.mapFrom.back()) continue;
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

StreamMap parseStreamMap(const std::string& s) {
  if (s == "first" || s == "first-writer") return StreamMap::FirstWriter;
  if (s == "average" || s == "avg") return StreamMap::Average;
  if (s == "summed" || s == "summed-cost") return StreamMap::SummedCost;
  throw Error("unknown stream map '" + s + "' (first, average, summed)");
}
std::string toString(StreamMap m) {
  return m == StreamMap::FirstWriter ? "first" : m == StreamMap::Average ? "average" : "summed";
}

namespace {

// --- The order of alignment (one schedule per fusion, the same for every model) ---
//
// A step gives the outputs of one or more layers their map:
//  - a layer that is the only writer of its neuron group, and the output layer: a step of its
//    own, solved from the layer's own cost;
//  - a residual stream (a group written by several layers, models/model.h): its one map is
//    made from its *sources*, in one step that holds all of them and comes at the last of them;
//    every other writer of the stream is a step of its own that reuses the map.
// The sources of a stream (FusionOptions::streamMap):
//  - FirstWriter: the first writer in forward order;
//  - Average, SummedCost: every writer that comes before the first layer reading the stream.
//    Those are exactly the writers whose inputs can be aligned before the stream's map is
//    needed: a later writer reads (through its block's inner layers) the stream itself, so its
//    cost would depend on the map being solved. In a CIFAR ResNet that is, for the stem's
//    stream, conv1 alone (the identity-skip blocks of layer1 write it after layer1.0.conv1 has
//    read it), and for the stream of every later stage, the first block's conv2 (main path)
//    and its 1x1 shortcut convolution; the other blocks' conv2 reuse the map.
// Every step's inputs are aligned when it runs: a source's input group is read by the source,
// so that group's map was made before its first reader, hence before this step.
struct Step {
  std::vector<size_t> layers;  // forward order
  bool solve = true;           // false: reuse the map of the group (a later stream writer)
};

struct Schedule {
  std::vector<Step> steps;  // in the order of their last layer
  std::vector<int> stream;  // per layer: its group when the group has several writers, else -1
  std::vector<std::vector<std::string>> writers;  // per group: its writers' names
  std::vector<std::vector<std::string>> sources;  // per group: the writers making its map
};

Schedule makeSchedule(const Architecture& arch, StreamMap how) {
  const auto& layers = arch.layers;
  const size_t count = layers.size();
  Schedule s;
  s.stream.assign(count, -1);
  s.writers.resize(arch.numGroups);
  s.sources.resize(arch.numGroups);
  std::vector<std::vector<size_t>> writers(arch.numGroups);
  std::vector<size_t> firstReader(arch.numGroups, count);
  for (size_t li = 0; li < count; ++li) {
    const LayerInfo& l = layers[li];
    if (l.outGroup >= 0) writers.at(l.outGroup).push_back(li);
    if (l.inGroup >= 0) firstReader.at(l.inGroup) = std::min(firstReader.at(l.inGroup), li);
  }
  std::vector<std::pair<size_t, Step>> steps;  // (its last layer, step)
  for (int g = 0; g < arch.numGroups; ++g) {
    const auto& w = writers[g];
    if (w.empty()) continue;
    if (firstReader[g] < count && w.front() >= firstReader[g])
      throw Error(arch.name + ": layer " + layers[firstReader[g]].name + " reads neuron group " +
                  std::to_string(g) + " before any layer writes it");
    std::vector<size_t> src;
    if (w.size() == 1 || how == StreamMap::FirstWriter) {
      src = {w.front()};
    } else {
      for (size_t li : w)
        if (li < firstReader[g]) src.push_back(li);
    }
    steps.emplace_back(src.back(), Step{src, true});
    for (size_t li : w) {
      s.writers[g].push_back(layers[li].name);
      if (w.size() > 1) s.stream[li] = g;
      if (std::find(src.begin(), src.end(), li) == src.end()) steps.emplace_back(li, Step{{li}, false});
    }
    for (size_t li : src) s.sources[g].push_back(layers[li].name);
  }
  for (size_t li = 0; li < count; ++li)
    if (layers[li].outGroup < 0) steps.emplace_back(li, Step{{li}, true});
  std::sort(steps.begin(), steps.end(),
            [](const auto& x, const auto& y) { return x.first < y.first; });
  for (auto& step : steps) s.steps.push_back(std::move(step.second));
  return s;
}

// Solves the plan of r.cost with marginals r.mu, r.nu and fills plan, status and the corrected
// map T~ = T diag(1/nu).
void solvePlan(LayerResult& r, const FusionOptions& opt, const CancelFlag* cancel,
               const std::string& where) {
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
  if (sol.status == ot::Status::InvalidInput || sol.status == ot::Status::Infeasible)
    throw Error("optimal transport failed at layer " + where + ": " + sol.message);
  r.status = sol.status;
  r.iterations = sol.iterations;
  r.marginalError = sol.marginalError;
  r.plan = std::move(sol.plan);
  // Correction T~ = T diag(1/nu), with nu measured on the plan (the authors' "proper
  // marginals"): the same as the target nu for exact plans (to rounding), and it keeps every
  // column of T~ a convex combination for a Sinkhorn plan that did not converge.
  const ot::Vector received = r.plan.colwise().sum().transpose();
  if (!(received.minCoeff() > 0))
    throw Error("optimal transport at layer " + where +
                " gave a neuron of B no mass; cannot average into it");
  r.corrected = r.plan * received.cwiseInverse().asDiagonal();
}

// One layer of a model on the anchor's neurons (double): T~^T W^ and the per-neuron vectors.
struct Aligned {
  at::Tensor weight, bias;
  std::vector<at::Tensor> perNeuron;
};

std::string joinNames(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "" : " + ") + n;
  return out;
}

// Aligns model `a` onto the anchor `b` step by step (see Schedule), each layer with its own
// plan and its input axis re-indexed with a's own previous maps. For every layer, in the
// schedule's order: report(layer) before its step, then emit(layer, Aligned) and
// record(layer, LayerResult). actsA / actsB: pre-activations per layer (activations mode).
template <class Report, class Emit, class Record>
void alignOnto(const Model& a, const Model& b, const std::vector<at::Tensor>& actsA,
               const std::vector<at::Tensor>& actsB, const Schedule& schedule,
               const FusionOptions& opt, const CancelFlag* cancel, const Report& report,
               const Emit& emit, const Record& record) {
  const auto& layers = b.architecture().layers;
  const auto& layersA = a.architecture().layers;
  std::vector<NeuronMap> maps(b.architecture().numGroups);
  for (const Step& step : schedule.steps) {
    throwIfCancelled(cancel);
    const auto stepStart = std::chrono::steady_clock::now();
    const size_t n = step.layers.size();
    std::vector<at::Tensor> wA(n), bA(n);
    std::vector<std::string> names;
    for (size_t k = 0; k < n; ++k) {
      const size_t li = step.layers[k];
      report(li);
      const LayerInfo& l = layers[li];
      const LayerInfo& la = layersA[li];
      names.push_back(l.name);
      wA[k] = a.state().at(la.weight).to(at::kDouble);
      if (l.inGroup >= 0) wA[k] = alignInput(wA[k], maps[l.inGroup], l);
      if (!la.bias.empty()) bA[k] = a.state().at(la.bias).to(at::kDouble);
    }
    const int group = layers[step.layers.front()].outGroup;
    const bool output = group < 0;
    std::vector<LayerResult> rs(n);
    for (size_t k = 0; k < n; ++k) {
      const size_t li = step.layers[k];
      rs[k].name = layers[li].name;
      rs[k].outGroup = group;
      if (!output && schedule.stream[li] >= 0) {
        rs[k].stream = group;
        rs[k].streamWriters = schedule.writers[group];
        rs[k].mapFrom = schedule.sources[group];
      }
    }
    // Ground-cost points of the step's k-th layer: rows [W^ | b] or pre-activations.
    auto points = [&](size_t k, bool ofA) {
      const size_t li = step.layers[k];
      const LayerInfo& l = ofA ? layersA[li] : layers[li];
      if (opt.mode == AlignMode::Activations) return neuronRows(ofA ? actsA[li] : actsB[li]);
      at::Tensor w = ofA ? wA[k] : b.state().at(l.weight).to(at::kDouble);
      at::Tensor x = w.reshape({w.size(0), -1});
      if (!l.bias.empty()) {
        at::Tensor bias = ofA ? bA[k] : b.state().at(l.bias).to(at::kDouble);
        x = at::cat({x, bias.unsqueeze(1)}, 1);
      }
      return x;
    };
    // Importance marginals of the neurons the step's layers `ks` write (their raw incoming
    // weights side by side).
    auto masses = [&](const std::vector<size_t>& ks, bool ofA) {
      const auto& ls = ofA ? layersA : layers;
      const Model& m = ofA ? a : b;
      if (ks.size() == 1) return marginal(opt.marginals, m.state().at(ls[step.layers[ks[0]]].weight), output);
      std::vector<at::Tensor> rows;
      for (size_t k : ks) {
        const at::Tensor& w = m.state().at(ls[step.layers[k]].weight);
        rows.push_back(w.reshape({w.size(0), -1}));
      }
      return marginal(opt.marginals, at::cat(rows, 1), output);
    };
    NeuronMap map;
    if (output && !opt.otOutputLayer) {
      LayerResult& r = rs[0];
      const int64_t nOut = layers[step.layers[0]].outFeatures;
      r.identity = true;
      r.plan = ot::Matrix::Identity(nOut, nOut) / double(nOut);
      r.corrected = ot::Matrix::Identity(nOut, nOut);
      r.mu = r.nu = ot::uniform(int(nOut));
      r.cost = ot::Matrix::Zero(nOut, nOut);
      map = identityMap(nOut);
    } else if (!step.solve) {
      rs[0].reused = true;
      map = maps[group];
      rs[0].corrected = toEigen(map.dense);
    } else if (n == 1 || opt.streamMap != StreamMap::Average) {
      // One plan: the layer's own cost, or the stream's (SummedCost): in weights mode the sum
      // of the sources' ground costs, in activations mode the ground cost of the stream's
      // activations, i.e. the sum of the sources' pre-activations (the stream before the ReLU
      // that follows the residual addition).
      LayerResult& r = rs.back();
      std::vector<size_t> all(n);
      for (size_t k = 0; k < n; ++k) all[k] = k;
      if (opt.mode == AlignMode::Activations) {
        at::Tensor xa = points(0, true), xb = points(0, false);
        for (size_t k = 1; k < n; ++k) {
          at::Tensor ya = points(k, true), yb = points(k, false);
          if (ya.sizes() != xa.sizes() || yb.sizes() != xb.sizes())
            throw Error("the writers " + joinNames(names) +
                        " of one residual stream give activations of different shapes");
          xa = xa + ya;
          xb = xb + yb;
        }
        r.cost = groundCostOf(xa, xb, opt.metric);
      } else {
        r.cost = groundCostOf(points(0, true), points(0, false), opt.metric);
        for (size_t k = 1; k < n; ++k)
          r.cost += groundCostOf(points(k, true), points(k, false), opt.metric);
      }
      ot::normalizeCost(r.cost, opt.normalization);
      r.mu = masses(all, true);
      r.nu = masses(all, false);
      solvePlan(r, opt, cancel, joinNames(names));
      map = makeMap(r.corrected);
      for (size_t k = 0; k + 1 < n; ++k) {
        LayerResult& o = rs[k];
        o.cost = r.cost;
        o.plan = r.plan;
        o.corrected = r.corrected;
        o.mu = r.mu;
        o.nu = r.nu;
        o.status = r.status;
        o.iterations = r.iterations;
        o.marginalError = r.marginalError;
      }
      if (n > 1)
        for (auto& o : rs) o.sharedPlan = true;
    } else {
      // Average: every source's own plan; the stream's map is the mean of their maps T~ (each
      // column still sums to 1).
      ot::Matrix mean;
      for (size_t k = 0; k < n; ++k) {
        LayerResult& r = rs[k];
        r.cost = groundCostOf(points(k, true), points(k, false), opt.metric);
        ot::normalizeCost(r.cost, opt.normalization);
        r.mu = masses({k}, true);
        r.nu = masses({k}, false);
        solvePlan(r, opt, cancel, names[k]);
        if (k == 0)
          mean = r.corrected;
        else
          mean += r.corrected;
      }
      mean /= double(n);
      for (auto& r : rs) r.corrected = mean;  // the map applied to every writer
      map = makeMap(mean);
    }
    if (!output) maps[group] = map;
    for (auto& r : rs)
      if (r.plan.size() > 0) planStatistics(r);
    for (size_t k = 0; k < n; ++k) {
      const size_t li = step.layers[k];
      const LayerInfo& la = layersA[li];
      Aligned x;
      x.weight = alignOutput(wA[k], map);
      wA[k] = at::Tensor();
      if (bA[k].defined()) x.bias = alignOutput(bA[k], map);
      for (const auto& key : la.perNeuron)
        x.perNeuron.push_back(alignOutput(a.state().at(key).to(at::kDouble), map));
      emit(li, std::move(x));
    }
    const double seconds = secondsSince(stepStart) / double(n);
    for (size_t k = 0; k < n; ++k) {
      rs[k].seconds = seconds;
      record(step.layers[k], std::move(rs[k]));
    }
  }
}

// acc <- acc + w x (or w x for the first term), in double: for two models this is exactly
// (1 - t) T~^T W^_A + t W_B, the order and precision of the two-model blend.
void accumulate(at::Tensor& acc, double w, const at::Tensor& x) {
  acc = acc.defined() ? acc + w * x : w * x;
}

struct Accumulator {
  at::Tensor weight, bias;
  std::vector<at::Tensor> perNeuron;
};

// The shared N-model path: `weights` already checked and normalized. Models are taken in
// index order; each non-anchor model is aligned onto the anchor and added into the running
// weighted sum as soon as one of its layers is aligned (then dropped), the anchor's own
// tensors when its turn comes. Only the sum (one model's size, in double), the maps of the
// model being aligned and the LayerResults are kept.
struct CoreResult {
  StateDict fused;
  std::vector<std::vector<LayerResult>> layers;
  std::vector<StateDict> aligned;  // keepAligned: every model aligned onto the anchor
};

CoreResult fuseCore(const std::vector<Model>& models, int anchor, const std::vector<double>& weights,
                    const FusionOptions& opt, const at::Tensor& samples,
                    const ProgressFn& progress, const CancelFlag* cancel, bool keepAligned) {
  at::NoGradGuard noGrad;
  const Model& b = models[anchor];
  const Architecture& arch = b.architecture();
  const auto& layers = arch.layers;
  const size_t count = layers.size();
  const int n = int(models.size());
  const Schedule schedule = makeSchedule(arch, opt.streamMap);

  std::vector<at::Tensor> actsB;
  if (opt.mode == AlignMode::Activations) {
    if (!samples.defined() || samples.size(0) < 1)
      throw Error("activations mode needs input samples (none were given)");
    if (progress) progress({"activations", 0, n, ""});
    b.forward(samples, &actsB);
    throwIfCancelled(cancel);
  }

  CoreResult out;
  out.layers.resize(n);
  if (keepAligned) {
    // Copies of B's entries (tensors shared, not cloned): alignment replaces every layer's
    // tensors of a non-anchor copy; the anchor's stays B.
    out.aligned.assign(n, b.state());
  }
  std::vector<Accumulator> acc(count);
  const long long total = static_cast<long long>(count) * (n - 1);
  long long done = 0;
  for (int i = 0; i < n; ++i) {
    const double w = weights[i];
    if (i == anchor) {
      for (size_t li = 0; li < count; ++li) {
        const LayerInfo& l = layers[li];
        accumulate(acc[li].weight, w, b.state().at(l.weight).to(at::kDouble));
        if (!l.bias.empty()) accumulate(acc[li].bias, w, b.state().at(l.bias).to(at::kDouble));
        acc[li].perNeuron.resize(l.perNeuron.size());
        for (size_t k = 0; k < l.perNeuron.size(); ++k)
          accumulate(acc[li].perNeuron[k], w, b.state().at(l.perNeuron[k]).to(at::kDouble));
      }
      continue;
    }
    const Model& a = models[i];
    std::vector<at::Tensor> actsA;
    if (opt.mode == AlignMode::Activations) {
      if (progress) progress({"activations", i + 1, n, "model " + std::to_string(i)});
      a.forward(samples, &actsA);
      throwIfCancelled(cancel);
    }
    std::vector<LayerResult>& results = out.layers[i];
    results.resize(count);
    const std::string who =
        n == 2 ? std::string() : "model " + std::to_string(i) + " onto model " + std::to_string(anchor);
    alignOnto(
        a, b, actsA, actsB, schedule, opt, cancel,
        [&](size_t li) {
          if (progress) progress({"align " + layers[li].name, done, total, who});
          ++done;
        },
        [&](size_t li, Aligned&& x) {
          if (keepAligned) {
            const LayerInfo& l = layers[li];
            out.aligned[i].set(l.weight, x.weight.to(at::kFloat).contiguous());
            if (x.bias.defined()) out.aligned[i].set(l.bias, x.bias.to(at::kFloat).contiguous());
            for (size_t k = 0; k < x.perNeuron.size(); ++k)
              out.aligned[i].set(l.perNeuron[k], x.perNeuron[k].to(at::kFloat).contiguous());
          }
          accumulate(acc[li].weight, w, x.weight);
          if (x.bias.defined()) accumulate(acc[li].bias, w, x.bias);
          acc[li].perNeuron.resize(x.perNeuron.size());
          for (size_t k = 0; k < x.perNeuron.size(); ++k)
            accumulate(acc[li].perNeuron[k], w, x.perNeuron[k]);
        },
        [&](size_t li, LayerResult&& r) { results[li] = std::move(r); });
  }
  if (progress) progress({"align", total, total, ""});
  out.fused = b.state().clone();
  for (size_t li = 0; li < count; ++li) {
    const LayerInfo& l = layers[li];
    out.fused.set(l.weight, acc[li].weight.to(at::kFloat).contiguous());
    acc[li].weight = at::Tensor();
    if (!l.bias.empty()) out.fused.set(l.bias, acc[li].bias.to(at::kFloat).contiguous());
    for (size_t k = 0; k < l.perNeuron.size(); ++k)
      out.fused.set(l.perNeuron[k], acc[li].perNeuron[k].to(at::kFloat).contiguous());
  }
  return out;
}

// Checks fuseMany's arguments; returns the normalized weights.
std::vector<double> checkedWeights(const std::vector<Model>& models, int anchor,
                                   const std::vector<double>& weights) {
  const int n = int(models.size());
  if (n < 2)
    throw Error("N-model fusion needs at least two models (got " + std::to_string(n) + ")");
  if (anchor < 0 || anchor >= n)
    throw Error("the anchor is model " + std::to_string(anchor) + ", but there are " +
                std::to_string(n) + " models (0.." + std::to_string(n - 1) + ")");
  for (int i = 0; i < n; ++i) {
    if (i == anchor) continue;
    if (std::string why = fusionIncompatibility(models[i], models[anchor]); !why.empty())
      throw Error("cannot fuse model " + std::to_string(i) + " onto the anchor, model " +
                  std::to_string(anchor) + " (A = model " + std::to_string(i) +
                  ", B = the anchor): " + why);
  }
  if (weights.empty()) return std::vector<double>(n, 1.0 / n);
  if (int(weights.size()) != n)
    throw Error("got " + std::to_string(weights.size()) + " weights for " + std::to_string(n) +
                " models (one per model, or none for 1/N each)");
  double sum = 0;
  for (int i = 0; i < n; ++i) {
    if (!std::isfinite(weights[i]) || weights[i] < 0) {
      char v[32];
      std::snprintf(v, sizeof v, "%g", weights[i]);
      throw Error("the weight of model " + std::to_string(i) + " is " + v +
                  " (weights must be finite and non-negative)");
    }
    sum += weights[i];
  }
  if (!(sum > 0) || !std::isfinite(sum))
    throw Error("the model weights sum to " + std::to_string(sum) + "; at least one must be positive");
  std::vector<double> out = weights;
  if (sum != 1.0)
    for (double& w : out) w /= sum;
  return out;
}

}  // namespace

FusionResult fuse(const Model& a, const Model& b, const FusionOptions& opt,
                  const at::Tensor& samples, const ProgressFn& progress,
                  const CancelFlag* cancel, bool keepAligned) {
  const auto start = std::chrono::steady_clock::now();
  if (std::string why = fusionIncompatibility(a, b); !why.empty())
    throw Error("cannot fuse A onto B: " + why);
  if (!(opt.t >= 0 && opt.t <= 1)) throw Error("the anchor weight t must lie in [0, 1]");
  CoreResult core =
      fuseCore({a, b}, 1, {1.0 - opt.t, opt.t}, opt, samples, progress, cancel, keepAligned);
  FusionResult result;
  result.layers = std::move(core.layers[0]);
  for (StateDict& state : core.aligned) result.aligned.emplace_back(b.architecture(), std::move(state));
  result.fused = Model(b.architecture(), std::move(core.fused));
  result.seconds = secondsSince(start);
  return result;
}

MultiFusionResult fuseMany(const std::vector<Model>& models, int anchor,
                           const std::vector<double>& weights, const FusionOptions& options,
                           const at::Tensor& samples, const ProgressFn& progress,
                           const CancelFlag* cancel, bool keepAligned) {
  const auto start = std::chrono::steady_clock::now();
  MultiFusionResult result;
  result.weights = checkedWeights(models, anchor, weights);
  result.anchor = anchor;
  CoreResult core =
      fuseCore(models, anchor, result.weights, options, samples, progress, cancel, keepAligned);
  result.layers = std::move(core.layers);
  for (StateDict& state : core.aligned)
    result.aligned.emplace_back(models[anchor].architecture(), std::move(state));
  result.fused = Model(models[anchor].architecture(), std::move(core.fused));
  result.seconds = secondsSince(start);
  return result;
}

MultiFusionResult fuseSequential(const std::vector<Model>& models, int anchor,
                                 const std::vector<double>& weights, const FusionOptions& options,
                                 const at::Tensor& samples, const ProgressFn& progress,
                                 const CancelFlag* cancel) {
  const auto start = std::chrono::steady_clock::now();
  MultiFusionResult result;
  result.weights = checkedWeights(models, anchor, weights);
  result.anchor = anchor;
  result.layers.resize(models.size());
  Model running = models[anchor];
  double weightSoFar = result.weights[anchor];
  for (size_t i = 0; i < models.size(); ++i) {
    if (int(i) == anchor) continue;
    const double wi = result.weights[i];
    FusionOptions o = options;
    // t = weight of the running fusion; both zero (a zero-weight anchor folded with a
    // zero-weight model): keep the running fusion.
    o.t = weightSoFar + wi > 0 ? std::min(1.0, weightSoFar / (weightSoFar + wi)) : 1.0;
    ProgressFn step;
    if (progress) {
      const std::string who = "model " + std::to_string(i) + " onto the running fusion";
      step = [&progress, who](const Progress& p) {
        Progress q = p;
        if (q.message.empty()) q.message = who;
        progress(q);
      };
    }
    FusionResult r = fuse(models[i], running, o, samples, step, cancel);
    running = std::move(r.fused);
    weightSoFar += wi;
    result.layers[i] = std::move(r.layers);
  }
  result.fused = std::move(running);
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
