// Datasets: idx (MNIST format, raw and gzip), CIFAR-10 binary (extracted and tar.gz), image
// folders (PNG/JPEG, folder and tarball), broken files, importCifar10 round trips.
#include <ATen/ATen.h>

#include <QtTest>

#include "common/otfuse_test.h"
#include <atomic>
#include <chrono>
#include <ctime>
#include <thread>

#include "core/data_fixtures.h"
#include "otfuse/data/dataset.h"
#include "otfuse/error.h"

using namespace fixtures;
using otfuse::Split;

Q_DECLARE_METATYPE(std::string)

namespace {

const std::vector<std::string> kCifarNames = {"airplane", "automobile", "bird",  "cat",  "deer",
                                              "dog",      "frog",       "horse", "ship", "truck"};

// Writes the four MNIST files into dir (n train / m test images of rows x cols).
void writeMnist(const fs::path& dir, int n, int m, bool gzip, bool dotted = false) {
  auto name = [&](std::string base) {
    if (dotted) base[base.find("-idx")] = '.';
    return base + (gzip ? ".gz" : "");
  };
  writeFile(dir / name("train-images-idx3-ubyte"), idxImages(n, 28, 28), gzip);
  writeFile(dir / name("train-labels-idx1-ubyte"), idxLabels(n), gzip);
  writeFile(dir / name("t10k-images-idx3-ubyte"), idxImages(m, 28, 28), gzip);
  writeFile(dir / name("t10k-labels-idx1-ubyte"), idxLabels(m), gzip);
}

// An image folder root/{train,test}/<class>/NNN.(png|jpg), `per` images per class and split.
void writeFolder(const fs::path& root, const std::vector<std::string>& classes, int per, int w,
                 int h, int c, bool jpeg) {
  for (const char* split : {"train", "test"}) {
    for (std::size_t k = 0; k < classes.size(); ++k) {
      for (int j = 0; j < per; ++j) {
        char name[32];
        std::snprintf(name, sizeof name, "%03d.%s", j, jpeg ? "jpg" : "png");
        writeFile(root / split / classes[k] / name,
                  encodeImage(folderImage(int(k), j, w, h, c, !jpeg), w, h, c, jpeg));
      }
    }
  }
}

// The same folder as a list of tar members under `prefix`.
std::vector<std::pair<std::string, Bytes>> folderMembers(const fs::path& root,
                                                         const std::string& prefix) {
  std::vector<std::pair<std::string, Bytes>> members;
  for (const auto& e : fs::recursive_directory_iterator(root)) {
    if (!e.is_regular_file()) continue;
    std::ifstream in(e.path(), std::ios::binary);
    Bytes b((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    members.emplace_back(prefix + fs::relative(e.path(), root).string(), std::move(b));
  }
  return members;
}

// Runs `fn`, expects a FileError whose path mentions `file` and whose text mentions `word`.
template <typename Fn>
void expectFileError(Fn fn, const std::string& file, const std::string& word) {
  try {
    fn();
  } catch (const otfuse::FileError& e) {
    const std::string what = e.what();
    QVERIFY2(e.path().find(file) != std::string::npos,
             qPrintable(QString("'%1' does not name %2").arg(what.c_str(), file.c_str())));
    QVERIFY2(what.find(word) != std::string::npos,
             qPrintable(QString("'%1' does not say '%2'").arg(what.c_str(), word.c_str())));
    return;
  } catch (const std::exception& e) {
    QFAIL(qPrintable(QString("expected FileError, got: %1").arg(e.what())));
  }
  QFAIL("expected FileError, nothing thrown");
}

}  // namespace

class TestData : public QObject {
  Q_OBJECT

 private slots:
  void resolveDataDirOrder() {
    const QByteArray oldDir = qgetenv("OTFUSE_DATA_DIR");
    QCOMPARE(otfuse::resolveDataDir("/x/y"), std::string("/x/y"));
    qputenv("OTFUSE_DATA_DIR", "/env/data");
    QCOMPARE(otfuse::resolveDataDir(), std::string("/env/data"));
    qunsetenv("OTFUSE_DATA_DIR");
    const QByteArray oldXdg = qgetenv("XDG_DATA_HOME");
    qputenv("XDG_DATA_HOME", "/xdg");
    QCOMPARE(otfuse::resolveDataDir(), std::string("/xdg/otfuse/datasets"));
    if (oldXdg.isEmpty()) {
      qunsetenv("XDG_DATA_HOME");
    } else {
      qputenv("XDG_DATA_HOME", oldXdg);
    }
    if (!oldDir.isEmpty()) qputenv("OTFUSE_DATA_DIR", oldDir);
  }

  void idxLoads_data() {
    QTest::addColumn<bool>("gzip");
    QTest::addColumn<bool>("dotted");
    QTest::newRow("raw") << false << false;
    QTest::newRow("gzip") << true << false;
    QTest::newRow("raw, dot spelling") << false << true;
    QTest::newRow("gzip, dot spelling") << true << true;
  }
  void idxLoads() {
    QFETCH(bool, gzip);
    QFETCH(bool, dotted);
    QTemporaryDir tmp;
    const fs::path dir = tmp.path().toStdString();
    writeMnist(dir / "mnist", 12, 7, gzip, dotted);
    auto loc = otfuse::findDataset("mnist", dir.string());
    QVERIFY2(loc.found, loc.detail.c_str());
    QCOMPARE(loc.trainSize, 12LL);
    QCOMPARE(loc.testSize, 7LL);
    QCOMPARE(loc.detail, std::string(gzip ? "idx, gzip" : "idx"));

    for (Split split : {Split::Train, Split::Test}) {
      const auto ds = otfuse::loadDataset("mnist", split, dir.string());
      const long long n = split == Split::Train ? 12 : 7;
      QCOMPARE(ds.size(), n);
      QCOMPARE(ds.images.sizes().vec(), (std::vector<int64_t>{n, 1, 28, 28}));
      QCOMPARE(ds.images.scalar_type(), at::kByte);
      QCOMPARE(ds.labels.scalar_type(), at::kLong);
      QCOMPARE(ds.classes.size(), size_t(10));
      for (long long i = 0; i < n; ++i)
        QCOMPARE((long long)ds.labels[i].item<int64_t>(), (long long)labelOf(i));
      QCOMPARE(ds.images[3][0][1][2].item<int>(), int(pixel(3, 1 * 28 + 2)));
      QCOMPARE(ds.mean, std::vector<float>{0.1307f});
      QCOMPARE(ds.std, std::vector<float>{0.3081f});
      // normalized: (x/255 - mean)/std on a subset.
      const auto x = ds.normalized(at::tensor(std::vector<int64_t>{3, 0}));
      QCOMPARE(x.sizes().vec(), (std::vector<int64_t>{2, 1, 28, 28}));
      QCOMPARE(x.scalar_type(), at::kFloat);
      const float expected = (pixel(3, 30) / 255.0f - 0.1307f) / 0.3081f;
      QVERIFY(std::abs(x[0][0][1][2].item<float>() - expected) < 1e-5f);
      QCOMPARE((long long)ds.normalized().size(0), n);
    }
  }

  void normalizedRejectsBadIndices() {
    QTemporaryDir tmp;
    const fs::path dir = tmp.path().toStdString();
    writeMnist(dir / "mnist", 4, 2, false);
    const auto ds = otfuse::loadDataset("mnist", Split::Test, dir.string());
    QVERIFY_THROWS_EXCEPTION(otfuse::Error, ds.normalized(at::tensor(std::vector<int64_t>{2})));
    QVERIFY_THROWS_EXCEPTION(otfuse::Error, ds.normalized(at::tensor(std::vector<int64_t>{-1})));
    QVERIFY_THROWS_EXCEPTION(otfuse::Error,
                             otfuse::loadDataset("imagenet", Split::Test, dir.string()));
  }

  void idxBroken_data() {
    QTest::addColumn<std::string>("file");  // file to break (under mnist/)
    QTest::addColumn<std::string>("breakage");
    QTest::addColumn<std::string>("word");  // expected in the message
    QTest::newRow("images: wrong magic")
        << std::string("train-images-idx3-ubyte") << std::string("magic") << std::string("magic");
    QTest::newRow("labels: wrong magic")
        << std::string("train-labels-idx1-ubyte") << std::string("magic") << std::string("magic");
    QTest::newRow("images: truncated") << std::string("train-images-idx3-ubyte")
                                       << std::string("truncate") << std::string("truncated");
    QTest::newRow("images: gzip truncated")
        << std::string("train-images-idx3-ubyte") << std::string("gztruncate")
        << std::string("truncated");
    QTest::newRow("images: header too short") << std::string("train-images-idx3-ubyte")
                                              << std::string("short") << std::string("truncated");
    QTest::newRow("images: hostile count") << std::string("train-images-idx3-ubyte")
                                           << std::string("hugecount") << std::string("truncated");
    QTest::newRow("images: extra bytes") << std::string("train-images-idx3-ubyte")
                                         << std::string("extra") << std::string("bytes more");
    QTest::newRow("labels: count mismatch") << std::string("train-labels-idx1-ubyte")
                                            << std::string("fewer") << std::string("labels but");
    QTest::newRow("labels: out of range") << std::string("train-labels-idx1-ubyte")
                                          << std::string("range") << std::string("out of range");
    QTest::newRow("labels: missing") << std::string("train-labels-idx1-ubyte")
                                     << std::string("delete") << std::string("not found");
    QTest::newRow("labels: not gzip")
        << std::string("train-labels-idx1-ubyte") << std::string("badgz") << std::string("gzip");
  }
  void idxBroken() {
    QFETCH(std::string, file);
    QFETCH(std::string, breakage);
    QFETCH(std::string, word);
    QTemporaryDir tmp;
    const fs::path dir = tmp.path().toStdString();
    writeMnist(dir / "mnist", 10, 3, false);
    const fs::path p = dir / "mnist" / file;
    const bool images = file.find("images") != std::string::npos;
    Bytes b = images ? idxImages(10, 28, 28) : idxLabels(10);
    if (breakage == "magic") {
      b[3] = 0x02;
    } else if (breakage == "truncate") {
      b.resize(b.size() - 100);
    } else if (breakage == "gztruncate") {
      fs::remove(p);
      writeFile(p.string() + ".gz", b, true);
      Bytes gz;
      std::ifstream in(p.string() + ".gz", std::ios::binary);
      gz.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
      gz.resize(gz.size() / 2);
      writeFile(p.string() + ".gz", gz);
      expectFileError([&] { otfuse::loadDataset("mnist", Split::Train, dir.string()); },
                      file + ".gz", word);
      return;
    } else if (breakage == "short") {
      b.resize(10);
    } else if (breakage == "hugecount") {
      b[4] = 0xff, b[5] = 0xff, b[6] = 0xff, b[7] = 0xff;
    } else if (breakage == "extra") {
      b.resize(b.size() + 5, 0);
    } else if (breakage == "fewer") {
      b = idxLabels(9);
    } else if (breakage == "range") {
      b[8 + 4] = 10;
    } else if (breakage == "delete") {
      fs::remove(p);
      expectFileError([&] { otfuse::loadDataset("mnist", Split::Train, dir.string()); }, file,
                      word);
      auto loc = otfuse::findDataset("mnist", dir.string());
      QVERIFY(!loc.found);
      QVERIFY(loc.detail.find(file) != std::string::npos);
      return;
    } else if (breakage == "badgz") {
      fs::remove(p);
      b = {0x1f, 0x8b, 0x08, 0, 0, 0, 0, 0, 0, 3, 0xde, 0xad, 0xbe, 0xef, 1, 2, 3, 4, 5, 6};
      writeFile(p.string() + ".gz", b);
      expectFileError([&] { otfuse::loadDataset("mnist", Split::Train, dir.string()); },
                      file + ".gz", word);
      return;
    }
    writeFile(p, b);
    expectFileError([&] { otfuse::loadDataset("mnist", Split::Train, dir.string()); }, file, word);
    // The other split is unaffected.
    QCOMPARE(otfuse::loadDataset("mnist", Split::Test, dir.string()).size(), 3LL);
  }

  void cifarLoads_data() {
    QTest::addColumn<bool>("tarball");
    QTest::addColumn<bool>("meta");
    QTest::newRow("extracted") << false << false;
    QTest::newRow("extracted, batches.meta.txt") << false << true;
    QTest::newRow("tar.gz") << true << false;
    QTest::newRow("tar.gz, batches.meta.txt") << true << true;
  }
  void cifarLoads() {
    QFETCH(bool, tarball);
    QFETCH(bool, meta);
    QTemporaryDir tmp;
    const fs::path dir = tmp.path().toStdString();
    auto files = cifarFiles(4, 6);
    std::vector<std::string> names;
    for (int k = 0; k < 10; ++k) names.push_back("c" + std::to_string(k));
    if (meta) {
      std::string text;
      for (const auto& n : names) text += n + "\n";
      text += "\n";
      files.emplace_back("batches.meta.txt", Bytes(text.begin(), text.end()));
    }
    if (tarball) {
      std::vector<std::pair<std::string, Bytes>> members;
      for (auto& [n, b] : files) members.emplace_back("cifar-10-batches-bin/" + n, b);
      writeTar(dir / "cifar10" / "cifar-10-binary.tar.gz", members, true);
    } else {
      for (auto& [n, b] : files) writeFile(dir / "cifar10" / "cifar-10-batches-bin" / n, b);
    }
    auto loc = otfuse::findDataset("cifar10", dir.string());
    QVERIFY2(loc.found, loc.detail.c_str());
    QCOMPARE(loc.trainSize, 20LL);
    QCOMPARE(loc.testSize, 6LL);

    const auto train = otfuse::loadDataset("cifar10", Split::Train, dir.string());
    QCOMPARE(train.images.sizes().vec(), (std::vector<int64_t>{20, 3, 32, 32}));
    QCOMPARE(train.classes, meta ? names : kCifarNames);
    for (int i = 0; i < 20; ++i)
      QCOMPARE((long long)train.labels[i].item<int64_t>(), (long long)labelOf(i));
    // Channel planes: record bytes 1..1024 red, then green, then blue.
    QCOMPARE(train.images[13][0][0][5].item<int>(), int(pixel(13, 5)));
    QCOMPARE(train.images[13][1][2][3].item<int>(), int(pixel(13, 1024 + 2 * 32 + 3)));
    QCOMPARE(train.images[13][2][31][31].item<int>(), int(pixel(13, 3071)));
    QCOMPARE(train.mean, (std::vector<float>{0.4914f, 0.4822f, 0.4465f}));
    QCOMPARE(train.std, (std::vector<float>{0.2023f, 0.1994f, 0.2010f}));
    const auto x = train.normalized(at::tensor(std::vector<int64_t>{13}));
    const float g = (pixel(13, 1024 + 2 * 32 + 3) / 255.0f - 0.4822f) / 0.1994f;
    QVERIFY(std::abs(x[0][1][2][3].item<float>() - g) < 1e-5f);

    const auto test = otfuse::loadDataset("cifar10", Split::Test, dir.string());
    QCOMPARE(test.size(), 6LL);
    QCOMPARE((long long)test.labels[0].item<int64_t>(), (long long)labelOf(1000));
  }

  void cifarBroken_data() {
    QTest::addColumn<bool>("tarball");
    QTest::addColumn<std::string>("breakage");
    QTest::addColumn<std::string>("file");
    QTest::addColumn<std::string>("word");
    for (bool tar : {false, true}) {
      const std::string t = tar ? "tar.gz: " : "extracted: ";
      QTest::newRow((t + "truncated batch").c_str())
          << tar << std::string("truncate") << std::string("data_batch_3.bin")
          << std::string("records");
      QTest::newRow((t + "label out of range").c_str())
          << tar << std::string("label") << std::string("data_batch_3.bin")
          << std::string("out of range");
      QTest::newRow((t + "missing batch").c_str())
          << tar << std::string("missing")
          << std::string(tar ? "cifar-10-binary.tar.gz" : "data_batch_3.bin")
          << std::string("data_batch_3.bin");
      QTest::newRow((t + "bad meta").c_str())
          << tar << std::string("meta") << std::string("batches.meta.txt")
          << std::string("class names");
    }
    QTest::newRow("tar.gz: damaged header")
        << true << std::string("header") << std::string("cifar-10-binary.tar.gz")
        << std::string("tar");
    QTest::newRow("tar.gz: truncated archive")
        << true << std::string("cut") << std::string("cifar-10-binary.tar.gz")
        << std::string("truncated");
  }
  void cifarBroken() {
    QFETCH(bool, tarball);
    QFETCH(std::string, breakage);
    QFETCH(std::string, file);
    QFETCH(std::string, word);
    QTemporaryDir tmp;
    const fs::path dir = tmp.path().toStdString();
    auto files = cifarFiles(3, 3);
    Bytes& b3 = files[2].second;
    if (breakage == "truncate") b3.resize(b3.size() - 7);
    if (breakage == "label") b3[3073] = 11;  // record 1
    if (breakage == "missing") files.erase(files.begin() + 2);
    if (breakage == "meta") files.emplace_back("batches.meta.txt", Bytes{'a', '\n', 'b', '\n'});
    const fs::path tgz = dir / "cifar10" / "cifar-10-binary.tar.gz";
    if (tarball) {
      std::vector<std::pair<std::string, Bytes>> members;
      for (auto& [n, b] : files) members.emplace_back("cifar-10-batches-bin/" + n, b);
      writeTar(tgz, members, breakage != "header" && breakage != "cut");
      if (breakage == "header" || breakage == "cut") {
        std::ifstream in(tgz, std::ios::binary);
        Bytes t((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        if (breakage == "header") t[512 + (3 * 3073 + 511) / 512 * 512 + 10] ^= 0x55;  // 2nd name
        if (breakage == "cut") t.resize(512 + 2000);
        writeFile(tgz, t, true);
      }
    } else {
      for (auto& [n, b] : files) writeFile(dir / "cifar10" / "cifar-10-batches-bin" / n, b);
    }
    expectFileError([&] { otfuse::loadDataset("cifar10", Split::Train, dir.string()); }, file,
                    word);
  }

  void folderLoads_data() {
    QTest::addColumn<bool>("jpeg");
    QTest::addColumn<int>("channels");
    QTest::addColumn<bool>("cifarNames");
    QTest::addColumn<bool>("tarball");
    QTest::newRow("png rgb") << false << 3 << false << false;
    QTest::newRow("png gray") << false << 1 << false << false;
    QTest::newRow("png rgba → rgb") << false << 4 << false << false;
    QTest::newRow("jpg rgb") << true << 3 << false << false;
    QTest::newRow("png rgb, CIFAR-10 class names") << false << 3 << true << false;
    QTest::newRow("png rgb, tar.gz") << false << 3 << false << true;
    QTest::newRow("jpg rgb, CIFAR-10 class names, tar.gz") << true << 3 << true << true;
  }
  void folderLoads() {
    QFETCH(bool, jpeg);
    QFETCH(int, channels);
    QFETCH(bool, cifarNames);
    QFETCH(bool, tarball);
    QTemporaryDir tmp;
    const fs::path dir = tmp.path().toStdString();
    // Written in a scrambled order: the loader must sort by name (or use CIFAR-10's order).
    std::vector<std::string> written =
        cifarNames ? std::vector<std::string>{"truck", "cat",  "airplane",   "dog",  "ship",
                                              "bird",  "frog", "automobile", "deer", "horse"}
                   : std::vector<std::string>{"zebra", "apple", "mango"};
    const int per = 3, w = 10, h = 8;
    writeFolder(dir / "folder", written, per, w, h, channels, jpeg);
    std::string root = (dir / "folder").string();
    if (tarball) {
      root = (dir / "folder.tar.gz").string();
      writeTar(root, folderMembers(dir / "folder", "myset/"), true);
      fs::remove_all(dir / "folder");
    }
    const auto expectedClasses =
        cifarNames ? kCifarNames : std::vector<std::string>{"apple", "mango", "zebra"};
    auto loc = otfuse::findDataset("folder:" + root, dir.string());
    QVERIFY2(loc.found, loc.detail.c_str());
    QCOMPARE(loc.trainSize, (long long)(per * written.size()));

    const auto ds = otfuse::loadDataset("folder:" + root, Split::Train);
    const int c = channels == 4 ? 3 : channels;
    const long long n = per * (long long)written.size();
    QCOMPARE(ds.images.sizes().vec(), (std::vector<int64_t>{n, c, h, w}));
    QCOMPARE(ds.classes, expectedClasses);
    QCOMPARE(ds.mean.size(), size_t(c));
    QCOMPARE(ds.mean[0], c == 3 ? 0.4914f : 0.1307f);
    // Sample order: by class (in the class order), then file name.
    for (long long i = 0; i < n; ++i) {
      const int label = int(i / per), j = int(i % per);
      QCOMPARE((long long)ds.labels[i].item<int64_t>(), (long long)label);
      const int k =
          int(std::find(written.begin(), written.end(), expectedClasses[label]) - written.begin());
      const Bytes img = folderImage(k, j, w, h, channels, !jpeg);
      const int cc = channels;  // interleaved stride of the written image
      for (int ch = 0; ch < c; ++ch) {
        const int x = 3, y = 5;
        const int want = img[(y * w + x) * cc + ch];
        const int got = ds.images[i][ch][y][x].item<int>();
        if (jpeg) {
          QVERIFY2(
              std::abs(got - want) <= 4,
              qPrintable(QString("sample %1 ch %2: %3 vs %4").arg(i).arg(ch).arg(got).arg(want)));
        } else {
          QCOMPARE(got, want);
        }
      }
    }
    QCOMPARE(otfuse::loadDataset("folder:" + root, Split::Test).size(), n);
  }

  // Issue 8: closing the app must not wait for a dataset to finish loading. With the flag set
  // before the call, every format stops at its first check; set from another thread 20 ms into
  // the load of a large image folder, the load stops long before it would have finished.
  void loadingStopsWhenCancelled_data() {
    QTest::addColumn<std::string>("format");
    QTest::newRow("idx raw") << std::string("idx");
    QTest::newRow("idx gzip") << std::string("idx.gz");
    QTest::newRow("cifar10 tar.gz") << std::string("cifar.tar.gz");
    QTest::newRow("image folder") << std::string("folder");
    QTest::newRow("image folder tar.gz") << std::string("folder.tar.gz");
  }
  void loadingStopsWhenCancelled() {
    QFETCH(std::string, format);
    QTemporaryDir tmp;
    const fs::path dir = tmp.path().toStdString();
    std::string name = "mnist";
    if (format == "idx" || format == "idx.gz") {
      writeMnist(dir / "mnist", 600, 100, format == "idx.gz");
    } else if (format == "cifar.tar.gz") {
      std::vector<std::pair<std::string, Bytes>> members;
      for (auto& [file, bytes] : cifarFiles(20, 10))
        members.emplace_back("cifar-10-batches-bin/" + file, std::move(bytes));
      writeTar(dir / "cifar10" / "cifar-10-binary.tar.gz", members, true);
      name = "cifar10";
    } else {
      writeFolder(dir / "folder", {"a", "b"}, 3, 10, 8, 1, false);
      name = "folder:" + (dir / "folder").string();
      if (format == "folder.tar.gz") {
        writeTar(dir / "folder.tar.gz", folderMembers(dir / "folder", "set/"), true);
        name = "folder:" + (dir / "folder.tar.gz").string();
      }
    }
    // Loads fine without the flag set ...
    otfuse::CancelFlag never{false};
    QVERIFY(otfuse::loadDataset(name, Split::Test, dir.string(), &never).size() > 0);
    // ... and stops at once with it set.
    otfuse::CancelFlag preset{true};
    QVERIFY_THROWS_EXCEPTION(otfuse::Cancelled,
                             otfuse::loadDataset(name, Split::Test, dir.string(), &preset));
  }

  void largeFolderLoadStopsMidway() {
    QTemporaryDir tmp;
    const fs::path root = fs::path(tmp.path().toStdString()) / "big";
    writeFolder(root, {"a", "b"}, 1, 28, 28, 1, false);
    // 12,000 test images: hard links to one PNG (cheap to make, each decoded on its own).
    const fs::path one = root / "test" / "a" / "000.png";
    for (int i = 1; i < 12000; ++i) {
      char file[32];
      std::snprintf(file, sizeof file, "%05d.png", i);
      fs::create_hard_link(one, root / "test" / "a" / file);
    }
    const std::string name = "folder:" + root.string();
    using Clock = std::chrono::steady_clock;
    auto ms = [](Clock::duration d) {
      return std::chrono::duration<double, std::milli>(d).count();
    };
    auto t0 = Clock::now();
    QCOMPARE(otfuse::loadDataset(name, Split::Test).size(), 12001LL);  // and test/b/000.png
    const double fullMs = ms(Clock::now() - t0);
    qInfo("the whole load takes %.0f ms", fullMs);
    QVERIFY2(fullMs > 150, "too fast to show a cancel midway");
    otfuse::CancelFlag flag{false};
    std::thread setter([&] {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
      flag.store(true);
    });
    t0 = Clock::now();
    bool cancelled = false;
    try {
      otfuse::loadDataset(name, Split::Test, "", &flag);
    } catch (const otfuse::Cancelled&) {
      cancelled = true;
    }
    const double cancelMs = ms(Clock::now() - t0);
    setter.join();
    qInfo("cancelled after %.1f ms", cancelMs);
    QVERIFY2(cancelled, "the load finished instead of stopping");
    QVERIFY2(cancelMs < 20 + fullMs / 3,
             qPrintable(QString("stopped after %1 ms of a %2 ms load").arg(cancelMs).arg(fullMs)));
  }

  // Issue 8: inputs that crashed, hung or exhausted memory in the libFuzzer targets
  // (tests/fuzz), stored as libFuzzer wrote them in fixtures/fuzz-regressions. Each is put
  // where a dataset loader reads it and must give a FileError naming it.
  //   image         an image folder's only image, train/a/000.<extension of the file>
  //   mnist-images  MNIST's train-images-idx3-ubyte (the other three files valid)
  //   mnist-labels  MNIST's train-labels-idx1-ubyte
  //   folder-tar    an image folder tarball, folder:<file>
  //   cifar-tar     cifar10/cifar-10-binary.tar.gz under the data dir
  void fuzzRegressions_data() {
    QTest::addColumn<std::string>("file");
    QTest::addColumn<std::string>("kind");
    QTest::addColumn<std::string>("word");
    QTest::newRow("issue 8: JPEG Huffman table of 257+ codes (stb_image overflow) a")
        << std::string("jpeg_dht_overflow_a2fdb59a.jpg") << std::string("image")
        << std::string("Huffman table");
    QTest::newRow("issue 8: JPEG Huffman table of 257+ codes (stb_image overflow) b")
        << std::string("jpeg_dht_overflow_c9024271.jpg") << std::string("image")
        << std::string("Huffman table");
    QTest::newRow("issue 8: PNG chunk longer than the file (stb_image allocated 721 MB)")
        << std::string("png_idat_length_47a9791a.png") << std::string("image")
        << std::string("more than the file holds");
    QTest::newRow("issue 8: JPEG of 65312x221 pixels in 917 bytes (10 s under ASan)")
        << std::string("jpeg_huge_for_size_a1e998a4.jpg") << std::string("image")
        << std::string("cannot come from 917 bytes");
    QTest::newRow("issue 8: pax record shorter than its length digits (negative size)")
        << std::string("tar_pax_record_length_b1f186d3.tar") << std::string("folder-tar")
        << std::string("more than one image folder");
  }
  void fuzzRegressions() {
    QFETCH(std::string, file);
    QFETCH(std::string, kind);
    QFETCH(std::string, word);
    std::ifstream in(std::string(OTFUSE_FIXTURES_DIR) + "/fuzz-regressions/" + file,
                     std::ios::binary);
    QVERIFY2(in, file.c_str());
    const Bytes bytes{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
    QTemporaryDir tmp;
    const fs::path dir = tmp.path().toStdString();
    if (kind == "image") {
      const fs::path root = dir / "f";
      const std::string name = "000" + fs::path(file).extension().string();
      writeFile(root / "train" / "a" / name, bytes);
      expectFileError([&] { otfuse::loadDataset("folder:" + root.string(), Split::Train); },
                      name, word);
    } else if (kind == "mnist-images" || kind == "mnist-labels") {
      writeMnist(dir / "mnist", 10, 3, false);
      const std::string name =
          kind == "mnist-images" ? "train-images-idx3-ubyte" : "train-labels-idx1-ubyte";
      writeFile(dir / "mnist" / name, bytes);
      expectFileError([&] { otfuse::loadDataset("mnist", Split::Train, dir.string()); }, name,
                      word);
    } else if (kind == "folder-tar") {
      writeFile(dir / "f.tar.gz", bytes);
      expectFileError(
          [&] { otfuse::loadDataset("folder:" + (dir / "f.tar.gz").string(), Split::Train); },
          "f.tar.gz", word);
    } else if (kind == "cifar-tar") {
      writeFile(dir / "cifar10" / "cifar-10-binary.tar.gz", bytes);
      expectFileError([&] { otfuse::loadDataset("cifar10", Split::Test, dir.string()); },
                      "cifar-10-binary.tar.gz", word);
    } else {
      QFAIL(("unknown kind " + kind).c_str());
    }
  }

  void folderBroken_data() {
    QTest::addColumn<std::string>("breakage");
    QTest::addColumn<std::string>("file");
    QTest::addColumn<std::string>("word");
    QTest::newRow("odd image size")
        << std::string("size") << std::string("b/001.png") << std::string("16x8");
    QTest::newRow("odd channel count")
        << std::string("channels") << std::string("b/001.png") << std::string("1 channel");
    QTest::newRow("undecodable image")
        << std::string("garbage") << std::string("b/001.png") << std::string("decode");
    // Issue 8: stb_image decoded a TGA image (a format without signature) named .png.
    QTest::newRow("issue 8: TGA data named .png")
        << std::string("tga") << std::string("b/001.png") << std::string("not a PNG or JPEG");
    QTest::newRow("test class unknown to train")
        << std::string("testclass") << std::string("test/c") << std::string("train");
    QTest::newRow("no train folder")
        << std::string("notrain") << std::string("train") << std::string("not found");
    QTest::newRow("no images") << std::string("empty") << std::string("train")
                               << std::string("no .png");
  }
  void folderBroken() {
    QFETCH(std::string, breakage);
    QFETCH(std::string, file);
    QFETCH(std::string, word);
    QTemporaryDir tmp;
    const fs::path root = fs::path(tmp.path().toStdString()) / "f";
    writeFolder(root, {"a", "b"}, 2, 10, 8, 3, false);
    const fs::path odd = root / "train" / "b" / "001.png";
    if (breakage == "size")
      writeFile(odd, encodeImage(folderImage(0, 0, 16, 8, 3, true), 16, 8, 3, false));
    if (breakage == "channels")
      writeFile(odd, encodeImage(folderImage(0, 0, 10, 8, 1, true), 10, 8, 1, false));
    if (breakage == "garbage") writeFile(odd, Bytes{0x89, 'P', 'N', 'G', 1, 2, 3});
    if (breakage == "tga") {
      // Uncompressed true-colour TGA, 10x8 like the other images, 24 bits per pixel.
      Bytes tga = {0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 10, 0, 8, 0, 24, 0};
      tga.resize(tga.size() + 10 * 8 * 3, 0x40);
      writeFile(odd, tga);
    }
    if (breakage == "testclass")
      writeFile(root / "test" / "c" / "000.png",
                encodeImage(folderImage(0, 0, 10, 8, 3, true), 10, 8, 3, false));
    if (breakage == "notrain") fs::remove_all(root / "train");
    if (breakage == "empty") {
      fs::remove_all(root / "train" / "a");
      fs::remove_all(root / "train" / "b");
      fs::create_directories(root / "train" / "a");
    }
    const Split split = breakage == "testclass" ? Split::Test : Split::Train;
    expectFileError([&] { otfuse::loadDataset("folder:" + root.string(), split); }, file, word);
    if (breakage != "notrain" && breakage != "empty" && breakage != "testclass") {
      // The broken file is in train/: test/ still loads.
      QCOMPARE(otfuse::loadDataset("folder:" + root.string(), Split::Test).size(), 4LL);
    }
  }

  void importRoundTrip_data() {
    QTest::addColumn<std::string>("kind");
    QTest::newRow("extracted binary folder") << std::string("bin");
    QTest::newRow("parent of cifar-10-batches-bin") << std::string("binparent");
    QTest::newRow("official tarball") << std::string("tgz");
    QTest::newRow("png image folder") << std::string("folder");
    QTest::newRow("image folder tar.gz") << std::string("foldertgz");
  }
  void importRoundTrip() {
    QFETCH(std::string, kind);
    QTemporaryDir tmp;
    const fs::path base = tmp.path().toStdString();
    const fs::path dataDir = base / "data";
    std::string source;
    const bool binary = kind == "bin" || kind == "binparent" || kind == "tgz";
    if (binary) {
      auto files = cifarFiles(3, 4);  // 15 train, 4 test
      if (kind == "tgz") {
        std::vector<std::pair<std::string, Bytes>> members;
        for (auto& [n, b] : files) members.emplace_back("cifar-10-batches-bin/" + n, b);
        source = (base / "cifar-10-binary.tar.gz").string();
        writeTar(source, members, true);
      } else {
        for (auto& [n, b] : files) writeFile(base / "src" / "cifar-10-batches-bin" / n, b);
        source = (base / "src" / (kind == "bin" ? "cifar-10-batches-bin" : "")).string();
      }
    } else {
      writeFolder(base / "img",
                  {"truck", "cat", "airplane", "dog", "ship", "bird", "frog", "automobile", "deer",
                   "horse"},
                  2, 32, 32, 3, false);
      source = (base / "img").string();
      if (kind == "foldertgz") {
        source = (base / "img.tar.gz").string();
        writeTar(source, folderMembers(base / "img", ""), true);
      }
    }
    const std::string dest = otfuse::importCifar10(source, dataDir.string());
    QCOMPARE(dest, (dataDir / "cifar10" / "cifar-10-batches-bin").string());
    for (const char* f :
         {"data_batch_1.bin", "data_batch_5.bin", "test_batch.bin", "batches.meta.txt"}) {
      QVERIFY2(fs::is_regular_file(fs::path(dest) / f), f);
    }
    int leftovers = 0;
    for (const auto& e : fs::directory_iterator(dest))
      leftovers += e.path().string().find(".part") != std::string::npos;
    QCOMPARE(leftovers, 0);

    const auto train = otfuse::loadDataset("cifar10", Split::Train, dataDir.string());
    const auto test = otfuse::loadDataset("cifar10", Split::Test, dataDir.string());
    QCOMPARE(train.classes, kCifarNames);
    if (binary) {
      QCOMPARE(fs::file_size(fs::path(dest) / "data_batch_1.bin"), uintmax_t(3 * 3073));
      QCOMPARE(train.size(), 15LL);
      QCOMPARE(test.size(), 4LL);
      for (int i = 0; i < 15; ++i)
        QCOMPARE((long long)train.labels[i].item<int64_t>(), (long long)labelOf(i));
      QCOMPARE(train.images[7][2][4][4].item<int>(), int(pixel(7, 2048 + 4 * 32 + 4)));
      QCOMPARE(test.images[2][0][0][1].item<int>(), int(pixel(1002, 1)));
    } else {
      // 20 train images over 5 batches of 4, interleaved by class: labels 0..9, 0..9.
      QCOMPARE(fs::file_size(fs::path(dest) / "data_batch_1.bin"), uintmax_t(4 * 3073));
      QCOMPARE(train.size(), 20LL);
      QCOMPARE(test.size(), 20LL);
      for (int i = 0; i < 20; ++i)
        QCOMPARE((long long)train.labels[i].item<int64_t>(), (long long)(i % 10));
      // Sample 13 = class 3 ("cat", written as folder index 1), image 001.png.
      const Bytes img = folderImage(1, 1, 32, 32, 3, true);
      QCOMPARE(train.images[13][2][5][6].item<int>(), int(img[(5 * 32 + 6) * 3 + 2]));
    }
  }

  void importRefuses_data() {
    QTest::addColumn<int>("classes");
    QTest::addColumn<int>("size");
    QTest::addColumn<int>("channels");
    QTest::addColumn<std::string>("word");
    QTest::newRow("5 classes") << 5 << 32 << 3 << std::string("5 classes");
    QTest::newRow("28x28") << 10 << 28 << 3 << std::string("32x32 RGB");
    QTest::newRow("grayscale") << 10 << 32 << 1 << std::string("32x32 RGB");
  }
  void importRefuses() {
    QFETCH(int, classes);
    QFETCH(int, size);
    QFETCH(int, channels);
    QFETCH(std::string, word);
    QTemporaryDir tmp;
    const fs::path base = tmp.path().toStdString();
    std::vector<std::string> names;
    for (int k = 0; k < classes; ++k) names.push_back("k" + std::to_string(k));
    writeFolder(base / "img", names, 1, size, size, channels, false);
    expectFileError(
        [&] { otfuse::importCifar10((base / "img").string(), (base / "data").string()); }, "img",
        word);
    QVERIFY(!fs::exists(base / "data" / "cifar10" / "cifar-10-batches-bin" / "data_batch_1.bin"));
    expectFileError(
        [&] { otfuse::importCifar10((base / "nothing").string(), (base / "data").string()); },
        "nothing", "not found");
  }

  void listDatasetsReports() {
    QTemporaryDir tmp;
    const fs::path dir = tmp.path().toStdString();
    writeMnist(dir / "mnist", 5, 2, true);
    writeFolder(dir / "shapes", {"circle", "square"}, 2, 6, 6, 1, false);
    const auto all = otfuse::listDatasets(dir.string());
    QCOMPARE(all.size(), size_t(4));
    QCOMPARE(all[0].name, std::string("mnist"));
    QVERIFY(all[0].found);
    QCOMPARE(all[1].name, std::string("fashion-mnist"));
    QCOMPARE(all[2].name, std::string("cifar10"));
    QVERIFY(!all[2].found);
    QVERIFY(all[2].detail.find("import") != std::string::npos);
    QCOMPARE(all[3].name, "folder:" + (dir / "shapes").string());
    QVERIFY(all[3].found);
    QCOMPARE(all[3].trainSize, 4LL);
    QCOMPARE(all[3].testSize, 4LL);
  }

  void systemFashionMnist() {
    if (!fs::exists("/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz")) {
      OTFUSE_SKIP("Debian's dataset-fashion-mnist is not installed");
    }
    QTemporaryDir tmp;
    auto loc = otfuse::findDataset("fashion-mnist", tmp.path().toStdString());
    QVERIFY(loc.found);
    QCOMPARE(loc.path, std::string("/usr/share/datasets/fashion-mnist"));
    QCOMPARE(loc.testSize, 10000LL);
    const auto ds = otfuse::loadDataset("fashion-mnist", Split::Test, tmp.path().toStdString());
    QCOMPARE(ds.size(), 10000LL);
    QCOMPARE((long long)ds.labels[0].item<int64_t>(),
             9LL);  // Fashion-MNIST's first test item: ankle boot
    QCOMPARE(ds.classes[9], std::string("Ankle boot"));
  }

  void realMnist() {
    const std::string dir = otfuse::resolveDataDir();
    if (!otfuse::findDataset("mnist", dir).found) {
      OTFUSE_SKIP(qPrintable(QString("MNIST not found in %1 (scripts/fetch_mnist.sh)").arg(dir.c_str())));
    }
    QElapsedTimer timer;
    timer.start();
    const std::clock_t cpu0 = std::clock();
    const auto train = otfuse::loadDataset("mnist", Split::Train, dir);
    const auto test = otfuse::loadDataset("mnist", Split::Test, dir);
    qInfo("MNIST train+test loaded in %lld ms wall, %.0f ms CPU (informative, not asserted)",
          timer.elapsed(), 1000.0 * double(std::clock() - cpu0) / CLOCKS_PER_SEC);
    QCOMPARE(train.images.sizes().vec(), (std::vector<int64_t>{60000, 1, 28, 28}));
    QCOMPARE(test.images.sizes().vec(), (std::vector<int64_t>{10000, 1, 28, 28}));
    QCOMPARE((long long)train.labels[0].item<int64_t>(), 5LL);
    QCOMPARE((long long)test.labels[0].item<int64_t>(), 7LL);
    // Each digit occurs; the normalized train set has mean ~0 and std ~1.
    QCOMPARE((long long)at::bincount(train.labels).size(0), 10LL);
    const auto x = train.normalized();
    QVERIFY(std::abs(x.mean().item<double>()) < 0.01);
    QVERIFY(std::abs(x.std().item<double>() - 1.0) < 0.01);
  }

  // End to end: the built `otfuse` CLI imports a small image folder and lists it.
  void cliImportAndList() {
    const QString exe = OTFUSE_BINARY_DIR "/app/otfuse";
    if (!QFileInfo(exe).isExecutable()) OTFUSE_SKIP("the otfuse CLI is not built (target otfuse)");
    QTemporaryDir tmp;
    const fs::path base = tmp.path().toStdString();
    writeFolder(base / "img", kCifarNames, 1, 32, 32, 3, false);
    const QString dataDir = QString::fromStdString((base / "data").string());
    auto run = [&](QStringList args, int expectedCode) {
      QProcess p;
      p.start(exe, args);
      if (!p.waitForFinished(120000)) return QString("timeout");
      const QString out = p.readAllStandardOutput() + p.readAllStandardError();
      if (p.exitCode() != expectedCode) {
        return QString("exit code %1, expected %2: %3")
            .arg(p.exitCode())
            .arg(expectedCode)
            .arg(out);
      }
      return out;
    };
    QString out = run({"data", "list", "--data-dir", dataDir}, 0);
    QVERIFY2(out.contains(QRegularExpression("cifar10 +missing")), qPrintable(out));
    out = run({"data", "import", "cifar10", QString::fromStdString((base / "img").string()),
               "--data-dir", dataDir},
              0);
    QVERIFY2(out.contains("10 train, 10 test"), qPrintable(out));
    out = run({"data", "list", "--data-dir", dataDir}, 0);
    QVERIFY2(out.contains(QRegularExpression("cifar10 +found +10 +10 ")), qPrintable(out));
    out = run({"data", "import", "cifar10", dataDir + "/nothing", "--data-dir", dataDir}, 1);
    QVERIFY2(out.contains("nothing: not found"), qPrintable(out));
    out = run({"data", "--help"}, 0);
    QVERIFY2(out.contains("import cifar10 PATH"), qPrintable(out));
  }

};

// The CIFAR-10 JPEG copy in the shared folder: CTest entry test_data_shared, skipped without it.
class TestDataShared : public QObject {
  Q_OBJECT

 private slots:
  void sharedJpegImport() {
    const std::string tarball = otfuse::test::sharedPath("data/cifar10-jpeg.tar.gz");
    if (!fs::exists(tarball)) OTFUSE_SKIP(qPrintable(QString("%1 not found").arg(tarball.c_str())));
    QTemporaryDir tmp;
    const std::string dataDir = tmp.path().toStdString();
    otfuse::importCifar10(tarball, dataDir);
    const auto loc = otfuse::findDataset("cifar10", dataDir);
    QVERIFY(loc.found);
    QCOMPARE(loc.trainSize, 50000LL);
    QCOMPARE(loc.testSize, 10000LL);
    const auto test = otfuse::loadDataset("cifar10", Split::Test, dataDir);
    QCOMPARE(test.classes, kCifarNames);
    const auto counts = at::bincount(test.labels);
    QCOMPARE((long long)counts.min().item<int64_t>(), 1000LL);
    QCOMPARE((long long)counts.max().item<int64_t>(), 1000LL);
    QCOMPARE((long long)test.labels[0].item<int64_t>(), 0LL);  // round robin: airplane first
    QCOMPARE((long long)test.labels[1].item<int64_t>(), 1LL);
  }
};

OTFUSE_TEST_SUITES_APPLESS(TestData, "shared", TestDataShared)
#include "test_data.moc"
