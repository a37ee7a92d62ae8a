// Image folders root/{train,test}/<class>/*.png|jpg, as a folder or a tarball, decoded with
// stb_image (Debian's compiled libstb).
#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <stb_image.h>

#include <algorithm>
#include <filesystem>
#include <limits>
#include <map>
#include <set>

#include "data/byte_stream.h"
#include "data/sources.h"
#include "data/tar_reader.h"
#include "otfuse/error.h"

namespace fs = std::filesystem;

namespace otfuse::data {

namespace {

constexpr std::uint64_t kMaxImageBytes = 64u << 20;
constexpr long long kMaxPixels = 8192LL * 8192LL;
const char* kLayout = "expected <root>/{train,test}/<class>/*.png|jpg";

bool isHidden(const std::string& name) {
  return !name.empty() && name[0] == '.';
}

bool isImageName(const std::string& name) {
  if (isHidden(name)) return false;
  std::string ext = fs::path(name).extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  return ext == ".png" || ext == ".jpg" || ext == ".jpeg";
}

std::vector<std::string> sortedEntries(const fs::path& dir, bool dirs,
                                       const CancelFlag* cancel = nullptr) {
  std::vector<std::string> names;
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    throwIfCancelled(cancel);
    const std::string name = it->path().filename().string();
    std::error_code ec2;
    if (dirs ? (it->is_directory(ec2) && !isHidden(name))
             : (it->is_regular_file(ec2) && isImageName(name))) {
      names.push_back(name);
    }
  }
  if (ec) throw FileError(dir.string(), "cannot list the folder: " + ec.message());
  std::sort(names.begin(), names.end());
  return names;
}

// Class order: by name, or CIFAR-10's official order if the names are exactly its classes.
std::vector<std::string> orderClasses(std::vector<std::string> names) {
  if (isCifar10ClassSet(names)) return cifar10Classes();
  std::sort(names.begin(), names.end());
  return names;
}

void sortFiles(std::vector<ImageFile>& files) {
  std::stable_sort(files.begin(), files.end(), [](const ImageFile& a, const ImageFile& b) {
    return a.label != b.label ? a.label < b.label : a.name < b.name;
  });
}

ImageFolder scanDirectory(const std::string& root, bool wantTrain, bool wantTest,
                          const CancelFlag* cancel) {
  std::error_code ec;
  if (!fs::is_directory(root, ec)) throw FileError(root, "folder not found");
  const fs::path trainDir = fs::path(root) / "train";
  if (!fs::is_directory(trainDir, ec)) {
    throw FileError(trainDir.string(), std::string("folder not found (") + kLayout + ")");
  }
  ImageFolder folder;
  folder.root = root;
  folder.classes = orderClasses(sortedEntries(trainDir, true));
  if (folder.classes.empty()) {
    throw FileError(trainDir.string(), std::string("has no class folders (") + kLayout + ")");
  }
  std::map<std::string, int> index;
  for (std::size_t i = 0; i < folder.classes.size(); ++i) index[folder.classes[i]] = int(i);

  for (const char* split : {"train", "test"}) {
    const bool train = split[1] == 'r';
    if (!(train ? wantTrain : wantTest)) continue;
    const fs::path dir = fs::path(root) / split;
    if (!fs::is_directory(dir, ec)) {
      throw FileError(dir.string(), std::string("folder not found (") + kLayout + ")");
    }
    auto& files = train ? folder.train : folder.test;
    for (const std::string& cls : sortedEntries(dir, true)) {
      auto it = index.find(cls);
      if (it == index.end()) {
        throw FileError((dir / cls).string(), "class '" + cls + "' has no folder in train/");
      }
      for (const std::string& name : sortedEntries(dir / cls, false, cancel)) {
        files.push_back(ImageFile{(dir / cls / name).string(), {}, it->second});
      }
    }
    if (files.empty()) throw FileError(dir.string(), "contains no .png/.jpg images");
    sortFiles(files);
  }
  return folder;
}

// The split/class of a member "<prefix>/<split>/<class>/<file>"; false if it is not one.
bool splitMember(const std::string& member, std::string& prefix, std::string& split,
                 std::string& cls) {
  std::vector<std::string> parts;
  for (const auto& p : fs::path(member)) parts.push_back(p.string());
  if (parts.size() < 3 || !isImageName(parts.back())) return false;
  split = parts[parts.size() - 3];
  cls = parts[parts.size() - 2];
  if ((split != "train" && split != "test") || isHidden(cls)) return false;
  prefix.clear();
  for (std::size_t i = 0; i + 3 < parts.size(); ++i) prefix += parts[i] + "/";
  return true;
}

ImageFolder scanTarball(const std::string& root, bool wantTrain, bool wantTest, bool withBytes,
                        const CancelFlag* cancel) {
  TarReader tar(root, cancel);
  TarReader::Entry e;
  std::string prefix, split, cls, firstPrefix;
  bool any = false;
  std::set<std::string> trainClasses;
  std::vector<std::pair<std::string, ImageFile>> train, test;  // class name, file
  while (tar.next(e)) {
    if (!e.regular || !splitMember(e.name, prefix, split, cls)) continue;
    if (!any) {
      firstPrefix = prefix;
      any = true;
    } else if (prefix != firstPrefix) {
      throw FileError(
          root, "holds more than one image folder ('" + firstPrefix + "' and '" + prefix + "')");
    }
    const bool isTrain = split == "train";
    if (isTrain) trainClasses.insert(cls);
    if (!(isTrain ? wantTrain : wantTest)) continue;
    ImageFile f{root + ":" + e.name, {}, 0};
    if (withBytes) f.bytes = tar.read(kMaxImageBytes);
    (isTrain ? train : test).emplace_back(cls, std::move(f));
  }
  if (!any) throw FileError(root, std::string("holds no image folder (") + kLayout + ")");
  ImageFolder folder;
  folder.root = root;
  folder.classes = orderClasses({trainClasses.begin(), trainClasses.end()});
  std::map<std::string, int> index;
  for (std::size_t i = 0; i < folder.classes.size(); ++i) index[folder.classes[i]] = int(i);
  for (int s = 0; s < 2; ++s) {
    if (!(s == 0 ? wantTrain : wantTest)) continue;
    auto& src = s == 0 ? train : test;
    auto& files = s == 0 ? folder.train : folder.test;
    for (auto& [name, f] : src) {
      auto it = index.find(name);
      if (it == index.end()) {
        throw FileError(f.name, "class '" + name + "' has no folder in " + firstPrefix + "train/");
      }
      f.label = it->second;
      files.push_back(std::move(f));
    }
    if (files.empty()) {
      throw FileError(root, "has no images in " + firstPrefix + (s == 0 ? "train/" : "test/"));
    }
    sortFiles(files);
  }
  return folder;
}

// stb_image 2.27 (Debian's libstb) builds a JPEG Huffman table before checking that its code
// counts fit: a DHT segment declaring more than 256 codes writes past the table, into the rest
// of the decoder's heap block (found by fuzz_image, issue 8). This walks the markers the way
// stb_image reads them (segments by their length, a DHT by its tables, entropy-coded data up
// to the next marker; never less than stb would process) and reports such a table first.
// Returns false for a JPEG stb_image must not see.
bool jpegHuffmanTablesFit(const std::uint8_t* d, std::size_t n) {
  std::size_t p = 2;  // after SOI
  auto get8 = [&]() -> unsigned { return p < n ? d[p++] : (++p, 0u); };  // stb reads 0 past EOF
  while (p < n) {
    if (d[p] != 0xff) {  // between segments or entropy-coded data
      ++p;
      continue;
    }
    std::size_t q = p + 1;
    while (q < n && d[q] == 0xff) ++q;  // fill bytes
    if (q >= n) break;
    const unsigned marker = d[q];
    p = q + 1;
    // Byte stuffing, RSTn, TEM, SOI: no segment follows. EOI: stb_image stops there.
    if (marker == 0x00 || (marker >= 0xd0 && marker <= 0xd8) || marker == 0x01) continue;
    if (marker == 0xd9) return true;
    if (p + 2 > n) break;
    const std::size_t length = std::size_t(d[p]) << 8 | d[p + 1];
    if (marker != 0xc4) {  // APPn, COM, DQT, SOF, SOS header, DRI...: skipped by length
      p += length;
      continue;
    }
    p += 2;
    long left = static_cast<long>(length) - 2;
    while (left > 0) {  // like stb_image: whole tables, whatever the segment length says
      const unsigned tc = get8();
      if ((tc >> 4) > 1 || (tc & 15) > 3) return true;  // stb_image refuses it before building
      unsigned codes = 0;
      for (int i = 0; i < 16; ++i) codes += get8();
      if (codes > 256) return false;
      p += codes;
      left -= 17 + static_cast<long>(codes);
    }
    if (left != 0) return true;  // stb_image stops after this segment
  }
  return true;
}

// stb_image allocates a PNG IDAT chunk's declared length before reading it, and its inflate
// buffer from the IHDR size: a 100-byte file could make it allocate gigabytes (found by
// fuzz_image, issue 8). Every chunk must lie within the file, and the image must be small
// enough for its compressed data (deflate reaches at most about 1032:1). "" if fine.
std::string pngProblem(const std::uint8_t* d, std::size_t n) {
  auto be32 = [&](std::size_t at) {
    return std::uint32_t(d[at]) << 24 | std::uint32_t(d[at + 1]) << 16 |
           std::uint32_t(d[at + 2]) << 8 | std::uint32_t(d[at + 3]);
  };
  std::size_t p = 8;  // after the signature
  std::uint64_t idat = 0, width = 0, height = 0;
  unsigned depth = 0, color = 0;
  bool header = false;
  while (p + 8 <= n) {
    const std::uint64_t length = be32(p);
    const std::string type(reinterpret_cast<const char*>(d + p + 4), 4);
    if (length > n - p - 8) {
      return "cannot decode the image (corrupt PNG: chunk " + std::to_string(p) + " declares " +
             std::to_string(length) + " bytes, more than the file holds)";
    }
    if (type == "IHDR" && length >= 13) {
      header = true;
      width = be32(p + 8);
      height = be32(p + 12);
      depth = d[p + 16];
      color = d[p + 17];
    }
    if (type == "IDAT") idat += length;
    if (type == "IEND") break;
    p += 12 + length;  // length, type, data, CRC
  }
  const unsigned channels = color == 2 ? 3 : color == 4 ? 2 : color == 6 ? 4 : 1;
  // The filtered rows inflate to at least height * ceil(width * channels * depth / 8) bytes.
  const unsigned __int128 raw =
      static_cast<unsigned __int128>(height) * ((width * channels * depth + 7) / 8);
  if (header && raw > static_cast<unsigned __int128>(idat) * 1032 + 65536) {
    return "cannot decode the image (corrupt PNG: " + std::to_string(width) + "x" +
           std::to_string(height) + " pixels cannot come from " + std::to_string(idat) +
           " bytes of image data)";
  }
  return "";
}

struct Shape {
  int c = 0, h = 0, w = 0;
  bool operator==(const Shape& o) const { return c == o.c && h == o.h && w == o.w; }
};

std::string describe(const Shape& s) {
  return std::to_string(s.w) + "x" + std::to_string(s.h) + " with " + std::to_string(s.c) +
         (s.c == 1 ? " channel" : " channels");
}

// Decodes one image into `out` (C*H*W bytes) if its shape is `expected`, or, with an empty
// `expected`, sets it (and with a null `out` decodes nothing). Returns an error message, ""
// on success.
std::string decodeOne(const ImageFile& file, Shape& expected, std::uint8_t* out,
                      const std::string& firstName) {
  std::vector<std::uint8_t> loaded;
  const std::vector<std::uint8_t>* bytes = &file.bytes;
  if (file.bytes.empty()) {
    try {
      loaded = readFileBytes(file.name, kMaxImageBytes);
    } catch (const FileError& e) {
      return e.problem();
    }
    bytes = &loaded;
  }
  if (bytes->empty()) return "empty file";
  // stb_image would also decode TGA (which has no signature: most random bytes pass), PSD, GIF,
  // BMP, HDR, PIC and PNM data named .png: accept only what the file names promise.
  static const std::uint8_t kPng[] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
  static const std::uint8_t kJpeg[] = {0xff, 0xd8, 0xff};
  auto startsWith = [&](const std::uint8_t* sig, std::size_t n) {
    return bytes->size() >= n && std::equal(sig, sig + n, bytes->begin());
  };
  if (!startsWith(kPng, sizeof kPng) && !startsWith(kJpeg, sizeof kJpeg))
    return "cannot decode the image (not a PNG or JPEG file: unknown signature)";
  if (startsWith(kPng, sizeof kPng)) {
    std::string problem = pngProblem(bytes->data(), bytes->size());
    if (!problem.empty()) return problem;
  }
  if (startsWith(kJpeg, sizeof kJpeg) && !jpegHuffmanTablesFit(bytes->data(), bytes->size()))
    return "cannot decode the image (corrupt JPEG: a Huffman table declares more than 256 codes)";
  if (bytes->size() > static_cast<std::size_t>(std::numeric_limits<int>::max()))
    return "image file too large";
  const int len = static_cast<int>(bytes->size());
  int w = 0, h = 0, c = 0;
  if (!stbi_info_from_memory(bytes->data(), len, &w, &h, &c)) {
    return std::string("cannot decode the image (") + stbi_failure_reason() + ")";
  }
  if (w <= 0 || h <= 0 || static_cast<long long>(w) * h > kMaxPixels) {
    return "image too large (" + std::to_string(w) + "x" + std::to_string(h) + ")";
  }
  // Real JPEG encoders spend at least a bit or two per 8x8 block and component; stb_image
  // decodes missing data as zeros, so a truncated or forged 1 KB file could claim a
  // 65000x221 image and take seconds and 40 MB (found by fuzz_image, issue 8).
  if (startsWith(kJpeg, sizeof kJpeg) &&
      static_cast<long long>(w) * h > 1024LL * static_cast<long long>(len) + 65536) {
    return "cannot decode the image (corrupt JPEG: " + std::to_string(w) + "x" +
           std::to_string(h) + " pixels cannot come from " + std::to_string(len) + " bytes)";
  }
  const Shape shape{c == 4 ? 3 : c == 2 ? 1 : c, h, w};
  if (expected.c == 0) {
    expected = shape;
  } else if (!(shape == expected)) {
    return "image is " + describe(shape) + ", unlike the dataset's other images (" +
           describe(expected) + ", e.g. " + firstName + ")";
  }
  if (!out) return "";  // shape probe only
  unsigned char* pixels = stbi_load_from_memory(bytes->data(), len, &w, &h, &c, 0);
  if (!pixels) return std::string("cannot decode the image (") + stbi_failure_reason() + ")";
  if (w != shape.w || h != shape.h || (c == 4 ? 3 : c == 2 ? 1 : c) != shape.c) {
    stbi_image_free(pixels);
    return "image header and data disagree on the image size";
  }
  const std::size_t plane = std::size_t(w) * h;
  for (int ch = 0; ch < shape.c; ++ch) {
    std::uint8_t* dst = out + ch * plane;
    const unsigned char* src = pixels + ch;
    for (std::size_t p = 0; p < plane; ++p) dst[p] = src[p * c];
  }
  stbi_image_free(pixels);
  return "";
}

}  // namespace

ImageFolder scanImageFolder(const std::string& root, bool wantTrain, bool wantTest,
                            bool withBytes, const CancelFlag* cancel) {
  std::error_code ec;
  if (fs::is_directory(root, ec)) return scanDirectory(root, wantTrain, wantTest, cancel);
  if (!fs::exists(root, ec)) throw FileError(root, "image folder not found");
  return scanTarball(root, wantTrain, wantTest, withBytes, cancel);
}

at::Tensor decodeImages(const std::vector<ImageFile>& files, const CancelFlag* cancel) {
  if (files.empty()) return at::empty({0, 0, 0, 0}, at::kByte);
  // The first image fixes the shape the others must have.
  Shape shape;
  {
    std::string err = decodeOne(files[0], shape, nullptr, "");
    if (!err.empty()) throw FileError(files[0].name, err);
  }
  const long long n = static_cast<long long>(files.size());
  at::Tensor images = at::empty({n, shape.c, shape.h, shape.w}, at::kByte);
  const std::size_t per = std::size_t(shape.c) * shape.h * shape.w;
  std::uint8_t* out = images.data_ptr<std::uint8_t>();
  std::vector<std::string> errors(files.size());
  const std::string& firstName = files[0].name;
  at::parallel_for(0, n, 256, [&](std::int64_t begin, std::int64_t end) {
    for (std::int64_t i = begin; i < end; ++i) {
      if (cancel && cancel->load(std::memory_order_relaxed)) return;  // thrown below
      Shape expected = shape;
      try {
        errors[i] = decodeOne(files[i], expected, out + i * per, firstName);
      } catch (const std::exception& e) {
        errors[i] = e.what();
      }
    }
  });
  throwIfCancelled(cancel);
  for (std::size_t i = 0; i < errors.size(); ++i) {
    if (!errors[i].empty()) throw FileError(files[i].name, errors[i]);
  }
  return images;
}

}  // namespace otfuse::data
