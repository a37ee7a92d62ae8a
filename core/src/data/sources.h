#pragma once
// Readers of the dataset file formats, used by dataset.cpp and import_cifar10.cpp.
#include <ATen/core/Tensor.h>

#include <cstdint>
#include <string>
#include <vector>

#include "otfuse/runtime.h"

namespace otfuse::data {

// Every loader below that takes a `cancel` flag throws otfuse::Cancelled soon after it is set
// (between chunks of 4 MiB read, between images decoded).

// ---- idx files (MNIST, Fashion-MNIST) ------------------------------------------------------

/// The file for `base` (e.g. "train-images-idx3-ubyte") in `dir`: `base`, `base`.gz, or the
/// dot spelling ("train-images.idx3-ubyte"[.gz]); raw preferred. "" if there is none.
std::string findIdxFile(const std::string& dir, const std::string& base);
/// uint8 [N, 1, H, W] from an idx3 file of unsigned bytes. Throws FileError.
at::Tensor readIdxImages(const std::string& path, const CancelFlag* cancel = nullptr);
/// int64 [N] from an idx1 file of unsigned bytes; labels must be < numClasses. FileError.
at::Tensor readIdxLabels(const std::string& path, int numClasses,
                         const CancelFlag* cancel = nullptr);
/// The item count from an idx header (reads only the header); -1 and `problem` set if the
/// header cannot be read.
long long peekIdxCount(const std::string& path, std::string* problem);

// ---- CIFAR-10 binary batches -------------------------------------------------------------

constexpr std::size_t kCifarRecord = 1 + 3 * 32 * 32;

/// CIFAR-10's official class order.
const std::vector<std::string>& cifar10Classes();
/// True if `names` is CIFAR-10's class set (in any order).
bool isCifar10ClassSet(const std::vector<std::string>& names);

struct CifarBatch {
  std::string file;  // path, or "<archive>:<member>", for messages
  std::vector<std::uint8_t> bytes;
};

struct CifarBinary {
  std::string source;             // the folder or tarball read
  std::vector<CifarBatch> train;  // data_batch_1..5.bin (if asked for)
  std::vector<CifarBatch> test;   // test_batch.bin (if asked for)
  std::vector<std::string> classes;
};

/// Reads the official binary files from an extracted cifar-10-batches-bin folder or from
/// cifar-10-binary.tar.gz; each batch is checked (whole records, labels < 10). Class names
/// come from batches.meta.txt if present, else CIFAR-10's official order. Throws FileError
/// naming a missing or broken file.
CifarBinary readCifarBinary(const std::string& source, bool wantTrain, bool wantTest,
                            const CancelFlag* cancel = nullptr);
/// True if `dir` holds data_batch_1.bin.
bool isCifarBinaryFolder(const std::string& dir);
/// Records of `batches` as images uint8 [N, 3, 32, 32] and labels int64 [N].
void decodeCifarBatches(const std::vector<CifarBatch>& batches, at::Tensor& images,
                        at::Tensor& labels);

// ---- image folders -------------------------------------------------------------------------

struct ImageFile {
  std::string name;                 // path, or "<archive>:<member>", for messages
  std::vector<std::uint8_t> bytes;  // the encoded file (tarball), empty = read `name`
  int label = 0;
};

struct ImageFolder {
  std::string root;
  std::vector<std::string> classes;
  std::vector<ImageFile> train, test;  // sorted by class, then file name
};

/// Lists root/{train,test}/<class>/*.png|jpg|jpeg, `root` being a folder or a (gzip) tarball of
/// one. Classes are train/'s subfolders, sorted by name, or in CIFAR-10's order if they are
/// exactly its classes. Throws FileError (no train/ folder, a test class unknown to train/,
/// a split without images). `withBytes` false: a tarball's members are listed, not kept.
ImageFolder scanImageFolder(const std::string& root, bool wantTrain, bool wantTest,
                            bool withBytes = true, const CancelFlag* cancel = nullptr);
/// Decodes `files` into uint8 [N, C, H, W] (alpha channels dropped: RGBA → 3, gray+alpha → 1).
/// All images must share size and channel count: otherwise FileError naming the odd file.
at::Tensor decodeImages(const std::vector<ImageFile>& files, const CancelFlag* cancel = nullptr);

}  // namespace otfuse::data
