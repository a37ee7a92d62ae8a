// libFuzzer target: image decoding for image folders (core/src/data/image_folder.cpp,
// decodeImages on an in-memory file, as for a tarball member). stb_image is compiled into this
// target from Debian's header (stb_image_impl.cpp) with the sanitizers and coverage, so the
// decoder itself is fuzzed, not only our checks around it.
#include <ATen/ATen.h>
#include <ATen/Parallel.h>

#include "data/sources.h"
#include "fuzz_common.h"

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  at::set_num_threads(1);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string name = "images.tar:train/cat/fuzz.png";
  std::vector<otfuse::data::ImageFile> files(1);
  files[0].name = name;
  files[0].bytes.assign(data, data + size);
  otfuse::fuzz::expectCleanFailure(name, [&] {
    at::Tensor images = otfuse::data::decodeImages(files);
    if (images.dim() != 4 || images.size(0) != 1 || images.size(1) < 1 || images.size(1) > 3)
      std::abort();
    (void)images.sum();
  });
  return 0;
}
