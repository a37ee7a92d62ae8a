#include "data/tar_reader.h"

#include <algorithm>
#include <cstring>

#include "otfuse/error.h"

namespace otfuse::data {

namespace {

constexpr std::size_t kBlock = 512;

std::string field(const unsigned char* p, std::size_t n) {
  std::size_t len = 0;
  while (len < n && p[len]) ++len;
  return std::string(reinterpret_cast<const char*>(p), len);
}

// Numeric header field: octal digits (padded with spaces/NULs), or GNU base-256 if the high
// bit of the first byte is set. Returns false if malformed.
bool number(const unsigned char* p, std::size_t n, std::uint64_t& out) {
  out = 0;
  if (p[0] & 0x80) {
    if (p[0] & 0x40) return false;  // negative
    std::uint64_t v = p[0] & 0x3f;
    for (std::size_t i = 1; i < n; ++i) {
      if (v >> 55) return false;  // would overflow
      v = (v << 8) | p[i];
    }
    out = v;
    return true;
  }
  std::size_t i = 0;
  while (i < n && p[i] == ' ') ++i;
  bool any = false;
  for (; i < n && p[i] >= '0' && p[i] <= '7'; ++i) {
    if (out >> 60) return false;
    out = out * 8 + (p[i] - '0');
    any = true;
  }
  for (; i < n; ++i) {
    if (p[i] != ' ' && p[i] != 0) return false;
  }
  return any;
}

std::string cleanName(std::string name) {
  while (name.rfind("./", 0) == 0) name.erase(0, 2);
  while (!name.empty() && name.back() == '/') name.pop_back();
  return name;
}

// The "path" record of a pax extended header ("<len> path=<value>\n" records), or "".
std::string paxPath(const std::vector<std::uint8_t>& data) {
  std::size_t pos = 0;
  std::string found;
  while (pos < data.size()) {
    std::size_t sp = pos;
    std::size_t len = 0;
    while (sp < data.size() && data[sp] >= '0' && data[sp] <= '9' && len < data.size()) {
      len = len * 10 + (data[sp] - '0');
      ++sp;
    }
    // A record's length counts its own digits and space: one shorter than that is malformed
    // (it made the record's size negative: found by fuzz_tar, issue 8). Malformed records end
    // the header, as before.
    if (sp >= data.size() || data[sp] != ' ' || pos + len > data.size() || pos + len < sp + 1)
      break;
    std::string record(reinterpret_cast<const char*>(data.data()) + sp + 1, pos + len - sp - 1);
    if (!record.empty() && record.back() == '\n') record.pop_back();
    if (record.rfind("path=", 0) == 0) found = record.substr(5);
    pos += len;
  }
  return found;
}

}  // namespace

TarReader::TarReader(const std::string& path, const CancelFlag* cancel) : stream_(path, cancel) {}

void TarReader::skipRest() {
  std::uint64_t n = remaining_ + padding_;
  remaining_ = padding_ = 0;
  if (n && stream_.skip(n) < n) {
    throw FileError(path(),
                    "truncated tar archive (the data of '" + current_.name + "' ends early)");
  }
}

bool TarReader::next(Entry& entry) {
  skipRest();
  std::string longName;
  for (;;) {
    unsigned char h[kBlock];
    const std::uint64_t offset = stream_.position();
    std::size_t got = stream_.read(h, kBlock);
    if (got == 0) return false;  // end of data without the two zero blocks: accepted
    if (got < kBlock) throw FileError(path(), "truncated tar archive (partial header block)");
    if (std::all_of(h, h + kBlock, [](unsigned char c) { return c == 0; })) return false;

    std::uint64_t stored = 0;
    unsigned long sumUnsigned = 0;
    long sumSigned = 0;
    for (std::size_t i = 0; i < kBlock; ++i) {
      unsigned char c = (i >= 148 && i < 156) ? ' ' : h[i];
      sumUnsigned += c;
      sumSigned += static_cast<signed char>(c);
    }
    if (!number(h + 148, 8, stored) ||
        (stored != sumUnsigned && static_cast<long>(stored) != sumSigned)) {
      throw FileError(path(), offset == 0 ? "not a tar archive (no valid tar header)"
                                          : "damaged tar archive (bad header checksum at byte " +
                                                std::to_string(offset) + ")");
    }
    std::uint64_t size = 0;
    if (!number(h + 124, 12, size)) {
      throw FileError(
          path(), "damaged tar archive (bad size field at byte " + std::to_string(offset) + ")");
    }
    const char type = static_cast<char>(h[156]);
    std::string name = field(h, 100);
    if (std::memcmp(h + 257, "ustar", 5) == 0) {
      std::string prefix = field(h + 345, 155);
      if (!prefix.empty()) name = prefix + "/" + name;
    }
    current_ = Entry{cleanName(name), size, false};
    remaining_ = size;
    padding_ = (kBlock - size % kBlock) % kBlock;

    if (type == 'L' || type == 'x') {  // GNU long name / pax extended header: next entry's name
      auto data = read(1 << 20);
      if (type == 'L') {
        longName = cleanName(field(data.data(), data.size()));
      } else if (auto p = paxPath(data); !p.empty()) {
        longName = cleanName(p);
      }
      skipRest();
      continue;
    }
    if (type == 'g' || type == 'K') {  // global pax header, GNU long link name: ignored
      skipRest();
      continue;
    }
    if (!longName.empty()) current_.name = longName;
    current_.regular = (type == '0' || type == '\0' || type == '7');
    entry = current_;
    return true;
  }
}

std::vector<std::uint8_t> TarReader::read(std::uint64_t maxBytes) {
  if (remaining_ > maxBytes) {
    throw FileError(path(), "'" + current_.name + "' in the archive is too large (" +
                                std::to_string(remaining_) + " bytes)");
  }
  std::uint64_t n = remaining_;
  remaining_ = 0;
  return readBytes(stream_, n, "'" + current_.name + "' in the archive");
}

}  // namespace otfuse::data
