#pragma once
// Internal: dense linear assignment by Jonker-Volgenant shortest augmenting paths.
#include <Eigen/Core>

#include <vector>

#include "otfuse/runtime.h"

namespace otfuse::ot::detail {

/// Optimal assignment of a dense n x n cost given as n contiguous rows of n doubles
/// (c[r * n + s] is the cost of row r to column s). Duals satisfy u[r] + v[s] <= c(r, s)
/// (up to rounding) with equality on the assignment.
struct LapSolution {
  std::vector<int> rowToCol;
  Eigen::VectorXd u, v;
};
/// Throws otfuse::Cancelled when `cancel` is set (polled every O(n) operations).
LapSolution solveLap(const double* c, int n, const CancelFlag* cancel = nullptr);

}  // namespace otfuse::ot::detail
