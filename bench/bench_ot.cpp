// bench_ot IN OUT: solves one OT problem written by bench_ot.py and writes the plan.
// IN (little-endian): int32 kind (0 exact, 1 exact forced through the network simplex,
// 2 Sinkhorn, 3 Sinkhorn warm-started from an untimed solve at 1.25 eps: one step of the
// app's epsilon slider), int32 nA, int32 nB, int32 repeats, float64 eps, float64 tol,
// float64 mu[nA], nu[nB], M[nA*nB] (row-major).
// OUT: float64 plan[nA*nB] (row-major). Prints "seconds=<best of repeats> iterations=<n>
// status=<s> cost=<c>" on stdout; the timing covers the solver call only.
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <vector>

#include "otfuse/ot/ot.h"
#include "otfuse/runtime.h"

namespace ot = otfuse::ot;

int main(int argc, char** argv) {
  otfuse::initRuntime();  // the solvers' parallel loops use LibTorch's thread count
  if (argc != 3) {
    std::fprintf(stderr, "usage: bench_ot IN OUT\n");
    return 2;
  }
  std::ifstream in(argv[1], std::ios::binary);
  int32_t head[4];
  double par[2];
  if (!in.read(reinterpret_cast<char*>(head), sizeof head) ||
      !in.read(reinterpret_cast<char*>(par), sizeof par)) {
    std::fprintf(stderr, "%s: truncated header\n", argv[1]);
    return 1;
  }
  const int kind = head[0], nA = head[1], nB = head[2], repeats = head[3];
  if (nA <= 0 || nB <= 0 || nA > 20000 || nB > 20000 || repeats <= 0 || repeats > 100) {
    std::fprintf(stderr, "%s: bad sizes\n", argv[1]);
    return 1;
  }
  ot::Vector mu(nA), nu(nB);
  std::vector<double> m(static_cast<size_t>(nA) * nB);
  in.read(reinterpret_cast<char*>(mu.data()), nA * sizeof(double));
  in.read(reinterpret_cast<char*>(nu.data()), nB * sizeof(double));
  in.read(reinterpret_cast<char*>(m.data()), m.size() * sizeof(double));
  if (!in) {
    std::fprintf(stderr, "%s: truncated data\n", argv[1]);
    return 1;
  }
  ot::Matrix M(nA, nB);
  for (int i = 0; i < nA; ++i)
    for (int j = 0; j < nB; ++j) M(i, j) = m[static_cast<size_t>(i) * nB + j];

  ot::Result r, previous;
  if (kind == 3) {
    ot::SinkhornOptions opt;
    opt.epsilon = 1.25 * par[0];
    opt.tolerance = par[1];
    opt.maxIterations = 10000000;
    previous = ot::sinkhorn(mu, nu, M, opt);
  }
  double best = 1e300;
  for (int rep = 0; rep < repeats; ++rep) {
    const auto t0 = std::chrono::steady_clock::now();
    if (kind == 2 || kind == 3) {
      ot::SinkhornOptions opt;
      opt.epsilon = par[0];
      opt.tolerance = par[1];
      opt.maxIterations = 10000000;
      if (kind == 3) {
        opt.warmU = previous.u;
        opt.warmV = previous.v;
      }
      r = ot::sinkhorn(mu, nu, M, opt);
    } else {
      ot::ExactOptions opt;
      opt.useAssignmentWhenPossible = kind == 0;
      r = ot::exact(mu, nu, M, opt);
    }
    const auto t1 = std::chrono::steady_clock::now();
    best = std::min(best, std::chrono::duration<double>(t1 - t0).count());
  }
  std::ofstream out(argv[2], std::ios::binary);
  for (int i = 0; i < nA; ++i)
    for (int j = 0; j < nB; ++j) {
      const double p = r.plan(i, j);
      out.write(reinterpret_cast<const char*>(&p), sizeof p);
    }
  std::printf("seconds=%.9f iterations=%d status=%s cost=%.17g marginal_error=%.3g\n", best,
              r.iterations, ot::toString(r.status).c_str(), r.cost, r.marginalError);
  return out ? 0 : 1;
}
