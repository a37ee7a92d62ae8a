// Structured magnitude pruning (models/prune.h): keeping 100 % is the identity, a tiny MLP
// equals a hand-computed reference, the kept neurons are exactly the largest-norm ones, a
// network whose pruned neurons were zero computes the same function after pruning (MLP, VGG
// with BatchNorm and a flatten boundary, ResNet residual streams), and refusals are clear.
#include <ATen/ATen.h>

#include <QTemporaryDir>
#include <QtTest>

#include "common/otfuse_test.h"
#include "otfuse/error.h"
#include "otfuse/io/checkpoint.h"
#include "otfuse/models/model.h"
#include "otfuse/models/prune.h"

using namespace otfuse;

namespace {

// Random weights (BatchNorm statistics too), so that no two neurons tie.
Model randomModel(const std::string& spec, uint64_t seed) {
  Model m = Model::initialize(parseArchitecture(spec), seed);
  at::manual_seed(int64_t(seed) + 100);
  for (auto& [key, t] : m.state()) {
    if (!at::isFloatingType(t.scalar_type())) continue;
    if (key.find("running_var") != std::string::npos) t = at::rand(t.sizes()) + 0.5;
    else t = at::randn(t.sizes()) * 0.3;
  }
  return m;
}

at::Tensor inputsFor(const Architecture& a, int n) {
  at::manual_seed(7);
  return at::randn({n, a.inChannels, a.inHeight, a.inWidth});
}

// Zeroes every neuron of `group` not in `keep`: its incoming weights in every writer, its bias
// and its BatchNorm affine parameters, so it always outputs 0 (ReLU(0) = 0, and a BatchNorm with
// weight 0 and bias 0 outputs 0).
void zeroNeurons(Model& m, int group, const std::vector<int64_t>& keep, int64_t width) {
  at::NoGradGuard guard;
  for (const auto& l : m.architecture().layers) {
    if (l.outGroup != group) continue;
    for (int64_t i = 0; i < width; ++i) {
      if (std::find(keep.begin(), keep.end(), i) != keep.end()) continue;
      m.state().at(l.weight)[i].zero_();
      if (!l.bias.empty()) m.state().at(l.bias)[i].zero_();
      if (!l.perNeuron.empty()) {
        m.state().at(l.perNeuron[0])[i].zero_();
        m.state().at(l.perNeuron[1])[i].zero_();
      }
    }
  }
}

}  // namespace

class TestPrune : public QObject {
  Q_OBJECT
 private slots:
  void initTestCase() { at::set_num_threads(1); }

  void keepingAllIsTheIdentity_data() {
    QTest::addColumn<QString>("spec");
    for (const char* s : {"mlpnet", "mlp:20-10,bias", "vgg:8,M,16,M,bn,bias", "resnet18_w4",
                          "vgg:8,M,8,bias,tv6"})
      QTest::newRow(s) << s;
  }
  void keepingAllIsTheIdentity() {
    QFETCH(QString, spec);
    Model m = randomModel(spec.toStdString(), 1);
    PruneResult r = pruneModel(m, 1.0);
    QCOMPARE(QString::fromStdString(r.model.architecture().name),
             QString::fromStdString(m.architecture().name));
    QCOMPARE(r.model.state().keys(), m.state().keys());
    for (const auto& [key, t] : m.state()) QVERIFY2(at::equal(r.model.state().at(key), t), key.c_str());
    at::Tensor x = inputsFor(m.architecture(), 4);
    QVERIFY(at::equal(r.model.forward(x), m.forward(x)));
    // A copy: changing the pruned model leaves the original alone.
    r.model.state().at(m.architecture().layers[0].weight).zero_();
    QVERIFY(m.state().at(m.architecture().layers[0].weight).abs().sum().item<double>() > 0);
  }

  // fc1: 4 neurons reading pixels 0 and 1 only, incoming norms 1, 3, sqrt 2, sqrt 8; keeping
  // half keeps neurons 1 and 3. fc2[c][j] = (4c + j) / 10, no other inputs.
  void tinyMlpEqualsHandComputedReference() {
    Model m = Model::initialize(parseArchitecture("mlp:4,bias"), 0);
    at::Tensor w1 = at::zeros({4, 784});
    const float rows[4][2] = {{1, 0}, {0, 3}, {-1, 1}, {2, 2}};
    for (int j = 0; j < 4; ++j) {
      w1[j][0] = rows[j][0];
      w1[j][1] = rows[j][1];
    }
    m.state().at("fc1.weight") = w1;
    m.state().at("fc1.bias") = at::tensor({0.1f, 0.2f, 0.3f, 0.4f});
    m.state().at("fc2.weight") = at::arange(40, at::kFloat).reshape({10, 4}) / 10;
    m.state().at("fc2.bias") = at::arange(10, at::kFloat) / 100;
    PruneResult r = pruneModel(m, 0.5);
    QCOMPARE(QString::fromStdString(r.model.architecture().name), QString("mlp:2,bias"));
    QCOMPARE(r.kept.size(), size_t(1));
    QCOMPARE(r.kept[0], (std::vector<int64_t>{1, 3}));
    at::Tensor x = at::zeros({1, 1, 28, 28});
    x[0][0][0][0] = 1;
    x[0][0][0][1] = 2;
    at::Tensor y = r.model.forward(x);
    const double h1 = 0 * 1 + 3 * 2 + 0.2, h3 = 2 * 1 + 2 * 2 + 0.4;  // 6.2, 6.4
    for (int c = 0; c < 10; ++c) {
      const double expected = (4 * c + 1) / 10.0 * h1 + (4 * c + 3) / 10.0 * h3 + c / 100.0;
      QVERIFY2(std::abs(y[0][c].item<double>() - expected) < 1e-4,
               qPrintable(QString("class %1: %2 vs %3").arg(c).arg(y[0][c].item<double>()).arg(expected)));
    }
  }

  void keptNeuronsHaveTheLargestNorms_data() {
    QTest::addColumn<QString>("spec");
    QTest::addColumn<double>("fraction");
    QTest::newRow("mlp 0.25") << "mlp:32-16" << 0.25;
    QTest::newRow("mlp 0.75") << "mlp:32-16,bias" << 0.75;
    QTest::newRow("vgg bn 0.5") << "vgg:8,M,16,M,bn" << 0.5;
    QTest::newRow("resnet 0.5") << "resnet18_w8" << 0.5;
  }
  void keptNeuronsHaveTheLargestNorms() {
    QFETCH(QString, spec);
    QFETCH(double, fraction);
    Model m = randomModel(spec.toStdString(), 2);
    PruneResult r = pruneModel(m, fraction);
    const Architecture& a = m.architecture();
    const auto widths = groupWidths(a);
    QCOMPARE(r.kept.size(), widths.size());
    // Scores recomputed here: incoming-weight L2 norm over all the group's writers.
    for (int g = 0; g < a.numGroups; ++g) {
      at::Tensor score = at::zeros({widths[size_t(g)]}, at::kDouble);
      for (const auto& l : a.layers)
        if (l.outGroup == g) {
          at::Tensor w = m.state().at(l.weight).to(at::kDouble);
          score += w.reshape({w.size(0), -1}).pow(2).sum(1);
        }
      const auto& kept = r.kept[size_t(g)];
      QCOMPARE(int64_t(kept.size()), prunedWidth(widths[size_t(g)], fraction));
      QVERIFY(std::is_sorted(kept.begin(), kept.end()));
      double minKept = 1e300, maxDropped = -1;
      for (int64_t i = 0; i < widths[size_t(g)]; ++i) {
        const double s = score[i].item<double>();
        if (std::find(kept.begin(), kept.end(), i) != kept.end()) minKept = std::min(minKept, s);
        else maxDropped = std::max(maxDropped, s);
      }
      QVERIFY2(minKept > maxDropped, qPrintable(QString("group %1").arg(g)));
      // The narrow model's rows are the kept rows.
      for (const auto& l : a.layers)
        if (l.outGroup == g && l.inGroup < 0) {
          at::Tensor expected = m.state().at(l.weight).index_select(
              0, at::tensor(std::vector<int64_t>(kept.begin(), kept.end()), at::kLong));
          QVERIFY(at::equal(r.model.state().at(l.weight), expected));
        }
    }
    QCOMPARE(groupWidths(r.model.architecture()).size(), widths.size());
  }

  void prunedCopyOfZeroedNetworkIsTheSameFunction_data() {
    QTest::addColumn<QString>("spec");
    QTest::addColumn<double>("fraction");
    QTest::addColumn<QString>("narrowSpec");
    QTest::newRow("mlp") << "mlp:32-16,bias" << 0.5 << "mlp:16-8,bias";
    QTest::newRow("mlpnet") << "mlpnet" << 0.25 << "mlp:100-50-25";
    QTest::newRow("vgg flatten") << "vgg:8,M,16,M,bn,bias" << 0.75 << "vgg:6,M,12,M,bn,bias";
    QTest::newRow("vgg tv") << "vgg:8,M,8,bias,tv8" << 0.5 << "vgg:4,M,4,bias,tv4";
    QTest::newRow("resnet streams") << "resnet18_w8" << 0.5 << "resnet18_w4";
  }
  void prunedCopyOfZeroedNetworkIsTheSameFunction() {
    QFETCH(QString, spec);
    QFETCH(double, fraction);
    QFETCH(QString, narrowSpec);
    Model m = randomModel(spec.toStdString(), 3);
    const auto widths = groupWidths(m.architecture());
    // Keep a scattered set of neurons per group, zero the rest (they then have norm 0).
    for (int g = 0; g < m.architecture().numGroups; ++g) {
      const int64_t w = widths[size_t(g)], k = prunedWidth(w, fraction);
      at::manual_seed(g);
      at::Tensor perm = at::randperm(w, at::kLong).slice(0, 0, k);
      perm = std::get<0>(perm.sort()).contiguous();
      std::vector<int64_t> keep(perm.data_ptr<int64_t>(), perm.data_ptr<int64_t>() + k);
      zeroNeurons(m, g, keep, w);
    }
    PruneResult r = pruneModel(m, fraction);
    QCOMPARE(QString::fromStdString(r.model.architecture().name),
             QString::fromStdString(parseArchitecture(narrowSpec.toStdString()).name));
    at::Tensor x = inputsFor(m.architecture(), 8);
    at::Tensor wide = m.forward(x), narrow = r.model.forward(x);
    const double diff = (wide - narrow).abs().max().item<double>();
    QVERIFY2(diff < 1e-4 * (1 + wide.abs().max().item<double>()), qPrintable(QString::number(diff)));
    QVERIFY(r.model.parameterCount() < m.parameterCount());
  }

  void prunedModelSavesAndLoads() {
    QTemporaryDir dir;
    Model m = randomModel("mlp:20-10", 4);
    PruneResult r = pruneModel(m, 0.5);
    const std::string path = dir.filePath("pruned.pt").toStdString();
    saveCheckpoint(path, r.model.state());
    Model back = Model::load(path);
    QCOMPARE(QString::fromStdString(back.architecture().name), QString("mlp:10-5"));
    at::Tensor x = inputsFor(m.architecture(), 3);
    QVERIFY(at::equal(back.forward(x), r.model.forward(x)));
  }

  void badFractionsAreRefused_data() {
    QTest::addColumn<double>("fraction");
    QTest::newRow("0") << 0.0;
    QTest::newRow("1.5") << 1.5;
    QTest::newRow("-0.5") << -0.5;
    QTest::newRow("nan") << std::nan("");
  }
  void badFractionsAreRefused() {
    QFETCH(double, fraction);
    Model m = randomModel("mlp:8", 0);
    try {
      pruneModel(m, fraction);
      QFAIL("no error");
    } catch (const Error& e) {
      QVERIFY2(QString(e.what()).contains("(0, 1]"), e.what());
    }
  }

  void unprunableArchitecturesAreRefusedClearly() {
    try {
      pruneModel(randomModel("mnistcnn", 0), 0.5);
      QFAIL("mnistcnn pruned");
    } catch (const Error& e) {
      QVERIFY2(QString(e.what()).contains("fixed widths"), e.what());
    }
    // ResNet-18 w10 at 25 %: stem 10 -> 3 but stage 2 20 -> 5, not 2 x 3.
    try {
      pruneModel(randomModel("resnet18_w10", 0), 0.25);
      QFAIL("inconsistent ResNet widths accepted");
    } catch (const Error& e) {
      QVERIFY2(QString(e.what()).contains("w, 2w, 4w, 8w"), e.what());
    }
  }
};

OTFUSE_TEST_MAIN_APPLESS(TestPrune)
#include "test_prune.moc"
