// `otfuse data import cifar10 PATH`: converts any supported CIFAR-10 source into the official
// binary layout under <dataDir>/cifar10/cifar-10-batches-bin.
#include <ATen/ATen.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "data/sources.h"
#include "data/tar_reader.h"
#include "otfuse/data/dataset.h"
#include "otfuse/error.h"

namespace fs = std::filesystem;

namespace otfuse {

namespace {

enum class SourceKind { Binary, ImageFolder };

// What a tarball holds: the CIFAR-10 binary batches or an image folder. Reads entries only
// until the first one that tells.
SourceKind tarballKind(const std::string& path) {
  data::TarReader tar(path);
  data::TarReader::Entry e;
  while (tar.next(e)) {
    if (!e.regular) continue;
    const std::string base = fs::path(e.name).filename().string();
    if (base == "data_batch_1.bin" || base == "test_batch.bin") return SourceKind::Binary;
    std::string ext = fs::path(base).extension().string();
    for (auto& c : ext) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (ext == ".png" || ext == ".jpg" || ext == ".jpeg") return SourceKind::ImageFolder;
  }
  throw FileError(path,
                  "holds neither CIFAR-10 binary batches (data_batch_1.bin, ...) nor "
                  "an image folder (train/<class>/*.png|jpg)");
}

SourceKind sourceKind(const std::string& path) {
  std::error_code ec;
  if (!fs::exists(path, ec)) throw FileError(path, "not found");
  if (!fs::is_directory(path, ec)) return tarballKind(path);
  if (data::isCifarBinaryFolder(path) ||
      data::isCifarBinaryFolder((fs::path(path) / "cifar-10-batches-bin").string())) {
    return SourceKind::Binary;
  }
  if (fs::is_directory(fs::path(path) / "train", ec)) return SourceKind::ImageFolder;
  throw FileError(path,
                  "is neither a CIFAR-10 binary folder (data_batch_1.bin, ...) nor an "
                  "image folder (train/<class>/*.png|jpg)");
}

// Records (label byte + R, G, B planes) of an image folder split, interleaved by class.
std::vector<std::uint8_t> folderRecords(const std::string& source,
                                        const std::vector<data::ImageFile>& files,
                                        const char* split) {
  at::Tensor images = data::decodeImages(files);
  if (images.size(1) != 3 || images.size(2) != 32 || images.size(3) != 32) {
    throw FileError(source, std::string("is not a CIFAR-10 image folder: the ") + split +
                                " images are " + std::to_string(images.size(3)) + "x" +
                                std::to_string(images.size(2)) + " with " +
                                std::to_string(images.size(1)) +
                                " channel(s), CIFAR-10 needs 32x32 RGB");
  }
  // Round robin over the classes (files are sorted by class).
  std::vector<std::vector<std::size_t>> byClass;
  for (std::size_t i = 0; i < files.size(); ++i) {
    const auto label = static_cast<std::size_t>(files[i].label);
    if (byClass.size() <= label) byClass.resize(label + 1);
    byClass[label].push_back(i);
  }
  std::vector<std::uint8_t> records;
  records.reserve(files.size() * data::kCifarRecord);
  const std::uint8_t* pixels = images.data_ptr<std::uint8_t>();
  for (std::size_t k = 0;; ++k) {
    bool any = false;
    for (std::size_t c = 0; c < byClass.size(); ++c) {
      if (k >= byClass[c].size()) continue;
      any = true;
      const std::uint8_t* img = pixels + byClass[c][k] * (data::kCifarRecord - 1);
      records.push_back(static_cast<std::uint8_t>(c));
      records.insert(records.end(), img, img + data::kCifarRecord - 1);
    }
    if (!any) break;
  }
  return records;
}

void writeFile(const std::string& path, const std::uint8_t* data, std::size_t size) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) throw FileError(path, std::string("cannot create: ") + std::strerror(errno));
  out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
  out.close();
  if (!out) throw FileError(path, std::string("cannot write: ") + std::strerror(errno));
}

}  // namespace

std::string importCifar10(const std::string& path, const std::string& dataDir) {
  std::vector<std::uint8_t> train, test;
  std::vector<std::string> classes;
  if (sourceKind(path) == SourceKind::Binary) {
    data::CifarBinary b = data::readCifarBinary(path, true, true);
    for (auto& batch : b.train) train.insert(train.end(), batch.bytes.begin(), batch.bytes.end());
    test = std::move(b.test.front().bytes);
    classes = b.classes;
  } else {
    data::ImageFolder f = data::scanImageFolder(path, true, true);
    if (f.classes.size() != 10) {
      throw FileError(path, "is not a CIFAR-10 image folder: it has " +
                                std::to_string(f.classes.size()) + " classes, CIFAR-10 has 10");
    }
    train = folderRecords(path, f.train, "train");
    test = folderRecords(path, f.test, "test");
    classes = f.classes;
  }
  const std::size_t nTrain = train.size() / data::kCifarRecord;
  if (nTrain < 5 || test.empty()) {
    throw FileError(path, "too few images for the CIFAR-10 layout (" + std::to_string(nTrain) +
                              " train, " + std::to_string(test.size() / data::kCifarRecord) +
                              " test; need at least 5 and 1)");
  }

  const fs::path dest = fs::path(resolveDataDir(dataDir)) / "cifar10" / "cifar-10-batches-bin";
  std::error_code ec;
  fs::create_directories(dest, ec);
  if (ec) throw FileError(dest.string(), "cannot create the folder: " + ec.message());

  // Write everything to temporary files first, then rename, so that a failure leaves either
  // the previous files or the complete new set of each file, never a partial one.
  const std::string suffix = ".part-" + std::to_string(::getpid());
  std::vector<std::pair<fs::path, fs::path>> written;  // temp, final
  auto stage = [&](const std::string& name, const std::uint8_t* data, std::size_t size) {
    fs::path final = dest / name;
    fs::path temp = dest / (name + suffix);
    written.emplace_back(temp, final);
    writeFile(temp.string(), data, size);
  };
  try {
    std::size_t offset = 0;
    for (std::size_t b = 0; b < 5; ++b) {
      const std::size_t count = nTrain / 5 + (b < nTrain % 5 ? 1 : 0);
      stage("data_batch_" + std::to_string(b + 1) + ".bin", train.data() + offset,
            count * data::kCifarRecord);
      offset += count * data::kCifarRecord;
    }
    stage("test_batch.bin", test.data(), test.size());
    std::string meta;
    for (const auto& c : classes) meta += c + "\n";
    meta += "\n";
    stage("batches.meta.txt", reinterpret_cast<const std::uint8_t*>(meta.data()), meta.size());
    for (const auto& [temp, final] : written) {
      fs::rename(temp, final, ec);
      if (ec) throw FileError(final.string(), "cannot replace: " + ec.message());
    }
  } catch (...) {
    for (const auto& [temp, final] : written) fs::remove(temp, ec);
    throw;
  }
  return dest.string();
}

}  // namespace otfuse
