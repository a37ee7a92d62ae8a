// idx files (MNIST, Fashion-MNIST): a big-endian header (magic 00 00 <type> <ndims>, then one
// uint32 per dimension) followed by the data, here unsigned bytes (type 0x08).
#include <ATen/ATen.h>

#include <cstdio>
#include <cstring>
#include <filesystem>

#include "data/byte_stream.h"
#include "data/sources.h"
#include "otfuse/error.h"

namespace fs = std::filesystem;

namespace otfuse::data {

namespace {

std::uint32_t be32(const std::uint8_t* p) {
  return std::uint32_t(p[0]) << 24 | std::uint32_t(p[1]) << 16 | std::uint32_t(p[2]) << 8 |
         std::uint32_t(p[3]);
}

std::string hex32(std::uint32_t v) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "0x%08x", v);
  return buf;
}

// Checks the header of an idx file of unsigned bytes with `ndims` dimensions; returns them.
std::vector<std::uint64_t> parseHeader(const std::string& path, const std::uint8_t* data,
                                       std::size_t size, int ndims) {
  const char* kind = ndims == 3 ? "an idx3 image file" : "an idx1 label file";
  const std::uint32_t expected = 0x0800u | static_cast<std::uint32_t>(ndims);
  if (size < 4) {
    throw FileError(path,
                    "truncated: " + std::to_string(size) + " bytes, too short for an idx header");
  }
  const std::uint32_t magic = be32(data);
  if (magic != expected) {
    throw FileError(path, "wrong magic number " + hex32(magic) + " (expected " + hex32(expected) +
                              ", " + kind + " of unsigned bytes)");
  }
  const std::size_t headerSize = 4 + 4 * static_cast<std::size_t>(ndims);
  if (size < headerSize) {
    throw FileError(path,
                    "truncated: " + std::to_string(size) + " bytes, too short for the idx header");
  }
  std::vector<std::uint64_t> dims(ndims);
  for (int i = 0; i < ndims; ++i) dims[i] = be32(data + 4 + 4 * i);
  return dims;
}

}  // namespace

std::string findIdxFile(const std::string& dir, const std::string& base) {
  // "train-images-idx3-ubyte" is also spelt "train-images.idx3-ubyte".
  std::string dotted = base;
  if (auto p = dotted.find("-idx"); p != std::string::npos) dotted[p] = '.';
  for (const std::string& name : {base, dotted, base + ".gz", dotted + ".gz"}) {
    std::error_code ec;
    fs::path p = fs::path(dir) / name;
    if (fs::is_regular_file(p, ec)) return p.string();
  }
  return "";
}

// Checks the three dimensions of an idx3 header against the bytes available after it.
void checkImageDims(const std::string& path, std::uint64_t count, std::uint64_t rows,
                    std::uint64_t cols, std::uint64_t available) {
  if (rows == 0 || cols == 0) {
    throw FileError(path, "invalid image size " + std::to_string(rows) + "x" +
                              std::to_string(cols) + " in the idx header");
  }
  const std::uint64_t perImage = rows * cols;  // < 2^64: both factors < 2^32
  if (count > available / perImage) {
    throw FileError(path, "truncated: the header announces " + std::to_string(count) +
                              " images of " + std::to_string(rows) + "x" + std::to_string(cols) +
                              " but the file holds only " + std::to_string(available / perImage));
  }
  if (count * perImage != available) {
    throw FileError(path, std::to_string(available - count * perImage) +
                              " bytes more than the header's " + std::to_string(count) +
                              " images of " + std::to_string(rows) + "x" + std::to_string(cols) +
                              " (not an idx image file?)");
  }
  if (count == 0) throw FileError(path, "contains no images");
}

at::Tensor readIdxImages(const std::string& path, const CancelFlag* cancel) {
  if (!isGzipFile(path)) {
    // Uncompressed: validate the header against the file size, then read straight into the
    // tensor (one pass over the data).
    std::error_code ec;
    const std::uint64_t fileSize = fs::file_size(path, ec);
    if (ec) throw FileError(path, "file not found");
    std::uint8_t header[16];
    ByteStream stream(path, cancel);
    const std::size_t got = stream.read(header, fileSize < 16 ? fileSize : 16);
    const auto dims = parseHeader(path, header, got, 3);
    checkImageDims(path, dims[0], dims[1], dims[2], fileSize - 16);
    at::Tensor images =
        at::empty({static_cast<long long>(dims[0]), 1, static_cast<long long>(dims[1]),
                   static_cast<long long>(dims[2])},
                  at::kByte);
    const std::size_t n = static_cast<std::size_t>(fileSize - 16);
    if (stream.read(images.data_ptr<std::uint8_t>(), n) != n) {
      throw FileError(path, "truncated (the file shrank while being read)");
    }
    return images;
  }
  const std::vector<std::uint8_t> bytes = readFileBytes(path, kMaxFileBytes, cancel);
  const auto dims = parseHeader(path, bytes.data(), bytes.size(), 3);
  const std::uint64_t count = dims[0], rows = dims[1], cols = dims[2];
  const std::uint64_t available = bytes.size() - 16;
  checkImageDims(path, count, rows, cols, available);
  at::Tensor images = at::empty({static_cast<long long>(count), 1, static_cast<long long>(rows),
                                 static_cast<long long>(cols)},
                                at::kByte);
  std::memcpy(images.data_ptr<std::uint8_t>(), bytes.data() + 16, available);
  return images;
}

at::Tensor readIdxLabels(const std::string& path, int numClasses, const CancelFlag* cancel) {
  const std::vector<std::uint8_t> bytes = readFileBytes(path, kMaxFileBytes, cancel);
  const auto dims = parseHeader(path, bytes.data(), bytes.size(), 1);
  const std::uint64_t count = dims[0];
  const std::uint64_t available = bytes.size() - 8;
  if (count > available) {
    throw FileError(path, "truncated: the header announces " + std::to_string(count) +
                              " labels but the file holds only " + std::to_string(available));
  }
  if (count < available) {
    throw FileError(path, std::to_string(available - count) + " bytes more than the header's " +
                              std::to_string(count) + " labels (not an idx label file?)");
  }
  at::Tensor labels = at::empty({static_cast<long long>(count)}, at::kLong);
  auto* out = labels.data_ptr<std::int64_t>();
  const std::uint8_t* in = bytes.data() + 8;
  for (std::uint64_t i = 0; i < count; ++i) {
    if (in[i] >= numClasses) {
      throw FileError(path, "label " + std::to_string(in[i]) + " at index " + std::to_string(i) +
                                " is out of range (" + std::to_string(numClasses) +
                                " classes: 0.." + std::to_string(numClasses - 1) + ")");
    }
    out[i] = in[i];
  }
  return labels;
}

long long peekIdxCount(const std::string& path, std::string* problem) {
  try {
    ByteStream stream(path);
    std::uint8_t header[8];
    std::size_t got = stream.read(header, sizeof header);
    if (got < 8) throw FileError(path, "truncated: too short for an idx header");
    const std::uint32_t magic = be32(header);
    if ((magic & 0xffff0000u) != 0 || ((magic >> 8) & 0xff) != 0x08) {
      throw FileError(path, "wrong magic number " + hex32(magic));
    }
    return be32(header + 4);
  } catch (const FileError& e) {
    if (problem) *problem = e.what();
    return -1;
  }
}

}  // namespace otfuse::data
