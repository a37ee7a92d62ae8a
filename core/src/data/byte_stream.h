#pragma once
// Sequential reading of plain or gzip-compressed files (zlib), with limits so that a hostile
// file cannot make us allocate more than the data it really holds.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "otfuse/runtime.h"

typedef struct gzFile_s* gzFile;

namespace otfuse::data {

/// Files larger than this (after decompression) are refused.
constexpr std::uint64_t kMaxFileBytes = std::uint64_t(2) << 30;

/// True if `path` starts with the gzip magic bytes 1f 8b.
bool isGzipFile(const std::string& path);

/// Reads a file front to back, gunzipping it if it is gzip-compressed (several gzip members
/// are read in sequence); a file that is not gzip is read as is. Not copyable.
/// With a `cancel` flag, read() and skip() throw otfuse::Cancelled once it is set (checked
/// every kCancelChunk bytes), so loading a large dataset can be stopped.
class ByteStream {
 public:
  static constexpr std::size_t kCancelChunk = std::size_t(4) << 20;

  /// Throws FileError if the file is missing, not a regular file or cannot be opened.
  explicit ByteStream(const std::string& path, const CancelFlag* cancel = nullptr);
  ~ByteStream();
  ByteStream(const ByteStream&) = delete;
  ByteStream& operator=(const ByteStream&) = delete;

  /// Reads up to n bytes; returns fewer only at the end of the data. Throws FileError on
  /// corrupt or truncated gzip data.
  std::size_t read(void* dst, std::size_t n);
  /// Skips n bytes; returns how many were skipped (fewer only at the end of the data).
  std::uint64_t skip(std::uint64_t n);
  /// Bytes delivered so far (decompressed).
  std::uint64_t position() const { return position_; }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  gzFile file_ = nullptr;
  std::uint64_t position_ = 0;
  const CancelFlag* cancel_ = nullptr;
};

/// The whole (decompressed) content of a file. Memory grows with the data actually read, never
/// with a size announced by a header. Throws FileError (missing, unreadable, corrupt gzip,
/// larger than maxBytes); Cancelled when `cancel` is set.
std::vector<std::uint8_t> readFileBytes(const std::string& path,
                                        std::uint64_t maxBytes = kMaxFileBytes,
                                        const CancelFlag* cancel = nullptr);

/// Reads the next `count` bytes of `stream` (e.g. a tar member whose size a header announced)
/// into a vector that grows with the data actually read. Throws FileError naming `what` if the
/// data ends first.
std::vector<std::uint8_t> readBytes(ByteStream& stream, std::uint64_t count,
                                    const std::string& what);

}  // namespace otfuse::data
