#!/usr/bin/python3
"""Exact OT and Sinkhorn: otfuse (bench_ot) against POT (Debian's python3-pot) on the same data.

usage: /usr/bin/python3 bench/bench_ot.py BUILD_DIR/bench/bench_ot [--quick]
Each problem is generated here from a fixed seed, written to a file that bench_ot reads, and
solved by POT in this process; the plans are compared and the times (solver call only, best of
the same number of repeats on both sides) printed with the ratio POT / otfuse.
"""
import os
import struct
import subprocess
import sys
import tempfile
import time

import numpy as np
import ot


def run_ours(binary, kind, mu, nu, M, repeats, eps=0.0, tol=0.0):
    nA, nB = M.shape
    with tempfile.TemporaryDirectory() as d:
        fin, fout = os.path.join(d, "in.bin"), os.path.join(d, "out.bin")
        with open(fin, "wb") as f:
            f.write(struct.pack("<iiiidd", kind, nA, nB, repeats, eps, tol))
            f.write(np.asarray(mu, "<f8").tobytes())
            f.write(np.asarray(nu, "<f8").tobytes())
            f.write(np.ascontiguousarray(M, "<f8").tobytes())
        out = subprocess.run([binary, fin, fout], check=True, capture_output=True, text=True)
        info = dict(kv.split("=", 1) for kv in out.stdout.split())
        plan = np.fromfile(fout, "<f8").reshape(nA, nB)
    return float(info["seconds"]), plan, info


def best_time(fn, repeats):
    best, res = float("inf"), None
    for _ in range(repeats):
        t0 = time.perf_counter()
        res = fn()
        best = min(best, time.perf_counter() - t0)
    return best, res


def main():
    binary = sys.argv[1]
    quick = "--quick" in sys.argv
    rows = []
    rng = np.random.default_rng(1234)
    sizes = (100, 400) if quick else (100, 400, 1000, 2000)
    for n in sizes:
        M = rng.random((n, n))
        u = np.full(n, 1.0 / n)
        reps = 3 if n <= 400 else 1
        tp, P = best_time(lambda: ot.emd(u, u, M, numItermax=10**9), reps)
        to, Q, info = run_ours(binary, 0, u, u, M, reps)
        rows.append(("emd uniform %dx%d" % (n, n), tp, to, np.abs(P - Q).max(), info["status"]))
    # Fusion-like costs: Euclidean distances between weight rows (the paper's fc1: 400 x 784).
    for n, d in (((400, 784),) if quick else ((400, 784), (2000, 64))):
        X, Y = rng.normal(size=(n, d)), rng.normal(size=(n, d))
        M = ot.dist(X, Y, metric="euclidean")
        u = np.full(n, 1.0 / n)
        reps = 3 if n <= 400 else 1
        tp, P = best_time(lambda: ot.emd(u, u, M, numItermax=10**9), reps)
        to, Q, info = run_ours(binary, 0, u, u, M, reps)
        rows.append(("emd uniform %dx%d euclidean, d=%d" % (n, n, d), tp, to, np.abs(P - Q).max(),
                     info["status"]))
    for n in ((100, 400) if quick else (100, 400, 1000)):
        M = rng.random((n, n))
        u = np.full(n, 1.0 / n)
        reps = 3 if n <= 400 else 1
        tp, P = best_time(lambda: ot.emd(u, u, M, numItermax=10**9), reps)
        to, Q, info = run_ours(binary, 1, u, u, M, reps)
        rows.append(("emd uniform %dx%d, network simplex" % (n, n), tp, to, np.abs(P - Q).max(),
                     info["status"] + " " + info["iterations"] + " pivots"))
    # Rows added later draw from their own generator, so the other rows keep their data.
    later = np.random.default_rng(5678)
    for nA, nB in (((300, 200),) if quick else ((300, 200), (1000, 800), (2000, 1500))):
        g = later if nA * nB > 10**6 else rng
        M = g.random((nA, nB))
        mu, nu = g.random(nA) + 0.1, g.random(nB) + 0.1
        mu /= mu.sum()
        nu /= nu.sum()
        reps = 3 if nA <= 400 else 1
        tp, P = best_time(lambda: ot.emd(mu, nu, M, numItermax=10**9), reps)
        to, Q, info = run_ours(binary, 0, mu, nu, M, reps)
        rows.append(("emd non-uniform %dx%d" % (nA, nB), tp, to, np.abs(P - Q).max(),
                     info["status"] + " " + info["iterations"] + " pivots"))
    # Non-uniform fusion-like costs: Euclidean distances between weight rows, different widths.
    for (nA, nB), d in ((((400, 300), 784),) if quick else (((400, 300), 784), ((2000, 1500), 64))):
        X, Y = later.normal(size=(nA, d)), later.normal(size=(nB, d))
        M = ot.dist(X, Y, metric="euclidean")
        mu, nu = later.random(nA) + 0.1, later.random(nB) + 0.1
        mu /= mu.sum()
        nu /= nu.sum()
        reps = 3 if nA <= 400 else 1
        tp, P = best_time(lambda: ot.emd(mu, nu, M, numItermax=10**9), reps)
        to, Q, info = run_ours(binary, 0, mu, nu, M, reps)
        rows.append(("emd non-uniform %dx%d euclidean, d=%d" % (nA, nB, d), tp, to,
                     np.abs(P - Q).max(), info["status"] + " " + info["iterations"] + " pivots"))
    for n, eps in (((200, 0.05),) if quick else ((200, 0.05), (1000, 0.05), (1000, 0.01))):
        X, Y = rng.random((n, 2)), rng.random((n, 2))
        M = ot.dist(X, Y)
        M /= M.max()
        mu, nu = rng.random(n) + 0.1, rng.random(n) + 0.1
        mu /= mu.sum()
        nu /= nu.sum()
        tol = 1e-9
        reps = 5
        tp, P = best_time(lambda: ot.sinkhorn(mu, nu, M, eps, numItermax=10**7, stopThr=tol), reps)
        to, Q, info = run_ours(binary, 2, mu, nu, M, reps, eps, tol)
        rows.append(("sinkhorn %dx%d eps=%g tol=%g" % (n, n, eps, tol), tp, to,
                     np.abs(P - Q).max() / np.abs(P).max(), info["status"] + " " + info["iterations"] + " it"))
        # The app's epsilon slider: ours warm-started from the solve at 1.25 eps (POT cold, as
        # it has no warm start for this solver).
        to, Q, info = run_ours(binary, 3, mu, nu, M, reps, eps, tol)
        rows.append(("  same, ours warm from eps=%g" % (1.25 * eps), tp, to,
                     np.abs(P - Q).max() / np.abs(P).max(), info["status"] + " " + info["iterations"] + " it"))
    print("%-44s %11s %11s %9s %12s  %s" % ("problem", "POT [s]", "otfuse [s]", "POT/ours",
                                             "max |dP|", "our status"))
    for name, tp, to, diff, status in rows:
        print("%-44s %11.5f %11.5f %9.2f %12.2e  %s" % (name, tp, to, tp / to, diff, status))
    print("(sinkhorn max |dP| is relative to max |P|; POT stops on ||P^T 1 - nu||_2 checked every "
          "10 iterations, otfuse on ||P 1 - mu||_1 + ||P^T 1 - nu||_1 every iteration)")


if __name__ == "__main__":
    main()
