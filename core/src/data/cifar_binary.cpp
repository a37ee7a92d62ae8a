// CIFAR-10's binary version: data_batch_{1..5}.bin and test_batch.bin, each a sequence of
// 3073-byte records (1 label byte, then the 32x32 red, green and blue planes, row-major), and
// batches.meta.txt with the class names, one per line.
#include <ATen/ATen.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <set>

#include "data/byte_stream.h"
#include "data/sources.h"
#include "data/tar_reader.h"
#include "otfuse/error.h"

namespace fs = std::filesystem;

namespace otfuse::data {

namespace {

constexpr std::uint64_t kMaxBatchBytes = 512u << 20;
const char* kMetaFile = "batches.meta.txt";

std::string batchName(int i) {
  return i == 0 ? "test_batch.bin" : "data_batch_" + std::to_string(i) + ".bin";
}

void checkBatch(const CifarBatch& b) {
  const std::size_t size = b.bytes.size();
  if (size == 0) throw FileError(b.file, "empty file (no CIFAR-10 records)");
  if (size % kCifarRecord != 0) {
    throw FileError(b.file, "truncated or not a CIFAR-10 batch: " + std::to_string(size) +
                                " bytes is not a whole number of " + std::to_string(kCifarRecord) +
                                "-byte records (1 label byte + 32x32x3 pixels)");
  }
  for (std::size_t r = 0; r < size / kCifarRecord; ++r) {
    const int label = b.bytes[r * kCifarRecord];
    if (label >= 10) {
      throw FileError(b.file, "label " + std::to_string(label) + " of record " + std::to_string(r) +
                                  " is out of range (10 classes: 0..9)");
    }
  }
}

std::vector<std::string> parseMeta(const std::string& file,
                                   const std::vector<std::uint8_t>& bytes) {
  std::vector<std::string> names;
  std::string line;
  auto flush = [&] {
    auto b = line.find_first_not_of(" \t\r");
    auto e = line.find_last_not_of(" \t\r");
    if (b != std::string::npos) names.push_back(line.substr(b, e - b + 1));
    line.clear();
  };
  for (std::uint8_t c : bytes) {
    if (c == '\n') {
      flush();
    } else {
      line.push_back(static_cast<char>(c));
    }
  }
  flush();
  if (names.size() != 10) {
    throw FileError(
        file, "lists " + std::to_string(names.size()) + " class names, expected 10 (one per line)");
  }
  return names;
}

}  // namespace

const std::vector<std::string>& cifar10Classes() {
  static const std::vector<std::string> names = {
      "airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"};
  return names;
}

bool isCifar10ClassSet(const std::vector<std::string>& names) {
  const auto& official = cifar10Classes();
  return names.size() == official.size() &&
         std::set<std::string>(names.begin(), names.end()) ==
             std::set<std::string>(official.begin(), official.end());
}

bool isCifarBinaryFolder(const std::string& dir) {
  std::error_code ec;
  return fs::is_regular_file(fs::path(dir) / "data_batch_1.bin", ec);
}

CifarBinary readCifarBinary(const std::string& source, bool wantTrain, bool wantTest,
                            const CancelFlag* cancel) {
  CifarBinary out;
  out.source = source;
  std::vector<int> wanted;
  if (wantTrain) wanted = {1, 2, 3, 4, 5};
  if (wantTest) wanted.push_back(0);
  std::vector<CifarBatch> batches(6);
  std::vector<std::uint8_t> meta;
  std::string metaName;

  std::error_code ec;
  if (fs::is_directory(source, ec)) {
    fs::path dir = source;
    if (!isCifarBinaryFolder(dir.string()) && fs::is_directory(dir / "cifar-10-batches-bin", ec)) {
      dir /= "cifar-10-batches-bin";
    }
    for (int i : wanted) {
      batches[i].file = (dir / batchName(i)).string();
      batches[i].bytes = readFileBytes(batches[i].file, kMaxBatchBytes, cancel);
    }
    if (fs::is_regular_file(dir / kMetaFile, ec)) {
      metaName = (dir / kMetaFile).string();
      meta = readFileBytes(metaName, 1 << 20, cancel);
    }
  } else {
    TarReader tar(source, cancel);
    TarReader::Entry e;
    std::vector<bool> seen(6, false);
    while (tar.next(e)) {
      if (!e.regular) continue;
      const std::string base = fs::path(e.name).filename().string();
      if (base == kMetaFile) {
        metaName = source + ":" + e.name;
        meta = tar.read(1 << 20);
        continue;
      }
      for (int i : wanted) {
        if (base == batchName(i) && !seen[i]) {
          seen[i] = true;
          batches[i].file = source + ":" + e.name;
          batches[i].bytes = tar.read(kMaxBatchBytes);
        }
      }
    }
    for (int i : wanted) {
      if (!seen[i]) {
        throw FileError(source, "has no " + batchName(i) +
                                    " (expected the CIFAR-10 binary version, "
                                    "cifar-10-batches-bin/*.bin)");
      }
    }
  }
  for (int i : wanted) {
    checkBatch(batches[i]);
    (i == 0 ? out.test : out.train).push_back(std::move(batches[i]));
  }
  out.classes = metaName.empty() ? cifar10Classes() : parseMeta(metaName, meta);
  return out;
}

void decodeCifarBatches(const std::vector<CifarBatch>& batches, at::Tensor& images,
                        at::Tensor& labels) {
  long long n = 0;
  for (const auto& b : batches) n += static_cast<long long>(b.bytes.size() / kCifarRecord);
  images = at::empty({n, 3, 32, 32}, at::kByte);
  labels = at::empty({n}, at::kLong);
  auto* img = images.data_ptr<std::uint8_t>();
  auto* lab = labels.data_ptr<std::int64_t>();
  for (const auto& b : batches) {
    const std::size_t records = b.bytes.size() / kCifarRecord;
    for (std::size_t r = 0; r < records; ++r) {
      const std::uint8_t* rec = b.bytes.data() + r * kCifarRecord;
      *lab++ = rec[0];
      std::memcpy(img, rec + 1, kCifarRecord - 1);
      img += kCifarRecord - 1;
    }
  }
}

}  // namespace otfuse::data
