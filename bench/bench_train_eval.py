#!/usr/bin/env python3
"""The PyTorch side of bench_train_eval: the same MLPNet work from Python.

usage: bench_train_eval.py MNIST_DIR THREADS [REPEATS]
MNIST is read from the idx files into tensors and normalized once (as otfuse does); batches are
taken by indexing those tensors (no DataLoader). Prints one JSON line.
"""
import gzip
import json
import os
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


class MLPNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(784, 400, bias=False)
        self.fc2 = nn.Linear(400, 200, bias=False)
        self.fc3 = nn.Linear(200, 100, bias=False)
        self.fc4 = nn.Linear(100, 10, bias=False)

    def forward(self, x):
        x = x.view(x.shape[0], -1)
        x = F.relu(self.fc1(x))
        x = F.relu(self.fc2(x))
        x = F.relu(self.fc3(x))
        return F.log_softmax(self.fc4(x), dim=1)


def read_idx(folder, name):
    for path, opener in ((os.path.join(folder, name), open),
                         (os.path.join(folder, name + ".gz"), gzip.open)):
        if os.path.exists(path):
            with opener(path, "rb") as f:
                data = f.read()
            ndim = data[3]
            dims = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim)]
            return torch.frombuffer(bytearray(data[4 + 4 * ndim:]), dtype=torch.uint8).view(dims)
    raise FileNotFoundError(os.path.join(folder, name))


def load(folder, prefix):
    x = read_idx(folder, prefix + "-images-idx3-ubyte").float().div(255).unsqueeze(1)
    return x.sub(0.1307).div(0.3081), read_idx(folder, prefix + "-labels-idx1-ubyte").long()


def evaluate(net, x, y, batch=1000):
    net.eval()
    correct, loss = 0, 0.0
    with torch.no_grad():
        for i in range(0, len(x), batch):
            out = net(x[i:i + batch])
            loss += F.nll_loss(out, y[i:i + batch], reduction="sum").item()
            correct += out.argmax(1).eq(y[i:i + batch]).sum().item()
    return 100.0 * correct / len(x), loss / len(x)


def train_epoch(net, x, y, gen, batch=64):
    net.train()
    opt = torch.optim.SGD(net.parameters(), lr=0.01, momentum=0.5)
    order = torch.randperm(len(x), generator=gen)
    total, batches = 0.0, 0
    for i in range(0, len(x), batch):
        idx = order[i:i + batch]
        opt.zero_grad()
        loss = F.nll_loss(net(x[idx]), y[idx])
        loss.backward()
        opt.step()
        total += loss.item()
        batches += 1
    return total / batches


def main():
    folder, threads = sys.argv[1], int(sys.argv[2])
    repeats = int(sys.argv[3]) if len(sys.argv) > 3 else 3
    torch.set_num_threads(threads)
    start = time.perf_counter()
    xtr, ytr = load(folder, "train")
    xte, yte = load(folder, "t10k")
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
        gen = torch.Generator().manual_seed(r)
        start = time.perf_counter()
        loss = train_epoch(net, xtr, ytr, gen)
        train_s = min(train_s, time.perf_counter() - start)
    acc, _ = evaluate(net, xte, yte)
    print(json.dumps({"impl": "pytorch", "threads": torch.get_num_threads(), "load_s": round(load_s, 4),
                      "eval_s": round(eval_s, 4), "train_epoch_s": round(train_s, 4),
                      "train_loss": round(loss, 4), "test_accuracy_after_epoch": round(acc, 2)}))


if __name__ == "__main__":
    main()
