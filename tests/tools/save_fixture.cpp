// Writes checkpoints with otfuse::saveCheckpoint for tests/python/check_torch_load.py, which
// loads them with Python's torch.load. Usage: otfuse_save_fixture OUT_DIR
// Values match tests/fixtures/make_checkpoints.py (arange-based).
#include <ATen/ATen.h>

#include <cstdio>
#include <exception>
#include <string>

#include "otfuse/io/checkpoint.h"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s OUT_DIR\n", argv[0]);
    return 2;
  }
  const std::string dir = argv[1];
  try {
    otfuse::StateDict net;
    net.set("fc1.weight", at::arange(6, at::kFloat).reshape({2, 3}) * 0.5 - 1.0);
    net.set("fc1.bias", at::arange(2, at::kFloat) * 0.25);
    net.set("fc2.weight", at::arange(2, at::kFloat).reshape({1, 2}) - 1.5);
    net.set("num_batches", at::scalar_tensor(7, at::kLong));
    otfuse::saveCheckpoint(dir + "/state.pt", net);
    otfuse::saveCheckpoint(dir + "/checkpoint.pt", net,
                           {{"test_accuracy", "97.5"}, {"epoch", "3"}, {"note", "fused by OT"}});

    otfuse::StateDict dtypes;
    dtypes.set("f64", at::arange(5, at::kDouble) / 8);
    dtypes.set("f16", (at::arange(6, at::kFloat).reshape({2, 3}) / 4).to(at::kHalf));
    dtypes.set("bf16", (at::arange(4, at::kFloat) / 2).to(at::kBFloat16));
    dtypes.set("i64", at::arange(-3, 4, at::kLong) * int64_t(1000000000000));
    dtypes.set("i32", at::arange(-2, 2, at::kInt));
    dtypes.set("u8", at::arange(250, 256, at::kInt).to(at::kByte));
    dtypes.set("bool", at::arange(4, at::kLong).remainder(2).eq(0));
    // A transposed view is written contiguous.
    dtypes.set("transposed", at::arange(12, at::kFloat).reshape({3, 4}).t());
    otfuse::saveCheckpoint(dir + "/dtypes.pt", dtypes);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s\n", e.what());
    return 1;
  }
  return 0;
}
