#include "heatmap/matrix_display.h"

#include <algorithm>
#include <numeric>

namespace otfuse::ui {

std::vector<int> MatrixDisplay::identityOrder(int n) {
  std::vector<int> order(size_t(std::max(0, n)));
  std::iota(order.begin(), order.end(), 0);
  return order;
}

std::vector<int> MatrixDisplay::diagonalOrder(const Eigen::MatrixXd& plan) {
  const int n = int(plan.rows());
  std::vector<int> best(size_t(n), 0);
  std::vector<double> bestValue(size_t(n), 0.0);
  for (int i = 0; i < n; ++i) {
    if (plan.cols() == 0) break;
    Eigen::Index j = 0;
    bestValue[size_t(i)] = plan.row(i).maxCoeff(&j);
    best[size_t(i)] = int(j);
  }
  std::vector<int> order = identityOrder(n);
  std::stable_sort(order.begin(), order.end(), [&](int a, int b) {
    if (best[size_t(a)] != best[size_t(b)]) return best[size_t(a)] < best[size_t(b)];
    return bestValue[size_t(a)] > bestValue[size_t(b)];
  });
  return order;
}

Eigen::MatrixXd MatrixDisplay::displayMatrix(const Eigen::MatrixXd& m,
                                             const std::vector<int>& order, int maxRows,
                                             int maxCols, bool blockMax) {
  const int rows = int(m.rows()), cols = int(m.cols());
  const int outRows = std::min(rows, std::max(1, maxRows));
  const int outCols = std::min(cols, std::max(1, maxCols));
  Eigen::MatrixXd out = Eigen::MatrixXd::Zero(outRows, outCols);
  if (rows == 0 || cols == 0) return out;
  if (outRows == rows && outCols == cols) {
    for (int k = 0; k < rows; ++k) out.row(k) = m.row(order[size_t(k)]);
    return out;
  }
  Eigen::MatrixXd count = Eigen::MatrixXd::Zero(outRows, outCols);
  if (blockMax) out.setConstant(-std::numeric_limits<double>::infinity());
  for (int k = 0; k < rows; ++k) {
    const int r = int((long long)k * outRows / rows);
    const int src = order[size_t(k)];
    for (int j = 0; j < cols; ++j) {
      const int c = int((long long)j * outCols / cols);
      const double v = m(src, j);
      if (blockMax)
        out(r, c) = std::max(out(r, c), v);
      else
        out(r, c) += v;
      count(r, c) += 1;
    }
  }
  if (!blockMax) out = out.cwiseQuotient(count.cwiseMax(1.0));
  return out;
}

}  // namespace otfuse::ui
