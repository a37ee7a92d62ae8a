// The engine facade (issue 8, "What is shown is what you get"): which dataset a model is
// evaluated on (the checkpoint's metadata first, the input shape last), and which fused model
// an export writes.
#include <ATen/ATen.h>

#include <QTemporaryDir>
#include <QtTest>

#include <filesystem>
#include <fstream>

#include "common/otfuse_test.h"
#include "otfuse/data/dataset.h"
#include "otfuse/engine/engine.h"
#include "otfuse/io/checkpoint.h"
#include "otfuse/models/model.h"
#include "otfuse/runtime.h"
#include "otfuse/train/train.h"
#include "core/synthetic_data.h"
#include "otfuse/error.h"

using namespace otfuse;

namespace {

using Metadata = std::map<std::string, std::string>;

bool haveDataset(const std::string& name) { return findDataset(name, resolveDataDir()).found; }

// `train` and `test` written as CIFAR-10's binary files under dataDir/cifar10 (train split
// over data_batch_1..5.bin), so the engine finds them as the dataset "cifar10".
void writeCifarBinary(const std::string& dataDir, const Dataset& train, const Dataset& test) {
  const std::filesystem::path dir = std::filesystem::path(dataDir) / "cifar10" / "cifar-10-batches-bin";
  std::filesystem::create_directories(dir);
  auto write = [](const std::filesystem::path& file, const Dataset& d, int64_t from, int64_t to) {
    std::ofstream out(file, std::ios::binary);
    const at::Tensor images = d.images.contiguous();
    const uint8_t* pixels = images.data_ptr<uint8_t>();
    const auto labels = d.labels.accessor<int64_t, 1>();
    for (int64_t i = from; i < to; ++i) {
      out.put(static_cast<char>(labels[i]));
      out.write(reinterpret_cast<const char*>(pixels + i * 3072), 3072);
    }
  };
  const int64_t per = train.size() / 5;
  for (int b = 0; b < 5; ++b)
    write(dir / ("data_batch_" + std::to_string(b + 1) + ".bin"), train, b * per,
          b == 4 ? train.size() : (b + 1) * per);
  write(dir / "test_batch.bin", test, 0, test.size());
}

// Two seeded models of `spec` saved as otfuse train would (with their dataset), loaded.
std::pair<ModelPtr, ModelPtr> modelPair(const QTemporaryDir& dir, const std::string& spec,
                                        const std::string& dataset) {
  std::vector<ModelPtr> out;
  for (uint64_t seed : {1, 2}) {
    const std::string path = dir.filePath(QString("m%1.pt").arg(seed)).toStdString();
    saveCheckpoint(path, Model::initialize(parseArchitecture(spec), seed).state(),
                   {{"dataset", dataset}});
    out.push_back(loadModel(path));
  }
  return {out[0], out[1]};
}

}  // namespace

class TestEngine : public QObject {
  Q_OBJECT

 private slots:
  void initTestCase() { initRuntime(); }

  void defaultDatasetFromMetadata_data() {
    QTest::addColumn<QString>("key");
    QTest::addColumn<QString>("value");
    QTest::addColumn<int>("channels");
    QTest::addColumn<QString>("expected");
    QTest::addColumn<bool>("fromMetadata");
    QTest::addColumn<QString>("reasonHas");
    QTest::newRow("otfuse train's entry") << "dataset" << "fashion-mnist" << 1 << "fashion-mnist"
                                          << true << "from the checkpoint's metadata";
    QTest::newRow("another spelling") << "dataset" << "FashionMNIST" << 1 << "fashion-mnist"
                                      << true << "metadata";
    QTest::newRow("image folder") << "dataset" << "folder:/data/pets" << 3 << "folder:/data/pets"
                                  << true << "metadata";
    QTest::newRow("paper's args dict")
        << "args" << "{'n_epochs': 10, 'dataset': 'Cifar10', 'model_name': 'vgg11'}" << 3
        << "cifar10" << true << "stored arguments";
    QTest::newRow("argparse Namespace")
        << "args" << "Namespace(batch_size=64, dataset='fashion_mnist', seed=1)" << 1
        << "fashion-mnist" << true << "stored arguments";
    QTest::newRow("no metadata, 1x28x28") << "epoch" << "3" << 1 << "mnist" << false
                                          << "guessed from the input shape 1x28x28";
    QTest::newRow("no metadata, 3x32x32") << "" << "" << 3 << "cifar10" << false
                                          << "guessed from the input shape 3x32x32";
    QTest::newRow("unknown name") << "dataset" << "imagenet" << 1 << "mnist" << false
                                  << "'imagenet', which is not a known dataset";
    QTest::newRow("shape does not fit") << "dataset" << "cifar10" << 1 << "mnist" << false
                                        << "whose 3x32x32 images do not fit the input 1x28x28";
  }
  void defaultDatasetFromMetadata() {
    QFETCH(QString, key);
    QFETCH(QString, value);
    QFETCH(int, channels);
    QFETCH(QString, expected);
    QFETCH(bool, fromMetadata);
    QFETCH(QString, reasonHas);
    Metadata md;
    if (!key.isEmpty()) md[key.toStdString()] = value.toStdString();
    const int side = channels == 1 ? 28 : 32;
    const DatasetChoice c = defaultDataset(md, channels, side, side);
    QCOMPARE(QString::fromStdString(c.name), expected);
    QCOMPARE(c.fromMetadata, fromMetadata);
    QVERIFY2(QString::fromStdString(c.reason).contains(reasonHas), c.reason.c_str());
  }

  // Several models evaluated together: a dataset named in metadata beats a shape guess;
  // two different names are a conflict that says who is for what.
  void commonDatasetOfSeveralModels() {
    const DatasetChoice guessed = defaultDataset({}, 1, 28, 28);
    const DatasetChoice fashion = defaultDataset({{"dataset", "fashion-mnist"}}, 1, 28, 28);
    const DatasetChoice mnist = defaultDataset({{"dataset", "mnist"}}, 1, 28, 28);
    DatasetChoice c = commonDataset({{"b.pt", guessed}, {"a.pt", fashion}});
    QCOMPARE(c.name, std::string("fashion-mnist"));
    QVERIFY(c.conflict.empty());
    QCOMPARE(c.reason, std::string("from the checkpoint's metadata of a.pt"));
    c = commonDataset({{"b.pt", mnist}, {"a.pt", fashion}});
    QCOMPARE(c.name, std::string("mnist"));  // the first one's, with the conflict spelled out
    QVERIFY2(c.conflict.find("b.pt is for mnist") != std::string::npos &&
                 c.conflict.find("a.pt is for fashion-mnist") != std::string::npos,
             c.conflict.c_str());
    c = commonDataset({{"b.pt", guessed}, {"a.pt", defaultDataset({}, 3, 32, 32)}});
    QVERIFY(!c.conflict.empty());
    c = commonDataset({{"only.pt", fashion}});
    QCOMPARE(c.reason, std::string("from the checkpoint's metadata"));
  }

  // A model trained on Fashion-MNIST (as otfuse train saves it) is evaluated on Fashion-MNIST
  // by default, not on MNIST as its 1x28x28 input would suggest.
  void fashionModelIsEvaluatedOnFashion() {
    if (!haveDataset("fashion-mnist"))
      OTFUSE_SKIP("Fashion-MNIST not installed (Debian package dataset-fashion-mnist)");
    QTemporaryDir dir;
    const std::string path = dir.filePath("fashion.pt").toStdString();
    Model m = Model::initialize(parseArchitecture("mlp:32"), 7);
    const Dataset fashion = loadDataset("fashion-mnist", Split::Test);
    const EvalResult onFashion = evaluate(m, fashion);
    saveCheckpoint(path, m.state(), {{"dataset", "fashion-mnist"}, {"epoch", "1"}});
    ModelPtr h = loadModel(path);
    QCOMPARE(h->dataset.name, std::string("fashion-mnist"));
    QVERIFY(h->dataset.fromMetadata);
    QCOMPARE(h->dataset.reason, std::string("from the checkpoint's metadata"));
    const Score s = evaluateModel(h, h->dataset.name, "");
    QVERIFY(s.accuracy == onFashion.accuracy && s.loss == onFashion.loss);  // exactly
    if (haveDataset("mnist")) {  // and that is not what MNIST gives
      const Score onMnist = evaluateModel(h, "mnist", "");
      QVERIFY(onMnist.loss != s.loss);
    }
    // Without metadata the same weights fall back to the shape guess, and say so.
    const std::string bare = dir.filePath("bare.pt").toStdString();
    saveCheckpoint(bare, m.state());
    ModelPtr g = loadModel(bare);
    QCOMPARE(g->dataset.name, std::string("mnist"));
    QVERIFY(!g->dataset.fromMetadata);
    QCOMPARE(g->dataset.reason, std::string("guessed from the input shape 1x28x28"));
  }

  // BatchNorm models: the results' best row is "OT fusion, BN re-estimated", and that is the
  // model an export writes by default; the file says which model it is, and evaluating it
  // gives its row's numbers exactly. The model as averaged can still be chosen.
  void exportWritesTheRowsModel() {
    QTemporaryDir dir;
    const std::string dataDir = dir.filePath("data").toStdString();
    writeCifarBinary(dataDir, testing::syntheticDataset(300, 3, 1),
                     testing::syntheticDataset(150, 3, 2));
    auto [a, b] = modelPair(dir, "vgg11_bn_half", "cifar10");
    FusionRequest r;
    r.a = a;
    r.b = b;
    r.dataset = "cifar10";
    r.dataDir = dataDir;
    r.bnBatches = 2;
    const FusionOutcome out = runFusion(r);
    QVERIFY(out.fusedBn);
    QCOMPARE(out.bnBatches, 2);
    QCOMPARE(defaultExportModel(out), std::string("fused_bn"));
    const auto& acc = out.summary.accuracy;
    const auto& loss = out.summary.loss;
    QVERIFY(loss.at("fused_bn") != loss.at("fused"));  // two different models

    for (const std::string which : {"", "fused_bn", "fused"}) {
      const std::string path = dir.filePath(QString("export_%1.pt").arg(which.c_str())).toStdString();
      const std::string written = saveFusedModel(out, which, path);
      const std::string key = which.empty() ? "fused_bn" : which;
      QCOMPARE(written, key);
      ModelPtr h = loadModel(path);
      QCOMPARE(h->metadata.at("fusion_model"), key);
      QCOMPARE(h->dataset.name, std::string("cifar10"));
      QVERIFY(h->dataset.fromMetadata);
      const Score s = evaluateModel(h, h->dataset.name, dataDir);
      QVERIFY2(s.accuracy == acc.at(key) && s.loss == loss.at(key), key.c_str());  // exactly
      QCOMPARE(std::stod(h->metadata.at("test_accuracy")), acc.at(key));
      QCOMPARE(std::stod(h->metadata.at("test_loss")), loss.at(key));
    }
  }

  void exportWithoutBatchNorm() {
    QTemporaryDir dir;
    const std::string dataDir = dir.filePath("data").toStdString();
    writeCifarBinary(dataDir, testing::syntheticDataset(100, 3, 1),
                     testing::syntheticDataset(50, 3, 2));
    auto [a, b] = modelPair(dir, "mlp:16,cifar", "cifar10");
    FusionRequest r;
    r.a = a;
    r.b = b;
    r.dataset = "cifar10";
    r.dataDir = dataDir;
    const FusionOutcome out = runFusion(r);
    QVERIFY(!out.fusedBn);
    QCOMPARE(defaultExportModel(out), std::string("fused"));
    const std::string path = dir.filePath("x.pt").toStdString();
    QVERIFY_THROWS_EXCEPTION(Error, saveFusedModel(out, "fused_bn", path));
    QVERIFY(!std::filesystem::exists(path));
    QCOMPARE(saveFusedModel(out, "", path), std::string("fused"));
    QVERIFY(evaluateModel(loadModel(path), "cifar10", dataDir).loss == out.summary.loss.at("fused"));
  }
};

OTFUSE_TEST_MAIN_APPLESS(TestEngine)
#include "test_engine.moc"
