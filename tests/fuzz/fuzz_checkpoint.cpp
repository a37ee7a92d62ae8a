// libFuzzer targets for torch.save files (core/src/io/checkpoint.cpp), read from memory through
// loadCheckpointFromMemory / loadTensorsFromMemory (the same code as loadCheckpoint(path)):
//   fuzz_checkpoint_zip     zip format (PyTorch >= 1.6). An input that does not start with "PK" is
//                           taken as data.pkl and stored in a zip beside four storage records
//                           (data/0..3: 0, 4, 16, 64 bytes), so the pickle-in-zip path is reached
//                           although miniz refuses a mutated record by its CRC.
//   fuzz_checkpoint_legacy  the legacy format (a run of pickles, then the storages' bytes).
//   fuzz_torchscript        TorchScript archives (torch.jit.save), read by LibTorch's loader.
// OTFUSE_FUZZ_FORMAT selects which; inputs of another format are rejected (-1: not kept).
#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <caffe2/serialize/inline_container.h>

#include <cstring>
#include <string>

#include "fuzz_common.h"
#include "otfuse/io/checkpoint.h"

namespace {

enum class Format { Zip, Legacy, TorchScript };
constexpr Format kFormat = Format::OTFUSE_FUZZ_FORMAT;

std::string zipWithPickle(const uint8_t* data, size_t size) {
  std::string out;
  caffe2::serialize::PyTorchStreamWriter writer([&](const void* buf, size_t n) -> size_t {
    out.append(static_cast<const char*>(buf), n);
    return n;
  });
  writer.writeRecord("data.pkl", data, size);
  static const std::string zeros(64, '\0');
  const size_t sizes[] = {0, 4, 16, 64};
  for (int k = 0; k < 4; ++k)
    writer.writeRecord("data/" + std::to_string(k), zeros.data(), sizes[k]);
  writer.writeEndOfFile();
  return out;
}

void load(const void* data, size_t size) {
  const std::string name = "fuzz-input.pt";
  otfuse::fuzz::expectCleanFailure(name, [&] {
    otfuse::Checkpoint ck = otfuse::loadCheckpointFromMemory(data, size, name);
    for (const auto& [k, t] : ck.state) (void)t.sum();  // touch every byte of every tensor
  });
  if (kFormat == Format::TorchScript) return;  // same path as above for archives
  otfuse::fuzz::expectCleanFailure(name, [&] {
    otfuse::StateDict all = otfuse::loadTensorsFromMemory(data, size, name);
    for (const auto& [k, t] : all) (void)t.sum();
  });
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  at::set_num_threads(1);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const bool zip = size >= 2 && data[0] == 'P' && data[1] == 'K';
  switch (kFormat) {
    case Format::Zip:
      if (zip) {
        load(data, size);
      } else {
        const std::string archive = zipWithPickle(data, size);
        load(archive.data(), archive.size());
      }
      break;
    case Format::Legacy:
      if (size == 0 || data[0] != 0x80) return -1;
      load(data, size);
      break;
    case Format::TorchScript:
      if (!zip) return -1;
      load(data, size);
      break;
  }
  return 0;
}
