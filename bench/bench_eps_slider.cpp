// bench_eps_slider: what one step of the transport-plan view's epsilon slider costs (issue 11:
// at most 100 ms per update for a 512 x 512 layer). A fusion-like layer: cost = Euclidean
// distances between the 512 incoming-weight rows (d = 4608, a 3x3 conv of 512 channels) of B
// and of A = B's rows permuted plus noise, uniform marginals. The slider is dragged from
// 0.3 to 0.003 times the mean cost, one slider position (x 10^(-1/40)) per update, as the view
// does it (PlanPreviewSolver: Sinkhorn warm-started from the previous position's potentials,
// reporting its plan every 60 ms so that a first plan is drawn quickly even where Sinkhorn needs
// thousands of iterations, then refined). Measured per update: time to the first drawn plan and to the
// final plan. Baseline in the same run: every position solved in one piece from a cold start.
// usage: bench_eps_slider [n=512] [d=4608]
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <numeric>
#include <random>
#include <vector>

#include "otfuse/ot/ot.h"
#include "otfuse/runtime.h"

namespace ot = otfuse::ot;

int main(int argc, char** argv) {
  otfuse::preferPassiveOpenMpWait(argv);
  const int threads = otfuse::initRuntime();
  const int n = argc > 1 ? std::atoi(argv[1]) : 512;
  const int d = argc > 2 ? std::atoi(argv[2]) : 4608;
  std::mt19937_64 rng(7);
  std::normal_distribution<double> N(0.0, 1.0);
  ot::Matrix Y(n, d), X(n, d);
  for (Eigen::Index k = 0; k < Y.size(); ++k) Y.data()[k] = N(rng) / std::sqrt(double(d));
  std::vector<int> perm(n);
  std::iota(perm.begin(), perm.end(), 0);
  std::shuffle(perm.begin(), perm.end(), rng);
  for (int i = 0; i < n; ++i)
    for (int k = 0; k < d; ++k) X(i, k) = Y(perm[i], k) + 0.7 * N(rng) / std::sqrt(double(d));
  const ot::Matrix M = ot::groundCost(X, Y, ot::Metric::Euclidean);
  const ot::Vector mu = ot::uniform(n), nu = ot::uniform(n);
  const double mean = M.mean();

  using Clock = std::chrono::steady_clock;
  std::vector<double> warmT, coldT, firstT;
  std::vector<int> warmIt, coldIt;
  ot::Vector u, v;
  int limits = 0;
  std::printf("%d x %d layer, d = %d, mean cost %.4g, %d threads\n", n, n, d, mean, threads);
  std::printf("%8s %10s %12s %12s %10s %12s %10s\n", "eps", "x mean", "first [ms]", "final [ms]",
              "warm it", "cold [ms]", "cold it");
  for (int position = 99; position >= 19; --position) {  // 0.3 ... 0.003 x mean cost
    const double rel = std::pow(10.0, position / 40.0 - 3.0), eps = rel * mean;
    ot::SinkhornOptions o;
    o.epsilon = eps;
    o.maxIterations = 5000;  // PlanPreviewSolver::kMaxIterations
    auto t0 = Clock::now();
    const ot::Result cold = ot::sinkhorn(mu, nu, M, o);
    const double tc = std::chrono::duration<double>(Clock::now() - t0).count();
    o.warmU = u;
    o.warmV = v;
    t0 = Clock::now();
    double first = -1;
    const ot::Result warm = ot::sinkhornInSlices(mu, nu, M, o, 0.06, [&](const ot::Result&, bool) {
      if (first < 0) first = std::chrono::duration<double>(Clock::now() - t0).count();
      return true;
    });
    const double tw = std::chrono::duration<double>(Clock::now() - t0).count();
    firstT.push_back(first);
    if (warm.status == ot::Status::IterationLimit) ++limits;
    u = warm.u;
    v = warm.v;
    warmT.push_back(tw);
    coldT.push_back(tc);
    warmIt.push_back(warm.iterations);
    coldIt.push_back(cold.iterations);
    if (position % 10 == 9)
      std::printf("%8.4g %10.4g %12.1f %12.1f %10d %12.1f %10d\n", eps, rel, 1000 * first,
                  1000 * tw, warm.iterations, 1000 * tc, cold.iterations);
  }
  auto stats = [](std::vector<double> t) {
    std::sort(t.begin(), t.end());
    const double sum = std::accumulate(t.begin(), t.end(), 0.0);
    return std::vector<double>{sum / t.size(), t[t.size() / 2], t[size_t(0.95 * (t.size() - 1))],
                               t.back()};
  };
  const auto w = stats(warmT), c = stats(coldT), f = stats(firstT);
  std::printf("\n%zu slider positions: per update mean / median / p95 / max [ms]\n", warmT.size());
  std::printf("  the view, first plan drawn: %7.1f %7.1f %7.1f %7.1f\n", 1000 * f[0],
              1000 * f[1], 1000 * f[2], 1000 * f[3]);
  std::printf("  the view, final plan:      %7.1f %7.1f %7.1f %7.1f\n", 1000 * w[0], 1000 * w[1],
              1000 * w[2], 1000 * w[3]);
  std::printf("  cold start, one piece:     %7.1f %7.1f %7.1f %7.1f\n", 1000 * c[0], 1000 * c[1],
              1000 * c[2], 1000 * c[3]);
  std::printf("  cold / warm final, mean: %.2fx; cold / first drawn, mean: %.2fx\n", c[0] / w[0],
              c[0] / f[0]);
  std::printf("  updates over 100 ms: first drawn %ld, final %ld, cold %ld; warm solves at the "
              "5000-iteration cap: %d\n",
              long(std::count_if(firstT.begin(), firstT.end(), [](double t) { return t > 0.1; })),
              long(std::count_if(warmT.begin(), warmT.end(), [](double t) { return t > 0.1; })),
              long(std::count_if(coldT.begin(), coldT.end(), [](double t) { return t > 0.1; })),
              limits);
  return 0;
}
