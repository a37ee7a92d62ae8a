// Exact optimal transport.
//
// Two solvers, chosen by the shape of the problem:
//  * uniform marginals and nA == nB: the optimal plan of a square problem with uniform masses is
//    a permutation matrix times the common mass (Birkhoff), so a linear assignment solver
//    (Jonker-Volgenant, lapjv.cpp) computes it directly in double precision on the costs as
//    given; it is one to two orders of magnitude faster than a network simplex.
//  * anything else: our network simplex for the transportation problem (network_simplex.cpp:
//    implicit arcs of the complete bipartite graph, block-search pivots, a minimum-rule start)
//    on the points with integer mass (below). It works in exact int64 arithmetic, which gives
//    exact flow conservation and termination without any tolerance on degenerate pivots, so
//    both inputs are scaled to integers:
//      - masses: mu, nu * 2^60 / total, rounded; the difference of the two integer totals is
//        added to the largest entry of the lighter side so they agree. Points with a mass below
//        2^-61 of the total round to nothing and are treated like zero-mass points. Flows are
//        integers, so the plan's marginals equal the rounded masses: marginal error (L1, both
//        sides) <= (nA + nB) * 2^-60 of the total mass (3.5e-15 for 2000 + 2000 points), plus the
//        difference of the totals when they differ (up to the 1e-9 relative accepted).
//      - costs: shifted by their minimum (any plan moves the same total mass, so the optimum is
//        unchanged), scaled so the range maps onto [0, q], q = 2^61 / (nA + nB + 2), and
//        rounded to integers. This keeps every potential and reduced cost inside int64 (see
//        network_simplex.cpp). The resolution is range * (nA + nB + 2) * 2^-61 (1.7e-15 of the
//        cost range for 2000 + 2000 points): the plan is optimal for the rounded costs, hence
//        its cost is within that resolution times the total mass of the true optimum; plans of
//        random (tie-free) problems are identical to those of double-precision solvers (POT).
//        The integer costs are not stored: the simplex computes them from M, in place, each
//        time it reads an arc (the same way each time). Costs whose range overflows a double or
//        is too small to scale (below ~1e-290) are first divided by their largest magnitude, in
//        a copy; near the double range the duals can then overflow.
//    The simplex runs on the transposed problem (sources = M's columns), so that its rows of
//    arcs are M's contiguous columns. The dual potentials come back rescaled with the same
//    resolution; the returned cost is <plan, M> computed in double from the unscaled costs.
//    ExactOptions::maxIterations bounds the number of pivots: when it is reached before
//    optimality, the current plan (feasible, marginals as exact as above) is returned with
//    Status::IterationLimit, iterations = pivots.
//    A double-precision network simplex (POT's route) would instead need tolerances on
//    degenerate pivots and accumulate rounding in the flow updates; the integer scaling avoids
//    both at a precision far below the 1e-9 the tests require.
#include <cmath>
#include <cstdint>
#include <limits>
#include <sstream>
#include <vector>

#include "common.h"
#include "lapjv.h"
#include "network_simplex.h"
#include "otfuse/ot/ot.h"

namespace otfuse::ot {

namespace {

std::string describe(double x) {
  std::ostringstream s;
  s.precision(17);
  s << x;
  return s.str();
}

// Returns an empty string when mu, nu, M are a well-formed problem, else the reason.
std::string validate(const Vector& mu, const Vector& nu, const Matrix& M) {
  if (mu.size() != M.rows() || nu.size() != M.cols())
    return "size mismatch: mu has " + std::to_string(mu.size()) + " entries and nu " +
           std::to_string(nu.size()) + ", but the cost matrix is " + std::to_string(M.rows()) +
           "x" + std::to_string(M.cols());
  for (Eigen::Index j = 0; j < M.cols(); ++j)
    for (Eigen::Index i = 0; i < M.rows(); ++i)
      if (!std::isfinite(M(i, j)))
        return "cost matrix entry (" + std::to_string(i) + ", " + std::to_string(j) + ") is " +
               describe(M(i, j)) + " (costs must be finite)";
  for (Eigen::Index i = 0; i < mu.size(); ++i)
    if (!std::isfinite(mu[i]) || mu[i] < 0)
      return "source mass mu[" + std::to_string(i) + "] = " + describe(mu[i]) +
             " (masses must be finite and non-negative)";
  for (Eigen::Index j = 0; j < nu.size(); ++j)
    if (!std::isfinite(nu[j]) || nu[j] < 0)
      return "target mass nu[" + std::to_string(j) + "] = " + describe(nu[j]) +
             " (masses must be finite and non-negative)";
  return {};
}

// The network simplex path of exact(): scales the positive-mass part of the problem to int64
// (see the top of this file), solves it transposed and writes plan, duals, iterations and
// status into r (plan and duals already sized and zero).
void solveByNetworkSimplex(const Vector& mu, const Vector& nu, const Matrix& M, long long maxPivots,
                           const CancelFlag* cancel, Result& r) {
  const Eigen::Index nA = M.rows(), nB = M.cols();
  // Masses relative to the total first, then times 2^60: no overflow for any positive total.
  const double total = std::max(mu.sum(), nu.sum());
  auto scaled = [total](double mass) { return std::llround(std::ldexp(mass / total, 60)); };
  std::vector<int64_t> qa(nA), qb(nB);
  int64_t ta = 0, tb = 0;
  Eigen::Index amax = 0, bmax = 0;
  for (Eigen::Index i = 0; i < nA; ++i) {
    qa[i] = scaled(mu[i]);
    ta += qa[i];
    if (qa[i] > qa[amax]) amax = i;
  }
  for (Eigen::Index j = 0; j < nB; ++j) {
    qb[j] = scaled(nu[j]);
    tb += qb[j];
    if (qb[j] > qb[bmax]) bmax = j;
  }
  if (ta > tb)
    qb[bmax] += ta - tb;
  else
    qa[amax] += tb - ta;
  // Points with integer mass; the rest keep a zero plan row / column.
  std::vector<Eigen::Index> rows, cols;
  std::vector<int64_t> supply, demand;  // the transposed problem: sources are M's columns
  for (Eigen::Index i = 0; i < nA; ++i)
    if (qa[i] > 0) {
      rows.push_back(i);
      demand.push_back(qa[i]);
    }
  for (Eigen::Index j = 0; j < nB; ++j)
    if (qb[j] > 0) {
      cols.push_back(j);
      supply.push_back(qb[j]);
    }
  const int na = static_cast<int>(rows.size()), nb = static_cast<int>(cols.size());

  // The simplex reads M in place (column j of M is the row of arcs of source j); only when
  // points were left out does it read a compacted copy.
  Matrix compact;
  const bool all = na == nA && nb == nB;
  if (!all) {
    compact.resize(na, nb);
    for (int j = 0; j < nb; ++j)
      for (int i = 0; i < na; ++i) compact(i, j) = M(rows[i], cols[j]);
  }
  const Matrix* C = all ? &M : &compact;
  double cmin = C->minCoeff(), cmax = C->maxCoeff();
  // The margin below q absorbs the rounding of qmax to double and of (c - cmin) * scale (up to
  // a relative 2^-52, plus 1/2 for the rounding to an integer): every integer cost is <= q.
  const int64_t q = (int64_t{1} << 61) / (na + nb + 2), qmax = q - 1 - (q >> 50);
  // Costs whose range overflows (near +-1e308) or is too small for qmax / range (below ~1e-290)
  // are solved as a copy divided by their largest magnitude: the optimal plan does not change.
  double unit = 1.0;
  Matrix rescaled;
  if (cmax > cmin &&
      !(std::isfinite(cmax - cmin) && std::isfinite(static_cast<double>(qmax) / (cmax - cmin)))) {
    unit = std::max(std::abs(cmin), std::abs(cmax));
    rescaled = *C / unit;
    C = &rescaled;
    cmin = C->minCoeff();
    cmax = C->maxCoeff();
  }
  detail::ScaledCosts cost;
  cost.data = C->data();
  cost.ld = na;
  cost.offset = cmin;
  cost.scale = cmax > cmin ? static_cast<double>(qmax) / (cmax - cmin) : 0.0;

  const detail::TransportSolution ns = detail::solveTransport(cost, supply, demand, maxPivots, cancel);
  for (const detail::TransportArc& a : ns.tree)
    if (a.flow > 0)
      r.plan(rows[a.j], cols[a.i]) = std::ldexp(static_cast<double>(a.flow), -60) * total;
  // cost_ji - u_j - v_i >= 0 in the transposed problem: v belongs to M's rows, u to its columns.
  // (For costs spanning more than ~1e308 / (nA + nB) the duals can overflow to +-inf.)
  const double back = cost.scale > 0 ? 1.0 / cost.scale : 0.0;
  for (int i = 0; i < na; ++i) r.u[rows[i]] = (static_cast<double>(ns.v[i]) * back + cmin) * unit;
  for (int j = 0; j < nb; ++j) r.v[cols[j]] = static_cast<double>(ns.u[j]) * back * unit;
  // Points left out: any value keeping u_i + v_j <= M_ij is a valid dual (c-transform).
  for (Eigen::Index i = 0; i < nA; ++i)
    if (qa[i] == 0) r.u[i] = (M.row(i).transpose() - r.v).minCoeff();
  for (Eigen::Index j = 0; j < nB; ++j)
    if (qb[j] == 0) r.v[j] = (M.col(j) - r.u).minCoeff();
  r.iterations = static_cast<int>(std::min<long long>(ns.pivots, std::numeric_limits<int>::max()));
  if (!ns.optimal) {
    r.status = Status::IterationLimit;
    r.message = "stopped after " + std::to_string(ns.pivots) +
                " network simplex pivots (ExactOptions::maxIterations): the plan is feasible "
                "but not proven optimal, and the duals are not feasible";
  }
}

}  // namespace

namespace detail {

double marginalErrorL1(const Matrix& plan, const Vector& mu, const Vector& nu) {
  if (plan.size() == 0) return mu.lpNorm<1>() + nu.lpNorm<1>();
  return (plan.rowwise().sum() - mu).lpNorm<1>() +
         (plan.colwise().sum().transpose() - nu).lpNorm<1>();
}

bool validateProblem(const Vector& mu, const Vector& nu, const Matrix& M, Result& r) {
  r.message = validate(mu, nu, M);
  if (!r.message.empty()) {
    r.status = Status::InvalidInput;
    return false;
  }
  return true;
}

std::string checkTotals(const Vector& mu, const Vector& nu) {
  const double sa = mu.sum(), sb = nu.sum();
  if (std::abs(sa - sb) > 1e-9 * std::max(sa, sb))
    return "the marginals have different totals: sum(mu) = " + describe(sa) +
           ", sum(nu) = " + describe(sb);
  return {};
}

}  // namespace detail

using detail::marginalErrorL1;
using detail::validateProblem;

Result exact(const Vector& mu, const Vector& nu, const Matrix& M, const ExactOptions& opt) {
  Result r;
  if (!validateProblem(mu, nu, M, r)) return r;
  if (opt.maxIterations < 0) {
    r.status = Status::InvalidInput;
    r.message =
        "ExactOptions::maxIterations is " + std::to_string(opt.maxIterations) + " (must be >= 0)";
    return r;
  }
  const Eigen::Index nA = M.rows(), nB = M.cols();
  const double sa = mu.sum();
  r.message = detail::checkTotals(mu, nu);
  if (!r.message.empty()) {
    r.status = Status::Infeasible;
    return r;
  }
  r.plan = Matrix::Zero(nA, nB);
  r.u = Vector::Zero(nA);
  r.v = Vector::Zero(nB);
  r.status = Status::Optimal;
  if (sa == 0 || nA == 0 || nB == 0) {
    // Nothing to move: the zero plan is optimal; u_i = min_j M_ij, v = 0 are feasible duals.
    if (nA > 0 && nB > 0) r.u = M.rowwise().minCoeff();
    r.marginalError = marginalErrorL1(r.plan, mu, nu);
    return r;
  }

  const bool uniformSquare = nA == nB && (mu.array() == mu[0]).all() && (nu.array() == nu[0]).all();
  if (opt.useAssignmentWhenPossible && uniformSquare) {
    const int n = static_cast<int>(nA);
    // Column j of the column-major M is contiguous: the LAP rows are M's columns.
    const detail::LapSolution lap = detail::solveLap(M.data(), n, opt.cancel);
    for (int j = 0; j < n; ++j) r.plan(lap.rowToCol[j], j) = mu[0];
    r.u = lap.v;
    r.v = lap.u;
    r.iterations = n;
  } else {
    solveByNetworkSimplex(mu, nu, M, opt.maxIterations, opt.cancel, r);
  }
  r.cost = (r.plan.array() * M.array()).sum();
  r.marginalError = marginalErrorL1(r.plan, mu, nu);
  return r;
}

}  // namespace otfuse::ot
