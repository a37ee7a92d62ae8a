#pragma once
// Image classification datasets held in memory.
//
// Supported sources (see findDataset / loadDataset):
//  - "mnist", "fashion-mnist": the four idx files, raw (*-ubyte) or gzip (*-ubyte.gz);
//  - "cifar10": the official binary files (cifar-10-batches-bin/*.bin), extracted or straight
//    from cifar-10-binary.tar.gz;
//  - "folder:<root>": an image folder root/{train,test}/<class>/*.png|jpg (classes sorted by
//    name unless the folder is recognised as CIFAR-10, whose official class order is used).
#include <ATen/core/Tensor.h>

#include <string>
#include <vector>

#include "otfuse/runtime.h"

namespace otfuse {

enum class Split { Train, Test };

struct Dataset {
  std::string name;    // "mnist", "fashion-mnist", "cifar10", "folder:<root>"
  std::string source;  // where it was read from (path), for messages
  /// Images as uint8 [N, C, H, W] (kept raw; normalize() makes float inputs).
  at::Tensor images;
  /// Labels as int64 [N], values in [0, classes.size()).
  at::Tensor labels;
  std::vector<std::string> classes;
  /// Per-channel normalization the paper uses for this dataset (size C).
  std::vector<float> mean, std;

  long long size() const;
  int channels() const;
  int height() const;
  int width() const;
  /// Float32 [n, C, H, W] = (images[idx]/255 - mean)/std. `idx` int64 [n]; undefined = all.
  at::Tensor normalized(const at::Tensor& idx = at::Tensor()) const;
};

/// Where datasets live: explicit dir if non-empty, else $OTFUSE_DATA_DIR, else
/// ${XDG_DATA_HOME:-~/.local/share}/otfuse/datasets.
std::string resolveDataDir(const std::string& explicitDir = "");

/// What findDataset reports for `otfuse data list`.
struct DatasetLocation {
  std::string name;  // "mnist", ...
  bool found = false;
  std::string path;    // file or folder found, or where it was looked for
  std::string detail;  // e.g. "idx, gzip", "binary tar.gz", "missing t10k-labels-idx1-ubyte"
  /// Sample counts when found (from file headers/sizes, without loading), -1 if unknown.
  long long trainSize = -1, testSize = -1;
};

/// Looks for the dataset `name` under `dataDir` (resolved by resolveDataDir; for fashion-mnist
/// also in /usr/share/datasets/fashion-mnist, Debian's dataset-fashion-mnist). Never throws.
/// Reads only headers, but a cifar-10-binary.tar.gz or an image folder tarball is read through
/// once (about half a second) to count its samples.
DatasetLocation findDataset(const std::string& name, const std::string& dataDir);
/// mnist, fashion-mnist, cifar10, then "folder:<path>" for every other folder of the data dir
/// that has a train/ subfolder.
std::vector<DatasetLocation> listDatasets(const std::string& dataDir);

/// Loads a split. `name` as above ("folder:<root>" also takes a .tar.gz of an image folder);
/// `dataDir` is resolved by resolveDataDir. Image folder samples are ordered by class, then file
/// name. Throws FileError naming the file and the problem (missing file, wrong magic,
/// truncated, image/label counts that disagree, label out of range, undecodable image, an
/// image whose size or channel count differs from the others), Error for an unknown name;
/// Cancelled soon after `cancel` is set (checked between 4 MiB read and between images decoded).
Dataset loadDataset(const std::string& name, Split split, const std::string& dataDir = "",
                    const CancelFlag* cancel = nullptr);

/// `otfuse data import cifar10 PATH`: PATH is cifar-10-binary.tar.gz, an extracted
/// cifar-10-batches-bin folder, or an image folder (or a .tar.gz of one) of 32x32 RGB images
/// in 10 classes; stores the official binary layout under dataDir/cifar10/cifar-10-batches-bin
/// (train images split evenly over data_batch_1..5.bin, test_batch.bin, batches.meta.txt),
/// writing temporary files first and renaming them. Image folder samples are stored
/// interleaved by class (round robin), so any prefix is class-balanced. Any sample count is
/// accepted (at least 5 train and 1 test image). Returns the destination folder. Throws
/// FileError.
std::string importCifar10(const std::string& path, const std::string& dataDir);

}  // namespace otfuse
