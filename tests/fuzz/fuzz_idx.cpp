// libFuzzer target: idx files (MNIST, Fashion-MNIST; core/src/data/idx_files.cpp), raw or gzip,
// through the readers the dataset loader uses (they take a path: the input is written to a
// scratch file first).
#include <ATen/ATen.h>

#include "data/sources.h"
#include "fuzz_common.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string path = otfuse::fuzz::writeScratch("train-images-idx3-ubyte", data, size);
  otfuse::fuzz::expectCleanFailure(path, [&] {
    at::Tensor images = otfuse::data::readIdxImages(path);
    if (images.dim() != 4 || images.size(1) != 1) std::abort();
    (void)images.sum();
  });
  otfuse::fuzz::expectCleanFailure(path, [&] {
    at::Tensor labels = otfuse::data::readIdxLabels(path, 10);
    if (labels.numel() && (labels.min().item<int64_t>() < 0 || labels.max().item<int64_t>() > 9))
      std::abort();
  });
  std::string problem;
  (void)otfuse::data::peekIdxCount(path, &problem);
  return 0;
}
