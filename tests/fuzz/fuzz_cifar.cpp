// libFuzzer target: CIFAR-10 binary batches (core/src/data/cifar_binary.cpp) read from a folder,
// as the dataset loader does. The first input byte chooses what the rest is:
//   even: test_batch.bin (raw or gzip), beside no batches.meta.txt;
//   odd:  batches.meta.txt, beside a valid one-record test_batch.bin.
#include <ATen/ATen.h>

#include "data/sources.h"
#include "fuzz_common.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return -1;
  namespace fs = std::filesystem;
  const fs::path dir = otfuse::fuzz::scratchDir() / "cifar-10-batches-bin";
  std::error_code ec;
  fs::create_directories(dir, ec);
  const std::string batch = (dir / "test_batch.bin").string();
  const std::string meta = (dir / "batches.meta.txt").string();
  std::string named;  // the file the input went to
  if (data[0] % 2 == 0) {
    named = otfuse::fuzz::writeScratch("cifar-10-batches-bin/test_batch.bin", data + 1, size - 1);
    fs::remove(meta, ec);
  } else {
    static const std::vector<uint8_t> record(otfuse::data::kCifarRecord, 3);
    otfuse::fuzz::writeScratch("cifar-10-batches-bin/test_batch.bin", record.data(), record.size());
    named = otfuse::fuzz::writeScratch("cifar-10-batches-bin/batches.meta.txt", data + 1, size - 1);
  }
  otfuse::fuzz::expectCleanFailure(named, [&] {
    otfuse::data::CifarBinary b = otfuse::data::readCifarBinary(dir.string(), false, true);
    if (b.classes.size() != 10 || b.test.size() != 1) std::abort();
    at::Tensor images, labels;
    otfuse::data::decodeCifarBatches(b.test, images, labels);
    if (labels.numel() != images.size(0) || labels.max().item<int64_t>() > 9) std::abort();
  });
  return 0;
}
