#pragma once
// Optimal transport between two discrete measures: ground costs, exact OT, entropic OT.
// Plain C++/Eigen types only (no LibTorch), so the UI can use it too.
// Matrices are Eigen's default column-major storage; plans and costs are (nA x nB): row i is
// a point of the source measure (model A's neuron i), column j a point of the target (B's j).
#include <Eigen/Core>

#include <functional>
#include <string>

#include "otfuse/runtime.h"

namespace otfuse::ot {

using Matrix = Eigen::MatrixXd;
using Vector = Eigen::VectorXd;

enum class Metric { Euclidean, SquaredEuclidean, Cosine };
enum class CostNormalization { None, Max, Mean, Median, Log1p };

Metric parseMetric(const std::string& s);                    // "euclidean", "sqeuclidean", "cosine"
CostNormalization parseNormalization(const std::string& s);  // "none", "max", "mean", ...
std::string toString(Metric m);
std::string toString(CostNormalization n);

/// Ground cost between rows of X (nA x d) and rows of Y (nB x d): Euclidean via
/// ||x||^2 + ||y||^2 - 2 x.y clamped at 0 (then sqrt unless squared), or cosine distance
/// 1 - cos. Throws otfuse::Error if the column counts differ.
Matrix groundCost(const Matrix& X, const Matrix& Y, Metric metric);
/// Divides M by its max / mean / median, or maps it through log1p. In place.
void normalizeCost(Matrix& M, CostNormalization how);

enum class Status { Optimal, Infeasible, IterationLimit, Converged, InvalidInput };
std::string toString(Status s);

struct Result {
  Matrix plan;      // nA x nB, rows sum to mu, columns to nu (to solver accuracy)
  Vector u, v;      // duals (exact: potentials with u_i + v_j <= M_ij; Sinkhorn: eps*log scalings)
  double cost = 0;  // <plan, M>
  int iterations = 0;        // Sinkhorn: scaling iterations; exact: n for the assignment path,
                             // the number of pivots for the network simplex
  double marginalError = 0;  // ||plan 1 - mu||_1 + ||plan^T 1 - nu||_1
  Status status = Status::InvalidInput;
  std::string message;  // InvalidInput / Infeasible: which input is wrong; IterationLimit: why
};

struct ExactOptions {
  /// Most network simplex pivots (>= 0; negative is InvalidInput). When the plan is not proven
  /// optimal after this many, exact() returns Status::IterationLimit with the current plan.
  /// Does not apply to the assignment path, which always finishes (after n augmentations).
  long long maxIterations = 100000000;
  /// Use the assignment (Jonker-Volgenant) path when mu, nu are uniform and nA == nB.
  bool useAssignmentWhenPossible = true;
  /// When set (from any thread) the solver stops and throws otfuse::Cancelled: polled once
  /// per pivot and per line of the network simplex start, every O(n) steps of the assignment.
  const CancelFlag* cancel = nullptr;
};

/// Exact OT (earth mover's distance) for arbitrary non-negative marginals with equal totals (to
/// 1e-9 relative) and any rectangular cost. Solvers and their precision: see
/// core/src/ot/exact.cpp. Uniform square problems go to a linear assignment solver (double
/// precision on the costs as given); everything else to our network simplex on int64-scaled data:
/// marginals exact to (nA + nB) * 2^-60 of the total mass (~3.5e-15 for 2000 + 2000 points), costs
/// resolved to (nA + nB + 2) * 2^-61 of their range, so the cost is optimal to that resolution
/// times the total mass, and duals satisfy u_i + v_j <= M_ij to it.
/// Status Optimal on success; IterationLimit when maxIterations pivots did not reach the optimum
/// (plan feasible with the same marginal accuracy, cost = <plan, M>, duals are the current tree
/// potentials: complementary to the plan but not feasible); Infeasible when totals differ;
/// InvalidInput for NaN/inf costs, negative mass, size mismatch, negative maxIterations.
Result exact(const Vector& mu, const Vector& nu, const Matrix& M, const ExactOptions& opt = {});

/// Sinkhorn's defaults, one set for the solver, fusion, the CLI and the app.
constexpr double kSinkhornTolerance = 1e-9;
constexpr int kSinkhornMaxIterations = 10000;

struct SinkhornOptions {
  double epsilon = 0.01;                   // entropic regularization (absolute, in cost units)
  double tolerance = kSinkhornTolerance;   // stop when marginal error (L1) falls below
  int maxIterations = kSinkhornMaxIterations;
  /// Warm start: the potentials (Result::u, Result::v) of a solve of the same problem at a
  /// nearby epsilon; empty = cold start. Sizes must be nA and nB (else InvalidInput). The
  /// result is the same plan to the tolerance, usually after far fewer iterations.
  Vector warmU, warmV;
  /// When set (from any thread) the solver stops and throws otfuse::Cancelled; polled once
  /// per iteration.
  const CancelFlag* cancel = nullptr;
  /// Progress for views: when set, called with the plan so far (status IterationLimit,
  /// potentials, iterations, cost, marginal error) whenever `reportSeconds` have passed since
  /// the start or the last report. Returning false stops the solve: the result is then that
  /// state, status IterationLimit, message "stopped by the caller after a report".
  std::function<bool(const Result&)> onReport;
  double reportSeconds = 0.06;
};

/// Entropic OT by log-domain Sinkhorn (stable down to eps = 1e-4 on O(1) costs). Status
/// Converged when the tolerance was met, IterationLimit otherwise (plan still returned).
Result sinkhorn(const Vector& mu, const Vector& nu, const Matrix& M,
                const SinkhornOptions& opt = {});

/// Sinkhorn reporting its plan every `sliceSeconds`, for views that must redraw quickly (the
/// plan view's epsilon slider): `onSlice(result, false)` gets the plan so far after each slice
/// (SinkhornOptions::onReport; the iterates are exactly those of one solve), then
/// `onSlice(result, true)` the final result (converged, or opt.maxIterations reached).
/// Returning false from a report stops early (a newer request came): no final call then.
Result sinkhornInSlices(const Vector& mu, const Vector& nu, const Matrix& M,
                        const SinkhornOptions& opt, double sliceSeconds,
                        const std::function<bool(const Result&, bool last)>& onSlice);

/// Linear assignment on a square cost (min sum M[i, perm[i]]), Jonker-Volgenant.
/// Returns perm of size n: row i is assigned column perm[i].
Eigen::VectorXi assignment(const Matrix& M);

Vector uniform(int n);

}  // namespace otfuse::ot
