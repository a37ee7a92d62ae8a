// The public datasets API: locating, listing and loading datasets, and normalization.
#include "otfuse/data/dataset.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>

#include "data/byte_stream.h"
#include "data/sources.h"
#include "data/tar_reader.h"
#include "otfuse/error.h"

namespace fs = std::filesystem;

namespace otfuse {

namespace {

const char* kSystemFashionDir = "/usr/share/datasets/fashion-mnist";
const char* kFolderPrefix = "folder:";

// The paper's normalization constants.
const std::vector<float> kMnistMean = {0.1307f}, kMnistStd = {0.3081f};
const std::vector<float> kCifarMean = {0.4914f, 0.4822f, 0.4465f};
const std::vector<float> kCifarStd = {0.2023f, 0.1994f, 0.2010f};

const std::vector<std::string> kMnistClasses = {"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"};
const std::vector<std::string> kFashionClasses = {"T-shirt/top", "Trouser",   "Pullover", "Dress",
                                                  "Coat",        "Sandal",    "Shirt",    "Sneaker",
                                                  "Bag",         "Ankle boot"};

const char* kIdxFiles[4] = {"train-images-idx3-ubyte", "train-labels-idx1-ubyte",
                            "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"};
const char* kCifarFiles[7] = {"data_batch_1.bin",
                              "data_batch_2.bin",
                              "data_batch_3.bin",
                              "data_batch_4.bin",
                              "data_batch_5.bin",
                              "test_batch.bin",
                              nullptr};

// "mnist", "fashion-mnist", "cifar10" or "folder:<root>"; "" if unknown.
std::string canonicalName(const std::string& name) {
  if (name.rfind(kFolderPrefix, 0) == 0) return name;
  if (name == "mnist" || name == "MNIST") return "mnist";
  if (name == "fashion-mnist" || name == "fashion_mnist" || name == "fashionmnist" ||
      name == "Fashion-MNIST") {
    return "fashion-mnist";
  }
  if (name == "cifar10" || name == "cifar-10" || name == "CIFAR-10" || name == "CIFAR10") {
    return "cifar10";
  }
  return "";
}

Error unknownDataset(const std::string& name) {
  return Error("unknown dataset '" + name +
               "' (known: mnist, fashion-mnist, cifar10, folder:<root>)");
}

bool isDir(const fs::path& p) {
  std::error_code ec;
  return fs::is_directory(p, ec);
}

bool isFile(const fs::path& p) {
  std::error_code ec;
  return fs::is_regular_file(p, ec);
}

// ---- idx datasets --------------------------------------------------------------------------

// Fills `loc` for the idx files in `dir`; returns true if all four are there.
bool findIdxIn(const std::string& dir, DatasetLocation& loc) {
  loc.path = dir;
  std::string missing;
  int gz = 0, raw = 0;
  std::string paths[4];
  for (int i = 0; i < 4; ++i) {
    paths[i] = data::findIdxFile(dir, kIdxFiles[i]);
    if (paths[i].empty()) {
      missing += (missing.empty() ? "" : ", ") + std::string(kIdxFiles[i]);
    } else if (paths[i].size() > 3 && paths[i].compare(paths[i].size() - 3, 3, ".gz") == 0) {
      ++gz;
    } else {
      ++raw;
    }
  }
  if (!missing.empty()) {
    loc.found = false;
    loc.detail = isDir(dir) ? "missing " + missing + "[.gz]" : "folder not found";
    return false;
  }
  loc.found = true;
  loc.detail = gz == 0 ? "idx" : raw == 0 ? "idx, gzip" : "idx, raw and gzip";
  std::string problem;
  loc.trainSize = data::peekIdxCount(paths[0], &problem);
  loc.testSize = data::peekIdxCount(paths[2], &problem);
  if (!problem.empty()) loc.detail += "; unreadable: " + problem;
  return true;
}

// The folders searched for an idx dataset, in order.
std::vector<std::string> idxDirs(const std::string& name, const std::string& dataDir) {
  std::vector<std::string> dirs = {(fs::path(dataDir) / name).string()};
  if (name == "fashion-mnist") dirs.push_back(kSystemFashionDir);
  return dirs;
}

Dataset loadIdx(const std::string& name, Split split, const std::string& dataDir,
                const CancelFlag* cancel) {
  const std::string imagesBase = split == Split::Train ? kIdxFiles[0] : kIdxFiles[2];
  const std::string labelsBase = split == Split::Train ? kIdxFiles[1] : kIdxFiles[3];
  const auto dirs = idxDirs(name, dataDir);
  std::string dir = dirs.front();
  for (const auto& d : dirs) {
    if (!data::findIdxFile(d, imagesBase).empty() || !data::findIdxFile(d, labelsBase).empty()) {
      dir = d;
      break;
    }
  }
  auto locate = [&](const std::string& base) {
    std::string p = data::findIdxFile(dir, base);
    if (p.empty()) {
      std::string where = (fs::path(dir) / base).string();
      std::string also = dirs.size() > 1 ? " (also looked in " + dirs[1] + ")" : "";
      throw FileError(where, "file not found (nor " + base + ".gz)" + also);
    }
    return p;
  };
  const std::string imagesPath = locate(imagesBase);
  const std::string labelsPath = locate(labelsBase);
  Dataset ds;
  ds.name = name;
  ds.source = dir;
  ds.images = data::readIdxImages(imagesPath, cancel);
  ds.labels = data::readIdxLabels(labelsPath, 10, cancel);
  if (ds.labels.size(0) != ds.images.size(0)) {
    throw FileError(labelsPath, "has " + std::to_string(ds.labels.size(0)) + " labels but " +
                                    imagesPath + " has " + std::to_string(ds.images.size(0)) +
                                    " images");
  }
  ds.classes = name == "mnist" ? kMnistClasses : kFashionClasses;
  ds.mean = kMnistMean;
  ds.std = kMnistStd;
  return ds;
}

// ---- CIFAR-10 --------------------------------------------------------------------------------

fs::path cifarDir(const std::string& dataDir) {
  return fs::path(dataDir) / "cifar10";
}

DatasetLocation findCifar(const std::string& dataDir) {
  DatasetLocation loc;
  loc.name = "cifar10";
  const fs::path bin = cifarDir(dataDir) / "cifar-10-batches-bin";
  const fs::path tgz = cifarDir(dataDir) / "cifar-10-binary.tar.gz";
  std::string missing;
  long long train = 0, test = -1;
  for (int i = 0; kCifarFiles[i]; ++i) {
    std::error_code ec;
    auto size = fs::file_size(bin / kCifarFiles[i], ec);
    if (ec || !isFile(bin / kCifarFiles[i])) {
      missing += (missing.empty() ? "" : ", ") + std::string(kCifarFiles[i]);
    } else if (i < 5) {
      train += static_cast<long long>(size / data::kCifarRecord);
    } else {
      test = static_cast<long long>(size / data::kCifarRecord);
    }
  }
  if (missing.empty()) {
    loc.found = true;
    loc.path = bin.string();
    loc.detail = "binary, extracted";
    loc.trainSize = train;
    loc.testSize = test;
    return loc;
  }
  if (isFile(tgz)) {
    loc.found = true;
    loc.path = tgz.string();
    loc.detail = "binary tar.gz";
    try {
      data::TarReader tar(tgz.string());
      data::TarReader::Entry e;
      long long tr = 0, te = 0;
      while (tar.next(e)) {
        const std::string base = fs::path(e.name).filename().string();
        if (!e.regular) continue;
        if (base.rfind("data_batch_", 0) == 0)
          tr += static_cast<long long>(e.size / data::kCifarRecord);
        if (base == "test_batch.bin") te += static_cast<long long>(e.size / data::kCifarRecord);
      }
      loc.trainSize = tr;
      loc.testSize = te;
    } catch (const Error& e) {
      loc.detail += std::string("; unreadable: ") + e.what();
    }
    return loc;
  }
  loc.path = cifarDir(dataDir).string();
  loc.detail = isDir(bin) ? "missing " + missing + " in cifar-10-batches-bin"
                          : "no cifar-10-batches-bin/ or cifar-10-binary.tar.gz "
                            "(see 'otfuse data import cifar10')";
  return loc;
}

Dataset loadCifar(Split split, const std::string& dataDir, const CancelFlag* cancel) {
  const fs::path bin = cifarDir(dataDir) / "cifar-10-batches-bin";
  const fs::path tgz = cifarDir(dataDir) / "cifar-10-binary.tar.gz";
  std::string source;
  if (data::isCifarBinaryFolder(bin.string()) || !isFile(tgz)) {
    source = bin.string();
    if (!isDir(bin)) {
      throw FileError(cifarDir(dataDir).string(),
                      "CIFAR-10 not found: expected cifar-10-batches-bin/ or "
                      "cifar-10-binary.tar.gz (see 'otfuse data import cifar10 PATH')");
    }
  } else {
    source = tgz.string();
  }
  data::CifarBinary b = data::readCifarBinary(source, split == Split::Train, split == Split::Test, cancel);
  Dataset ds;
  ds.name = "cifar10";
  ds.source = source;
  data::decodeCifarBatches(split == Split::Train ? b.train : b.test, ds.images, ds.labels);
  ds.classes = b.classes;
  ds.mean = kCifarMean;
  ds.std = kCifarStd;
  return ds;
}

// ---- image folders ---------------------------------------------------------------------------

DatasetLocation findFolder(const std::string& name) {
  DatasetLocation loc;
  loc.name = name;
  loc.path = name.substr(std::string(kFolderPrefix).size());
  std::error_code ec;
  if (!fs::exists(loc.path, ec)) {
    loc.detail = "not found";
    return loc;
  }
  try {
    data::ImageFolder f = data::scanImageFolder(loc.path, true, true, false);
    loc.found = true;
    loc.trainSize = static_cast<long long>(f.train.size());
    loc.testSize = static_cast<long long>(f.test.size());
    loc.detail = std::string(isDir(loc.path) ? "image folder" : "image folder tarball") + ", " +
                 std::to_string(f.classes.size()) + " classes";
  } catch (const Error& e) {
    loc.found = false;
    loc.detail = e.what();
  }
  return loc;
}

Dataset loadFolder(const std::string& name, Split split, const CancelFlag* cancel) {
  const std::string root = name.substr(std::string(kFolderPrefix).size());
  data::ImageFolder f =
      data::scanImageFolder(root, split == Split::Train, split == Split::Test, true, cancel);
  const auto& files = split == Split::Train ? f.train : f.test;
  Dataset ds;
  ds.name = name;
  ds.source = root;
  ds.images = data::decodeImages(files, cancel);
  ds.labels = at::empty({static_cast<long long>(files.size())}, at::kLong);
  auto* lab = ds.labels.data_ptr<std::int64_t>();
  for (const auto& file : files) *lab++ = file.label;
  ds.classes = f.classes;
  const bool rgb = ds.images.size(1) == 3;
  ds.mean = rgb ? kCifarMean : kMnistMean;
  ds.std = rgb ? kCifarStd : kMnistStd;
  return ds;
}

}  // namespace

// ---- Dataset -----------------------------------------------------------------------------------

long long Dataset::size() const {
  return images.defined() ? images.size(0) : 0;
}
int Dataset::channels() const {
  return images.defined() ? int(images.size(1)) : 0;
}
int Dataset::height() const {
  return images.defined() ? int(images.size(2)) : 0;
}
int Dataset::width() const {
  return images.defined() ? int(images.size(3)) : 0;
}

at::Tensor Dataset::normalized(const at::Tensor& idx) const {
  if (!images.defined()) throw Error("dataset '" + name + "' holds no images");
  const int c = channels();
  if (mean.size() != size_t(c) || std.size() != size_t(c)) {
    throw Error("dataset '" + name + "': normalization needs " + std::to_string(c) +
                " mean/std values");
  }
  at::Tensor x = images;
  if (idx.defined()) {
    if (idx.dim() != 1 || (idx.scalar_type() != at::kLong && idx.scalar_type() != at::kInt)) {
      throw Error("dataset '" + name + "': sample indices must be a 1-D integer tensor");
    }
    if (idx.numel() > 0) {
      const long long lo = idx.min().item<int64_t>(), hi = idx.max().item<int64_t>();
      if (lo < 0 || hi >= size()) {
        throw Error("dataset '" + name + "': sample index " + std::to_string(lo < 0 ? lo : hi) +
                    " out of range (" + std::to_string(size()) + " samples)");
      }
    }
    x = images.index_select(0, idx);
  }
  // (x/255 - mean)/std = x * (1/(255 std)) - mean/std, per channel.
  std::vector<float> scale(c), shift(c);
  for (int i = 0; i < c; ++i) {
    scale[i] = 1.0f / (255.0f * std[i]);
    shift[i] = mean[i] / std[i];
  }
  auto s = at::tensor(scale, at::kFloat).view({1, c, 1, 1});
  auto m = at::tensor(shift, at::kFloat).view({1, c, 1, 1});
  return x.to(at::kFloat).mul_(s).sub_(m);
}

// ---- locating --------------------------------------------------------------------------------

std::string resolveDataDir(const std::string& explicitDir) {
  if (!explicitDir.empty()) return explicitDir;
  if (const char* env = std::getenv("OTFUSE_DATA_DIR"); env && *env) return env;
  fs::path base;
  if (const char* xdg = std::getenv("XDG_DATA_HOME"); xdg && *xdg && fs::path(xdg).is_absolute()) {
    base = xdg;
  } else if (const char* home = std::getenv("HOME"); home && *home) {
    base = fs::path(home) / ".local" / "share";
  } else {
    base = fs::current_path() / ".local" / "share";
  }
  return (base / "otfuse" / "datasets").string();
}

DatasetLocation findDataset(const std::string& name, const std::string& dataDir) {
  const std::string canon = canonicalName(name);
  const std::string dir = resolveDataDir(dataDir);
  try {
    if (canon == "mnist" || canon == "fashion-mnist") {
      DatasetLocation first;
      for (const auto& d : idxDirs(canon, dir)) {
        DatasetLocation loc;
        loc.name = canon;
        if (findIdxIn(d, loc)) return loc;
        if (first.name.empty()) first = loc;
      }
      return first;
    }
    if (canon == "cifar10") return findCifar(dir);
    if (!canon.empty()) return findFolder(canon);
  } catch (const std::exception& e) {
    DatasetLocation loc;
    loc.name = canon;
    loc.detail = e.what();
    return loc;
  }
  DatasetLocation loc;
  loc.name = name;
  loc.detail = "unknown dataset";
  return loc;
}

std::vector<DatasetLocation> listDatasets(const std::string& dataDir) {
  const std::string dir = resolveDataDir(dataDir);
  std::vector<DatasetLocation> out;
  for (const char* name : {"mnist", "fashion-mnist", "cifar10"}) {
    out.push_back(findDataset(name, dir));
  }
  // Other folders of the data dir that look like image folders.
  std::vector<std::string> extra;
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string n = it->path().filename().string();
    if (n == "mnist" || n == "fashion-mnist" || n == "cifar10" || n.empty() || n[0] == '.') {
      continue;
    }
    if (isDir(it->path() / "train")) extra.push_back(it->path().string());
  }
  std::sort(extra.begin(), extra.end());
  for (const auto& root : extra) out.push_back(findDataset(kFolderPrefix + root, dir));
  return out;
}

Dataset loadDataset(const std::string& name, Split split, const std::string& dataDir,
                    const CancelFlag* cancel) {
  const std::string canon = canonicalName(name);
  if (canon.empty()) throw unknownDataset(name);
  if (canon == "mnist" || canon == "fashion-mnist") {
    return loadIdx(canon, split, resolveDataDir(dataDir), cancel);
  }
  if (canon == "cifar10") return loadCifar(split, resolveDataDir(dataDir), cancel);
  return loadFolder(canon, split, cancel);
}

}  // namespace otfuse
