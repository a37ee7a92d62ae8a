// Jonker & Volgenant (1987), "A shortest augmenting path algorithm for dense and sparse
// linear assignment problems": column reduction, reduction transfer, two passes of
// augmenting row reduction, then Dijkstra-like shortest augmenting paths for the rows still
// free. O(n^3) worst case; on dense random costs most rows are settled by the cheap phases.
#include "lapjv.h"

#include <limits>

#include "otfuse/error.h"
#include "otfuse/ot/ot.h"

namespace otfuse::ot::detail {

LapSolution solveLap(const double* c, int n, const CancelFlag* cancel) {
  LapSolution out;
  out.rowToCol.assign(n, -1);
  out.u = Eigen::VectorXd::Zero(n);
  out.v = Eigen::VectorXd::Zero(n);
  if (n == 0) return out;
  if (n == 1) {
    out.rowToCol[0] = 0;
    out.v[0] = c[0];
    return out;
  }
  const double inf = std::numeric_limits<double>::infinity();
  std::vector<int>& x = out.rowToCol;  // column of row r
  std::vector<int> y(n, -1);           // row of column s
  std::vector<double> v(n, inf);
  std::vector<int> argMin(n, 0);

  // Column reduction, row by row so that memory is read contiguously: v[s] = min_r c(r, s).
  for (int r = 0; r < n; ++r) {
    throwIfCancelled(cancel);
    const double* row = c + static_cast<size_t>(r) * n;
    for (int s = 0; s < n; ++s)
      if (row[s] < v[s]) {
        v[s] = row[s];
        argMin[s] = r;
      }
  }
  std::vector<int> matches(n, 0);
  for (int s = n - 1; s >= 0; --s) {
    const int r = argMin[s];
    if (++matches[r] == 1) {
      x[r] = s;
      y[s] = r;
    } else if (v[s] < v[x[r]]) {
      y[x[r]] = -1;
      x[r] = s;
      y[s] = r;
    }
  }

  // Reduction transfer: a row with a single match passes its slack to its column.
  std::vector<int> freeRows;
  freeRows.reserve(n);
  for (int r = 0; r < n; ++r) {
    throwIfCancelled(cancel);
    if (matches[r] == 0) {
      freeRows.push_back(r);
    } else if (matches[r] == 1) {
      const int s1 = x[r];
      const double* row = c + static_cast<size_t>(r) * n;
      double m = inf;
      for (int s = 0; s < n; ++s)
        if (s != s1) m = std::min(m, row[s] - v[s]);
      v[s1] -= m - (row[s1] - v[s1]);
    }
  }

  // Augmenting row reduction, two passes. In floating point the price decrements can be tiny,
  // so the number of steps per pass is capped; rows left over go to the augmentation phase.
  for (int pass = 0; pass < 2 && !freeRows.empty(); ++pass) {
    int k = 0;
    const int prev = static_cast<int>(freeRows.size());
    int numFree = 0;
    long long steps = 0;
    const long long maxSteps = 8LL * n + 100;
    while (k < prev) {
      if (++steps > maxSteps) break;
      throwIfCancelled(cancel);
      const int r = freeRows[k++];
      const double* row = c + static_cast<size_t>(r) * n;
      double umin = row[0] - v[0], usub = inf;
      int s1 = 0, s2 = -1;
      for (int s = 1; s < n; ++s) {
        const double h = row[s] - v[s];
        if (h < usub) {
          if (h >= umin) {
            usub = h;
            s2 = s;
          } else {
            usub = umin;
            umin = h;
            s2 = s1;
            s1 = s;
          }
        }
      }
      int r0 = y[s1];
      const bool strict = umin < usub;
      if (strict) {
        v[s1] -= usub - umin;
      } else if (r0 >= 0) {
        s1 = s2;
        r0 = y[s2];
      }
      x[r] = s1;
      y[s1] = r;
      if (r0 >= 0) {
        x[r0] = -1;
        if (strict)
          freeRows[--k] = r0;
        else
          freeRows[numFree++] = r0;
      }
    }
    std::vector<int> rest(freeRows.begin(), freeRows.begin() + numFree);
    for (int q = k; q < prev; ++q) rest.push_back(freeRows[q]);
    freeRows.swap(rest);
  }

  // Shortest augmenting paths (Dijkstra on reduced costs) for each remaining free row.
  std::vector<double> d(n);
  std::vector<int> pred(n), cols(n);
  for (const int f : freeRows) {
    const double* rowf = c + static_cast<size_t>(f) * n;
    for (int s = 0; s < n; ++s) {
      d[s] = rowf[s] - v[s];
      pred[s] = f;
      cols[s] = s;
    }
    int low = 0, up = 0, last = 0, end = -1;
    double dmin = 0;
    // cols[0, low): scanned; [low, up): at the current minimum distance, to scan; rest: todo.
    while (end < 0) {
      throwIfCancelled(cancel);
      if (up == low) {
        last = low - 1;
        dmin = d[cols[up++]];
        for (int q = up; q < n; ++q) {
          const int s = cols[q];
          const double h = d[s];
          if (h <= dmin) {
            if (h < dmin) {
              up = low;
              dmin = h;
            }
            cols[q] = cols[up];
            cols[up++] = s;
          }
        }
        for (int q = low; q < up; ++q)
          if (y[cols[q]] < 0) {
            end = cols[q];
            break;
          }
        if (end >= 0) break;
      }
      const int s1 = cols[low++];
      const int r = y[s1];
      const double* row = c + static_cast<size_t>(r) * n;
      const double u1 = row[s1] - v[s1] - dmin;
      for (int q = up; q < n; ++q) {
        const int s = cols[q];
        const double h = row[s] - v[s] - u1;
        if (h < d[s]) {
          pred[s] = r;
          if (h == dmin) {
            if (y[s] < 0) {
              end = s;
              break;
            }
            cols[q] = cols[up];
            cols[up++] = s;
          }
          d[s] = h;
        }
      }
    }
    // Price update of the scanned columns, then flip the path.
    for (int q = 0; q <= last; ++q) {
      const int s = cols[q];
      v[s] += d[s] - dmin;
    }
    int s = end;
    for (;;) {
      const int r = pred[s];
      y[s] = r;
      const int next = x[r];
      x[r] = s;
      if (r == f) break;
      s = next;
    }
  }

  for (int s = 0; s < n; ++s) out.v[s] = v[s];
  for (int r = 0; r < n; ++r) out.u[r] = c[static_cast<size_t>(r) * n + x[r]] - v[x[r]];
  return out;
}

}  // namespace otfuse::ot::detail

namespace otfuse::ot {

Eigen::VectorXi assignment(const Matrix& M) {
  if (M.rows() != M.cols())
    throw Error("assignment: the cost must be square (got " + std::to_string(M.rows()) + "x" +
                std::to_string(M.cols()) + ")");
  if (!M.allFinite()) throw Error("assignment: the cost contains NaN or infinite entries");
  const int n = static_cast<int>(M.rows());
  // Column-major storage: column j of M is contiguous, so solve the transposed problem
  // (LAP rows = columns of M) and invert the permutation.
  const detail::LapSolution lap = detail::solveLap(M.data(), n);
  Eigen::VectorXi perm(n);
  for (int j = 0; j < n; ++j) perm[lap.rowToCol[j]] = j;
  return perm;
}

}  // namespace otfuse::ot
