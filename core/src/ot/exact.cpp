// Exact optimal transport.
//
// Two solvers, chosen by the shape of the problem:
//  * uniform marginals and nA == nB: the optimal plan of a square problem with uniform masses is
//    a permutation matrix times the common mass (Birkhoff), so a linear assignment solver
//    (Jonker-Volgenant, lapjv.cpp) computes it directly in double precision on the costs as
//    given; it is one to two orders of magnitude faster than a network simplex.
//  * anything else: LEMON's NetworkSimplex (Debian's liblemon-dev, header templates, block
//    search pivot) on the bipartite graph of the positive-mass points. LEMON requires integer
//    data, so both inputs are scaled to int64 (LEMON's own exact arithmetic then guarantees
//    termination and exact flow conservation, with no tolerance on degenerate pivots):
//      - masses: mu, nu * 2^60 / total, rounded; the rounding residue of the larger side is put
//        on its largest entry so both integer totals agree. Flows are integers, so the plan's
//        marginals equal the rounded masses exactly: marginal error <= (nA + nB) * total * 2^-61
//        (about 1e-15 of the total mass for n = 2000).
//      - costs: shifted by their minimum (any plan moves the same total mass, so the optimum is
//        unchanged) and scaled so the range maps onto [0, 2^59 / (nA + nB + 2)], rounded. This
//        keeps every potential (|pi| <= LEMON's artificial cost 2^62 + path length * max cost)
//        and every reduced cost inside int64. The resolution is range * (nA + nB + 2) * 2^-59
//        (7e-15 of the cost range for 2000 + 2000 points): the plan is optimal for the
//        rounded costs, hence within that resolution times the total mass of the true optimum;
//        plans of random (tie-free) problems are identical to double-precision solvers (POT).
//    The dual potentials come back rescaled with the same resolution; the returned cost is
//    <plan, M> computed in double from the unscaled costs.
//    A double-precision network simplex (POT's route) would instead need tolerances on
//    degenerate pivots and accumulate rounding in the flow updates; the integer scaling avoids
//    both at a precision far below the 1e-9 the tests require.
//    Cost: LEMON stores the full bipartite arc list (about 70 bytes per arc), so set-up
//    dominates on large problems; see bench/bench_ot.py for the ratio to POT.
#define LEMON_ONLY_TEMPLATES
#include <lemon/network_simplex.h>
#include <lemon/smart_graph.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <sstream>
#include <vector>

#include "common.h"
#include "lapjv.h"
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
  const Eigen::Index nA = M.rows(), nB = M.cols();
  const double sa = mu.sum(), sb = nu.sum();
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
    const detail::LapSolution lap = detail::solveLap(M.data(), n);
    for (int j = 0; j < n; ++j) r.plan(lap.rowToCol[j], j) = mu[0];
    r.u = lap.v;
    r.v = lap.u;
    r.iterations = n;
  } else {
    // Positive-mass points only; zero-mass rows and columns keep a zero plan.
    std::vector<Eigen::Index> rows, cols;
    for (Eigen::Index i = 0; i < nA; ++i)
      if (mu[i] > 0) rows.push_back(i);
    for (Eigen::Index j = 0; j < nB; ++j)
      if (nu[j] > 0) cols.push_back(j);
    const int na = static_cast<int>(rows.size()), nb = static_cast<int>(cols.size());

    const double massScale = std::ldexp(1.0, 60) / std::max(sa, sb);
    std::vector<int64_t> qa(na), qb(nb);
    int64_t ta = 0, tb = 0;
    int amax = 0, bmax = 0;
    for (int i = 0; i < na; ++i) {
      qa[i] = std::llround(mu[rows[i]] * massScale);
      ta += qa[i];
      if (qa[i] > qa[amax]) amax = i;
    }
    for (int j = 0; j < nb; ++j) {
      qb[j] = std::llround(nu[cols[j]] * massScale);
      tb += qb[j];
      if (qb[j] > qb[bmax]) bmax = j;
    }
    if (ta > tb)
      qb[bmax] += ta - tb;
    else
      qa[amax] += tb - ta;

    double cmin = std::numeric_limits<double>::infinity(), cmax = -cmin;
    for (int j = 0; j < nb; ++j)
      for (int i = 0; i < na; ++i) {
        const double c = M(rows[i], cols[j]);
        cmin = std::min(cmin, c);
        cmax = std::max(cmax, c);
      }
    const double qmax = std::floor(std::ldexp(1.0, 59) / (na + nb + 2));
    const double costScale = cmax > cmin ? qmax / (cmax - cmin) : 0.0;

    lemon::SmartDigraph g;
    g.reserveNode(na + nb);
    g.reserveArc(static_cast<int>(static_cast<int64_t>(na) * nb));
    std::vector<lemon::SmartDigraph::Node> nodes(na + nb);
    for (int k = 0; k < na + nb; ++k) nodes[k] = g.addNode();
    lemon::SmartDigraph::NodeMap<int64_t> supply(g);
    for (int i = 0; i < na; ++i) supply[nodes[i]] = qa[i];
    for (int j = 0; j < nb; ++j) supply[nodes[na + j]] = -qb[j];
    // Arcs first, maps after: a map attached while arcs are added is resized arc by arc.
    // Arc id = i * nb + j (SmartDigraph numbers arcs in insertion order).
    for (int i = 0; i < na; ++i)
      for (int j = 0; j < nb; ++j) g.addArc(nodes[i], nodes[na + j]);
    lemon::SmartDigraph::ArcMap<int64_t> cost(g);
    for (int j = 0; j < nb; ++j) {
      const auto col = M.col(cols[j]);
      for (int i = 0; i < na; ++i)
        cost[g.arcFromId(i * nb + j)] = std::llround((col[rows[i]] - cmin) * costScale);
    }
    using Simplex = lemon::NetworkSimplex<lemon::SmartDigraph, int64_t, int64_t>;
    Simplex ns(g);
    ns.supplyMap(supply).costMap(cost);
    const Simplex::ProblemType pt = ns.run(Simplex::BLOCK_SEARCH);
    if (pt != Simplex::OPTIMAL) {
      // Cannot happen for a balanced bipartite problem with uncapacitated arcs; kept honest.
      r.status = Status::Infeasible;
      r.message = "network simplex reported an infeasible or unbounded problem";
      r.plan.setZero();
      return r;
    }
    const double inv = 1.0 / massScale;
    for (lemon::SmartDigraph::ArcIt a(g); a != lemon::INVALID; ++a) {
      const int64_t f = ns.flow(a);
      if (f == 0) continue;
      const int id = g.id(a);
      r.plan(rows[id / nb], cols[id % nb]) = static_cast<double>(f) * inv;
    }
    // LEMON's reduced cost is c_ij + pi_i - pi_j >= 0, so u = -pi (sources), v = pi (targets).
    const double back = costScale > 0 ? 1.0 / costScale : 0.0;
    for (int i = 0; i < na; ++i)
      r.u[rows[i]] = -static_cast<double>(ns.potential(nodes[i])) * back + cmin;
    for (int j = 0; j < nb; ++j)
      r.v[cols[j]] = static_cast<double>(ns.potential(nodes[na + j])) * back;
    // Zero-mass points: any value keeping u_i + v_j <= M_ij is a valid dual (c-transform).
    for (Eigen::Index i = 0; i < nA; ++i)
      if (mu[i] == 0) r.u[i] = nb > 0 ? (M.row(i).transpose() - r.v).minCoeff() : 0.0;
    for (Eigen::Index j = 0; j < nB; ++j)
      if (nu[j] == 0) r.v[j] = (M.col(j) - r.u).minCoeff();
    r.iterations = 0;  // LEMON does not report its pivot count
  }
  r.cost = (r.plan.array() * M.array()).sum();
  r.marginalError = marginalErrorL1(r.plan, mu, nu);
  return r;
}

}  // namespace otfuse::ot
