#pragma once
// Internal: primal network simplex for the transportation problem on the complete bipartite
// graph, in exact int64 arithmetic. exact.cpp scales the double-precision problem onto it.
#include <cstdint>
#include <vector>

#include "otfuse/runtime.h"

namespace otfuse::ot::detail {

/// One arc of the final spanning tree: source i sends `flow` units to sink j.
struct TransportArc {
  int i = 0, j = 0;
  int64_t flow = 0;
};

struct TransportSolution {
  /// The na + nb - 1 arcs of the final spanning tree (flows >= 0, some possibly 0). Every arc
  /// outside it carries no flow, so these arcs are the whole plan.
  std::vector<TransportArc> tree;
  /// Potentials: c_ij - u_i - v_j == 0 on every tree arc; when `optimal`, >= 0 on every arc.
  std::vector<int64_t> u, v;
  long long pivots = 0;  // simplex pivots performed (the initial tree costs none)
  /// False when stopped after maxPivots pivots: the plan is feasible but not proven optimal.
  bool optimal = false;
};

/// Integer arc costs read in place from a matrix of doubles: arc (i, j) (source i, sink j) costs
/// round((data[i * ld + j] - offset) * scale), rounding as x -> int64(x + 0.5) (x >= 0), every
/// time the same way. No copy of the matrix and no arc list are made.
struct ScaledCosts {
  const double* data = nullptr;
  int64_t ld = 0;  // distance between consecutive sources (>= number of sinks)
  double offset = 0, scale = 0;
  int64_t operator()(int i, int j) const { return round(data[i * ld + j]); }
  int64_t round(double x) const { return static_cast<int64_t>((x - offset) * scale + 0.5); }
};

/// Minimizes sum_ij cost(i, j) * x_ij over x >= 0 with row sums `supply` (size na) and column
/// sums `demand` (size nb). Requirements (the caller's, not checked in release builds):
/// na, nb >= 1; every supply and demand > 0 and their totals equal and <= 2^62; every data entry
/// >= offset and 0 <= cost(i, j) <= 2^61 / (na + nb + 2), so that every potential stays below
/// 2^60 in magnitude and every reduced cost inside int64.
/// Stops with optimal == false when a further pivot would be needed after maxPivots pivots.
/// Throws otfuse::Cancelled when `cancel` is set (polled once per line of the start and once per
/// pivot).
TransportSolution solveTransport(const ScaledCosts& cost, const std::vector<int64_t>& supply,
                                 const std::vector<int64_t>& demand, long long maxPivots,
                                 const CancelFlag* cancel = nullptr);

}  // namespace otfuse::ot::detail
