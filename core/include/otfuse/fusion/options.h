#pragma once
// Options and per-layer results of OT fusion: plain C++/Eigen (no LibTorch), so the UI and
// reports can use them. See fusion.h for the method.
#include <string>

#include "otfuse/ot/ot.h"

namespace otfuse {

enum class AlignMode { Weights, Activations };
enum class Solver { Exact, Sinkhorn };
enum class MarginalKind { Uniform, ImportanceL1, ImportanceL2 };

AlignMode parseAlignMode(const std::string& s);  // "weights" | "activations"
Solver parseSolver(const std::string& s);        // "exact" | "sinkhorn"
MarginalKind parseMarginals(const std::string& s);  // "uniform" | "l1" | "l2"
std::string toString(AlignMode m);
std::string toString(Solver s);
std::string toString(MarginalKind m);

struct FusionOptions {
  AlignMode mode = AlignMode::Weights;
  Solver solver = Solver::Exact;
  double epsilon = 0.01;           // Sinkhorn regularization, in cost units
  double sinkhornTolerance = 1e-9;  // L1 marginal error
  int sinkhornMaxIterations = 10000;
  ot::Metric metric = ot::Metric::Euclidean;  // paper: Euclidean, not squared
  ot::CostNormalization normalization = ot::CostNormalization::None;
  MarginalKind marginals = MarginalKind::Uniform;
  double t = 0.5;               // weight of the anchor B
  bool otOutputLayer = false;   // also solve OT on the output layer (the reference does)
};

/// Per-layer outcome, kept for the UI and reports. Matrices are (nA x nB), rows = A's neurons.
struct LayerResult {
  std::string name;
  int outGroup = -1;
  bool identity = false;  // output layer kept as identity (no OT solved)
  bool reused = false;    // map reused from an earlier layer writing the same group
  ot::Matrix cost;        // ground cost handed to the solver (after normalization)
  ot::Matrix plan;        // T, before correction
  ot::Matrix corrected;   // T~ = T diag(1/nu)
  ot::Vector mu, nu;
  double otCost = 0;      // <T, M>
  double entropy = 0;     // -sum T log T of T / sum(T)
  double massOnBest = 0;  // sum_i max_j T_ij / sum(T): 1 for a permutation
  ot::Status status = ot::Status::Optimal;
  int iterations = 0;
  double seconds = 0;
};

}  // namespace otfuse
