#pragma once
// A minimal reader of tar archives (ustar, GNU long names, pax "path" records), plain or
// gzip-compressed, read as one stream: no external tar process, nothing written to disk.
#include <cstdint>
#include <string>
#include <vector>

#include "data/byte_stream.h"

namespace otfuse::data {

class TarReader {
 public:
  struct Entry {
    std::string name;  // path inside the archive, without a leading "./" or trailing "/"
    std::uint64_t size = 0;
    bool regular = false;  // a regular file (directories, links etc. are reported too)
  };

  /// Throws FileError if the file cannot be opened; reading throws otfuse::Cancelled once
  /// `cancel` is set.
  explicit TarReader(const std::string& path, const CancelFlag* cancel = nullptr);

  /// Advances to the next entry (skipping whatever was not read of the current one). Returns
  /// false at the end of the archive. Throws FileError on a damaged header or truncation.
  bool next(Entry& entry);
  /// The content of the current entry; call at most once per entry. Throws FileError if the
  /// entry is larger than maxBytes or the archive ends early.
  std::vector<std::uint8_t> read(std::uint64_t maxBytes = kMaxFileBytes);
  const std::string& path() const { return stream_.path(); }

 private:
  void skipRest();

  ByteStream stream_;
  Entry current_;
  std::uint64_t remaining_ = 0;  // unread bytes of the current entry
  std::uint64_t padding_ = 0;    // zero bytes after it, up to the next 512-byte block
};

}  // namespace otfuse::data
