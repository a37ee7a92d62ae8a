#pragma once
// Turning an (nA x nB) plan or cost matrix into what a heatmap shows: an optional row order
// that puts each row's best match on the diagonal, and block downsampling for large matrices
// (display only; read-outs and exports use the exact matrix).
#include <Eigen/Core>

#include <vector>

namespace otfuse::ui {

class MatrixDisplay {
 public:
  /// Row order for display: rows sorted by the column of their largest entry (ties: larger
  /// entry first), so a permutation plan shows as the identity. order[k] = original row.
  static std::vector<int> diagonalOrder(const Eigen::MatrixXd& plan);
  /// Identity order 0..n-1.
  static std::vector<int> identityOrder(int n);

  /// The matrix with rows taken in `order`, reduced to at most maxRows x maxCols by blocks;
  /// each block shows its maximum (`blockMax`) or its mean. Exact copy when it already fits.
  static Eigen::MatrixXd displayMatrix(const Eigen::MatrixXd& m, const std::vector<int>& order,
                                       int maxRows, int maxCols, bool blockMax);
};

}  // namespace otfuse::ui
