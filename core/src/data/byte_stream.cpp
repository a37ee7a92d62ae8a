#include "data/byte_stream.h"

#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "otfuse/error.h"

namespace fs = std::filesystem;

namespace otfuse::data {

namespace {

std::string sizeText(std::uint64_t bytes) {
  if (bytes >= (std::uint64_t(1) << 30)) return std::to_string(bytes >> 30) + " GiB";
  if (bytes >= (std::uint64_t(1) << 20)) return std::to_string(bytes >> 20) + " MiB";
  return std::to_string(bytes) + " bytes";
}

void requireRegularFile(const std::string& path) {
  std::error_code ec;
  auto st = fs::status(path, ec);
  if (ec || !fs::exists(st)) throw FileError(path, "file not found");
  if (!fs::is_regular_file(st)) throw FileError(path, "not a regular file");
}

}  // namespace

bool isGzipFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  unsigned char magic[2] = {0, 0};
  in.read(reinterpret_cast<char*>(magic), 2);
  return in.gcount() == 2 && magic[0] == 0x1f && magic[1] == 0x8b;
}

ByteStream::ByteStream(const std::string& path, const CancelFlag* cancel)
    : path_(path), cancel_(cancel) {
  requireRegularFile(path);
  file_ = gzopen(path.c_str(), "rb");
  if (!file_) {
    throw FileError(
        path, std::string("cannot open: ") + (errno ? std::strerror(errno) : "out of memory"));
  }
  gzbuffer(file_, 1 << 18);
}

ByteStream::~ByteStream() {
  if (file_) gzclose_r(file_);
}

std::size_t ByteStream::read(void* dst, std::size_t n) {
  auto* out = static_cast<unsigned char*>(dst);
  std::size_t done = 0;
  while (done < n) {
    throwIfCancelled(cancel_);
    unsigned chunk = static_cast<unsigned>(std::min<std::size_t>(n - done, kCancelChunk));
    int got = gzread(file_, out + done, chunk);
    if (got < 0 || (got < static_cast<int>(chunk))) {
      int err = Z_OK;
      const char* msg = gzerror(file_, &err);
      if (err == Z_BUF_ERROR) {
        throw FileError(path_, "truncated gzip data (unexpected end of file after " +
                                   std::to_string(position_ + std::max(got, 0)) +
                                   " decompressed bytes)");
      }
      if (err != Z_OK || got < 0) {
        throw FileError(path_, std::string("corrupt gzip data (") + (msg ? msg : "?") + ")");
      }
    }
    done += static_cast<std::size_t>(got);
    position_ += static_cast<std::uint64_t>(got);
    if (got < static_cast<int>(chunk)) break;  // end of data
  }
  return done;
}

std::uint64_t ByteStream::skip(std::uint64_t n) {
  static thread_local std::vector<unsigned char> scratch(1 << 16);
  std::uint64_t done = 0;
  while (done < n) {
    std::size_t want = static_cast<std::size_t>(std::min<std::uint64_t>(n - done, scratch.size()));
    std::size_t got = read(scratch.data(), want);
    done += got;
    if (got < want) break;
  }
  return done;
}

std::vector<std::uint8_t> readBytes(ByteStream& stream, std::uint64_t count,
                                    const std::string& what) {
  std::vector<std::uint8_t> bytes;
  // Reserve a bounded amount; beyond that the vector grows only with data actually present.
  bytes.reserve(static_cast<std::size_t>(std::min<std::uint64_t>(count, 64u << 20)));
  const std::size_t chunk = 1 << 20;
  while (bytes.size() < count) {
    std::size_t want =
        static_cast<std::size_t>(std::min<std::uint64_t>(count - bytes.size(), chunk));
    std::size_t old = bytes.size();
    bytes.resize(old + want);
    std::size_t got = stream.read(bytes.data() + old, want);
    if (got < want) {
      throw FileError(stream.path(), "truncated: " + what + " should have " +
                                         std::to_string(count) + " bytes, the data ends after " +
                                         std::to_string(old + got));
    }
  }
  return bytes;
}

std::vector<std::uint8_t> readFileBytes(const std::string& path, std::uint64_t maxBytes,
                                        const CancelFlag* cancel) {
  requireRegularFile(path);
  std::error_code ec;
  const std::uint64_t fileSize = fs::file_size(path, ec);
  if (ec) throw FileError(path, "cannot read: " + ec.message());
  std::uint64_t hint = fileSize;
  if (isGzipFile(path)) {
    // The gzip trailer stores the decompressed size mod 2^32: a hint for the first
    // allocation, capped by the best ratio deflate can reach (about 1032:1).
    hint = 0;
    std::ifstream in(path, std::ios::binary);
    if (fileSize >= 18 && in.seekg(static_cast<std::streamoff>(fileSize - 4))) {
      unsigned char t[4];
      if (in.read(reinterpret_cast<char*>(t), 4)) {
        hint = std::uint64_t(t[0]) | std::uint64_t(t[1]) << 8 | std::uint64_t(t[2]) << 16 |
               std::uint64_t(t[3]) << 24;
      }
    }
    hint = std::min(hint, fileSize * 1040);
  }
  if (hint > maxBytes) {
    throw FileError(path,
                    "too large (" + sizeText(hint) + "; the limit is " + sizeText(maxBytes) + ")");
  }
  ByteStream stream(path, cancel);
  std::vector<std::uint8_t> bytes(static_cast<std::size_t>(hint) + 1);
  std::size_t size = 0;
  for (;;) {
    if (size == bytes.size()) {
      if (bytes.size() > maxBytes) {
        throw FileError(path,
                        "too large (more than " + sizeText(maxBytes) + " after decompression)");
      }
      bytes.resize(std::max<std::size_t>(bytes.size() * 2, 1 << 16));
    }
    std::size_t want = bytes.size() - size;
    std::size_t got = stream.read(bytes.data() + size, want);
    size += got;
    if (got < want) break;
  }
  if (size > maxBytes) {
    throw FileError(path, "too large (more than " + sizeText(maxBytes) + " after decompression)");
  }
  bytes.resize(size);
  return bytes;
}

}  // namespace otfuse::data
