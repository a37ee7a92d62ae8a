// The engine facade (issue 8, "What is shown is what you get"): which dataset a model is
// evaluated on (the checkpoint's metadata first, the input shape last), and which fused model
// an export writes.
#include <ATen/ATen.h>

#include <QTemporaryDir>
#include <QtTest>

#include <filesystem>
#include <fstream>
#include <set>

#include "common/otfuse_test.h"
#include "otfuse/data/dataset.h"
#include "otfuse/engine/engine.h"
#include "otfuse/fusion/average.h"
#include "otfuse/fusion/fusion.h"
#include "otfuse/fusion/matching.h"
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

// `n` seeded models of `spec` saved as otfuse train would (with their dataset), loaded.
std::vector<ModelPtr> someModels(const QTemporaryDir& dir, const std::string& spec,
                                 const std::string& dataset, int n, uint64_t firstSeed = 11) {
  std::vector<ModelPtr> out;
  for (int i = 0; i < n; ++i) {
    const uint64_t seed = firstSeed + uint64_t(i);
    const std::string path =
        dir.filePath(QString("many_%1_%2.pt").arg(QString::fromStdString(spec).replace(':', '_')).arg(seed))
            .toStdString();
    saveCheckpoint(path, Model::initialize(parseArchitecture(spec), seed).state(),
                   {{"dataset", dataset}});
    out.push_back(loadModel(path));
  }
  return out;
}

bool sameTensors(const Model& x, const Model& y) {
  if (x.state().size() != y.state().size()) return false;
  for (const auto& [key, t] : x.state())
    if (!y.state().contains(key) || !at::equal(t, y.state().at(key))) return false;
  return true;
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

  // N models (issue 9). The weights as fuseMany reads them, and the N-model vanilla average:
  // two models with {1 - t, t} are vanillaAverage to the last bit; a one-hot weight gives
  // that model; shapes that differ are named.
  void vanillaAverageOfMany() {
    const Architecture arch = parseArchitecture("mlp:16-8");
    const Model a = Model::initialize(arch, 1), b = Model::initialize(arch, 2),
                c = Model::initialize(arch, 3);
    for (double t : {0.5, 0.3, 0.9})
      QVERIFY(sameTensors(vanillaAverageMany({a, b}, {1.0 - t, t}, 1), vanillaAverage(a, b, t)));
    QVERIFY(sameTensors(vanillaAverageMany({a, b, c}, {0, 1, 0}, 0), b));
    const Model avg = vanillaAverageMany({a, b, c}, {0.5, 0.25, 0.25}, 2);
    for (const auto& [key, t] : avg.state()) {
      const at::Tensor expect = 0.5 * a.state().at(key).to(at::kDouble) +
                                0.25 * b.state().at(key).to(at::kDouble) +
                                0.25 * c.state().at(key).to(at::kDouble);
      QVERIFY2(at::allclose(t.to(at::kDouble), expect, 1e-6, 1e-7), key.c_str());
    }
    const Model narrow = Model::initialize(parseArchitecture("mlp:12-8"), 4);
    const std::string why = vanillaIncompatibility({a, b, narrow}, 0);
    QVERIFY2(why.find("model 2") != std::string::npos, why.c_str());
    QVERIFY(vanillaIncompatibility({a, b, c}, 1).empty());
    QVERIFY_THROWS_EXCEPTION(Error, vanillaAverageMany({a, narrow}, {0.5, 0.5}, 0));

    const std::vector<double> third = normalizedWeights({}, 3);
    QCOMPARE(third.size(), size_t(3));
    QCOMPARE(third[0], 1.0 / 3);
    QVERIFY(normalizedWeights({2, 1, 1}, 3) == (std::vector<double>{0.5, 0.25, 0.25}));
    QVERIFY(normalizedWeights({0.75, 0.25}, 2) == (std::vector<double>{0.75, 0.25}));
    QVERIFY_THROWS_EXCEPTION(Error, normalizedWeights({1, 1}, 3));
    QVERIFY_THROWS_EXCEPTION(Error, normalizedWeights({1, -1, 1}, 3));
    QVERIFY_THROWS_EXCEPTION(Error, normalizedWeights({0, 0}, 2));
  }

  // An N-model request with the two models of an a/b request, anchor 1 and weights {1 - t, t}
  // gives that request's outcome exactly: every row, the fused and vanilla tensors, the plans.
  void twoModelRequestEqualsThePair() {
    QTemporaryDir dir;
    const std::string dataDir = dir.filePath("data").toStdString();
    writeCifarBinary(dataDir, testing::syntheticDataset(100, 3, 1),
                     testing::syntheticDataset(80, 3, 2));
    const std::vector<ModelPtr> m = someModels(dir, "mlp:24-16,cifar", "cifar10", 2);
    for (double t : {0.5, 0.25}) {
      FusionRequest pair;
      pair.a = m[0];
      pair.b = m[1];
      pair.options.t = t;
      pair.dataset = "cifar10";
      pair.dataDir = dataDir;
      FusionRequest many = pair;
      many.a = many.b = nullptr;
      many.models = m;
      many.anchor = 1;
      many.weights = {1.0 - t, t};
      const FusionOutcome x = runFusion(pair), y = runFusion(many);
      QCOMPARE(y.summary.accuracy.size(), size_t(5));
      QVERIFY(x.summary.accuracy == y.summary.accuracy);
      QVERIFY(x.summary.loss == y.summary.loss);
      QVERIFY(sameTensors(*x.fused->model, *y.fused->model));
      QVERIFY(x.vanilla && y.vanilla && sameTensors(*x.vanilla->model, *y.vanilla->model));
      QCOMPARE(x.anchor, 1);
      QCOMPARE(y.anchor, 1);
      QCOMPARE(x.modelLayers.size(), size_t(2));
      QCOMPARE(y.modelLayers.size(), size_t(2));
      QVERIFY(x.modelLayers[1].empty() && y.modelLayers[1].empty());
      QCOMPARE(y.layers.size(), x.layers.size());
      for (size_t l = 0; l < x.layers.size(); ++l) {
        QCOMPARE(y.layers[l].otCost, x.layers[l].otCost);
        QVERIFY(y.layers[l].plan == x.layers[l].plan);
      }
      QVERIFY(x.summary.weights == y.summary.weights);
      QVERIFY(x.summary.models == y.summary.models);
      QCOMPARE(y.summary.options.t, t);
    }
  }

  // Three BatchNorm models onto the anchor 2 with weights 1,1,2 and the sequential variant:
  // every row the engine promises (engine.h), each the evaluation of the model it names.
  void threeModelRequest() {
    QTemporaryDir dir;
    const std::string dataDir = dir.filePath("data").toStdString();
    writeCifarBinary(dataDir, testing::syntheticDataset(300, 3, 1),
                     testing::syntheticDataset(100, 3, 2));
    const std::vector<ModelPtr> m = someModels(dir, "vgg11_bn_half", "cifar10", 3);
    FusionRequest r;
    r.models = m;
    r.anchor = 2;
    r.weights = {1, 1, 2};
    r.sequential = true;
    r.dataset = "cifar10";
    r.dataDir = dataDir;
    r.bnBatches = 2;
    const FusionOutcome out = runFusion(r);
    std::set<std::string> keys;
    for (const auto& [k, v] : out.summary.accuracy) keys.insert(k);
    QVERIFY(keys == (std::set<std::string>{"model_0", "model_1", "model_2", "ensemble", "vanilla",
                                           "fused", "sequential", "vanilla_bn", "fused_bn",
                                           "sequential_bn"}));
    QVERIFY(out.summary.models ==
            (std::vector<std::string>{m[0]->path, m[1]->path, m[2]->path}));
    QCOMPARE(out.summary.anchor, 2);
    QCOMPARE(out.anchor, 2);
    QVERIFY(out.summary.weights == (std::vector<double>{0.25, 0.25, 0.5}));
    QCOMPARE(out.summary.options.t, 0.5);
    QCOMPARE(out.modelLayers.size(), size_t(3));
    QVERIFY(out.modelLayers[2].empty() && !out.modelLayers[0].empty() && !out.modelLayers[1].empty());
    QCOMPARE(out.layers.size(), out.modelLayers[0].size());
    QCOMPARE(out.layers.front().otCost, out.modelLayers[0].front().otCost);
    QCOMPARE(out.summary.modelPlans.size(), size_t(3));
    QCOMPARE(out.summary.plans.solved,
             out.summary.modelPlans[0].solved + out.summary.modelPlans[1].solved);
    QVERIFY(out.summary.sequentialSeconds > 0);
    QVERIFY(out.fused && out.fusedBn && out.vanilla && out.sequential && out.sequentialBn);
    const auto& acc = out.summary.accuracy;
    const auto& loss = out.summary.loss;
    for (int i = 0; i < 3; ++i) {
      const Score s = evaluateModel(m[size_t(i)], "cifar10", dataDir);
      const std::string key = "model_" + std::to_string(i);
      QVERIFY2(s.accuracy == acc.at(key) && s.loss == loss.at(key), key.c_str());
    }
    const Score en = evaluateEnsembleOf(m, false, "cifar10", dataDir);
    QVERIFY(en.accuracy == acc.at("ensemble") && en.loss == loss.at("ensemble"));
    const std::pair<std::string, ModelPtr> rows[] = {{"fused", out.fused},
                                                     {"fused_bn", out.fusedBn},
                                                     {"vanilla", out.vanilla},
                                                     {"sequential", out.sequential},
                                                     {"sequential_bn", out.sequentialBn}};
    for (const auto& [key, model] : rows) {
      if (key == "vanilla") continue;  // out.vanilla is the model before re-estimation; below
      const Score s = evaluateModel(model, "cifar10", dataDir);
      QVERIFY2(s.accuracy == acc.at(key) && s.loss == loss.at(key), key.c_str());
    }
    const Score v = evaluateModel(out.vanilla, "cifar10", dataDir);
    QVERIFY(v.accuracy == acc.at("vanilla") && v.loss == loss.at("vanilla"));
    QVERIFY(loss.at("sequential") != loss.at("fused"));  // two different models
    // The sequential model is what an export of "sequential" writes.
    const std::string path = dir.filePath("seq.pt").toStdString();
    QCOMPARE(saveFusedModel(out, "sequential", path), std::string("sequential"));
    ModelPtr saved = loadModel(path);
    QCOMPARE(saved->metadata.at("anchor"), std::string("2"));
    QCOMPARE(saved->metadata.at("weights"), std::string("0.25,0.25,0.5"));
    QVERIFY(evaluateModel(saved, "cifar10", dataDir).loss == loss.at("sequential"));

    // Bad requests are refused before any work, naming the problem.
    FusionRequest bad = r;
    bad.anchor = 3;
    QVERIFY_THROWS_EXCEPTION(Error, runFusion(bad));
    bad = r;
    bad.weights = {1, 2};
    QVERIFY_THROWS_EXCEPTION(Error, runFusion(bad));
    bad = r;
    bad.weights = {1, -1, 1};
    QVERIFY_THROWS_EXCEPTION(Error, runFusion(bad));
    bad = r;
    bad.models.push_back(someModels(dir, "mlp:16,cifar", "cifar10", 1).front());
    try {
      runFusion(bad);
      QFAIL("a model of another architecture was fused");
    } catch (const Error& e) {
      QVERIFY2(std::string(e.what()).find("model 3") != std::string::npos, e.what());
    }
  }

  // growthCurve: n = 1 is the anchor alone; the ensemble series is evaluateEnsembleOf of the
  // anchor and the first n - 1 others; the fused series is runFusion of those n.
  // Issue 11: the progressive curve aligns layers 1..l and averages the rest plainly, so it
  // starts at vanilla averaging and ends at OT fusion (it was flat by construction before).
  // Issue 10: the demo's parents on a personal split. A sees every 4 and 10 % of the rest,
  // B never a 4: B cannot recognize 4s, A can; the files say which part they were trained on,
  // and a second call reuses them.
  void demoOnSplitDataTrainsEachPartOnItsOwnData() {
    if (!haveDataset("mnist")) OTFUSE_SKIP("MNIST not installed (./run.sh test fetches it)");
    QTemporaryDir dir;
    DemoOptions o;
    o.personalSplit = true;
    o.epochs = 1;
    const std::vector<std::string> paths = demoModels(dir.path().toStdString(), "", {}, nullptr, o);
    QCOMPARE(paths.size(), size_t(2));
    const std::vector<std::string> names = demoModelFileNames(o);
    QCOMPARE(names[0], std::string("mlpnet_demo2_personal_c4_p0.1_s0_A.pt"));
    for (size_t i = 0; i < 2; ++i)
      QCOMPARE(std::filesystem::path(paths[i]).filename().string(), names[i]);
    const ModelPtr a = loadModel(paths[0]), b = loadModel(paths[1]);
    QCOMPARE(a->metadata.at("split"), std::string("personal"));
    QCOMPARE(a->metadata.at("split_part"), std::string("A"));
    QCOMPARE(b->metadata.at("split_part"), std::string("B"));
    QCOMPARE(b->metadata.at("special_class"), std::string("4"));
    const long long sizeA = std::stoll(a->metadata.at("train_size"));
    const long long sizeB = std::stoll(b->metadata.at("train_size"));
    QCOMPARE(sizeA + sizeB, 60000LL);
    QVERIFY2(sizeA > 10000 && sizeA < 12500, qPrintable(QString::number(sizeA)));
    const Score sa = evaluateModel(a, "mnist", ""), sb = evaluateModel(b, "mnist", "");
    QVERIFY2(sb.perClassAccuracy.at(4) < 5, qPrintable(QString::number(sb.perClassAccuracy.at(4))));
    QVERIFY2(sa.perClassAccuracy.at(4) > 80, qPrintable(QString::number(sa.perClassAccuracy.at(4))));
    QVERIFY2(sb.perClassAccuracy.at(3) > 80, qPrintable(QString::number(sb.perClassAccuracy.at(3))));
    const auto before = std::filesystem::last_write_time(paths[1]);
    QCOMPARE(demoModels(dir.path().toStdString(), "", {}, nullptr, o), paths);
    QVERIFY(std::filesystem::last_write_time(paths[1]) == before);
    DemoOptions bad = o;
    bad.specialClass = 10;
    QVERIFY_THROWS_EXCEPTION(Error, demoModels(dir.path().toStdString(), "", {}, nullptr, bad));
    bad = o;
    bad.fraction = 1.5;
    QVERIFY_THROWS_EXCEPTION(Error, demoModels(dir.path().toStdString(), "", {}, nullptr, bad));
    // The plain demo keeps its names.
    QCOMPARE(demoModelFileNames(), (std::vector<std::string>{"mlpnet_demo2_seed0.pt",
                                                             "mlpnet_demo2_seed1.pt"}));
  }

  // A trained model saved with saveModel carries how it was trained (table-one's cached
  // parents are saved this way), and a loaded model re-saved keeps its file's metadata.
  void savedModelKeepsItsMetadata() {
    QTemporaryDir dir;
    const std::string untrained = dir.filePath("untrained.pt").toStdString();
    saveModel(trainNewModel({"mlp:16", "mnist", "", 7, 0}), untrained);
    ModelPtr m = loadModel(untrained);
    QCOMPARE(m->metadata.at("arch"), std::string("mlp:16"));
    QCOMPARE(m->metadata.at("seed"), std::string("7"));
    QCOMPARE(m->metadata.at("epoch"), std::string("0"));
    QVERIFY(!m->metadata.count("dataset"));  // never trained: no dataset, no learning rate
    QVERIFY(!m->metadata.count("lr"));
    const std::string again = dir.filePath("again.pt").toStdString();
    saveModel(m, again);
    QCOMPARE(loadModel(again)->metadata, m->metadata);

    if (!haveDataset("mnist")) OTFUSE_SKIP("MNIST not installed (./run.sh test fetches it)");
    TrainRequest r{"mlp:16", "mnist", "", 3, 1, 256, 0.02, 0.9};
    const std::string trained = dir.filePath("trained.pt").toStdString();
    saveModel(trainNewModel(r), trained);
    m = loadModel(trained);
    QCOMPARE(m->metadata.at("dataset"), std::string("mnist"));
    QCOMPARE(m->metadata.at("epoch"), std::string("1"));
    QCOMPARE(m->metadata.at("seed"), std::string("3"));
    QCOMPARE(m->metadata.at("lr"), std::string("0.02"));
    QCOMPARE(m->metadata.at("momentum"), std::string("0.9"));
    QCOMPARE(m->metadata.at("limit"), std::string("256"));
  }

  // Issue 11: REPAIR selectable in a fusion run. The fused_repair row's model is the fused
  // model with every hidden channel's pre-activation std (and, with biases, mean) reset to the
  // interpolation of the aligned parents' over the same training images; the export writes it.
  void fusionWithRepairAddsRepairedRows() {
    QTemporaryDir dir;
    const std::string dataDir = dir.filePath("data").toStdString();
    writeCifarBinary(dataDir, testing::syntheticDataset(300, 3, 1),
                     testing::syntheticDataset(200, 3, 2));
    const std::vector<ModelPtr> m = someModels(dir, "mlp:24-16,bias,cifar", "cifar10", 3);
    FusionRequest r;
    r.a = m[0];
    r.b = m[1];
    r.dataset = "cifar10";
    r.dataDir = dataDir;
    r.options.t = 0.3;
    r.seed = 5;
    r.repair = RepairMode::Exact;
    r.repairBatches = 2;  // 256 of the 300 training images
    const FusionOutcome o = runFusion(r);
    for (const char* key : {"fused_repair", "vanilla_repair", "fused", "vanilla"})
      QVERIFY2(o.summary.accuracy.count(key) && o.summary.perClassAccuracy.count(key), key);
    QVERIFY(o.summary.repair == RepairMode::Exact);
    QCOMPARE(o.summary.repairImages, 256LL);
    QVERIFY(o.fusedRepair);
    QCOMPARE(defaultExportModel(o), std::string("fused_repair"));

    // The same statistics, measured independently: the aligned A (fuse keeps it), the same
    // 256 images (seed + 1), targets (1 - t) mu_A + t mu_B, (1 - t) s_A + t s_B.
    const Dataset train = loadDataset("cifar10", Split::Train, dataDir);
    const at::Tensor inputs = sampleInputs(train, 256, r.seed + 1);
    const FusionResult f = fuse(*m[0]->model, *m[1]->model, r.options, {}, {}, nullptr, true);
    QCOMPARE(f.aligned.size(), size_t(2));
    for (const auto& [key, value] : m[1]->model->state())  // aligned[1] is B itself
      QVERIFY2(at::equal(f.aligned[1].state().at(key), value), key.c_str());
    const Model mixed = vanillaAverage(f.aligned[0], *m[1]->model, r.options.t);
    for (const auto& [key, value] : f.fused.state())
      QVERIFY2(at::allclose(mixed.state().at(key), value, 1e-5, 1e-6), key.c_str());
    const ParentStatistics parents = parentStatistics(f.aligned[0], *m[1]->model, inputs);
    const LayerStatistics got = preActivationStatistics(*o.fusedRepair->model, inputs);
    const double t = r.options.t;
    int checked = 0;
    for (size_t li = 0; li < got.mean.size(); ++li) {
      if (!got.mean[li].defined() || !parents.a.mean[li].defined()) continue;
      const at::Tensor targetMean = (1 - t) * parents.a.mean[li] + t * parents.b.mean[li];
      const at::Tensor targetStd = (1 - t) * parents.a.var[li].sqrt() + t * parents.b.var[li].sqrt();
      QVERIFY((got.mean[li] - targetMean).abs().max().item<double>() < 1e-4);
      QVERIFY((got.var[li].sqrt() - targetStd).abs().max().item<double>() < 1e-4);
      ++checked;
    }
    QCOMPARE(checked, 2);  // both hidden layers

    QTemporaryDir out;
    const std::string path = out.filePath("repaired.pt").toStdString();
    QCOMPARE(saveFusedModel(o, "", path), std::string("fused_repair"));
    const Checkpoint c = loadCheckpoint(path);
    QCOMPARE(c.metadata.at("fusion_model"), std::string("fused_repair"));
    QCOMPARE(c.metadata.at("repair"), std::string("exact"));
    QCOMPARE(c.metadata.at("repair_images"), std::string("256"));

    // Three models: exact REPAIR works, the closed form (pairwise covariance) is refused.
    FusionRequest many;
    many.models = m;
    many.anchor = 0;
    many.dataset = "cifar10";
    many.dataDir = dataDir;
    many.repair = RepairMode::Exact;
    const FusionOutcome o3 = runFusion(many);
    QVERIFY(o3.summary.accuracy.count("fused_repair") && o3.summary.accuracy.count("vanilla_repair"));
    QVERIFY(o3.fusedRepair);
    many.repair = RepairMode::ClosedForm;
    QVERIFY_THROWS_EXCEPTION(Error, runFusion(many));
    // Without REPAIR: no such rows, and the export is the plain fused model.
    r.repair = RepairMode::None;
    const FusionOutcome plain = runFusion(r);
    QVERIFY(!plain.summary.accuracy.count("fused_repair") && !plain.fusedRepair);
    QCOMPARE(defaultExportModel(plain), std::string("fused"));
    QVERIFY_THROWS_EXCEPTION(Error, saveFusedModel(plain, "fused_repair", path));
  }

  void progressiveCurveRunsFromVanillaToFusion() {
    QTemporaryDir dir;
    const std::string dataDir = dir.filePath("data").toStdString();
    writeCifarBinary(dataDir, testing::syntheticDataset(100, 3, 1),
                     testing::syntheticDataset(200, 3, 2));
    const std::vector<ModelPtr> m = someModels(dir, "mlp:24-16,cifar", "cifar10", 2);
    FusionRequest r;
    r.a = m[0];
    r.b = m[1];
    r.dataset = "cifar10";
    r.dataDir = dataDir;
    const FusionOutcome o = runFusion(r);
    std::vector<CurvePoint> points;
    progressiveCurve(r, [&](const std::string& series, const CurvePoint& p) {
      QCOMPARE(series, std::string("progressive"));
      points.push_back(p);
    });
    QCOMPARE(points.size(), o.layers.size() + 1);  // l = 0..L
    for (size_t l = 0; l < points.size(); ++l) QCOMPARE(points[l].x, double(l));
    QCOMPARE(points.front().accuracy, o.summary.accuracy.at("vanilla"));
    QVERIFY(std::abs(points.front().loss - o.summary.loss.at("vanilla")) < 1e-9);
    QVERIFY(std::abs(points.back().accuracy - o.summary.accuracy.at("fused")) < 1e-9);
    QVERIFY(std::abs(points.back().loss - o.summary.loss.at("fused")) < 1e-5);
  }

  void growthCurveAgainstTheEnsemble() {
    QTemporaryDir dir;
    const std::string dataDir = dir.filePath("data").toStdString();
    writeCifarBinary(dataDir, testing::syntheticDataset(100, 3, 1),
                     testing::syntheticDataset(120, 3, 2));
    const std::vector<ModelPtr> m = someModels(dir, "mlp:24-16,cifar", "cifar10", 4);
    FusionRequest r;
    r.models = m;
    r.anchor = 2;
    r.dataset = "cifar10";
    r.dataDir = dataDir;
    std::map<std::string, std::vector<CurvePoint>> series;
    std::vector<std::string> order;
    growthCurve(r, [&](const std::string& name, const CurvePoint& p) {
      series[name].push_back(p);
      order.push_back(name);
    });
    QCOMPARE(series.size(), size_t(2));  // no BatchNorm: no fused_bn series
    QCOMPARE(series["fused"].size(), size_t(4));
    QCOMPARE(series["ensemble"].size(), size_t(4));
    QCOMPARE(order.front(), std::string("fused"));
    const std::vector<ModelPtr> byOrder = {m[2], m[0], m[1], m[3]};
    const Score anchor = evaluateModel(m[2], "cifar10", dataDir);
    QCOMPARE(series["fused"][0].x, 1.0);
    QVERIFY(series["fused"][0].accuracy == anchor.accuracy && series["fused"][0].loss == anchor.loss);
    QCOMPARE(series["ensemble"][0].accuracy, anchor.accuracy);
    for (size_t k = 1; k <= 4; ++k) {
      const CurvePoint& e = series["ensemble"][k - 1];
      QCOMPARE(e.x, double(k));
      const std::vector<ModelPtr> first(byOrder.begin(), byOrder.begin() + long(k));
      const Score s = evaluateEnsembleOf(first, false, "cifar10", dataDir);
      QVERIFY2(e.accuracy == s.accuracy && e.loss == s.loss, std::to_string(k).c_str());
      if (k < 2) continue;
      FusionRequest sub = r;
      sub.models = first;
      sub.anchor = 0;
      const FusionOutcome f = runFusion(sub);
      const CurvePoint& p = series["fused"][k - 1];
      QCOMPARE(p.x, double(k));
      QVERIFY2(p.accuracy == f.summary.accuracy.at("fused") && p.loss == f.summary.loss.at("fused"),
               std::to_string(k).c_str());
      QCOMPARE(p.layersAtIterationLimit, 0);
    }
    // Fusing more models changes the fused model: the points are not all the anchor's.
    QVERIFY(series["fused"][3].loss != series["fused"][0].loss);
    r.anchor = 4;
    QVERIFY_THROWS_EXCEPTION(Error, growthCurve(r, [](const std::string&, const CurvePoint&) {}));
  }
};

OTFUSE_TEST_MAIN_APPLESS(TestEngine)
#include "test_engine.moc"
