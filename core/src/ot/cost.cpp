// Ground costs between two point clouds and their normalization.
#include <Eigen/Core>

#include <algorithm>
#include <cmath>
#include <vector>

#include "otfuse/error.h"
#include "otfuse/ot/ot.h"

namespace otfuse::ot {

Metric parseMetric(const std::string& s) {
  if (s == "euclidean") return Metric::Euclidean;
  if (s == "sqeuclidean") return Metric::SquaredEuclidean;
  if (s == "cosine") return Metric::Cosine;
  throw Error("unknown ground metric '" + s + "' (expected euclidean, sqeuclidean or cosine)");
}

CostNormalization parseNormalization(const std::string& s) {
  if (s == "none") return CostNormalization::None;
  if (s == "max") return CostNormalization::Max;
  if (s == "mean") return CostNormalization::Mean;
  if (s == "median") return CostNormalization::Median;
  if (s == "log1p") return CostNormalization::Log1p;
  throw Error("unknown cost normalization '" + s + "' (expected none, max, mean, median or log1p)");
}

std::string toString(Metric m) {
  switch (m) {
    case Metric::Euclidean:
      return "euclidean";
    case Metric::SquaredEuclidean:
      return "sqeuclidean";
    case Metric::Cosine:
      return "cosine";
  }
  return "?";
}

std::string toString(CostNormalization n) {
  switch (n) {
    case CostNormalization::None:
      return "none";
    case CostNormalization::Max:
      return "max";
    case CostNormalization::Mean:
      return "mean";
    case CostNormalization::Median:
      return "median";
    case CostNormalization::Log1p:
      return "log1p";
  }
  return "?";
}

std::string toString(Status s) {
  switch (s) {
    case Status::Optimal:
      return "optimal";
    case Status::Infeasible:
      return "infeasible";
    case Status::IterationLimit:
      return "iteration limit";
    case Status::Converged:
      return "converged";
    case Status::InvalidInput:
      return "invalid input";
  }
  return "?";
}

Matrix groundCost(const Matrix& X, const Matrix& Y, Metric metric) {
  if (X.cols() != Y.cols())
    throw Error("ground cost: point dimensions differ (" + std::to_string(X.cols()) + " vs " +
                std::to_string(Y.cols()) + " columns)");
  if (metric == Metric::Cosine) {
    // 1 - <x, y> / (|x| |y|); a zero vector has cosine 0 to everything (distance 1).
    Vector nx = X.rowwise().norm();
    Vector ny = Y.rowwise().norm();
    Vector ix = nx.unaryExpr([](double v) { return v > 0 ? 1.0 / v : 0.0; });
    Vector iy = ny.unaryExpr([](double v) { return v > 0 ? 1.0 / v : 0.0; });
    Matrix C = X * Y.transpose();
    C = (ix.asDiagonal() * C * iy.asDiagonal()).eval();
    return (1.0 - C.array()).max(0.0).matrix();
  }
  Vector sx = X.rowwise().squaredNorm();
  Vector sy = Y.rowwise().squaredNorm();
  Matrix D = -2.0 * (X * Y.transpose());
  D.colwise() += sx;
  D.rowwise() += sy.transpose();
  D = D.cwiseMax(0.0);
  if (metric == Metric::Euclidean) D = D.cwiseSqrt();
  return D;
}

void normalizeCost(Matrix& M, CostNormalization how) {
  if (M.size() == 0) return;
  double d = 1.0;
  switch (how) {
    case CostNormalization::None:
      return;
    case CostNormalization::Log1p:
      M = M.array().log1p().matrix();
      return;
    case CostNormalization::Max:
      d = M.maxCoeff();
      break;
    case CostNormalization::Mean:
      d = M.mean();
      break;
    case CostNormalization::Median: {
      std::vector<double> v(M.data(), M.data() + M.size());
      const size_t h = v.size() / 2;
      std::nth_element(v.begin(), v.begin() + h, v.end());
      d = v[h];
      if (v.size() % 2 == 0) d = 0.5 * (d + *std::max_element(v.begin(), v.begin() + h));
      break;
    }
  }
  // An all-zero cost stays zero rather than turning into NaN.
  if (d != 0 && std::isfinite(d)) M /= d;
}

Vector uniform(int n) {
  if (n <= 0) return Vector();
  return Vector::Constant(n, 1.0 / n);
}

}  // namespace otfuse::ot
