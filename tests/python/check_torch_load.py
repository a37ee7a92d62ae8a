#!/usr/bin/env python3
"""Checks that Python's torch.load reads files written by otfuse::saveCheckpoint.

Usage: check_torch_load.py SAVE_FIXTURE_EXE WORK_DIR
Runs the C++ tool to write WORK_DIR/{state,checkpoint,dtypes}.pt, loads them with torch.load and
loads the state into an equivalent nn.Module with strict=True. Exit 77 (skipped) without torch.
"""
import os
import subprocess
import sys

try:
    import torch
except ImportError:
    print("SKIP: python3 has no torch module (install python3-torch)")
    sys.exit(77)


class Net(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = torch.nn.Linear(3, 2)
        self.fc2 = torch.nn.Linear(2, 1, bias=False)
        self.register_buffer("num_batches", torch.tensor(0, dtype=torch.int64))


def expect_net(net):
    want_w1 = torch.arange(6, dtype=torch.float32).reshape(2, 3) * 0.5 - 1.0
    assert torch.equal(net.fc1.weight.data, want_w1), net.fc1.weight
    assert torch.equal(net.fc1.bias.data, torch.arange(2, dtype=torch.float32) * 0.25)
    assert torch.equal(net.fc2.weight.data, torch.arange(2, dtype=torch.float32).reshape(1, 2) - 1.5)
    assert net.num_batches.item() == 7
    x = torch.ones(1, 3)
    assert torch.allclose(net.fc2(net.fc1(x)), torch.tensor([[0.625]])), net.fc2(net.fc1(x))


def main():
    exe, work = sys.argv[1], sys.argv[2]
    os.makedirs(work, exist_ok=True)
    subprocess.run([exe, work], check=True)

    state = torch.load(os.path.join(work, "state.pt"))
    assert type(state).__name__ == "OrderedDict", type(state)
    assert list(state) == ["fc1.weight", "fc1.bias", "fc2.weight", "num_batches"], list(state)
    net = Net()
    net.load_state_dict(state, strict=True)
    expect_net(net)

    ck = torch.load(os.path.join(work, "checkpoint.pt"))
    assert ck["test_accuracy"] == 97.5 and ck["epoch"] == 3 and ck["note"] == "fused by OT", ck
    net = Net()
    net.load_state_dict(ck["model_state_dict"], strict=True)
    expect_net(net)

    d = torch.load(os.path.join(work, "dtypes.pt"))
    want = {
        "f64": torch.arange(5, dtype=torch.float64) / 8,
        "f16": torch.arange(6, dtype=torch.float16).reshape(2, 3) / 4,
        "bf16": torch.arange(4, dtype=torch.bfloat16) / 2,
        "i64": torch.arange(-3, 4, dtype=torch.int64) * 1000000000000,
        "i32": torch.arange(-2, 2, dtype=torch.int32),
        "u8": torch.arange(250, 256, dtype=torch.uint8),
        "bool": torch.arange(4) % 2 == 0,
        "transposed": torch.arange(12, dtype=torch.float32).reshape(3, 4).t(),
    }
    assert list(d) == list(want), list(d)
    for k, v in want.items():
        assert d[k].dtype == v.dtype and torch.equal(d[k], v), (k, d[k], v)
    print("torch.load accepted all files written by saveCheckpoint")


if __name__ == "__main__":
    main()
