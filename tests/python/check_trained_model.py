#!/usr/bin/env python3
"""Checks that a model written by `otfuse train` loads in PyTorch and scores the same there.

usage: check_trained_model.py MODEL.pt MNIST_DIR
Loads MODEL.pt with torch.load, puts its model_state_dict into the paper's MLPNet (strict
load_state_dict), evaluates it on the MNIST test split read straight from the idx files
(normalized with mean 0.1307, std 0.3081) and compares with the test_accuracy stored by otfuse.
Exit 0 = same accuracy, 1 = mismatch, 77 = PyTorch not installed (skip).
"""
import sys

try:
    import torch
except ImportError:
    print("SKIP: python3-torch is not installed")
    sys.exit(77)

from mnist_torch import MLPNet, load_mnist  # noqa: E402  (beside this script)


def main():
    model_path, mnist = sys.argv[1], sys.argv[2]
    ck = torch.load(model_path, map_location="cpu")
    state = ck["model_state_dict"] if "model_state_dict" in ck else ck
    net = MLPNet()
    net.load_state_dict(state, strict=True)
    net.eval()
    images, labels = load_mnist(mnist, "t10k")
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
