#!/usr/bin/env python3
"""Checks that a model written by `otfuse train` loads in PyTorch and scores the same there.

usage: check_trained_model.py MODEL.pt MNIST_DIR
Loads MODEL.pt with torch.load, puts its model_state_dict into the paper's MLPNet (strict
load_state_dict), evaluates it on the MNIST test split read straight from the idx files
(normalized with mean 0.1307, std 0.3081) and compares with the test_accuracy stored by otfuse.
Exit 0 = same accuracy, 1 = mismatch, 77 = PyTorch not installed (skip).
"""
import gzip
import os
import sys

try:
    import torch
    import torch.nn as nn
    import torch.nn.functional as F
except ImportError:
    print("SKIP: python3-torch is not installed")
    sys.exit(77)


class MLPNet(nn.Module):
    """The paper's MNIST model: 784-400-200-100-10, ReLU, no biases."""

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


def main():
    model_path, mnist = sys.argv[1], sys.argv[2]
    ck = torch.load(model_path, map_location="cpu")
    state = ck["model_state_dict"] if "model_state_dict" in ck else ck
    net = MLPNet()
    net.load_state_dict(state, strict=True)
    net.eval()
    images = read_idx(mnist, "t10k-images-idx3-ubyte").float().div(255).unsqueeze(1)
    images = images.sub(0.1307).div(0.3081)
    labels = read_idx(mnist, "t10k-labels-idx1-ubyte").long()
    with torch.no_grad():
        pred = torch.cat([net(images[i:i + 1000]).argmax(1) for i in range(0, len(images), 1000)])
    accuracy = 100.0 * pred.eq(labels).sum().item() / len(labels)
    stored = float(ck["test_accuracy"])
    print("PyTorch accuracy %.2f %%, stored by otfuse %.2f %%" % (accuracy, stored))
    if abs(accuracy - stored) > 0.006:
        print("FAIL: accuracies differ")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
