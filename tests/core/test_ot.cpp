// Optimal transport: ground costs, exact OT (assignment and network simplex paths), Sinkhorn.
// Hand-computed plans, invariants (marginals, duals, optimality), parity with POT's
// ot.emd / ot.sinkhorn on fixtures written by tests/fixtures/make_ot_fixtures.py, and our
// network simplex against LEMON's (liblemon-dev, an independent oracle used only here).
#include <ATen/Parallel.h>
#include <Eigen/Core>
#ifdef OTFUSE_HAVE_LEMON
#define LEMON_ONLY_TEMPLATES
#include <lemon/network_simplex.h>
#include <lemon/smart_graph.h>
#endif

#include <QtTest>

#include "common/otfuse_test.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <numeric>
#include <random>
#include <thread>
#include <vector>

#include "otfuse/error.h"
#include "otfuse/ot/ot.h"

using otfuse::ot::Matrix;
using otfuse::ot::Status;
using otfuse::ot::Vector;
namespace ot = otfuse::ot;

Q_DECLARE_METATYPE(Eigen::MatrixXd)
Q_DECLARE_METATYPE(Eigen::VectorXd)

namespace {

Matrix mat(int r, int c, std::initializer_list<double> rowMajor) {
  Matrix m(r, c);
  auto it = rowMajor.begin();
  for (int i = 0; i < r; ++i)
    for (int j = 0; j < c; ++j) m(i, j) = *it++;
  return m;
}

Vector vec(std::initializer_list<double> v) {
  Vector x(static_cast<Eigen::Index>(v.size()));
  std::copy(v.begin(), v.end(), x.data());
  return x;
}

Matrix randomMatrix(std::mt19937_64& rng, int r, int c) {
  std::uniform_real_distribution<double> U(0.0, 1.0);
  Matrix m(r, c);
  for (int j = 0; j < c; ++j)
    for (int i = 0; i < r; ++i) m(i, j) = U(rng);
  return m;
}

Vector randomMass(std::mt19937_64& rng, int n) {
  std::uniform_real_distribution<double> U(0.1, 1.0);
  Vector v(n);
  for (int i = 0; i < n; ++i) v[i] = U(rng);
  return v / v.sum();
}

#ifdef OTFUSE_HAVE_LEMON
// Random masses summing to 1, each zero with probability zeroFraction (not all zero).
Vector randomMassWithZeros(std::mt19937_64& rng, int n, double zeroFraction) {
  std::uniform_real_distribution<double> U(0.0, 1.0);
  Vector v(n);
  for (int i = 0; i < n; ++i) v[i] = U(rng) < zeroFraction ? 0.0 : 0.1 + U(rng);
  if (v.sum() == 0) v[0] = 1;
  return v / v.sum();
}

// GCC 12 reports LEMON's graph records (copied while partly uninitialized) as maybe
// uninitialized where lemonPlan() is inlined.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
// Exact OT by LEMON's NetworkSimplex on its own integer scaling (masses to 2^50, costs to 2^40
// of their range; finer than any tolerance below, and independent of exact.cpp's). Returns
// the plan, or an empty matrix if LEMON does not report an optimum.
Matrix lemonPlan(const Vector& mu, const Vector& nu, const Matrix& M) {
  const int nA = static_cast<int>(M.rows()), nB = static_cast<int>(M.cols());
  const double massScale = std::ldexp(1.0, 50) / mu.sum();
  std::vector<int64_t> a(nA), b(nB);
  int64_t ta = 0, tb = 0;
  for (int i = 0; i < nA; ++i) ta += a[i] = std::llround(mu[i] * massScale);
  for (int j = 0; j < nB; ++j) tb += b[j] = std::llround(nu[j] * massScale);
  // Balance on the largest entry of the lighter side.
  if (ta < tb)
    a[std::max_element(a.begin(), a.end()) - a.begin()] += tb - ta;
  else
    b[std::max_element(b.begin(), b.end()) - b.begin()] += ta - tb;
  const double cmin = M.minCoeff(), range = M.maxCoeff() - cmin;
  const double costScale = range > 0 ? std::ldexp(1.0, 40) / range : 0.0;

  lemon::SmartDigraph g;
  std::vector<lemon::SmartDigraph::Node> node(nA + nB);
  for (auto& x : node) x = g.addNode();
  std::vector<lemon::SmartDigraph::Arc> arc;
  for (int i = 0; i < nA; ++i)
    for (int j = 0; j < nB; ++j) arc.push_back(g.addArc(node[i], node[nA + j]));
  lemon::SmartDigraph::NodeMap<int64_t> supply(g);
  lemon::SmartDigraph::ArcMap<int64_t> cost(g);
  for (int i = 0; i < nA; ++i) supply[node[i]] = a[i];
  for (int j = 0; j < nB; ++j) supply[node[nA + j]] = -b[j];
  for (int i = 0; i < nA; ++i)
    for (int j = 0; j < nB; ++j) cost[arc[i * nB + j]] = std::llround((M(i, j) - cmin) * costScale);
  lemon::NetworkSimplex<lemon::SmartDigraph, int64_t, int64_t> ns(g);
  ns.supplyMap(supply).costMap(cost);
  if (ns.run() != ns.OPTIMAL) return Matrix();
  Matrix plan(nA, nB);
  for (int i = 0; i < nA; ++i)
    for (int j = 0; j < nB; ++j)
      plan(i, j) = static_cast<double>(ns.flow(arc[i * nB + j])) / massScale;
  return plan;
}
#pragma GCC diagnostic pop
#endif

double rowErr(const Matrix& P, const Vector& mu) {
  return (P.rowwise().sum() - mu).lpNorm<1>();
}
double colErr(const Matrix& P, const Vector& nu) {
  return (P.colwise().sum().transpose() - nu).lpNorm<1>();
}

// u_i + v_j <= M_ij + tol everywhere, with equality where the plan is positive.
void checkDuals(const ot::Result& r, const Matrix& M, double tol) {
  for (Eigen::Index i = 0; i < M.rows(); ++i)
    for (Eigen::Index j = 0; j < M.cols(); ++j) {
      const double slack = M(i, j) - r.u[i] - r.v[j];
      QVERIFY2(
          slack >= -tol,
          qPrintable(QString("dual infeasible at (%1, %2): slack %3").arg(i).arg(j).arg(slack)));
      if (r.plan(i, j) > 0)
        QVERIFY2(std::abs(slack) <= tol,
                 qPrintable(QString("no complementary slackness at (%1, %2): slack %3")
                                .arg(i)
                                .arg(j)
                                .arg(slack)));
    }
}

struct Fixture {
  int kind = 0;
  double eps = 0, thr = 0;
  Vector mu, nu;
  Matrix M, plan;
  double cost = 0;
};

bool readFixture(const QString& path, Fixture& f) {
  std::ifstream in(path.toStdString(), std::ios::binary);
  char magic[4];
  int32_t head[4];
  double par[2];
  if (!in.read(magic, 4) || std::memcmp(magic, "OTFX", 4) != 0) return false;
  if (!in.read(reinterpret_cast<char*>(head), sizeof head) || head[0] != 1) return false;
  if (!in.read(reinterpret_cast<char*>(par), sizeof par)) return false;
  const int nA = head[2], nB = head[3];
  if (nA <= 0 || nB <= 0 || nA > 4096 || nB > 4096) return false;
  f.kind = head[1];
  f.eps = par[0];
  f.thr = par[1];
  f.mu.resize(nA);
  f.nu.resize(nB);
  std::vector<double> m(static_cast<size_t>(nA) * nB);
  in.read(reinterpret_cast<char*>(f.mu.data()), nA * sizeof(double));
  in.read(reinterpret_cast<char*>(f.nu.data()), nB * sizeof(double));
  in.read(reinterpret_cast<char*>(m.data()), m.size() * sizeof(double));
  in.read(reinterpret_cast<char*>(&f.cost), sizeof(double));
  int64_t nnz = 0;
  in.read(reinterpret_cast<char*>(&nnz), sizeof nnz);
  if (!in || nnz < 0 || nnz > int64_t(nA) * nB) return false;
  f.M.resize(nA, nB);
  for (int i = 0; i < nA; ++i)
    for (int j = 0; j < nB; ++j) f.M(i, j) = m[static_cast<size_t>(i) * nB + j];
  f.plan = Matrix::Zero(nA, nB);
  for (int64_t k = 0; k < nnz; ++k) {
    double t[3];
    if (!in.read(reinterpret_cast<char*>(t), sizeof t)) return false;
    const int i = static_cast<int>(t[0]), j = static_cast<int>(t[1]);
    if (i < 0 || i >= nA || j < 0 || j >= nB) return false;
    f.plan(i, j) = t[2];
  }
  return true;
}

}  // namespace

class TestOt : public QObject {
  Q_OBJECT
 private slots:
  void handComputed_data() {
    QTest::addColumn<Vector>("mu");
    QTest::addColumn<Vector>("nu");
    QTest::addColumn<Matrix>("M");
    QTest::addColumn<int>("status");
    QTest::addColumn<Matrix>("plan");  // empty: any optimal plan
    QTest::addColumn<double>("cost");
    QTest::addColumn<QString>("message");  // expected part of the message

    const double h = 0.5, t = 1.0 / 3;
    const Vector u2 = vec({h, h}), u3 = vec({t, t, t});
    QTest::newRow("2x2 identity") << u2 << u2 << mat(2, 2, {0, 1, 1, 0}) << int(Status::Optimal)
                                  << mat(2, 2, {h, 0, 0, h}) << 0.0 << QString();
    QTest::newRow("2x2 swap") << u2 << u2 << mat(2, 2, {1, 0, 0, 1}) << int(Status::Optimal)
                              << mat(2, 2, {0, h, h, 0}) << 0.0 << QString();
    // Permutations of [[4,1,3],[2,0,5],[3,2,2]]: (1,0,2) costs 5, every other one more.
    QTest::newRow("3x3 assignment")
        << u3 << u3 << mat(3, 3, {4, 1, 3, 2, 0, 5, 3, 2, 2}) << int(Status::Optimal)
        << mat(3, 3, {0, t, 0, t, 0, 0, 0, 0, t}) << 5.0 / 3 << QString();
    // Row 0 (0.6) fills column 0 at cost 0 and column 1 at cost 1; row 1 (0.4) -> column 2.
    QTest::newRow("2x3 non-uniform")
        << vec({0.6, 0.4}) << vec({0.3, 0.3, 0.4}) << mat(2, 3, {0, 1, 2, 2, 1, 0})
        << int(Status::Optimal) << mat(2, 3, {0.3, 0.3, 0, 0, 0, 0.4}) << 0.3 << QString();
    QTest::newRow("3x3 non-uniform")
        << vec({0.2, 0.3, 0.5}) << vec({0.5, 0.3, 0.2}) << mat(3, 3, {9, 9, 0, 9, 0, 9, 0, 9, 9})
        << int(Status::Optimal) << mat(3, 3, {0, 0, 0.2, 0, 0.3, 0, 0.5, 0, 0}) << 0.0 << QString();
    QTest::newRow("ties uniform (all costs equal)")
        << u3 << u3 << Matrix(Matrix::Constant(3, 3, 2.0)) << int(Status::Optimal) << Matrix()
        << 2.0 << QString();
    QTest::newRow("ties non-uniform (all costs equal)")
        << vec({0.1, 0.2, 0.7}) << vec({0.6, 0.4}) << Matrix(Matrix::Constant(3, 2, 1.5))
        << int(Status::Optimal) << Matrix() << 1.5 << QString();
    QTest::newRow("ties degenerate vertex")
        << vec({0.5, 0.5}) << vec({0.5, 0.5}) << mat(2, 2, {0, 0, 0, 0}) << int(Status::Optimal)
        << Matrix() << 0.0 << QString();
    QTest::newRow("zero-mass row and column")
        << vec({0.5, 0, 0.5}) << vec({0.5, 0.5, 0}) << mat(3, 3, {0, 1, 0, 5, 5, 5, 1, 0, 9})
        << int(Status::Optimal) << mat(3, 3, {0.5, 0, 0, 0, 0, 0, 0, 0.5, 0}) << 0.0 << QString();
    QTest::newRow("infeasible totals")
        << u2 << vec({0.5, 0.6}) << mat(2, 2, {0, 1, 1, 0}) << int(Status::Infeasible) << Matrix()
        << 0.0 << QString("different totals");
    QTest::newRow("NaN cost") << u2 << u2 << mat(2, 2, {0, std::nan(""), 1, 0})
                              << int(Status::InvalidInput) << Matrix() << 0.0
                              << QString("entry (0, 1)");
    QTest::newRow("infinite cost")
        << u2 << u2 << mat(2, 2, {0, 1, std::numeric_limits<double>::infinity(), 0})
        << int(Status::InvalidInput) << Matrix() << 0.0 << QString("entry (1, 0)");
    QTest::newRow("negative mass")
        << vec({1.5, -0.5}) << vec({0.5, 0.5}) << mat(2, 2, {0, 1, 1, 0})
        << int(Status::InvalidInput) << Matrix() << 0.0 << QString("mu[1]");
    QTest::newRow("negative target mass")
        << u2 << vec({-0.5, 1.5}) << mat(2, 2, {0, 1, 1, 0}) << int(Status::InvalidInput)
        << Matrix() << 0.0 << QString("nu[0]");
    QTest::newRow("size mismatch")
        << u3 << u2 << mat(2, 2, {0, 1, 1, 0}) << int(Status::InvalidInput) << Matrix() << 0.0
        << QString("size mismatch");
  }

  void handComputed() {
    QFETCH(Vector, mu);
    QFETCH(Vector, nu);
    QFETCH(Matrix, M);
    QFETCH(int, status);
    QFETCH(Matrix, plan);
    QFETCH(double, cost);
    QFETCH(QString, message);
    for (const bool lap : {true, false}) {
      ot::ExactOptions opt;
      opt.useAssignmentWhenPossible = lap;
      const ot::Result r = ot::exact(mu, nu, M, opt);
      QCOMPARE(int(r.status), status);
      if (!message.isEmpty())
        QVERIFY2(QString::fromStdString(r.message).contains(message), r.message.c_str());
      if (r.status != Status::Optimal) continue;
      QVERIFY(r.marginalError <= 1e-9);
      QVERIFY(rowErr(r.plan, mu) <= 1e-9);
      QVERIFY(colErr(r.plan, nu) <= 1e-9);
      QVERIFY((r.plan.array() >= 0).all());
      QVERIFY(std::abs(r.cost - cost) <= 1e-12);
      QVERIFY(std::abs(r.cost - (r.plan.array() * M.array()).sum()) <= 1e-12);
      if (plan.size() > 0) QVERIFY((r.plan - plan).cwiseAbs().maxCoeff() <= 1e-12);
      checkDuals(r, M, 1e-9);
    }
  }

  void exactInvariants_data() {
    QTest::addColumn<int>("seed");
    QTest::addColumn<int>("nA");
    QTest::addColumn<int>("nB");
    QTest::addColumn<bool>("uniformMass");
    QTest::newRow("uniform 8x8") << 1 << 8 << 8 << true;
    QTest::newRow("uniform 60x60") << 2 << 60 << 60 << true;
    QTest::newRow("uniform 300x300") << 3 << 300 << 300 << true;
    QTest::newRow("uniform 20x35") << 4 << 20 << 35 << true;
    QTest::newRow("random 13x9") << 5 << 13 << 9 << false;
    QTest::newRow("random 50x50") << 6 << 50 << 50 << false;
    QTest::newRow("random 120x80") << 7 << 120 << 80 << false;
  }

  void exactInvariants() {
    QFETCH(int, seed);
    QFETCH(int, nA);
    QFETCH(int, nB);
    QFETCH(bool, uniformMass);
    std::mt19937_64 rng(seed);
    const Matrix M = randomMatrix(rng, nA, nB);
    const Vector mu = uniformMass ? ot::uniform(nA) : randomMass(rng, nA);
    const Vector nu = uniformMass ? ot::uniform(nB) : randomMass(rng, nB);
    const ot::Result r = ot::exact(mu, nu, M);
    QCOMPARE(int(r.status), int(Status::Optimal));
    QVERIFY(rowErr(r.plan, mu) <= 1e-9);
    QVERIFY(colErr(r.plan, nu) <= 1e-9);
    QVERIFY(r.marginalError <= 1e-9);
    QVERIFY(std::abs(r.cost - (r.plan.array() * M.array()).sum()) <= 1e-12);
    checkDuals(r, M, 1e-9);
    // Strong duality.
    QVERIFY(std::abs(r.cost - (mu.dot(r.u) + nu.dot(r.v))) <= 1e-9);
    // No feasible plan is cheaper: the independent coupling and vertices of other costs.
    const Matrix indep = mu * nu.transpose();
    QVERIFY(r.cost <= (indep.array() * M.array()).sum() + 1e-12);
    for (int k = 0; k < 5; ++k) {
      const ot::Result other = ot::exact(mu, nu, randomMatrix(rng, nA, nB));
      QVERIFY(r.cost <= (other.plan.array() * M.array()).sum() + 1e-12);
    }
    // The assignment path and the network simplex give the same plan (unique optimum).
    if (uniformMass && nA == nB) {
      ot::ExactOptions opt;
      opt.useAssignmentWhenPossible = false;
      const ot::Result s = ot::exact(mu, nu, M, opt);
      QCOMPARE(int(s.status), int(Status::Optimal));
      QVERIFY((s.plan - r.plan).cwiseAbs().maxCoeff() <= 1e-12);
      QVERIFY(std::abs(s.cost - r.cost) <= 1e-12);
      const Eigen::VectorXi perm = ot::assignment(M);
      for (int i = 0; i < nA; ++i) QCOMPARE(r.plan(i, perm[i]), 1.0 / nA);
    }
  }

  // Our network simplex against LEMON's on random rectangular problems: the same optimal cost,
  // and our plan feasible with a dual certificate (duals feasible, complementary, no gap).
  void networkSimplexVsLemon_data() {
    QTest::addColumn<int>("seed");
    QTest::addColumn<int>("nA");
    QTest::addColumn<int>("nB");
    QTest::addColumn<QString>("costs");  // "uniform" reals, "euclidean", "ties4" / "ties100":
                                         // integers 0..3 / 0..99 (many equal costs)
    QTest::addColumn<double>("zeros");   // fraction of zero-mass points
    QTest::newRow("1x7") << 21 << 1 << 7 << "uniform" << 0.0;
    QTest::newRow("9x1") << 22 << 9 << 1 << "uniform" << 0.0;
    QTest::newRow("5x3") << 23 << 5 << 3 << "uniform" << 0.0;
    QTest::newRow("37x61") << 24 << 37 << 61 << "uniform" << 0.0;
    QTest::newRow("150x90") << 25 << 150 << 90 << "uniform" << 0.0;
    QTest::newRow("300x200") << 26 << 300 << 200 << "uniform" << 0.0;
    QTest::newRow("90x150 euclidean") << 27 << 90 << 150 << "euclidean" << 0.0;
    QTest::newRow("200x120 ties") << 28 << 200 << 120 << "ties100" << 0.0;
    QTest::newRow("64x64 ties") << 29 << 64 << 64 << "ties4" << 0.0;
    QTest::newRow("120x70 zero masses") << 30 << 120 << 70 << "uniform" << 0.2;
    QTest::newRow("80x110 ties, zero masses") << 31 << 80 << 110 << "ties100" << 0.3;
  }

  void networkSimplexVsLemon() {
#ifndef OTFUSE_HAVE_LEMON
    OTFUSE_SKIP("LEMON headers (liblemon-dev) not found at configure time");
#else
    QFETCH(int, seed);
    QFETCH(int, nA);
    QFETCH(int, nB);
    QFETCH(QString, costs);
    QFETCH(double, zeros);
    std::mt19937_64 rng(seed);
    Matrix M;
    if (costs == "euclidean") {
      const Matrix X = randomMatrix(rng, nA, 5), Y = randomMatrix(rng, nB, 5);
      M = ot::groundCost(X, Y, ot::Metric::Euclidean);
    } else {
      M = randomMatrix(rng, nA, nB);
      if (costs == "ties4") M = (M * 4).array().floor().matrix();
      if (costs == "ties100") M = (M * 100).array().floor().matrix();
    }
    const Vector mu = randomMassWithZeros(rng, nA, zeros), nu = randomMassWithZeros(rng, nB, zeros);
    const ot::Result r = ot::exact(mu, nu, M);
    QCOMPARE(int(r.status), int(Status::Optimal));
    QVERIFY((r.plan.array() >= 0).all());
    QVERIFY(rowErr(r.plan, mu) <= 1e-12);
    QVERIFY(colErr(r.plan, nu) <= 1e-12);
    QVERIFY(std::abs(r.cost - (r.plan.array() * M.array()).sum()) <= 1e-12);
    checkDuals(r, M, 1e-9);
    QVERIFY(std::abs(r.cost - (mu.dot(r.u) + nu.dot(r.v))) <= 1e-9);
    if (nA > 1 && nB > 1 && costs != "ties4") QVERIFY(r.iterations > 0);

    const Matrix L = lemonPlan(mu, nu, M);
    QVERIFY2(L.size() > 0, "LEMON did not report an optimum");
    QVERIFY(rowErr(L, mu) <= 1e-9 && colErr(L, nu) <= 1e-9);
    const double lemonCost = (L.array() * M.array()).sum();
    QVERIFY2(std::abs(r.cost - lemonCost) <= 1e-9 * std::max(1.0, std::abs(lemonCost)),
             qPrintable(
                 QString("ours %1, LEMON %2").arg(r.cost, 0, 'g', 17).arg(lemonCost, 0, 'g', 17)));
#endif
  }

  // Many small problems with integer masses and costs 0..3: degenerate trees (equal partial
  // sums of masses) and ties everywhere, the cases where a simplex could cycle or stall.
  void networkSimplexVsLemonDegenerate() {
#ifndef OTFUSE_HAVE_LEMON
    OTFUSE_SKIP("LEMON headers (liblemon-dev) not found at configure time");
#else
    std::mt19937_64 rng(50);
    for (int trial = 0; trial < 300; ++trial) {
      const int nA = 1 + static_cast<int>(rng() % 10), nB = 1 + static_cast<int>(rng() % 10);
      Vector mu(nA), nu = Vector::Ones(nB);
      for (int i = 0; i < nA; ++i) mu[i] = double(1 + rng() % 4);
      if (mu.sum() < nB) mu[0] += nB - mu.sum();
      for (int extra = static_cast<int>(mu.sum()) - nB; extra > 0; --extra) nu[rng() % nB] += 1;
      const Matrix M = (randomMatrix(rng, nA, nB) * 4).array().floor().matrix();
      const ot::Result r = ot::exact(mu, nu, M);
      const QString what = QString("trial %1 (%2x%3)").arg(trial).arg(nA).arg(nB);
      QVERIFY2(r.status == Status::Optimal, qPrintable(what));
      QVERIFY2(rowErr(r.plan, mu) + colErr(r.plan, nu) <= 1e-12 * mu.sum(), qPrintable(what));
      checkDuals(r, M, 1e-9);
      const Matrix L = lemonPlan(mu, nu, M);
      QVERIFY2(L.size() > 0, qPrintable(what));
      const double lemonCost = (L.array() * M.array()).sum();
      QVERIFY2(std::abs(r.cost - lemonCost) <= 1e-9 * std::max(1.0, lemonCost),
               qPrintable(what + QString(": ours %1, LEMON %2").arg(r.cost).arg(lemonCost)));
    }
#endif
  }

  // Scaling the masses scales the plan, down to tiny and up to huge totals.
  void exactMassScale_data() {
    QTest::addColumn<double>("scale");
    QTest::newRow("1e-300") << 1e-300;
    QTest::newRow("1e-5") << 1e-5;
    QTest::newRow("1e300") << 1e300;
  }

  void exactMassScale() {
    QFETCH(double, scale);
    std::mt19937_64 rng(42);
    const Matrix M = randomMatrix(rng, 30, 20);
    const Vector mu = randomMass(rng, 30), nu = randomMass(rng, 20);
    const ot::Result one = ot::exact(mu, nu, M);
    const ot::Result r = ot::exact(mu * scale, nu * scale, M);
    QCOMPARE(int(r.status), int(Status::Optimal));
    QCOMPARE(r.iterations, one.iterations);
    QVERIFY((r.plan / scale - one.plan).cwiseAbs().maxCoeff() <= 1e-15);
    QVERIFY(std::abs(r.cost / scale - one.cost) <= 1e-15);
    QVERIFY(r.marginalError <= 1e-12 * scale);
  }

  // Shifting and scaling the costs (to 2 (M + shift) scale) leaves the plan alone, down to tiny
  // costs and up to costs whose range overflows a double.
  void exactCostScale_data() {
    QTest::addColumn<double>("scale");
    QTest::addColumn<double>("shift");
    QTest::newRow("1e-300") << 1e-300 << 0.0;
    QTest::newRow("1e-310 (subnormal)") << 1e-310 << 0.0;
    QTest::newRow("1e300") << 1e300 << 0.0;
    QTest::newRow("range over DBL_MAX") << 1.5e308 << -0.5;
    QTest::newRow("shifted by 1e6") << 1.0 << 1e6;
  }

  void exactCostScale() {
    QFETCH(double, scale);
    QFETCH(double, shift);
    std::mt19937_64 rng(43);
    const Matrix M = randomMatrix(rng, 30, 20);
    const Vector mu = randomMass(rng, 30), nu = randomMass(rng, 20);
    const ot::Result one = ot::exact(mu, nu, M);
    const Matrix S = (2 * (M.array() + shift) * scale).matrix();
    QVERIFY(S.allFinite());
    const ot::Result r = ot::exact(mu, nu, S);
    QCOMPARE(int(r.status), int(Status::Optimal));
    QVERIFY((r.plan - one.plan).cwiseAbs().maxCoeff() <= 1e-15);
    QVERIFY(r.marginalError <= 1e-12);
    // The row that claims it exercises a range beyond DBL_MAX does (its duals are not checked:
    // they may overflow, see exact.cpp).
    const bool overflow = !std::isfinite(S.maxCoeff() - S.minCoeff());
    QCOMPARE(overflow, QByteArray(QTest::currentDataTag()).startsWith("range over"));
    if (!overflow) checkDuals(r, S, 1e-9 * scale * (1 + shift));
  }

  // ExactOptions::maxIterations bounds the network simplex's pivots: short of the optimum the
  // result is IterationLimit with a feasible plan (exact marginals) and its cost.
  void exactIterationLimit_data() {
    // Pivots allowed; when `relative`, added to the number the unlimited solve needs.
    QTest::addColumn<long long>("limit");
    QTest::addColumn<bool>("relative");
    QTest::addColumn<int>("status");
    QTest::newRow("0 pivots: the initial tree") << 0LL << false << int(Status::IterationLimit);
    QTest::newRow("1 pivot") << 1LL << false << int(Status::IterationLimit);
    QTest::newRow("7 pivots") << 7LL << false << int(Status::IterationLimit);
    QTest::newRow("one pivot short") << -1LL << true << int(Status::IterationLimit);
    QTest::newRow("exactly enough") << 0LL << true << int(Status::Optimal);
    QTest::newRow("negative") << -1LL << false << int(Status::InvalidInput);
  }

  void exactIterationLimit() {
    QFETCH(long long, limit);
    QFETCH(bool, relative);
    QFETCH(int, status);
    std::mt19937_64 rng(40);
    const int nA = 60, nB = 45;
    const Matrix M = randomMatrix(rng, nA, nB);
    const Vector mu = randomMass(rng, nA), nu = randomMass(rng, nB);
    const ot::Result best = ot::exact(mu, nu, M);
    QCOMPARE(int(best.status), int(Status::Optimal));
    QVERIFY(best.iterations > 10);
    ot::ExactOptions opt;
    opt.maxIterations = relative ? best.iterations + limit : limit;
    const ot::Result r = ot::exact(mu, nu, M, opt);
    QCOMPARE(int(r.status), status);
    if (r.status == Status::InvalidInput) {
      QVERIFY2(r.message.find("maxIterations") != std::string::npos, r.message.c_str());
      return;
    }
    QCOMPARE(static_cast<long long>(r.iterations), opt.maxIterations);
    QVERIFY((r.plan.array() >= 0).all());
    QVERIFY(rowErr(r.plan, mu) <= 1e-12);
    QVERIFY(colErr(r.plan, nu) <= 1e-12);
    QVERIFY(r.marginalError <= 1e-12);
    QVERIFY(std::abs(r.cost - (r.plan.array() * M.array()).sum()) <= 1e-12);
    QVERIFY(r.cost >= best.cost - 1e-12);
    if (r.status == Status::IterationLimit) {
      QVERIFY2(r.message.find("maxIterations") != std::string::npos, r.message.c_str());
    } else {
      QVERIFY((r.plan - best.plan).cwiseAbs().maxCoeff() == 0);
      checkDuals(r, M, 1e-9);
    }
  }

  // The assignment path is not a pivoting method: maxIterations does not apply to it.
  void assignmentIgnoresIterationLimit() {
    std::mt19937_64 rng(41);
    const int n = 30;
    const Matrix M = randomMatrix(rng, n, n);
    ot::ExactOptions opt;
    opt.maxIterations = 0;
    const ot::Result r = ot::exact(ot::uniform(n), ot::uniform(n), M, opt);
    QCOMPARE(int(r.status), int(Status::Optimal));
    QCOMPARE(r.iterations, n);
  }

  void assignmentBruteForce_data() {
    QTest::addColumn<int>("n");
    QTest::addColumn<bool>("integerCosts");  // integer costs: many ties
    for (int n = 1; n <= 7; ++n) {
      QTest::addRow("n=%d real", n) << n << false;
      QTest::addRow("n=%d integer", n) << n << true;
    }
  }

  void assignmentBruteForce() {
    QFETCH(int, n);
    QFETCH(bool, integerCosts);
    std::mt19937_64 rng(100 + n);
    for (int trial = 0; trial < 20; ++trial) {
      Matrix M = randomMatrix(rng, n, n);
      if (integerCosts) M = (M * 3).array().floor().matrix();
      std::vector<int> p(n);
      std::iota(p.begin(), p.end(), 0);
      double best = std::numeric_limits<double>::infinity();
      do {
        double s = 0;
        for (int i = 0; i < n; ++i) s += M(i, p[i]);
        best = std::min(best, s);
      } while (std::next_permutation(p.begin(), p.end()));
      const Eigen::VectorXi perm = ot::assignment(M);
      std::vector<int> seen(n, 0);
      double s = 0;
      for (int i = 0; i < n; ++i) {
        QVERIFY(perm[i] >= 0 && perm[i] < n);
        QCOMPARE(++seen[perm[i]], 1);
        s += M(i, perm[i]);
      }
      QVERIFY2(std::abs(s - best) <= 1e-12, qPrintable(QString("%1 vs %2").arg(s).arg(best)));
    }
  }

  // Many ties (costs in {0, 1, 2}): the assignment path's price updates stall in floating
  // point on such costs; both solvers must still reach the same optimal cost.
  void assignmentManyTies_data() {
    QTest::addColumn<int>("n");
    QTest::newRow("n=64") << 64;
    QTest::newRow("n=257") << 257;
  }

  void assignmentManyTies() {
    QFETCH(int, n);
    std::mt19937_64 rng(200 + n);
    const Matrix M = (randomMatrix(rng, n, n) * 3).array().floor().matrix();
    const Vector u = ot::uniform(n);
    const ot::Result lap = ot::exact(u, u, M);
    ot::ExactOptions opt;
    opt.useAssignmentWhenPossible = false;
    const ot::Result ns = ot::exact(u, u, M, opt);
    QCOMPARE(int(lap.status), int(Status::Optimal));
    QCOMPARE(int(ns.status), int(Status::Optimal));
    QVERIFY(std::abs(lap.cost - ns.cost) <= 1e-12);
    QVERIFY(lap.marginalError <= 1e-12);
    checkDuals(lap, M, 1e-9);
    checkDuals(ns, M, 1e-9);
  }

  void assignmentRejectsBadInput() {
    QVERIFY_THROWS_EXCEPTION(otfuse::Error, ot::assignment(Matrix::Zero(2, 3)));
    QVERIFY_THROWS_EXCEPTION(otfuse::Error, ot::assignment(mat(2, 2, {0, std::nan(""), 1, 1})));
  }

  void groundCosts_data() {
    QTest::addColumn<int>("metric");
    QTest::newRow("euclidean") << int(ot::Metric::Euclidean);
    QTest::newRow("sqeuclidean") << int(ot::Metric::SquaredEuclidean);
    QTest::newRow("cosine") << int(ot::Metric::Cosine);
  }

  void groundCosts() {
    QFETCH(int, metric);
    std::mt19937_64 rng(7);
    Matrix X = randomMatrix(rng, 9, 5).array() - 0.5, Y = randomMatrix(rng, 6, 5).array() - 0.5;
    X.row(3) = Y.row(2);  // a zero distance, exercising the clamp at 0
    const Matrix C = ot::groundCost(X, Y, ot::Metric(metric));
    QCOMPARE(C.rows(), 9);
    QCOMPARE(C.cols(), 6);
    for (int i = 0; i < 9; ++i)
      for (int j = 0; j < 6; ++j) {
        double expect = 0;
        if (ot::Metric(metric) == ot::Metric::Cosine) {
          double xy = 0, xx = 0, yy = 0;
          for (int k = 0; k < 5; ++k) {
            xy += X(i, k) * Y(j, k);
            xx += X(i, k) * X(i, k);
            yy += Y(j, k) * Y(j, k);
          }
          expect = 1 - xy / std::sqrt(xx * yy);
        } else {
          for (int k = 0; k < 5; ++k) expect += (X(i, k) - Y(j, k)) * (X(i, k) - Y(j, k));
          if (ot::Metric(metric) == ot::Metric::Euclidean) expect = std::sqrt(expect);
        }
        QVERIFY(C(i, j) >= 0);
        // sqrt near 0 amplifies cancellation: compare the squares for the zero pair.
        const double tol = (i == 3 && j == 2) ? 1e-7 : 1e-12;
        QVERIFY2(std::abs(C(i, j) - expect) <= tol,
                 qPrintable(QString("(%1,%2): %3 vs %4").arg(i).arg(j).arg(C(i, j)).arg(expect)));
      }
    QVERIFY_THROWS_EXCEPTION(otfuse::Error,
                             ot::groundCost(X, Matrix::Zero(2, 4), ot::Metric(metric)));
  }

  void normalization_data() {
    QTest::addColumn<QString>("name");
    QTest::addColumn<Matrix>("expected");
    const Matrix M = mat(2, 2, {1, 2, 3, 6});
    QTest::newRow("none") << QString("none") << M;
    QTest::newRow("max") << QString("max") << Matrix(M / 6);
    QTest::newRow("mean") << QString("mean") << Matrix(M / 3);
    QTest::newRow("median") << QString("median") << Matrix(M / 2.5);
    QTest::newRow("log1p") << QString("log1p") << Matrix(M.array().log1p().matrix());
  }

  void normalization() {
    QFETCH(QString, name);
    QFETCH(Matrix, expected);
    Matrix M = mat(2, 2, {1, 2, 3, 6});
    const ot::CostNormalization n = ot::parseNormalization(name.toStdString());
    QCOMPARE(QString::fromStdString(ot::toString(n)), name);
    ot::normalizeCost(M, n);
    QVERIFY((M - expected).cwiseAbs().maxCoeff() <= 1e-15);
  }

  void parsing() {
    for (const char* s : {"euclidean", "sqeuclidean", "cosine"})
      QCOMPARE(ot::toString(ot::parseMetric(s)), std::string(s));
    QVERIFY_THROWS_EXCEPTION(otfuse::Error, ot::parseMetric("manhattan"));
    QVERIFY_THROWS_EXCEPTION(otfuse::Error, ot::parseNormalization("sum"));
    QCOMPARE(ot::toString(Status::IterationLimit), std::string("iteration limit"));
    QCOMPARE(ot::uniform(4).sum(), 1.0);
  }

  void sinkhornInvariants_data() {
    QTest::addColumn<double>("eps");
    QTest::addColumn<int>("nA");
    QTest::addColumn<int>("nB");
    QTest::newRow("eps 1") << 1.0 << 20 << 30;
    QTest::newRow("eps 0.1") << 0.1 << 20 << 30;
    QTest::newRow("eps 0.01") << 0.01 << 40 << 25;
    QTest::newRow("eps 0.001") << 0.001 << 15 << 15;
  }

  void sinkhornInvariants() {
    QFETCH(double, eps);
    QFETCH(int, nA);
    QFETCH(int, nB);
    std::mt19937_64 rng(11);
    const Matrix M = randomMatrix(rng, nA, nB);
    const Vector mu = randomMass(rng, nA), nu = randomMass(rng, nB);
    ot::SinkhornOptions opt;
    opt.epsilon = eps;
    opt.tolerance = 1e-9;
    opt.maxIterations = 1000000;
    const ot::Result r = ot::sinkhorn(mu, nu, M, opt);
    QCOMPARE(int(r.status), int(Status::Converged));
    QVERIFY(r.plan.allFinite());
    QVERIFY(r.marginalError <= 1e-9);
    QVERIFY(rowErr(r.plan, mu) + colErr(r.plan, nu) <= 1e-9);
    QVERIFY(std::abs(r.cost - (r.plan.array() * M.array()).sum()) <= 1e-12);
    // Gibbs form: P_ij = exp((u_i + v_j - M_ij) / eps).
    for (int i = 0; i < nA; i += 3)
      for (int j = 0; j < nB; j += 4) {
        const double g = std::exp((r.u[i] + r.v[j] - M(i, j)) / eps);
        QVERIFY(std::abs(g - r.plan(i, j)) <= 1e-9 * std::max(g, 1e-300) + 1e-300);
      }
    const ot::Result e = ot::exact(mu, nu, M);
    // Entropic plans cost more than the optimum, by at most eps * log(nA * nB).
    QVERIFY(r.cost >= e.cost - 1e-9);
    QVERIFY(r.cost <= e.cost + eps * std::log(double(nA) * nB) + 1e-9);
  }

  void sinkhornApproachesExact() {
    std::mt19937_64 rng(12);
    const int n = 25;
    const Matrix M = randomMatrix(rng, n, n);
    const Vector mu = randomMass(rng, n), nu = randomMass(rng, n);
    const double exactCost = ot::exact(mu, nu, M).cost;
    double prevGap = std::numeric_limits<double>::infinity();
    for (const double eps : {0.1, 0.03, 0.01, 0.003, 0.001}) {
      ot::SinkhornOptions opt;
      opt.epsilon = eps;
      opt.tolerance = 1e-10;
      opt.maxIterations = 2000000;
      const ot::Result r = ot::sinkhorn(mu, nu, M, opt);
      QCOMPARE(int(r.status), int(Status::Converged));
      const double gap = r.cost - exactCost;
      QVERIFY(gap >= -1e-9);
      QVERIFY(gap < prevGap);
      prevGap = gap;
    }
    QVERIFY(prevGap <= 1e-3);
  }

  void sinkhornSmallEpsilonIsStable() {
    std::mt19937_64 rng(13);
    const int n = 40;
    const Matrix M = randomMatrix(rng, n, n);
    const Vector mu = randomMass(rng, n), nu = randomMass(rng, n);
    ot::SinkhornOptions opt;
    opt.epsilon = 1e-4;
    opt.tolerance = 1e-6;
    opt.maxIterations = 200000;
    const ot::Result r = ot::sinkhorn(mu, nu, M, opt);
    QVERIFY(r.plan.allFinite());
    QVERIFY(r.u.allFinite() && r.v.allFinite());
    QCOMPARE(int(r.status), int(Status::Converged));
    QVERIFY(r.marginalError <= 1e-6);
    const ot::Result e = ot::exact(mu, nu, M);
    QVERIFY(std::abs(r.cost - e.cost) <= 1e-4 * std::log(double(n) * n) + 1e-5);
  }

  void sinkhornStatusAndInput() {
    std::mt19937_64 rng(14);
    const Matrix M = randomMatrix(rng, 10, 12);
    const Vector mu = randomMass(rng, 10), nu = randomMass(rng, 12);
    ot::SinkhornOptions opt;
    opt.epsilon = 0.01;
    opt.tolerance = 1e-15;
    opt.maxIterations = 3;
    ot::Result r = ot::sinkhorn(mu, nu, M, opt);
    QCOMPARE(int(r.status), int(Status::IterationLimit));
    QCOMPARE(r.iterations, 3);
    QVERIFY(r.plan.allFinite());
    opt.epsilon = 0;
    QCOMPARE(int(ot::sinkhorn(mu, nu, M, opt).status), int(Status::InvalidInput));
    opt.epsilon = 0.1;
    QCOMPARE(int(ot::sinkhorn(mu, nu * 2, M, opt).status), int(Status::Infeasible));
    Matrix bad = M;
    bad(2, 3) = std::nan("");
    r = ot::sinkhorn(mu, nu, bad, opt);
    QCOMPARE(int(r.status), int(Status::InvalidInput));
    QVERIFY(r.message.find("(2, 3)") != std::string::npos);
    // Zero-mass entries get zero rows / columns.
    Vector mz = mu;
    mz[4] = 0;
    mz /= mz.sum();
    opt.tolerance = 1e-10;
    opt.maxIterations = 100000;
    r = ot::sinkhorn(mz, nu, M, opt);
    QCOMPARE(int(r.status), int(Status::Converged));
    QCOMPARE(r.plan.row(4).cwiseAbs().sum(), 0.0);
    QVERIFY(r.marginalError <= 1e-10);
  }

  // Issue 11: the epsilon slider warm-starts Sinkhorn from the potentials of the previous eps.
  // Same plan to the tolerance as a cold start, in fewer iterations; potentials from a very
  // different eps (a kernel that under- or overflows) still converge; wrong sizes are refused.
  void sinkhornWarmStart() {
    std::mt19937_64 rng(21);
    const Matrix M = randomMatrix(rng, 60, 50);
    const Vector mu = randomMass(rng, 60), nu = randomMass(rng, 50);
    ot::SinkhornOptions opt;
    opt.tolerance = 1e-11;
    opt.maxIterations = 1000000;
    opt.epsilon = 0.0125;
    const ot::Result previous = ot::sinkhorn(mu, nu, M, opt);
    QCOMPARE(int(previous.status), int(Status::Converged));
    opt.epsilon = 0.01;
    const ot::Result cold = ot::sinkhorn(mu, nu, M, opt);
    opt.warmU = previous.u;
    opt.warmV = previous.v;
    const ot::Result warm = ot::sinkhorn(mu, nu, M, opt);
    QCOMPARE(int(cold.status), int(Status::Converged));
    QCOMPARE(int(warm.status), int(Status::Converged));
    QVERIFY2((warm.plan - cold.plan).cwiseAbs().maxCoeff() <= 1e-9,
             qPrintable(QString::number((warm.plan - cold.plan).cwiseAbs().maxCoeff())));
    QVERIFY2(warm.iterations < cold.iterations,
             qPrintable(QString("warm %1, cold %2").arg(warm.iterations).arg(cold.iterations)));

    // Potentials of eps = 1e-4 used at eps = 1 and the other way round.
    for (const auto& [from, to] : {std::pair{1e-4, 1.0}, std::pair{1.0, 1e-4}}) {
      ot::SinkhornOptions o;
      o.tolerance = 1e-8;
      o.maxIterations = 1000000;
      o.epsilon = from;
      const ot::Result p = ot::sinkhorn(mu, nu, M, o);
      o.epsilon = to;
      const ot::Result c = ot::sinkhorn(mu, nu, M, o);
      o.warmU = p.u;
      o.warmV = p.v;
      const ot::Result w = ot::sinkhorn(mu, nu, M, o);
      QCOMPARE(int(w.status), int(Status::Converged));
      QVERIFY(w.plan.allFinite());
      QVERIFY((w.plan - c.plan).cwiseAbs().maxCoeff() <= 1e-6);
    }

    opt.warmU = Vector::Zero(59);
    ot::Result bad = ot::sinkhorn(mu, nu, M, opt);
    QCOMPARE(int(bad.status), int(Status::InvalidInput));
    QVERIFY(bad.message.find("warm start") != std::string::npos);
    opt.warmU = previous.u;
    opt.warmU[3] = std::nan("");
    QCOMPARE(int(ot::sinkhorn(mu, nu, M, opt).status), int(Status::InvalidInput));
  }

  // A long solve in slices (the slider's redraws): every slice is reported, the iterates are
  // those of one solve, and returning false stops at once.
  void sinkhornInSlices() {
    std::mt19937_64 rng(23);
    const Matrix M = randomMatrix(rng, 50, 40);
    const Vector mu = randomMass(rng, 50), nu = randomMass(rng, 40);
    ot::SinkhornOptions opt;
    opt.epsilon = 0.003;
    opt.tolerance = 1e-10;
    opt.maxIterations = 1000000;
    const ot::Result whole = ot::sinkhorn(mu, nu, M, opt);
    QCOMPARE(int(whole.status), int(Status::Converged));
    QVERIFY(whole.iterations > 100);  // enough to need several slices
    int slices = 0, lastCount = 0, unfinishedNotAtLimit = 0;
    const ot::Result r =
        ot::sinkhornInSlices(mu, nu, M, opt, 1e-5, [&](const ot::Result& s, bool last) -> bool {
          ++slices;
          lastCount = s.iterations;
          if (!last && s.status != Status::IterationLimit) ++unfinishedNotAtLimit;
          return true;
        });
    QCOMPARE(unfinishedNotAtLimit, 0);
    QVERIFY(slices >= 3);
    QCOMPARE(int(r.status), int(Status::Converged));
    QCOMPARE(r.iterations, lastCount);
    QCOMPARE(r.iterations, whole.iterations);  // the same iterates as one solve
    QVERIFY((r.plan - whole.plan).cwiseAbs().maxCoeff() <= 1e-12);
    int calls = 0;
    const ot::Result stopped = ot::sinkhornInSlices(mu, nu, M, opt, 1e-5, [&](const ot::Result&, bool) {
      ++calls;
      return false;
    });
    QCOMPARE(calls, 1);
    QCOMPARE(int(stopped.status), int(Status::IterationLimit));
    QVERIFY(stopped.iterations < whole.iterations);
    QVERIFY(stopped.plan.allFinite() && stopped.u.allFinite());
    // The total respects maxIterations.
    opt.maxIterations = 50;
    const ot::Result capped =
        ot::sinkhornInSlices(mu, nu, M, opt, 1e-5, [](const ot::Result&, bool) { return true; });
    QCOMPARE(int(capped.status), int(Status::IterationLimit));
    QCOMPARE(capped.iterations, 50);
  }

  // The kernel and the matrix-vector products are split over LibTorch's threads for large
  // problems; the split must not change the result (each row's and column's sum keeps its order).
  void sinkhornThreadCountDoesNotChangeThePlan() {
    std::mt19937_64 rng(22);
    const Matrix M = randomMatrix(rng, 400, 300);
    const Vector mu = randomMass(rng, 400), nu = randomMass(rng, 300);
    ot::SinkhornOptions opt;
    opt.epsilon = 0.02;
    const int before = at::get_num_threads();
    at::set_num_threads(1);
    const ot::Result one = ot::sinkhorn(mu, nu, M, opt);
    at::set_num_threads(2);
    const ot::Result two = ot::sinkhorn(mu, nu, M, opt);
    at::set_num_threads(before);
    QCOMPARE(int(one.status), int(Status::Converged));
    QCOMPARE(one.iterations, two.iterations);
    QVERIFY((one.plan - two.plan).cwiseAbs().maxCoeff() == 0.0);
  }

  // Issue 8: a large layer must not hold up cancel (and closing the app). Each solver polls the
  // flag inside its loops: set before the call it throws Cancelled at its first check; set
  // from another thread 20 ms into a solve that takes far longer, the solve stops within a
  // fraction of its full time.
  void solversStopWhenCancelled_data() {
    QTest::addColumn<QString>("solver");
    QTest::addColumn<int>("n");
    QTest::newRow("assignment (Jonker-Volgenant)") << "assignment" << 3000;
    QTest::newRow("network simplex") << "simplex" << 1600;
    QTest::newRow("sinkhorn") << "sinkhorn" << 800;
  }
  void solversStopWhenCancelled() {
    QFETCH(QString, solver);
    QFETCH(int, n);
    std::mt19937_64 rng(7);
    const Matrix M = randomMatrix(rng, n, n);
    const Vector mu = solver == "assignment" ? ot::uniform(n) : randomMass(rng, n);
    const Vector nu = solver == "assignment" ? ot::uniform(n) : randomMass(rng, n);
    auto solve = [&](const otfuse::CancelFlag* flag) {
      if (solver == "sinkhorn") {
        ot::SinkhornOptions o;
        o.epsilon = 1e-4;  // slow to converge: many iterations
        o.tolerance = 1e-14;
        o.maxIterations = 2000;
        o.cancel = flag;
        return ot::sinkhorn(mu, nu, M, o);
      }
      ot::ExactOptions o;
      o.cancel = flag;
      return ot::exact(mu, nu, M, o);
    };
    using Clock = std::chrono::steady_clock;
    auto ms = [](Clock::duration d) {
      return std::chrono::duration<double, std::milli>(d).count();
    };
    // Uncancelled: the flag exists but is never set.
    otfuse::CancelFlag never{false};
    auto t0 = Clock::now();
    const ot::Result full = solve(&never);
    const double fullMs = ms(Clock::now() - t0);
    QVERIFY2(full.status == Status::Optimal || full.status == Status::IterationLimit ||
                 full.status == Status::Converged,
             full.message.c_str());
    qInfo("%s %dx%d: %.0f ms uncancelled", qPrintable(solver), n, n, fullMs);
    QVERIFY2(fullMs > 150, "the problem is too small to show a mid-solve cancel");

    otfuse::CancelFlag preset{true};
    QVERIFY_THROWS_EXCEPTION(otfuse::Cancelled, solve(&preset));

    otfuse::CancelFlag flag{false};
    std::thread setter([&] {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
      flag.store(true);
    });
    t0 = Clock::now();
    bool cancelled = false;
    try {
      solve(&flag);
    } catch (const otfuse::Cancelled&) {
      cancelled = true;
    }
    const double cancelMs = ms(Clock::now() - t0);
    setter.join();
    qInfo("cancelled after %.1f ms", cancelMs);
    QVERIFY2(cancelled, "the solver finished instead of stopping");
    QVERIFY2(cancelMs < 20 + fullMs / 3,
             qPrintable(QString("stopped %1 ms after the start, the whole solve takes %2 ms")
                            .arg(cancelMs)
                            .arg(fullMs)));
  }

  void potParity_data() {
    QTest::addColumn<QString>("file");
    const QDir dir(QStringLiteral(OTFUSE_FIXTURES_DIR "/ot"));
    const QStringList files = dir.entryList({"*.otfx"}, QDir::Files, QDir::Name);
    if (files.isEmpty()) QTest::newRow("missing") << QString();
    for (const QString& f : files) QTest::newRow(qPrintable(f)) << dir.filePath(f);
  }

  void potParity() {
    QFETCH(QString, file);
    if (file.isEmpty())
      OTFUSE_SKIP("no POT fixtures in " OTFUSE_FIXTURES_DIR "/ot (run make_ot_fixtures.py)");
    Fixture f;
    QVERIFY2(readFixture(file, f), qPrintable("unreadable fixture " + file));
    ot::Result r;
    if (f.kind == 0) {
      r = ot::exact(f.mu, f.nu, f.M);
      QCOMPARE(int(r.status), int(Status::Optimal));
      QVERIFY((r.plan - f.plan).cwiseAbs().maxCoeff() <= 1e-9);
      QVERIFY(std::abs(r.cost - f.cost) <= 1e-9 * std::max(1.0, std::abs(f.cost)));
      QVERIFY(r.marginalError <= 1e-9);
    } else {
      ot::SinkhornOptions opt;
      opt.epsilon = f.eps;
      opt.tolerance = f.thr;
      opt.maxIterations = 10000000;
      r = ot::sinkhorn(f.mu, f.nu, f.M, opt);
      QCOMPARE(int(r.status), int(Status::Converged));
      const double rel = (r.plan - f.plan).cwiseAbs().maxCoeff() / f.plan.cwiseAbs().maxCoeff();
      QVERIFY2(rel <= 1e-6, qPrintable(QString("relative plan difference %1").arg(rel)));
      QVERIFY(std::abs(r.cost - f.cost) <= 1e-6 * std::abs(f.cost));
    }
  }
};

OTFUSE_TEST_MAIN_APPLESS(TestOt)
#include "test_ot.moc"
