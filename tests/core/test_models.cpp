// Architectures: state_dict names/shapes equal those of PyTorch modules written like the paper's
// code (fixtures from tests/fixtures/make_model_fixtures.py), the forward pass equals PyTorch's,
// architectures are inferred back from their weights, and bad weights are refused clearly.
#include <ATen/ATen.h>

#include <QtTest>
#include <type_traits>

#include "common/otfuse_test.h"

#include <cmath>
#include <fstream>
#include <sstream>

#include "otfuse/error.h"
#include "otfuse/io/checkpoint.h"
#include "otfuse/models/model.h"
#include "otfuse/runtime.h"

using namespace otfuse;

namespace {

QString fixture(const QString& name) {
  return QStringLiteral(OTFUSE_FIXTURES_DIR) + "/models/" + name;
}

// Same numbers as hash_uniform() in make_model_fixtures.py (exact int64 arithmetic).
at::Tensor hashUniform(int64_t n, int64_t k) {
  at::Tensor h = at::arange(n, at::kLong) + 7919 * k;
  for (int round = 0; round < 2; ++round) {
    h = at::remainder(h * 1103515245 + 12345, int64_t(1) << 31);
    h = at::bitwise_xor(h, at::div(h, 65536, "floor"));
  }
  return h.to(at::kDouble) / double(int64_t(1) << 31);
}

// Same weights as fill_state() in make_model_fixtures.py.
void fillState(StateDict& s) {
  int64_t k = 0;
  for (auto& [key, t] : s) {
    const int64_t index = k++;
    if (key.size() >= 19 && key.compare(key.size() - 19, 19, "num_batches_tracked") == 0) continue;
    const std::string leaf = key.substr(key.rfind('.') + 1);
    double a = 0, b = 0.1;
    if (leaf == "weight" && t.dim() > 1) {
      b = std::sqrt(6.0 / double(t.numel() / t.size(0)));
    } else if (leaf == "weight") {
      a = 1.0, b = 0.2;
    } else if (leaf == "running_var") {
      a = 1.0, b = 0.3;
    }
    at::Tensor v = a + b * (2.0 * hashUniform(t.numel(), index) - 1.0);
    t = v.view(t.sizes()).to(at::kFloat);
  }
}

std::vector<std::string> describe(const StateDict& s) {
  std::vector<std::string> lines;
  for (const auto& [key, t] : s) {
    std::string line = key;
    for (int64_t d : t.sizes()) line += " " + std::to_string(d);
    lines.push_back(line);
  }
  return lines;
}

}  // namespace

class TestModels : public QObject {
  Q_OBJECT
 private slots:
  void initTestCase() { initRuntime(); }

  void keysMatchPyTorch_data() {
    QTest::addColumn<QString>("spec");
    QTest::addColumn<QString>("reference");
    QTest::newRow("mlpnet") << "mlpnet"
                            << "mlpnet";
    QTest::newRow("mlp:400-200,bias") << "mlp:400-200,bias"
                                      << "mlp_400-200_bias";
    QTest::newRow("mlp:64,cifar") << "mlp:64,cifar"
                                  << "mlp_64_cifar";
    QTest::newRow("mnistcnn") << "mnistcnn"
                              << "mnistcnn";
    for (const char* v : {"vgg11", "vgg11_bn", "vgg11_bias", "vgg11_bn_bias", "vgg11_half",
                          "vgg11_double", "resnet18", "resnet18_nobn", "resnet18_bias"})
      QTest::newRow(v) << v << v;
  }
  void keysMatchPyTorch() {
    QFETCH(QString, spec);
    QFETCH(QString, reference);
    std::ifstream in(fixture("keys/" + reference + ".txt").toStdString());
    if (!in) OTFUSE_SKIP("fixture keys/*.txt missing; run tests/fixtures/make_model_fixtures.py");
    std::vector<std::string> expected;
    for (std::string line; std::getline(in, line);)
      if (!line.empty()) expected.push_back(line);
    Model m = Model::initialize(parseArchitecture(spec.toStdString()), 0);
    const std::vector<std::string> actual = describe(m.state());
    for (size_t i = 0; i < std::max(actual.size(), expected.size()); ++i) {
      const std::string a = i < actual.size() ? actual[i] : "(none)";
      const std::string e = i < expected.size() ? expected[i] : "(none)";
      QVERIFY2(a == e, qPrintable(QString("entry %1: ours '%2', PyTorch '%3'")
                                      .arg(i)
                                      .arg(QString::fromStdString(a), QString::fromStdString(e))));
    }
    // PyTorch's default initialization bound U(-1/sqrt(fan_in), 1/sqrt(fan_in)).
    const LayerInfo& first = m.architecture().layers.front();
    const at::Tensor& w = m.state().at(first.weight);
    const double bound = 1.0 / std::sqrt(double(w.numel() / w.size(0)));
    QVERIFY(w.abs().max().item<double>() <= bound);
    QVERIFY(w.abs().max().item<double>() > 0.5 * bound);
  }

  void inferRoundTrips_data() { keysMatchPyTorch_data(); }
  void inferRoundTrips() {
    QFETCH(QString, spec);
    const Architecture a = parseArchitecture(spec.toStdString());
    QCOMPARE(parseArchitecture(a.name).name, a.name);
    Model m = Model::initialize(a, 1);
    QCOMPARE(inferArchitecture(m.state()).name, a.name);
    QCOMPARE(int64_t(m.parameters().size()) > 0, true);
  }

  void forwardMatchesPyTorch_data() {
    QTest::addColumn<QString>("spec");
    for (const char* v : {"mlpnet", "mnistcnn", "vgg11", "vgg11_bn", "resnet18"})
      QTest::newRow(v) << v;
  }
  void forwardMatchesPyTorch() {
    QFETCH(QString, spec);
    const QString io = fixture(spec + "_io.pt");
    if (!QFile::exists(io)) OTFUSE_SKIP("fixture *_io.pt missing; run make_model_fixtures.py");
    Checkpoint ck = loadCheckpoint(io.toStdString());
    const at::Tensor x = ck.state.at("input"), expected = ck.state.at("output");
    const Architecture a = parseArchitecture(spec.toStdString());
    StateDict s = Model::initialize(a, 0).state().clone();
    fillState(s);
    Model m(a, s);
    const at::Tensor y = m.forward(x);
    const double scale = std::max(1.0, expected.abs().max().item<double>());
    const double diff = (y - expected).abs().max().item<double>();
    QVERIFY2(
        diff <= 1e-5 * scale,
        qPrintable(QString("max |ours - PyTorch| = %1 (outputs up to %2)").arg(diff).arg(scale)));
    // Evaluation mode leaves BatchNorm statistics alone; training mode updates them.
    if (a.batchNorm) {
      const std::string mean = a.layers.front().perNeuron[2];
      const at::Tensor before = m.state().at(mean).clone();
      m.forward(x);
      QVERIFY(at::equal(before, m.state().at(mean)));
      m.forwardTrain(x);
      QVERIFY(!at::equal(before, m.state().at(mean)));
    }
    // The stored PyTorch state_dict (small models) loads and is the same weights.
    const QString stored = fixture(spec + "_state.pt");
    if (QFile::exists(stored)) {
      Model loaded = Model::load(stored.toStdString());
      QCOMPARE(loaded.architecture().name, a.name);
      QVERIFY((loaded.forward(x) - expected).abs().max().item<double>() <= 1e-5 * scale);
    }
  }

  // Issue 8: handles are immutable. The const forward pass cannot update BatchNorm statistics
  // (it used to, through a const_cast, when called with train = true); only the non-const
  // forwardTrain can, and a clone keeps the original untouched.
  void constForwardNeverChangesTheModel() {
    static_assert(!std::is_invocable_v<decltype(&Model::forwardTrain), const Model&,
                                       const at::Tensor&, double, std::vector<at::Tensor>*>,
                  "a training pass must need a mutable Model");
    const Model m = Model::initialize(parseArchitecture("vgg11_bn_half"), 3);
    const StateDict before = m.state().clone();
    const at::Tensor x = at::randn({4, 3, 32, 32});
    m.forward(x);
    Model copy = m.clone();
    copy.forwardTrain(x);
    for (const auto& [key, t] : before) {
      QVERIFY2(at::equal(t, m.state().at(key)), key.c_str());
    }
    const std::string counter = "features.1.num_batches_tracked";
    QVERIFY2(copy.state().contains(counter), "vgg11_bn_half has no features.1 BatchNorm counter");
    QCOMPARE(copy.state().at(counter).item<int64_t>(), int64_t(1));
    QVERIFY(!at::equal(copy.state().at("features.1.running_mean"),
                       m.state().at("features.1.running_mean")));
  }

  void preActivationsPerLayer() {
    Model m = Model::initialize(parseArchitecture("mlpnet"), 0);
    std::vector<at::Tensor> pre;
    at::Tensor y = m.forward(at::randn({3, 1, 28, 28}), &pre);
    QCOMPARE(int(pre.size()), 4);
    QCOMPARE(pre[0].size(1), int64_t(400));
    QVERIFY(at::equal(pre.back(), y));
  }

  void mismatchListsEveryProblem() {
    StateDict s = Model::initialize(parseArchitecture("mlpnet"), 0).state().clone();
    StateDict bad;
    for (const auto& [key, t] : s) {
      if (key == "fc4.weight") continue;                              // missing
      bad.set(key, key == "fc2.weight" ? at::zeros({200, 401}) : t);  // wrong shape
    }
    bad.set("fc9.bias", at::zeros({3}));  // unexpected
    try {
      Model m(parseArchitecture("mlpnet"), bad);
      QFAIL("a mismatched state_dict was accepted");
    } catch (const Error& e) {
      const QString msg = e.what();
      QVERIFY2(msg.contains("missing fc4.weight"), qPrintable(msg));
      QVERIFY2(msg.contains("fc2.weight has shape [200, 401], expected [200, 400]"),
               qPrintable(msg));
      QVERIFY2(msg.contains("unexpected fc9.bias"), qPrintable(msg));
    }
    // Inference names the keys when nothing fits.
    StateDict foreign;
    foreign.set("encoder.weight", at::zeros({2, 2}));
    QVERIFY_THROWS_EXCEPTION(Error, inferArchitecture(foreign));
  }

  void nonFiniteWeightsAreRefused() {
    StateDict s = Model::initialize(parseArchitecture("mnistcnn"), 0).state().clone();
    s.at("conv2.weight")[0][0][0][0] = std::nan("");
    try {
      Model m(parseArchitecture("mnistcnn"), s);
      QFAIL("NaN weights were accepted");
    } catch (const Error& e) {
      QVERIFY2(QString(e.what()).contains("conv2.weight"), e.what());
    }
  }

  void unknownSpecsAreRefused_data() {
    QTest::addColumn<QString>("spec");
    for (const char* v : {"", "vgg12", "vgg11_quarter", "mlp:", "mlp:10-x", "mlp:0", "mlp:5,foo",
                          "resnet50", "resnet18_wide"})
      QTest::newRow(v) << v;
  }
  void unknownSpecsAreRefused() {
    QFETCH(QString, spec);
    QVERIFY_THROWS_EXCEPTION(Error, parseArchitecture(spec.toStdString()));
  }

  void wrongInputShapeIsAnError() {
    Model m = Model::initialize(parseArchitecture("vgg11_half"), 0);
    QVERIFY_THROWS_EXCEPTION(Error, m.forward(at::zeros({1, 1, 28, 28})));
  }
};

OTFUSE_TEST_MAIN_APPLESS(TestModels)
#include "test_models.moc"
