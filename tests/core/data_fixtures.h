#pragma once
// Writers of small dataset files for the data tests: idx (raw/gzip), CIFAR-10 binary batches,
// tar(.gz) archives, PNG/JPEG image folders. Everything deterministic.
#include <stb/stb_image_write.h>
#include <zlib.h>

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

namespace fixtures {

namespace fs = std::filesystem;
using Bytes = std::vector<std::uint8_t>;

inline void put32(Bytes& b, std::uint32_t v) {
  for (int s = 24; s >= 0; s -= 8) b.push_back(std::uint8_t(v >> s));
}

/// Pixel value of image i at flat position p (same rule for idx and CIFAR fixtures).
inline std::uint8_t pixel(long long i, long long p) {
  return std::uint8_t((i * 7 + p * 3) % 256);
}

inline Bytes idxImages(std::uint32_t n, std::uint32_t rows, std::uint32_t cols) {
  Bytes b;
  put32(b, 0x803);
  put32(b, n);
  put32(b, rows);
  put32(b, cols);
  for (std::uint32_t i = 0; i < n; ++i)
    for (std::uint32_t p = 0; p < rows * cols; ++p) b.push_back(pixel(i, p));
  return b;
}

inline std::uint8_t labelOf(long long i) {
  return std::uint8_t((i * 3 + 1) % 10);
}

inline Bytes idxLabels(std::uint32_t n) {
  Bytes b;
  put32(b, 0x801);
  put32(b, n);
  for (std::uint32_t i = 0; i < n; ++i) b.push_back(labelOf(i));
  return b;
}

inline void writeFile(const fs::path& path, const Bytes& bytes, bool gzip = false) {
  fs::create_directories(path.parent_path());
  if (gzip) {
    gzFile f = gzopen(path.string().c_str(), "wb");
    gzwrite(f, bytes.data(), unsigned(bytes.size()));
    gzclose(f);
  } else {
    std::ofstream out(path, std::ios::binary);
    out.write(reinterpret_cast<const char*>(bytes.data()), std::streamsize(bytes.size()));
  }
}

/// CIFAR-10 batch: n records, image `first + k` with label labelOf(first + k).
inline Bytes cifarBatch(int n, int first) {
  Bytes b;
  for (int k = 0; k < n; ++k) {
    b.push_back(labelOf(first + k));
    for (int p = 0; p < 3072; ++p) b.push_back(pixel(first + k, p));
  }
  return b;
}

/// The files of a small CIFAR-10 binary set: 5 train batches of `perBatch`, a test batch.
inline std::vector<std::pair<std::string, Bytes>> cifarFiles(int perBatch, int test) {
  std::vector<std::pair<std::string, Bytes>> files;
  for (int b = 0; b < 5; ++b) {
    files.emplace_back("data_batch_" + std::to_string(b + 1) + ".bin",
                       cifarBatch(perBatch, b * perBatch));
  }
  files.emplace_back("test_batch.bin", cifarBatch(test, 1000));
  return files;
}

/// A ustar archive of regular files (names < 100 characters), gzip-compressed if asked.
inline void writeTar(const fs::path& path, const std::vector<std::pair<std::string, Bytes>>& files,
                     bool gzip) {
  Bytes tar;
  for (const auto& [name, data] : files) {
    char h[512] = {};
    std::snprintf(h, 100, "%s", name.c_str());
    std::snprintf(h + 100, 8, "%07o", 0644);
    std::snprintf(h + 108, 8, "%07o", 0);
    std::snprintf(h + 116, 8, "%07o", 0);
    std::snprintf(h + 124, 12, "%011o", unsigned(data.size()));
    std::snprintf(h + 136, 12, "%011o", 0);
    h[156] = '0';
    std::memcpy(h + 257, "ustar", 6);
    std::memcpy(h + 263, "00", 2);
    std::memset(h + 148, ' ', 8);
    unsigned sum = 0;
    for (unsigned char c : h) sum += c;
    std::snprintf(h + 148, 8, "%06o", sum);
    h[155] = ' ';
    tar.insert(tar.end(), h, h + 512);
    tar.insert(tar.end(), data.begin(), data.end());
    tar.resize((tar.size() + 511) / 512 * 512, 0);
  }
  tar.resize(tar.size() + 1024, 0);
  writeFile(path, tar, gzip);
}

inline void appendToVector(void* ctx, void* data, int size) {
  auto* v = static_cast<Bytes*>(ctx);
  v->insert(v->end(), static_cast<std::uint8_t*>(data), static_cast<std::uint8_t*>(data) + size);
}

/// PNG (exact) or JPEG (quality 100) encoding of an HxWxC interleaved image.
inline Bytes encodeImage(const Bytes& hwc, int w, int h, int c, bool jpeg) {
  Bytes out;
  if (jpeg) {
    stbi_write_jpg_to_func(appendToVector, &out, w, h, c, hwc.data(), 100);
  } else {
    stbi_write_png_to_func(appendToVector, &out, w, h, c, hwc.data(), w * c);
  }
  return out;
}

/// Image of sample (class k, index j): flat colour per channel for JPEG-friendliness plus,
/// for PNG, a per-pixel pattern. Returned interleaved HxWxC.
inline Bytes folderImage(int k, int j, int w, int h, int c, bool pattern) {
  Bytes img(std::size_t(w) * h * c);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x)
      for (int ch = 0; ch < c; ++ch) {
        int v = 20 * k + 5 * j + 60 * ch;
        if (pattern) v += x + 2 * y;
        img[(std::size_t(y) * w + x) * c + ch] = std::uint8_t(v % 256);
      }
  return img;
}

}  // namespace fixtures
