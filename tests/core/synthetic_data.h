#pragma once
// A small learnable dataset in memory, for tests of training, evaluation and fusion.
#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>

#include <cstdint>
#include <string>

#include "otfuse/data/dataset.h"

namespace otfuse::testing {

// A learnable synthetic dataset: class k has a bright 4x4 block at a class-specific place plus
// seeded noise. channels 1 (28x28, MNIST-like) or 3 (32x32, CIFAR-like).
inline Dataset syntheticDataset(int64_t n, int channels, uint64_t seed) {
  const int64_t side = channels == 1 ? 28 : 32;
  auto gen = at::make_generator<at::CPUGeneratorImpl>(seed);
  Dataset d;
  d.name = channels == 1 ? "synthetic-mnist" : "synthetic-cifar";
  d.source = "memory";
  d.labels = at::randint(0, 10, {n}, gen, at::kLong);
  at::Tensor img = at::randint(0, 60, {n, channels, side, side}, gen, at::kLong);
  auto acc = img.accessor<int64_t, 4>();
  auto lab = d.labels.accessor<int64_t, 1>();
  for (int64_t i = 0; i < n; ++i) {
    const int64_t k = lab[i], y0 = 2 + (k / 5) * 12, x0 = 2 + (k % 5) * 5;
    for (int c = 0; c < channels; ++c)
      for (int64_t y = y0; y < y0 + 4; ++y)
        for (int64_t x = x0; x < x0 + 4; ++x) acc[i][c][y][x] = 250;
  }
  d.images = img.to(at::kByte);
  for (int k = 0; k < 10; ++k) d.classes.push_back(std::to_string(k));
  d.mean.assign(channels, 0.2f);
  d.std.assign(channels, 0.3f);
  return d;
}

}  // namespace otfuse::testing
