#!/usr/bin/env python3
"""The PyTorch side of bench_train_eval: the same MLPNet work from Python.

usage: bench_train_eval.py MNIST_DIR THREADS [REPEATS [CIFAR_BIN_DIR]]
MNIST is read from the idx files into tensors and normalized once (as otfuse does); batches are
taken by indexing those tensors (no DataLoader). With CIFAR_BIN_DIR (cifar-10-batches-bin) also
the VGG training steps and the VGG evaluation otfuse times. Prints one JSON line.
"""
import json
import os
import sys
import time

import torch
import torch.nn.functional as F

TESTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests")
sys.path[:0] = [os.path.join(TESTS, "fixtures"), os.path.join(TESTS, "python")]
from make_model_fixtures import VGG  # noqa: E402  (the architecture the fixtures check otfuse against)
from mnist_torch import MLPNet, load_mnist  # noqa: E402

CIFAR_MEAN = torch.tensor([0.4914, 0.4822, 0.4465]).view(1, 3, 1, 1)
CIFAR_STD = torch.tensor([0.2023, 0.1994, 0.2010]).view(1, 3, 1, 1)


def evaluate(net, x, y, batch=1000, loss_fn=F.nll_loss):
    net.eval()
    correct, loss = 0, 0.0
    with torch.no_grad():
        for i in range(0, len(x), batch):
            out = net(x[i:i + batch])
            loss += loss_fn(out, y[i:i + batch], reduction="sum").item()
            correct += out.argmax(1).eq(y[i:i + batch]).sum().item()
    return 100.0 * correct / len(x), loss / len(x)


def train_epoch(net, x, y, seed, batch, lr, momentum, loss_fn):
    """One pass over (x, y) in a seeded random order; returns the mean batch loss."""
    net.train()
    opt = torch.optim.SGD(net.parameters(), lr=lr, momentum=momentum)
    order = torch.randperm(len(x), generator=torch.Generator().manual_seed(seed))
    total, batches = 0.0, 0
    for i in range(0, len(x), batch):
        idx = order[i:i + batch]
        opt.zero_grad()
        loss = loss_fn(net(x[idx]), y[idx])
        loss.backward()
        opt.step()
        total += loss.item()
        batches += 1
    return total / batches


def load_cifar_head(folder, n, name="data_batch_1.bin"):
    with open(os.path.join(folder, name), "rb") as f:
        raw = torch.frombuffer(bytearray(f.read(n * 3073)), dtype=torch.uint8).view(n, 3073)
    x = raw[:, 1:].reshape(n, 3, 32, 32).float().div(255)
    return x.sub(CIFAR_MEAN).div(CIFAR_STD), raw[:, 0].long()


def main():
    folder, threads = sys.argv[1], int(sys.argv[2])
    repeats = int(sys.argv[3]) if len(sys.argv) > 3 else 3
    torch.set_num_threads(threads)
    start = time.perf_counter()
    xtr, ytr = load_mnist(folder, "train")
    xte, yte = load_mnist(folder, "t10k")
    load_s = time.perf_counter() - start
    torch.manual_seed(0)
    net = MLPNet()
    eval_s = 1e30
    for r in range(repeats + 1):
        start = time.perf_counter()
        evaluate(net, xte, yte)
        if r > 0:
            eval_s = min(eval_s, time.perf_counter() - start)
    train_s = 1e30
    for r in range(repeats):
        torch.manual_seed(r)
        net = MLPNet()
        start = time.perf_counter()
        loss = train_epoch(net, xtr, ytr, r, batch=64, lr=0.01, momentum=0.5, loss_fn=F.nll_loss)
        train_s = min(train_s, time.perf_counter() - start)
    acc, _ = evaluate(net, xte, yte)
    vgg_s, vgg_loss, vgg_eval_s = -1.0, 0.0, -1.0
    if len(sys.argv) > 4 and os.path.exists(os.path.join(sys.argv[4], "data_batch_1.bin")):
        xc, yc = load_cifar_head(sys.argv[4], 2560)
        vgg_s = 1e30
        for r in range(repeats + 1):  # the first run warms up
            torch.manual_seed(r)
            net = VGG(batch_norm=True, width=0.5)
            start = time.perf_counter()
            vgg_loss = train_epoch(net, xc, yc, r, batch=128, lr=0.05, momentum=0.9,
                                   loss_fn=F.cross_entropy)
            if r > 0:
                vgg_s = min(vgg_s, time.perf_counter() - start)
        xt, yt = load_cifar_head(sys.argv[4], 10000, "test_batch.bin")
        torch.manual_seed(0)
        net = VGG(batch_norm=True, width=0.5)
        vgg_eval_s = 1e30
        for r in range(repeats + 1):
            start = time.perf_counter()
            evaluate(net, xt, yt, loss_fn=F.cross_entropy)
            if r > 0:
                vgg_eval_s = min(vgg_eval_s, time.perf_counter() - start)
    print(json.dumps({"impl": "pytorch", "threads": torch.get_num_threads(), "load_s": round(load_s, 4),
                      "eval_s": round(eval_s, 4), "train_epoch_s": round(train_s, 4),
                      "train_loss": round(loss, 4), "test_accuracy_after_epoch": round(acc, 2),
                      "vgg_train_s": round(vgg_s, 4), "vgg_train_loss": round(vgg_loss, 4),
                      "vgg_eval_s": round(vgg_eval_s, 4)}))


if __name__ == "__main__":
    main()
