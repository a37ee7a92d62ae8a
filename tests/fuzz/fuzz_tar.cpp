// libFuzzer target: the tar reader (core/src/data/tar_reader.cpp; ustar, GNU long names, pax;
// plain or gzip) and the two readers built on it: CIFAR-10's cifar-10-binary.tar.gz
// (readCifarBinary) and image-folder tarballs (scanImageFolder + decodeImages).
#include <ATen/ATen.h>
#include <ATen/Parallel.h>

#include "data/sources.h"
#include "data/tar_reader.h"
#include "fuzz_common.h"

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  at::set_num_threads(1);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string path = otfuse::fuzz::writeScratch("archive.tar.gz", data, size);
  otfuse::fuzz::expectCleanFailure(path, [&] {
    otfuse::data::TarReader tar(path);
    otfuse::data::TarReader::Entry e;
    int k = 0;
    while (tar.next(e)) {
      if (e.regular && (k++ % 2 == 0)) (void)tar.read(1 << 20);  // the rest are skipped
    }
  });
  otfuse::fuzz::expectCleanFailure(path, [&] {
    otfuse::data::CifarBinary b = otfuse::data::readCifarBinary(path, false, true);
    at::Tensor images, labels;
    otfuse::data::decodeCifarBatches(b.test, images, labels);
  });
  otfuse::fuzz::expectCleanFailure(path, [&] {
    otfuse::data::ImageFolder f = otfuse::data::scanImageFolder(path, true, true);
    (void)otfuse::data::decodeImages(f.train);
    (void)otfuse::data::decodeImages(f.test);
  });
  return 0;
}
