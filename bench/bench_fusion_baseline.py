"""Baseline of bench/bench_fusion.sh: the same OT fusion of the paper's two MNIST MLPNets in
Python, with PyTorch for the tensors and POT's exact solver (ot.emd), written after the authors'
implementation: layer by layer, incoming alignment with the previous map ("past correction"),
Euclidean ground cost (not squared, no normalization) between the rows of A's re-indexed weights
and B's (weights mode) or between the neurons' pre-activations over the given samples
(activations mode), uniform marginals, T~ = T diag(1/nu), W_F = (1 - t) T~^T W_A + t W_B with
t = 0.5, the output layer kept as the identity (as otfuse does by default).

Timed like otfuse times itself (the "seconds" of `otfuse fuse --json`): fusion = activations
(activations mode) + alignment + averaging; evaluation = one pass of the fused model over the
10,000 MNIST test images in batches of 1,000. Loading files is not timed on either side.

One run per process, as otfuse runs once per process: fusion first (cold), then the parents'
evaluations (untimed; they warm the thread pools as in `otfuse fuse`), then the timed
evaluation of the fused model.

usage: bench_fusion_baseline.py MODELS_DIR MNIST_DIR MODE THREADS [SAMPLES_FILE]
prints one JSON object: {"mode", "threads", "fusion_s", "evaluation_s", "accuracy", "parents"}
"""
import json
import os
import sys
import time

import numpy as np
import ot
import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests",
                                "python"))
from mnist_torch import load_mnist  # noqa: E402

KEYS = ["fc1.weight", "fc2.weight", "fc3.weight", "fc4.weight"]


def load_state(path):
    sd = torch.load(path, map_location="cpu")
    if "model_state_dict" in sd:
        sd = sd["model_state_dict"]
    return {k: sd[k].float() for k in KEYS}


def pre_activations(sd, x):
    """Each layer's output before its ReLU, [K, n_l]."""
    out, h = [], x.view(x.shape[0], -1)
    for i, k in enumerate(KEYS):
        z = h @ sd[k].t()
        out.append(z)
        h = torch.relu(z)
    return out


def fuse(sd_a, sd_b, mode, samples, t=0.5):
    if mode == "activations":
        acts_a, acts_b = pre_activations(sd_a, samples), pre_activations(sd_b, samples)
    fused, t_prev = {}, None
    for l, k in enumerate(KEYS):
        w_a, w_b = sd_a[k], sd_b[k]
        w_a_hat = w_a if t_prev is None else w_a @ t_prev  # incoming alignment
        if l == len(KEYS) - 1:  # output layer: classes already correspond
            fused[k] = (1 - t) * w_a_hat + t * w_b
            break
        if mode == "weights":
            cost = torch.cdist(w_a_hat.double(), w_b.double())
        else:
            cost = torch.cdist(acts_a[l].t().double(), acts_b[l].t().double())
        n_a, n_b = w_a.shape[0], w_b.shape[0]
        mu, nu = np.full(n_a, 1.0 / n_a), np.full(n_b, 1.0 / n_b)
        plan = ot.emd(mu, nu, cost.numpy())
        t_corr = torch.from_numpy(plan / nu[None, :]).float()  # T diag(1/nu)
        fused[k] = (1 - t) * t_corr.t() @ w_a_hat + t * w_b
        t_prev = t_corr
    return fused


@torch.no_grad()
def accuracy(sd, x, y):
    correct = 0
    for i in range(0, x.shape[0], 1000):
        h = x[i:i + 1000].view(-1, 784)
        for k in KEYS[:-1]:
            h = torch.relu(h @ sd[k].t())
        correct += int((h @ sd[KEYS[-1]].t()).argmax(1).eq(y[i:i + 1000]).sum())
    return 100.0 * correct / x.shape[0]


def main():
    models, mnist, mode, threads = sys.argv[1:5]
    torch.set_num_threads(int(threads))
    sd_a = load_state(os.path.join(models, "model_0.pt"))
    sd_b = load_state(os.path.join(models, "model_1.pt"))
    samples = None
    if mode == "activations":
        samples = torch.load(sys.argv[5], map_location="cpu").float()
    x, y = load_mnist(mnist, "t10k")
    # The order of `otfuse fuse`: fusion first (cold), then the parents' evaluations (which
    # warm the thread pools), then the timed evaluation of the fused model.
    with torch.no_grad():
        t0 = time.perf_counter()
        fused = fuse(sd_a, sd_b, mode, samples)
        fusion_s = time.perf_counter() - t0
        parents = [accuracy(sd_a, x, y), accuracy(sd_b, x, y)]
        t1 = time.perf_counter()
        acc = accuracy(fused, x, y)
        evaluation_s = time.perf_counter() - t1
    print(json.dumps({"mode": mode, "threads": torch.get_num_threads(), "fusion_s": fusion_s,
                      "evaluation_s": evaluation_s, "accuracy": acc, "parents": parents}))


if __name__ == "__main__":
    main()
