#pragma once
// Internal: dense linear assignment by Jonker-Volgenant shortest augmenting paths.
#include <Eigen/Core>

#include <vector>

namespace otfuse::ot::detail {

/// Optimal assignment of a dense n x n cost given as n contiguous rows of n doubles
/// (c[r * n + s] is the cost of row r to column s). Duals satisfy u[r] + v[s] <= c(r, s)
/// (up to rounding) with equality on the assignment.
struct LapSolution {
  std::vector<int> rowToCol;
  Eigen::VectorXd u, v;
};
LapSolution solveLap(const double* c, int n);

}  // namespace otfuse::ot::detail
