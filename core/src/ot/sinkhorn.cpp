// Entropic OT: Sinkhorn with absorption into log-domain potentials ("stabilized scaling",
// Schmitzer 2019). The plan is P_ij = a_i K_ij b_j with K_ij = exp((f_i + g_j - M_ij) / eps).
// The iterations are the plain matrix-vector scalings a = mu / (K b), b = nu / (K^T a); when a
// scaling leaves [1e-40, 1e40] it is absorbed into the potentials (f += eps log a, ...) and K is
// rebuilt, so exp() of the full matrix is only evaluated at absorptions. Should the kernel
// underflow for a whole row or column (possible for tiny eps), the iteration falls back to one
// exact log-sum-exp Sinkhorn step. Entries of K below exp(-745) are lost to underflow; with
// scalings bounded by 1e40 the plan entries dropped that way are below 1e-240.
//
// Speed (bench/bench_ot.py against POT's ot.sinkhorn): when the cost's range over eps is small
// enough that no kernel entry can underflow, the start is one exp() pass over M instead of the
// exact log-domain iteration (four passes); the kernel build and both matrix-vector products
// are split over LibTorch's intra-op threads; a warm start (SinkhornOptions::warmU/warmV, the
// potentials of a solve at a nearby eps) begins from those potentials, so dragging eps in the
// app costs a few iterations instead of a solve from scratch.
#include <ATen/Parallel.h>
#include <Eigen/Core>

#include <algorithm>
#include <chrono>

#include <cmath>
#include <limits>
#include <vector>

#include "common.h"
#include "otfuse/ot/ot.h"

namespace otfuse::ot {

namespace {

// The helpers below stream over the columns of the column-major cost (contiguous) and
// allocate no n x m temporaries: in this code fresh large buffers cost more (first-touch page
// faults) than the arithmetic.

// f_i = eps log mu_i - eps log sum_j exp((g_j - M_ij) / eps)
// Each helper is a full pass over M (seconds for large costs in a sanitizer build): they poll
// `cancel` once per column.
void logStepRows(const Matrix& M, const Vector& mu, const Vector& g, double eps, Vector& f,
                 const CancelFlag* cancel) {
  const double inv = 1.0 / eps;
  Eigen::ArrayXd m = Eigen::ArrayXd::Constant(M.rows(), -std::numeric_limits<double>::infinity());
  for (Eigen::Index j = 0; j < M.cols(); ++j) {
    throwIfCancelled(cancel);
    m = m.max((g[j] - M.col(j).array()) * inv);
  }
  Eigen::ArrayXd s = Eigen::ArrayXd::Zero(M.rows());
  for (Eigen::Index j = 0; j < M.cols(); ++j) {
    throwIfCancelled(cancel);
    s += ((g[j] - M.col(j).array()) * inv - m).exp();
  }
  f = eps * (mu.array().log() - m - s.log()).matrix();
}

// g_j = eps log nu_j - eps log sum_i exp((f_i - M_ij) / eps)
void logStepCols(const Matrix& M, const Vector& nu, const Vector& f, double eps, Vector& g,
                 const CancelFlag* cancel) {
  const double inv = 1.0 / eps;
  Eigen::ArrayXd z(M.rows());
  for (Eigen::Index j = 0; j < M.cols(); ++j) {
    throwIfCancelled(cancel);
    z = (f.array() - M.col(j).array()) * inv;
    const double m = z.maxCoeff();
    g[j] = eps * (std::log(nu[j]) - m - std::log((z - m).exp().sum()));
  }
}

// Work split for at::parallel_for: chunks of at least ~64k matrix entries, so small problems
// (most fusion layers) stay on the calling thread.
int64_t grainFor(Eigen::Index otherDim) {
  return std::max<int64_t>(1, (int64_t{1} << 16) / std::max<Eigen::Index>(1, otherDim));
}

// K_ij = exp((f_i + g_j - M_ij) / eps), written into K's existing storage.
void kernel(const Matrix& M, const Vector& f, const Vector& g, double eps, Matrix& K,
            const CancelFlag* cancel) {
  const double inv = 1.0 / eps;
  K.resize(M.rows(), M.cols());
  throwIfCancelled(cancel);
  at::parallel_for(0, M.cols(), grainFor(M.rows()), [&](int64_t begin, int64_t end) {
    for (int64_t j = begin; j < end; ++j)
      K.col(j).array() = ((f.array() + g[j] - M.col(j).array()) * inv).exp();
  });
  throwIfCancelled(cancel);
}

// out = K * x (row blocks in parallel) and out = K^T * x (column blocks in parallel).
void multiply(const Matrix& K, const Vector& x, Vector& out) {
  at::parallel_for(0, K.rows(), grainFor(K.cols()), [&](int64_t begin, int64_t end) {
    out.segment(begin, end - begin).noalias() = K.middleRows(begin, end - begin) * x;
  });
}
void multiplyTransposed(const Matrix& K, const Vector& x, Vector& out) {
  at::parallel_for(0, K.cols(), grainFor(K.rows()), [&](int64_t begin, int64_t end) {
    out.segment(begin, end - begin).noalias() =
        K.middleCols(begin, end - begin).transpose() * x;
  });
}

// A kernel every row and column of which has positive finite mass: the scaling iteration can
// start from it. (A warm start from a very different eps may give neither.)
bool usableKernel(const Matrix& K) {
  if (!K.allFinite()) return false;
  return K.rowwise().sum().minCoeff() > 0 && K.colwise().sum().minCoeff() > 0;
}

bool usable(const Vector& s, double lo, double hi) {
  return s.allFinite() && s.minCoeff() >= lo && s.maxCoeff() <= hi;
}

}  // namespace

Result sinkhorn(const Vector& mu, const Vector& nu, const Matrix& M, const SinkhornOptions& opt) {
  Result r;
  if (!detail::validateProblem(mu, nu, M, r)) return r;
  if (!(opt.epsilon > 0) || !std::isfinite(opt.epsilon)) {
    r.status = Status::InvalidInput;
    r.message = "the entropic regularization epsilon must be positive and finite";
    return r;
  }
  r.message = detail::checkTotals(mu, nu);
  if (!r.message.empty()) {
    r.status = Status::Infeasible;
    return r;
  }
  const Eigen::Index nA = M.rows(), nB = M.cols();
  const bool warm = opt.warmU.size() > 0 || opt.warmV.size() > 0;
  if (warm && (opt.warmU.size() != nA || opt.warmV.size() != nB || !opt.warmU.allFinite() ||
               !opt.warmV.allFinite())) {
    r.status = Status::InvalidInput;
    r.message = "the warm start needs finite potentials u (" + std::to_string(nA) +
                " entries) and v (" + std::to_string(nB) + " entries)";
    return r;
  }
  r.u = Vector::Zero(nA);
  r.v = Vector::Zero(nB);
  if (mu.sum() == 0 || nA == 0 || nB == 0) {
    r.plan = Matrix::Zero(nA, nB);
    r.status = Status::Converged;
    return r;
  }

  // Zero-mass points carry no plan; solve on the positive-mass sub-problem.
  std::vector<Eigen::Index> rows, cols;
  for (Eigen::Index i = 0; i < nA; ++i)
    if (mu[i] > 0) rows.push_back(i);
  for (Eigen::Index j = 0; j < nB; ++j)
    if (nu[j] > 0) cols.push_back(j);
  const bool compact =
      static_cast<Eigen::Index>(rows.size()) == nA && static_cast<Eigen::Index>(cols.size()) == nB;
  const Eigen::Index na = rows.size(), nb = cols.size();
  Matrix Msub;
  Vector a0(na), b0(nb);
  if (!compact) {
    Msub.resize(na, nb);
    for (Eigen::Index j = 0; j < nb; ++j)
      for (Eigen::Index i = 0; i < na; ++i) Msub(i, j) = M(rows[i], cols[j]);
  }
  const Matrix& C = compact ? M : Msub;
  for (Eigen::Index i = 0; i < na; ++i) a0[i] = mu[rows[i]];
  for (Eigen::Index j = 0; j < nb; ++j) b0[j] = nu[cols[j]];

  const double eps = opt.epsilon;
  const double lo = 1e-40, hi = 1e40;
  Vector f = Vector::Zero(na), g = Vector::Zero(nb);
  Matrix K;
  bool started = false;
  if (warm) {
    for (Eigen::Index i = 0; i < na; ++i) f[i] = opt.warmU[rows[i]];
    for (Eigen::Index j = 0; j < nb; ++j) g[j] = opt.warmV[cols[j]];
    kernel(C, f, g, eps, K, opt.cancel);
    started = usableKernel(K);
  } else {
    // exp(-(M_ij - min M) / eps) >= exp(-700) > 0 for every entry: one pass, nothing lost.
    const double lowest = C.minCoeff();
    if ((C.maxCoeff() - lowest) / eps < 700) {
      f.setConstant(lowest);
      kernel(C, f, g, eps, K, opt.cancel);
      started = true;
    }
  }
  const bool logStart = !started;
  if (logStart) {
    // Start from one exact log-domain iteration: K then has no empty row or column.
    logStepRows(C, a0, g, eps, f, opt.cancel);
    logStepCols(C, b0, f, eps, g, opt.cancel);
    kernel(C, f, g, eps, K, opt.cancel);
  }
  // Result in the caller's coordinates from the plan P (na x nb, consumed) and the scalings.
  auto assemble = [&](Matrix&& P, const Vector& a, const Vector& b, Result& out) {
    const Vector fu = f + eps * a.array().log().matrix();
    const Vector gv = g + eps * b.array().log().matrix();
    out.u = Vector::Zero(nA);
    out.v = Vector::Zero(nB);
    if (compact) {
      out.plan = std::move(P);
      out.u = fu;
      out.v = gv;
    } else {
      out.plan = Matrix::Zero(nA, nB);
      for (Eigen::Index j = 0; j < nb; ++j)
        for (Eigen::Index i = 0; i < na; ++i) out.plan(rows[i], cols[j]) = P(i, j);
      for (Eigen::Index i = 0; i < na; ++i) out.u[rows[i]] = fu[i];
      for (Eigen::Index j = 0; j < nb; ++j) out.v[cols[j]] = gv[j];
      // Zero-mass points: c-transform of the other side's potential.
      for (Eigen::Index i = 0; i < nA; ++i)
        if (mu[i] == 0) out.u[i] = (M.row(i).transpose() - out.v).minCoeff();
      for (Eigen::Index j = 0; j < nB; ++j)
        if (nu[j] == 0) out.v[j] = (M.col(j) - out.u).minCoeff();
    }
    out.cost = (out.plan.array() * M.array()).sum();
    out.marginalError = detail::marginalErrorL1(out.plan, mu, nu);
  };
  using Clock = std::chrono::steady_clock;
  auto lastReport = Clock::now();
  Vector a = Vector::Ones(na), b = Vector::Ones(nb);
  Vector Kb(na), KTa(nb), aNew(na), bNew(nb);
  int it = logStart ? 1 : 0;  // the log-domain start counts as one iteration
  double err = 0;
  for (;;) {
    throwIfCancelled(opt.cancel);
    multiply(K, b, Kb);
    // Columns are exact after the b update; the row marginal of the current plan is a .* Kb.
    err = (a.cwiseProduct(Kb) - a0).lpNorm<1>();
    if (std::isfinite(err) && err < opt.tolerance) {
      r.status = Status::Converged;
      break;
    }
    if (it >= opt.maxIterations) {
      r.status = Status::IterationLimit;
      break;
    }
    if (opt.onReport && std::chrono::duration<double>(Clock::now() - lastReport).count() >=
                            opt.reportSeconds) {
      Result partial;
      Matrix P = K;
      for (Eigen::Index j = 0; j < nb; ++j) P.col(j).array() *= a.array() * b[j];
      assemble(std::move(P), a, b, partial);
      partial.iterations = it;
      partial.status = Status::IterationLimit;
      partial.message = "not converged yet";
      if (!opt.onReport(partial)) {
        r.status = Status::IterationLimit;
        r.message = "stopped by the caller after a report";
        break;
      }
      lastReport = Clock::now();
    }
    aNew = a0.cwiseQuotient(Kb);
    multiplyTransposed(K, aNew, KTa);
    bNew = b0.cwiseQuotient(KTa);
    ++it;
    if (!aNew.allFinite() || !bNew.allFinite() || aNew.minCoeff() <= 0 || bNew.minCoeff() <= 0) {
      // Kernel underflow: absorb the last good scalings, take one exact log-domain step.
      f += eps * a.array().log().matrix();
      g += eps * b.array().log().matrix();
      logStepRows(C, a0, g, eps, f, opt.cancel);
      logStepCols(C, b0, f, eps, g, opt.cancel);
      kernel(C, f, g, eps, K, opt.cancel);
      a.setOnes();
      b.setOnes();
      continue;
    }
    a.swap(aNew);
    b.swap(bNew);
    if (!usable(a, lo, hi) || !usable(b, lo, hi)) {
      f += eps * a.array().log().matrix();
      g += eps * b.array().log().matrix();
      kernel(C, f, g, eps, K, opt.cancel);
      a.setOnes();
      b.setOnes();
    }
  }
  r.iterations = it;
  // The plan a_i K_ij b_j overwrites K in place.
  for (Eigen::Index j = 0; j < nb; ++j) K.col(j).array() *= a.array() * b[j];
  assemble(std::move(K), a, b, r);
  return r;
}

Result sinkhornInSlices(const Vector& mu, const Vector& nu, const Matrix& M,
                        const SinkhornOptions& opt, double sliceSeconds,
                        const std::function<bool(const Result&, bool last)>& onSlice) {
  SinkhornOptions o = opt;
  o.reportSeconds = sliceSeconds;
  o.onReport = [&](const Result& partial) { return onSlice(partial, false); };
  Result r = sinkhorn(mu, nu, M, o);
  if (r.message != "stopped by the caller after a report") onSlice(r, true);
  return r;
}

}  // namespace otfuse::ot
