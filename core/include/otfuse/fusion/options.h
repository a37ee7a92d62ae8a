#pragma once
// Options and per-layer results of OT fusion: plain C++/Eigen (no LibTorch), so the UI and
// reports can use them. See fusion.h for the method.
#include <string>
#include <vector>

#include "otfuse/ot/ot.h"

namespace otfuse {

enum class AlignMode { Weights, Activations };
enum class Solver { Exact, Sinkhorn };
enum class MarginalKind { Uniform, ImportanceL1, ImportanceL2 };
/// How the layers that write one residual stream (models/model.h: one neuron group written by
/// several layers) get the stream's one shared neuron map:
///   FirstWriter  the plan solved at the first layer writing the stream, reused by the others;
///   Average      the authors' "handle skips": the mean of the maps T~ solved at the main-path
///                writer and at the shortcut writer (each from its own cost);
///   SummedCost   one plan solved on the sum of the ground costs of the stream's writers
///                (Git Re-Basin's way of tying a permutation to every weight it touches); in
///                activations mode on the stream's activations (the sum of those writers'
///                pre-activations: the stream after the residual addition, before the ReLU).
/// Average and SummedCost use the writers that come before the first layer reading the
/// stream ("sources": their inputs can be aligned before the map is needed; a later writer
/// reads the stream itself through its block). CIFAR ResNet: the stem's stream has one source,
/// conv1 (so all three choices agree there); every later stage's stream has two, the first
/// block's conv2 and its 1x1 shortcut; the other blocks' conv2 reuse the map.
/// Exact rule and reasons: core/src/fusion/fusion.cpp (Schedule).
enum class StreamMap { FirstWriter, Average, SummedCost };

AlignMode parseAlignMode(const std::string& s);  // "weights" | "activations"
Solver parseSolver(const std::string& s);        // "exact" | "sinkhorn"
MarginalKind parseMarginals(const std::string& s);  // "uniform" | "l1" | "l2"
StreamMap parseStreamMap(const std::string& s);     // "first" | "average" | "summed"
std::string toString(AlignMode m);
std::string toString(Solver s);
std::string toString(MarginalKind m);
std::string toString(StreamMap m);

struct FusionOptions {
  AlignMode mode = AlignMode::Weights;
  Solver solver = Solver::Exact;
  double epsilon = 0.01;           // Sinkhorn regularization, in cost units
  double sinkhornTolerance = ot::kSinkhornTolerance;  // L1 marginal error
  int sinkhornMaxIterations = ot::kSinkhornMaxIterations;  // past it: Status::IterationLimit
  ot::Metric metric = ot::Metric::Euclidean;  // paper: Euclidean, not squared
  ot::CostNormalization normalization = ot::CostNormalization::None;
  /// Importance marginals (l1, l2): masses proportional to each neuron's incoming-weight norm,
  /// but never below 1e-3 of the uniform share 1/n (then renormalized), so dead or nearly dead
  /// neurons stay in the plan with almost no weight; all-zero layers get uniform masses.
  MarginalKind marginals = MarginalKind::Uniform;
  double t = 0.5;               // weight of the anchor B
  bool otOutputLayer = false;   // also solve OT on the output layer (the reference does)
  /// Residual networks only (plain networks have one writer per group). Default FirstWriter:
  /// all three give back a consistently permuted copy exactly (test_fusion_many), and on a
  /// ResNet18 with a planted permutation under noise (bench_fuse_many --streams, weights mode)
  /// it recovered the most stream neurons wherever the choices differed: Average's mean of two
  /// disagreeing permutations is a soft map that blurs neurons, SummedCost was never better and
  /// collapsed once. It also keeps earlier ResNet results unchanged. README, "Residual networks".
  StreamMap streamMap = StreamMap::FirstWriter;
};

/// Per-layer outcome, kept for the UI and reports. Matrices are (nA x nB), rows = A's neurons.
struct LayerResult {
  std::string name;
  int outGroup = -1;
  bool identity = false;  // output layer kept as identity (no OT solved)
  bool reused = false;    // map reused from an earlier layer writing the same group
  /// Residual streams (a neuron group written by several layers): the group, the names of all
  /// layers writing it (forward order; they all share one map) and of the writers whose costs
  /// made the map (FusionOptions::streamMap). -1 / empty for a group's only writer and for the
  /// output layer.
  int stream = -1;
  std::vector<std::string> streamWriters;
  std::vector<std::string> mapFrom;
  /// SummedCost with several sources: cost and plan are the stream's one plan (summed cost),
  /// shown at each layer of mapFrom and counted once by planStatus. With Average each source
  /// shows its own cost and plan, and `corrected` is the averaged map applied to it.
  bool sharedPlan = false;
  ot::Matrix cost;        // ground cost handed to the solver (after normalization)
  ot::Matrix plan;        // T, before correction
  ot::Matrix corrected;   // T~ = T diag(1/nu): the map applied to this layer's outputs
  ot::Vector mu, nu;
  double otCost = 0;      // <T, M>
  double entropy = 0;     // -sum T log T of T / sum(T)
  double massOnBest = 0;  // sum_i max_j T_ij / sum(T): 1 for a permutation
  ot::Status status = ot::Status::Optimal;  // IterationLimit: the plan is approximate
  int iterations = 0;
  double marginalError = 0;  // ||T 1 - mu||_1 + ||T^T 1 - nu||_1 as the solver returned it
  double seconds = 0;
};

/// What a fusion's plans are worth: whether every solved layer reached optimality (exact) or
/// its tolerance (Sinkhorn), or which layers stopped at the solver's iteration limit (their
/// plans are approximate: marginals off by up to maxMarginalError).
struct PlanStatus {
  int solved = 0;  // layers where OT was solved (not identity or reused)
  std::vector<std::string> atIterationLimit;
  double maxMarginalError = 0;
  bool ok() const { return atIterationLimit.empty(); }
  /// One sentence for people: "Sinkhorn converged on all 3 solved layers" or "Sinkhorn
  /// stopped at its iteration limit (10000) on fc1, fc2 of 3 solved layers: ...".
  std::string text(const FusionOptions& options) const;
};

PlanStatus planStatus(const std::vector<LayerResult>& layers);

}  // namespace otfuse
