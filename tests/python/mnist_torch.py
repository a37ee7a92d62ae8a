"""The paper's MNIST model and the MNIST idx reader in PyTorch, shared by the Python side of
the tests (check_trained_model.py) and of the benchmarks (bench/bench_train_eval.py)."""
import gzip
import os

import torch
import torch.nn as nn
import torch.nn.functional as F

MNIST_MEAN, MNIST_STD = 0.1307, 0.3081


class MLPNet(nn.Module):
    """The paper's MNIST model: 784-400-200-100-10, ReLU, no biases, log-softmax output."""

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
    """An idx file (raw or .gz) as a uint8 tensor of its stored shape."""
    for path, opener in ((os.path.join(folder, name), open),
                         (os.path.join(folder, name + ".gz"), gzip.open)):
        if os.path.exists(path):
            with opener(path, "rb") as f:
                data = f.read()
            ndim = data[3]
            dims = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim)]
            return torch.frombuffer(bytearray(data[4 + 4 * ndim:]), dtype=torch.uint8).view(dims)
    raise FileNotFoundError(os.path.join(folder, name))


def load_mnist(folder, prefix):
    """Images [N, 1, 28, 28] normalized as otfuse does, and labels; prefix "train" or "t10k"."""
    x = read_idx(folder, prefix + "-images-idx3-ubyte").float().div(255).unsqueeze(1)
    return x.sub(MNIST_MEAN).div(MNIST_STD), read_idx(folder, prefix + "-labels-idx1-ubyte").long()
