// N-model fusion (fuseMany, fuseSequential) and residual stream maps (issue 9): permuted copies
// fuse back, N = 2 is exactly the two-model fuse(), arguments are checked, different widths,
// and every stream-map choice keeps one map per residual stream.
#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>

#include <QtTest>

#include <cmath>

#include "common/otfuse_test.h"
#include "core/model_fixtures.h"
#include "core/synthetic_data.h"
#include "otfuse/error.h"
#include "otfuse/fusion/fusion.h"
#include "otfuse/models/model.h"
#include "otfuse/runtime.h"
#include "otfuse/train/train.h"

using namespace otfuse;
using namespace otfuse::testing;

namespace {

bool bitwiseEqual(const StateDict& x, const StateDict& y, std::string* which) {
  for (const auto& [key, t] : y) {
    if (!x.contains(key) || !at::equal(x.at(key), t)) {
      *which = key;
      return false;
    }
  }
  return x.size() == y.size();
}

QString messageOf(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

}  // namespace

class TestFusionMany : public QObject {
  Q_OBJECT

 private slots:
  void initTestCase() { initRuntime(); }

  // --- Residual networks: a consistently permuted copy fuses back, every mode and stream. ---
  void residualPermutedCopyFusesBack_data() {
    QTest::addColumn<QString>("arch");
    QTest::addColumn<QString>("mode");
    QTest::addColumn<QString>("stream");
    // Full width for the three BN/bias variants; the authors' no-bias-anywhere model, a linear
    // without bias and ResNet-34's [3,4,6,3] blocks at a narrow base width (same topology).
    for (const char* arch : {"resnet18", "resnet18_nobn", "resnet18_bias", "resnet18_nobn_nobias_w16",
                             "resnet18_nolinearbias_w16", "resnet34_w8", "resnet34_nobn_bias_w8"})
      for (const char* mode : {"weights", "activations"})
        for (const char* stream : {"first", "average", "summed"})
          QTest::newRow((std::string(arch) + " " + mode + " " + stream).c_str())
              << arch << mode << stream;
  }
  void residualPermutedCopyFusesBack() {
    QFETCH(QString, arch);
    QFETCH(QString, mode);
    QFETCH(QString, stream);
    const Architecture a = parseArchitecture(arch.toStdString());
    Model b = withRandomBatchNorm(Model::initialize(a, 7), 8);
    Model permuted = permutedCopy(b, 11);
    at::NoGradGuard g;
    const at::Tensor x = randomInputs(a, 8, 3);
    const at::Tensor y = b.forward(x);
    QVERIFY(relDiff(permuted.forward(x), y) < 1e-5);  // the copy is the same function
    QVERIFY(maxAbs(permuted.state().at("layer2.0.shortcut.0.weight"),
                   b.state().at("layer2.0.shortcut.0.weight")) > 0.01);  // but other weights
    FusionOptions opt;
    opt.mode = parseAlignMode(mode.toStdString());
    opt.streamMap = parseStreamMap(stream.toStdString());
    QCOMPARE(toString(opt.streamMap), stream.toStdString());
    FusionResult r = fuse(permuted, b, opt, randomInputs(a, 6, 5));
    const double d = relDiff(r.fused.forward(x), y);
    QVERIFY2(d < 1e-5, qPrintable(QString("outputs differ by %1 (relative)").arg(d)));
    for (const auto& l : r.layers) {
      if (l.identity) continue;
      QVERIFY2(std::abs(l.massOnBest - 1.0) < 1e-12 || l.reused, l.name.c_str());
    }
  }

  // The same with N = 3 and 4 permuted copies (different permutations) onto one anchor.
  void residualManyPermutedCopies_data() {
    QTest::addColumn<QString>("arch");
    QTest::addColumn<QString>("mode");
    QTest::addColumn<QString>("stream");
    QTest::addColumn<int>("n");
    QTest::newRow("resnet18 weights summed 3") << "resnet18" << "weights" << "summed" << 3;
    QTest::newRow("resnet18 activations average 3") << "resnet18" << "activations" << "average" << 3;
    QTest::newRow("resnet18_nobn weights first 4") << "resnet18_nobn" << "weights" << "first" << 4;
    QTest::newRow("resnet18_bias activations summed 4")
        << "resnet18_bias" << "activations" << "summed" << 4;
    QTest::newRow("resnet34_w8 weights average 3") << "resnet34_w8" << "weights" << "average" << 3;
    QTest::newRow("resnet18_nobn_nobias_w16 activations summed 3")
        << "resnet18_nobn_nobias_w16" << "activations" << "summed" << 3;
  }
  void residualManyPermutedCopies() {
    QFETCH(QString, arch);
    QFETCH(QString, mode);
    QFETCH(QString, stream);
    QFETCH(int, n);
    const Architecture a = parseArchitecture(arch.toStdString());
    Model base = withRandomBatchNorm(Model::initialize(a, 21), 22);
    std::vector<Model> models;
    for (int i = 0; i < n; ++i) models.push_back(i == 1 ? base : permutedCopy(base, 100 + i));
    FusionOptions opt;
    opt.mode = parseAlignMode(mode.toStdString());
    opt.streamMap = parseStreamMap(stream.toStdString());
    MultiFusionResult r = fuseMany(models, 1, {}, opt, randomInputs(a, 6, 5));
    at::NoGradGuard g;
    const at::Tensor x = randomInputs(a, 8, 3);
    const double d = relDiff(r.fused.forward(x), base.forward(x));
    QVERIFY2(d < 1e-5, qPrintable(QString("outputs differ by %1 (relative)").arg(d)));
    QCOMPARE(int(r.layers.size()), n);
    QVERIFY(r.layers[1].empty());
    QCOMPARE(r.layers[0].size(), a.layers.size());
  }

  // --- Every writer of a stream gets one map; the stream fields say which layers share it. ---
  void streamWritersShareOneMap_data() {
    QTest::addColumn<QString>("mode");
    QTest::addColumn<QString>("stream");
    for (const char* mode : {"weights", "activations"})
      for (const char* stream : {"first", "average", "summed"})
        QTest::newRow((std::string(mode) + " " + stream).c_str()) << mode << stream;
  }
  void streamWritersShareOneMap() {
    QFETCH(QString, mode);
    QFETCH(QString, stream);
    const Architecture a = parseArchitecture("resnet18");
    Model b = withRandomBatchNorm(Model::initialize(a, 7), 8);
    // Another model altogether: plans that are not trivial, and that differ between writers.
    Model other = withRandomBatchNorm(Model::initialize(a, 9), 13);
    FusionOptions opt;
    opt.mode = parseAlignMode(mode.toStdString());
    opt.streamMap = parseStreamMap(stream.toStdString());
    FusionResult r = fuse(other, b, opt, randomInputs(a, 6, 5));
    std::map<std::string, const LayerResult*> byName;
    for (const auto& l : r.layers) byName[l.name] = &l;
    const LayerResult& s2 = *byName.at("layer2.0.conv2");
    QCOMPARE(s2.stream, s2.outGroup);
    const std::vector<std::string> writers = {"layer2.0.conv2", "layer2.0.shortcut.0",
                                              "layer2.1.conv2"};
    QVERIFY(s2.streamWriters == writers);
    const std::vector<std::string> stem = {"conv1", "layer1.0.conv2", "layer1.1.conv2"};
    QVERIFY(byName.at("conv1")->streamWriters == stem);
    QVERIFY(byName.at("conv1")->mapFrom == std::vector<std::string>{"conv1"});
    QCOMPARE(byName.at("layer1.0.conv1")->stream, -1);  // an inner group: one writer
    QVERIFY(byName.at("layer1.0.conv1")->streamWriters.empty());
    QCOMPARE(byName.at("linear")->stream, -1);
    const bool first = opt.streamMap == StreamMap::FirstWriter;
    QVERIFY(s2.mapFrom == (first ? std::vector<std::string>{"layer2.0.conv2"}
                                 : std::vector<std::string>{"layer2.0.conv2", "layer2.0.shortcut.0"}));
    // One map per stream, at every writer.
    for (const auto& l : r.layers) {
      if (l.stream < 0) continue;
      for (const auto& w : l.streamWriters) {
        const double diff = (byName.at(w)->corrected - l.corrected).cwiseAbs().maxCoeff();
        QVERIFY2(diff == 0.0, (l.name + " vs " + w).c_str());
      }
      QVERIFY2(l.reused == (std::find(l.mapFrom.begin(), l.mapFrom.end(), l.name) == l.mapFrom.end()),
               l.name.c_str());
    }
    const LayerResult& sc = *byName.at("layer2.0.shortcut.0");
    QCOMPARE(sc.reused, first);
    QVERIFY(byName.at("layer2.1.conv2")->reused);
    if (opt.streamMap == StreamMap::Average) {
      // Each source has its own plan; the map is the mean of their corrected plans.
      auto correct = [](const ot::Matrix& p) {
        return ot::Matrix(p * p.colwise().sum().transpose().cwiseInverse().asDiagonal());
      };
      const ot::Matrix mean = 0.5 * (correct(s2.plan) + correct(sc.plan));
      QVERIFY((s2.corrected - mean).cwiseAbs().maxCoeff() < 1e-12);
      QVERIFY((s2.plan - sc.plan).cwiseAbs().maxCoeff() > 0.0);  // the noise makes them differ
    }
    if (opt.streamMap == StreamMap::SummedCost) {
      QVERIFY(s2.sharedPlan && sc.sharedPlan);
      QVERIFY((s2.plan - sc.plan).cwiseAbs().maxCoeff() == 0.0);
      // planStatus counts a stream's one plan once (three streams have two sources).
      int solvedLayers = 0;
      for (const auto& l : r.layers) solvedLayers += !(l.identity || l.reused);
      QCOMPARE(planStatus(r.layers).solved, solvedLayers - 3);  // 3 streams with 2 sources
      if (opt.mode == AlignMode::Weights) {
        // The stream's cost is the sum of its sources' costs; they read the same aligned
        // inputs in the Average run (layer2's inputs depend only on the stem's map, one
        // source in every choice).
        FusionOptions avg = opt;
        avg.streamMap = StreamMap::Average;
        FusionResult ra = fuse(other, b, avg);
        const ot::Matrix sum = ra.layers[s2Index(ra)].cost + ra.layers[s2Index(ra) + 1].cost;
        QVERIFY((s2.cost - sum).cwiseAbs().maxCoeff() < 1e-9 * (1 + sum.cwiseAbs().maxCoeff()));
      }
    }
  }

  // Fusion does not depend on how the aligned model's neurons happen to be ordered: fusing a
  // permuted copy of a different (noisy) model gives the same fused model, in every stream
  // choice (a stream map that mixed up writers or readers would break this).
  void fusionIgnoresNeuronOrderOfAlignedModel_data() {
    QTest::addColumn<QString>("mode");
    QTest::addColumn<QString>("stream");
    for (const char* mode : {"weights", "activations"})
      for (const char* stream : {"first", "average", "summed"})
        QTest::newRow((std::string(mode) + " " + stream).c_str()) << mode << stream;
  }
  void fusionIgnoresNeuronOrderOfAlignedModel() {
    QFETCH(QString, mode);
    QFETCH(QString, stream);
    const Architecture a = parseArchitecture("resnet18_nobn_bias");
    Model b = Model::initialize(a, 31);
    Model other = noisy(b, 32, 0.7);
    FusionOptions opt;
    opt.mode = parseAlignMode(mode.toStdString());
    opt.streamMap = parseStreamMap(stream.toStdString());
    const at::Tensor samples = randomInputs(a, 6, 5);
    FusionResult plain = fuse(other, b, opt, samples);
    FusionResult shuffled = fuse(permutedCopy(other, 33), b, opt, samples);
    for (const auto& [key, t] : plain.fused.state()) {
      if (!at::isFloatingType(t.scalar_type())) continue;
      QVERIFY2(relDiff(shuffled.fused.state().at(key), t) < 1e-6, key.c_str());
    }
  }

  // --- N permuted copies of an MLP fuse back to it, any anchor and weights. ---
  void manyPermutedMlpsFuseBack_data() {
    QTest::addColumn<int>("n");
    QTest::addColumn<int>("anchor");
    QTest::addColumn<QString>("mode");
    QTest::newRow("3 anchor 0 weights") << 3 << 0 << "weights";
    QTest::newRow("4 anchor 2 activations") << 4 << 2 << "activations";
    QTest::newRow("6 anchor 5 weights") << 6 << 5 << "weights";
  }
  void manyPermutedMlpsFuseBack() {
    QFETCH(int, n);
    QFETCH(int, anchor);
    QFETCH(QString, mode);
    const Architecture a = parseArchitecture("mlp:64-32-16,bias");
    Model base = Model::initialize(a, 5);
    std::vector<Model> models;
    std::vector<double> weights;
    for (int i = 0; i < n; ++i) {
      models.push_back(i == anchor ? base : permutedCopy(base, 50 + i));
      weights.push_back(1.0 + i);  // unequal weights
    }
    FusionOptions opt;
    opt.mode = parseAlignMode(mode.toStdString());
    MultiFusionResult r = fuseMany(models, anchor, weights, opt, randomInputs(a, 40, 6));
    QCOMPARE(r.anchor, anchor);
    for (const auto& [key, t] : base.state())
      QVERIFY2(maxAbs(r.fused.state().at(key), t) < 1e-6, key.c_str());
    for (int i = 0; i < n; ++i) {
      QCOMPARE(r.layers[i].size(), i == anchor ? size_t(0) : a.layers.size());
      for (const auto& l : r.layers[i]) QVERIFY(std::abs(l.massOnBest - 1.0) < 1e-12);
    }
    // The sequential variant too.
    MultiFusionResult s = fuseSequential(models, anchor, weights, opt, randomInputs(a, 40, 6));
    for (const auto& [key, t] : base.state())
      QVERIFY2(maxAbs(s.fused.state().at(key), t) < 1e-6, key.c_str());
    QCOMPARE(s.layers[anchor].size(), size_t(0));
  }

  // fuseSequential on residual permuted copies.
  void sequentialResidualCopies() {
    const Architecture a = parseArchitecture("resnet18");
    Model base = withRandomBatchNorm(Model::initialize(a, 41), 42);
    std::vector<Model> models = {permutedCopy(base, 43), base, permutedCopy(base, 44)};
    FusionOptions opt;
    opt.streamMap = StreamMap::SummedCost;
    MultiFusionResult r = fuseSequential(models, 1, {0.2, 0.5, 0.3}, opt);
    at::NoGradGuard g;
    const at::Tensor x = randomInputs(a, 8, 3);
    const double d = relDiff(r.fused.forward(x), base.forward(x));
    QVERIFY2(d < 1e-5, qPrintable(QString("outputs differ by %1 (relative)").arg(d)));
    QCOMPARE(r.layers[0].size(), a.layers.size());
    QCOMPARE(r.layers[2].size(), a.layers.size());
  }

  // --- N = 2 is exactly the two-model fuse(). ---
  void twoModelsEqualFuseExactly_data() {
    QTest::addColumn<QString>("arch");
    QTest::addColumn<QString>("mode");
    QTest::addColumn<QString>("stream");
    QTest::addColumn<double>("t");
    QTest::newRow("mlpnet weights 0.5") << "mlpnet" << "weights" << "first" << 0.5;
    QTest::newRow("mlp bias activations 0.3") << "mlp:40-20,bias" << "activations" << "first" << 0.3;
    QTest::newRow("mnistcnn weights 0.7") << "mnistcnn" << "weights" << "first" << 0.7;
    QTest::newRow("vgg11_bn_half activations 0.1") << "vgg11_bn_half" << "activations" << "first" << 0.1;
    QTest::newRow("resnet18 weights summed 0.6") << "resnet18" << "weights" << "summed" << 0.6;
    QTest::newRow("resnet18_nobn activations average 0.45")
        << "resnet18_nobn" << "activations" << "average" << 0.45;
  }
  void twoModelsEqualFuseExactly() {
    QFETCH(QString, arch);
    QFETCH(QString, mode);
    QFETCH(QString, stream);
    QFETCH(double, t);
    const Architecture a = parseArchitecture(arch.toStdString());
    Model b = withRandomBatchNorm(Model::initialize(a, 61), 62);
    Model other = noisy(permutedCopy(b, 63), 64, 0.8);
    FusionOptions opt;
    opt.mode = parseAlignMode(mode.toStdString());
    opt.streamMap = parseStreamMap(stream.toStdString());
    opt.t = t;
    const at::Tensor samples = randomInputs(a, 10, 5);
    FusionResult two = fuse(other, b, opt, samples);
    std::string which;
    MultiFusionResult many = fuseMany({other, b}, 1, {1.0 - t, t}, opt, samples);
    QVERIFY2(bitwiseEqual(many.fused.state(), two.fused.state(), &which), which.c_str());
    QCOMPARE(many.layers[0].size(), two.layers.size());
    for (size_t l = 0; l < two.layers.size(); ++l) {
      QVERIFY(many.layers[0][l].corrected == two.layers[l].corrected);
      QVERIFY(many.layers[0][l].plan == two.layers[l].plan);
    }
    // The anchor first and the weights swapped: the same sum, term for term.
    MultiFusionResult swapped = fuseMany({b, other}, 0, {t, 1.0 - t}, opt, samples);
    QVERIFY2(bitwiseEqual(swapped.fused.state(), two.fused.state(), &which), which.c_str());
    // The sequential variant of two models is fuse() itself.
    MultiFusionResult seq = fuseSequential({other, b}, 1, {1.0 - t, t}, opt, samples);
    QVERIFY2(bitwiseEqual(seq.fused.state(), two.fused.state(), &which), which.c_str());
    // And the result is not simply the anchor (the test would pass trivially otherwise).
    QVERIFY(maxAbs(two.fused.state().at(a.layers[0].weight), b.state().at(a.layers[0].weight)) > 1e-4);
  }

  // Weights are normalized: {2, 6} is t = 0.75, {1, 1, 1} is the default 1/3 each.
  void weightsAreNormalized() {
    const Architecture a = parseArchitecture("mlp:30-20");
    Model b = Model::initialize(a, 71);
    Model c = noisy(permutedCopy(b, 72), 73, 0.5), d = noisy(permutedCopy(b, 74), 75, 0.5);
    FusionOptions opt;
    opt.t = 0.75;
    std::string which;
    MultiFusionResult r = fuseMany({c, b}, 1, {2, 6}, opt);
    QVERIFY(r.weights == (std::vector<double>{0.25, 0.75}));
    QVERIFY2(bitwiseEqual(r.fused.state(), fuse(c, b, opt).fused.state(), &which), which.c_str());
    MultiFusionResult even = fuseMany({c, b, d}, 1, {}, opt);
    QVERIFY(even.weights == (std::vector<double>(3, 1.0 / 3)));
    MultiFusionResult ones = fuseMany({c, b, d}, 1, {5, 5, 5}, opt);
    QVERIFY2(bitwiseEqual(ones.fused.state(), even.fused.state(), &which), which.c_str());
    // A zero weight leaves that model out: {0, 1, 1} is the two-model fusion of b and d.
    MultiFusionResult zero = fuseMany({c, b, d}, 1, {0, 1, 1}, opt);
    opt.t = 0.5;
    QVERIFY(maxAbs(zero.fused.state().at("fc1.weight"), fuse(d, b, opt).fused.state().at("fc1.weight")) < 1e-7);
    // The weighted sum, checked by hand on the output layer (identity map there) of the
    // 3-model fusion: W = (w0 T0^T W0^ + w1 W1 + w2 T2^T W2^); with weights {1, 0, 0} it is
    // model 0 aligned, whose output layer with inputs re-indexed differs from b's.
    MultiFusionResult onlyC = fuseMany({c, b, d}, 1, {1, 0, 0}, opt);
    QVERIFY(maxAbs(onlyC.fused.state().at("fc3.weight"), b.state().at("fc3.weight")) > 1e-3);
    at::NoGradGuard g;
    const at::Tensor x = randomInputs(a, 16, 2);
    QVERIFY(relDiff(onlyC.fused.forward(x), c.forward(x)) < 1e-5);  // c aligned is c
  }

  // A model given twice counts twice: {A, A, B} with weights {1/4, 1/4, 1/2} is fuse(A, B).
  void duplicatedModelCountsTwice() {
    const Architecture a = parseArchitecture("mlp:30-20,bias");
    Model b = Model::initialize(a, 91);
    Model c = noisy(permutedCopy(b, 92), 93, 0.8);
    FusionOptions opt;
    MultiFusionResult r = fuseMany({c, c, b}, 2, {0.25, 0.25, 0.5}, opt);
    FusionResult two = fuse(c, b, opt);
    for (const auto& [key, t] : two.fused.state()) {
      if (!at::isFloatingType(t.scalar_type())) continue;
      QVERIFY2(maxAbs(r.fused.state().at(key), t) < 1e-7, key.c_str());
    }
    QVERIFY(maxAbs(two.fused.state().at("fc1.weight"), b.state().at("fc1.weight")) > 1e-3);
  }

  // --- Bad arguments: clear messages naming the model. ---
  void badArgumentsAreExplained() {
    const Architecture a = parseArchitecture("mlp:30-20");
    Model b = Model::initialize(a, 81), c = Model::initialize(a, 82);
    Model cnn = Model::initialize(parseArchitecture("mnistcnn"), 83);
    FusionOptions opt;
    QVERIFY(messageOf([&] { fuseMany({b}, 0, {}, opt); }).contains("at least two models"));
    QVERIFY(messageOf([&] { fuseMany({}, 0, {}, opt); }).contains("(got 0)"));
    QVERIFY(messageOf([&] { fuseMany({b, c}, 2, {}, opt); }).contains("anchor is model 2"));
    QVERIFY(messageOf([&] { fuseMany({b, c}, -1, {}, opt); }).contains("anchor is model -1"));
    QVERIFY(messageOf([&] { fuseMany({b, c}, 0, {1, 2, 3}, opt); }).contains("3 weights for 2 models"));
    QString m = messageOf([&] { fuseMany({b, c, b}, 0, {1, -0.5, 1}, opt); });
    QVERIFY2(m.contains("weight of model 1 is -0.5"), qPrintable(m));
    m = messageOf([&] { fuseMany({b, c, b}, 0, {1, 1, NAN}, opt); });
    QVERIFY2(m.contains("weight of model 2 is nan"), qPrintable(m));
    m = messageOf([&] { fuseMany({b, c}, 0, {0, 0}, opt); });
    QVERIFY2(m.contains("sum to 0"), qPrintable(m));
    m = messageOf([&] { fuseMany({b, c, cnn}, 1, {}, opt); });
    QVERIFY2(m.contains("cannot fuse model 2 onto the anchor, model 1") && m.contains("mnistcnn"),
             qPrintable(m));
    m = messageOf([&] { fuseSequential({cnn, b}, 1, {}, opt); });
    QVERIFY2(m.contains("cannot fuse model 0"), qPrintable(m));
    opt.mode = AlignMode::Activations;
    m = messageOf([&] { fuseMany({b, c}, 0, {}, opt); });
    QVERIFY2(m.contains("needs input samples"), qPrintable(m));
    QVERIFY_THROWS_EXCEPTION(Error, parseStreamMap("mean"));
    QVERIFY(parseStreamMap("average") == StreamMap::Average);
    QVERIFY(parseStreamMap("summed") == StreamMap::SummedCost);
    QVERIFY(parseStreamMap("first") == StreamMap::FirstWriter);
  }

  // Progress counts every (model, layer) once; cancellation stops the run.
  void progressAndCancellation() {
    const Architecture a = parseArchitecture("mlp:30-20");
    std::vector<Model> models = {Model::initialize(a, 1), Model::initialize(a, 2),
                                 Model::initialize(a, 3)};
    long long lastDone = -1, total = 0;
    int aligns = 0;
    fuseMany(models, 0, {}, FusionOptions{}, at::Tensor(), [&](const Progress& p) {
      if (p.stage.rfind("align ", 0) != 0) return;
      ++aligns;
      QVERIFY(p.done > lastDone);
      lastDone = p.done;
      total = p.total;
      QVERIFY(QString::fromStdString(p.message).contains("onto model 0"));
    });
    QCOMPARE(aligns, 6);
    QCOMPARE(total, 6LL);
    CancelFlag cancel{false};
    int calls = 0;
    auto progress = [&](const Progress&) {
      if (++calls == 4) cancel = true;
    };
    QVERIFY_THROWS_EXCEPTION(Cancelled, fuseMany(models, 0, {}, FusionOptions{}, at::Tensor(), progress, &cancel));
    QCOMPARE(calls, 4);
  }

  // --- Different widths among the N: the anchor's widths and a working model. Three MLPs of
  // different widths trained on a learnable synthetic task (no dataset files needed), fused
  // onto the middle one.
  void differentWidthsFuseIntoAnchorShape() {
    const Dataset train = testing::syntheticDataset(3000, 1, 31);
    const Dataset test = testing::syntheticDataset(1000, 1, 32);
    std::vector<Model> models = {Model::initialize(parseArchitecture("mlp:60-30"), 1),
                                 Model::initialize(parseArchitecture("mlp:40-20"), 2),
                                 Model::initialize(parseArchitecture("mlp:80-25"), 3)};
    TrainOptions topt;
    topt.epochs = 2;
    topt.learningRate = 0.05;
    topt.momentum = 0.9;
    topt.augment = false;
    QString parents;
    for (size_t i = 0; i < models.size(); ++i) {
      topt.seed = i;
      trainModel(models[i], train, nullptr, topt);
      const double acc = evaluate(models[i], test).accuracy;
      parents += QString(" %1").arg(acc, 0, 'f', 2);
      QVERIFY2(acc > 90, qPrintable("parents:" + parents));
    }
    MultiFusionResult r = fuseMany(models, 1, {}, FusionOptions{});
    QCOMPARE(r.fused.architecture().name, std::string("mlp:40-20"));
    QCOMPARE(r.layers[0][0].plan.rows(), Eigen::Index(60));
    QCOMPARE(r.layers[0][0].plan.cols(), Eigen::Index(40));
    QCOMPARE(r.layers[2][1].plan.rows(), Eigen::Index(25));
    QCOMPARE(r.layers[2][1].plan.cols(), Eigen::Index(20));
    for (const auto& [key, t] : models[1].state())
      QCOMPARE(r.fused.state().at(key).sizes(), t.sizes());
    const double fused = evaluate(r.fused, test).accuracy;
    // The unaligned alternative: every model cut to the anchor's first neurons, averaged.
    auto cut = [&](const Model& m) {
      StateDict s = m.state().clone();
      s.set("fc1.weight", m.state().at("fc1.weight").slice(0, 0, 40).contiguous());
      s.set("fc2.weight", m.state().at("fc2.weight").slice(0, 0, 20).slice(1, 0, 40).contiguous());
      s.set("fc3.weight", m.state().at("fc3.weight").slice(1, 0, 20).contiguous());
      return Model(models[1].architecture(), s);
    };
    Model naive = vanillaAverage(vanillaAverage(cut(models[0]), cut(models[2])), models[1], 1.0 / 3);
    const double unaligned = evaluate(naive, test).accuracy;
    MultiFusionResult seq = fuseSequential(models, 1, {}, FusionOptions{});
    const double sequential = evaluate(seq.fused, test).accuracy;
    qInfo("3 widths: parents%s %%, fuseMany %.2f %%, fuseSequential %.2f %%, unaligned %.2f %%",
          qPrintable(parents), fused, sequential, unaligned);
    QVERIFY2(fused >= 80.0, qPrintable(QString("fused accuracy %1 %").arg(fused)));
    QVERIFY2(fused > unaligned, qPrintable(QString("OT %1 % vs unaligned %2 %").arg(fused).arg(unaligned)));
    QVERIFY2(sequential >= 80.0, qPrintable(QString("sequential accuracy %1 %").arg(sequential)));
  }

 private:
  static size_t s2Index(const FusionResult& r) {
    for (size_t i = 0; i < r.layers.size(); ++i)
      if (r.layers[i].name == "layer2.0.conv2") return i;
    return 0;
  }
};

OTFUSE_TEST_MAIN_APPLESS(TestFusionMany)
#include "test_fusion_many.moc"
