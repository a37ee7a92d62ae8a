// Methods side by side: see engine/compare.h.
#include "otfuse/engine/compare.h"

#include "engine/engine_internal.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>

#include "otfuse/data/dataset.h"
#include "otfuse/error.h"
#include "otfuse/fusion/fusion.h"
#include "otfuse/fusion/matching.h"
#include "otfuse/models/model.h"
#include "otfuse/train/train.h"

namespace otfuse {
namespace {

double secondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

const std::vector<std::pair<std::string, std::string>>& methodTable() {
  static const std::vector<std::pair<std::string, std::string>> table = {
      {"vanilla", "Vanilla averaging"},
      {"ot-weights", "OT exact (weights)"},
      {"ot-activations", "OT exact (activations)"},
      {"ot-sinkhorn", "OT Sinkhorn (weights)"},
      {"weight-matching", "Weight matching"},
      {"activation-matching", "Activation matching"},
  };
  return table;
}

std::vector<LayerResult> identityLayers(const Architecture& arch) {
  std::vector<LayerResult> out;
  for (const auto& l : arch.layers) {
    LayerResult r;
    r.name = l.name;
    r.outGroup = l.outGroup;
    const int64_t n = l.outFeatures;
    r.identity = l.outGroup < 0;
    r.corrected = ot::Matrix::Identity(n, n);
    r.plan = r.corrected / double(n);
    r.cost = ot::Matrix::Zero(n, n);
    r.mu = r.nu = ot::uniform(int(n));
    r.massOnBest = 1;
    out.push_back(std::move(r));
  }
  return out;
}

// Per hidden neuron of B (every group once: its first writer), the neuron of A a map sends
// there (argmax of the column).
std::vector<int> matchedNeurons(const Architecture& arch, const std::vector<LayerResult>& layers) {
  std::vector<int> out;
  std::vector<bool> seen(arch.numGroups, false);
  for (size_t li = 0; li < arch.layers.size() && li < layers.size(); ++li) {
    const int g = arch.layers[li].outGroup;
    if (g < 0 || seen[g]) continue;
    seen[g] = true;
    const ot::Matrix& m = layers[li].corrected;
    for (Eigen::Index j = 0; j < m.cols(); ++j) {
      Eigen::Index best = 0;
      m.col(j).maxCoeff(&best);
      out.push_back(int(best));
    }
  }
  return out;
}

}  // namespace

std::vector<std::string> compareMethods() {
  std::vector<std::string> out;
  for (const auto& [key, label] : methodTable()) out.push_back(key);
  return out;
}

std::string compareMethodLabel(const std::string& key) {
  for (const auto& [k, label] : methodTable())
    if (k == key) return label;
  std::string known;
  for (const auto& k : compareMethods()) known += (known.empty() ? "" : ", ") + k;
  throw Error("unknown method '" + key + "' (" + known + ")");
}

CompareOutcome runCompare(const CompareRequest& r, const CurvePointFn& onPoint,
                          const ProgressFn& progress, const CancelFlag* cancel) {
  if (!r.a || !r.a->model || !r.b || !r.b->model) throw Error("compare needs two models");
  if (r.points < 2) throw Error("the interpolation curves need at least 2 points (--points)");
  if (!(r.t >= 0 && r.t <= 1)) throw Error("t must lie in [0, 1]");
  const std::vector<std::string> methods = r.methods.empty() ? compareMethods() : r.methods;
  for (const auto& m : methods) compareMethodLabel(m);  // validates
  at::NoGradGuard noGrad;
  const Model& a = *r.a->model;
  const Model& b = *r.b->model;
  const std::string datasetName = r.dataset.empty() ? r.b->dataset.name : r.dataset;
  auto test = cachedDataset(datasetName, Split::Test, r.dataDir, cancel);
  auto train = cachedDataset(datasetName, Split::Train, r.dataDir, cancel);

  CompareOutcome out;
  out.t = r.t;
  out.batchNorm = b.hasBatchNorm();
  const bool correct = r.repair != RepairMode::None;
  if (correct)
    out.correction = out.batchNorm ? "BN reset"
                     : r.repair == RepairMode::Exact ? "REPAIR (exact)"
                                                     : "REPAIR (closed form)";
  if (progress) progress({"compare: evaluating the parents", 0, 2, ""});
  const EvalResult ea = evaluate(a, *test, 1000, {}, cancel);
  const EvalResult eb = evaluate(b, *test, 1000, {}, cancel);
  out.a = {ea.accuracy, ea.loss};
  out.b = {eb.accuracy, eb.loss};

  const at::Tensor samples = sampleInputs(*train, std::min<long long>(r.samples, train->size()), r.seed);
  const int batchSize = 128;
  const long long repairCount =
      std::min<long long>(static_cast<long long>(std::max(1, r.repairBatches)) * batchSize, train->size());
  const at::Tensor repairInputs = correct && !out.batchNorm
                                      ? sampleInputs(*train, int(repairCount), r.seed + 1)
                                      : at::Tensor();

  // Grid of t; the table's t is one of its values or evaluated on its own.
  std::vector<double> ts;
  for (int i = 0; i < r.points; ++i) ts.push_back(double(i) / (r.points - 1));
  const long long totalPoints = static_cast<long long>(methods.size()) * r.points;
  long long donePoints = 0;

  std::vector<std::vector<int>> matched;
  for (const std::string& method : methods) {
    throwIfCancelled(cancel);
    const std::string label = compareMethodLabel(method);
    CompareRow plain, fixed;
    plain.method = fixed.method = method;
    plain.label = label;
    fixed.label = label + " + " + out.correction;
    fixed.corrected = true;
    if (progress) progress({"compare: " + label + ": aligning", donePoints, totalPoints, ""});
    const auto start = std::chrono::steady_clock::now();
    Model aligned;
    std::vector<LayerResult> layers;
    try {
      if (method == "vanilla") {
        if (std::string why = fusionIncompatibility(*r.a, *r.b, true); !why.empty()) throw Error(why);
        aligned = a;
        layers = identityLayers(b.architecture());
      } else if (method.rfind("ot-", 0) == 0) {
        FusionOptions o = r.options;
        o.t = 0.0;  // A aligned onto B, not averaged
        o.mode = method == "ot-activations" ? AlignMode::Activations : AlignMode::Weights;
        o.solver = method == "ot-sinkhorn" ? Solver::Sinkhorn : Solver::Exact;
        FusionResult f = fuse(a, b, o, samples, {}, cancel);
        aligned = std::move(f.fused);
        layers = std::move(f.layers);
      } else {
        MatchingResult m;
        if (method == "weight-matching") {
          MatchingOptions mo;
          mo.seed = r.seed;
          mo.maxIterations = r.maxIterations;
          m = weightMatching(a, b, mo, cancel);
        } else {
          m = activationMatching(a, b, samples, cancel);
        }
        aligned = permuteModel(a, m.perms);
        layers = std::move(m.layers);
      }
    } catch (const Cancelled&) {
      throw;
    } catch (const Error& e) {
      plain.error = fixed.error = e.what();
      out.rows.push_back(plain);
      if (correct) out.rows.push_back(fixed);
      donePoints += r.points;
      continue;
    }
    const double alignSeconds = secondsSince(start);
    plain.seconds = alignSeconds;
    ParentStatistics parents;
    double statsSeconds = 0;
    if (correct && !out.batchNorm) {
      const auto s0 = std::chrono::steady_clock::now();
      parents = parentStatistics(aligned, b, repairInputs);
      statsSeconds = secondsSince(s0);
    }
    auto corrected = [&](const Model& merged, double t) {
      if (out.batchNorm) {
        Model m = merged.clone();
        recalibrateBatchNorm(m, *train, r.repairBatches, batchSize, r.seed, cancel);
        return m;
      }
      return repairMerged(merged, parents, t, r.repair, repairInputs, cancel);
    };
    auto barrierOf = [&](CompareRow& row) {
      row.barrier = -std::numeric_limits<double>::infinity();
      row.accuracyBarrier = -std::numeric_limits<double>::infinity();
      for (const auto& p : row.curve) {
        row.barrier = std::max(row.barrier, p.loss - ((1 - p.x) * out.a.loss + p.x * out.b.loss));
        row.accuracyBarrier =
            std::max(row.accuracyBarrier, (1 - p.x) * out.a.accuracy + p.x * out.b.accuracy - p.accuracy);
      }
    };
    bool tOnGrid = false;
    for (double t : ts) {
      throwIfCancelled(cancel);
      const Model merged = vanillaAverage(aligned, b, t);
      const EvalResult e = evaluate(merged, *test, 1000, {}, cancel);
      CurvePoint p{t, e.accuracy, e.loss};
      plain.curve.push_back(p);
      if (onPoint) onPoint(plain.label, p);
      const bool atT = std::abs(t - r.t) < 1e-12;
      if (atT) {
        tOnGrid = true;
        plain.accuracy = e.accuracy;
        plain.loss = e.loss;
      }
      if (correct) {
        const auto c0 = std::chrono::steady_clock::now();
        const Model m = corrected(merged, t);
        const double cs = secondsSince(c0);
        const EvalResult ec = evaluate(m, *test, 1000, {}, cancel);
        CurvePoint q{t, ec.accuracy, ec.loss};
        fixed.curve.push_back(q);
        if (onPoint) onPoint(fixed.label, q);
        if (atT) {
          fixed.accuracy = ec.accuracy;
          fixed.loss = ec.loss;
          fixed.seconds = alignSeconds + statsSeconds + cs;
        }
      }
      if (progress) progress({"compare: " + label, ++donePoints, totalPoints, ""});
    }
    if (!tOnGrid) {
      const Model merged = vanillaAverage(aligned, b, r.t);
      const EvalResult e = evaluate(merged, *test, 1000, {}, cancel);
      plain.accuracy = e.accuracy;
      plain.loss = e.loss;
      if (correct) {
        const auto c0 = std::chrono::steady_clock::now();
        const Model m = corrected(merged, r.t);
        fixed.seconds = alignSeconds + statsSeconds + secondsSince(c0);
        const EvalResult ec = evaluate(m, *test, 1000, {}, cancel);
        fixed.accuracy = ec.accuracy;
        fixed.loss = ec.loss;
      }
    }
    barrierOf(plain);
    out.rows.push_back(plain);
    if (correct) {
      barrierOf(fixed);
      out.rows.push_back(fixed);
    }
    matched.push_back(matchedNeurons(b.architecture(), layers));
    out.methods.push_back(method);
    out.layers[method] = std::move(layers);
  }
  const Eigen::Index n = Eigen::Index(matched.size());
  out.agreement = Eigen::MatrixXd::Ones(n, n);
  for (Eigen::Index i = 0; i < n; ++i)
    for (Eigen::Index j = 0; j < n; ++j) {
      const auto& x = matched[i];
      const auto& y = matched[j];
      if (x.empty() || x.size() != y.size()) {
        out.agreement(i, j) = std::numeric_limits<double>::quiet_NaN();
        continue;
      }
      size_t same = 0;
      for (size_t k = 0; k < x.size(); ++k) same += x[k] == y[k];
      out.agreement(i, j) = double(same) / double(x.size());
    }
  return out;
}

}  // namespace otfuse
