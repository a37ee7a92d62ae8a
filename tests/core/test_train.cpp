// Training and evaluation: the loss goes down, runs are reproducible, cancellation stops a run,
// and (ensemble) evaluation equals values computed directly from the forward pass.
#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>

#include <QtTest>

#include "common/otfuse_test.h"

#include <atomic>

#include "otfuse/error.h"
#include "otfuse/train/train.h"
#include "core/synthetic_data.h"

using namespace otfuse;
using otfuse::testing::syntheticDataset;

namespace {

bool sameWeights(const Model& a, const Model& b) {
  for (const auto& [key, t] : a.state()) {
    if (!at::equal(t, b.state().at(key))) return false;
  }
  return true;
}

// log-softmax of an MLP computed directly from its weights (ReLU between layers, no bias).
at::Tensor directLogSoftmax(const Model& m, const Dataset& d) {
  at::Tensor x = (d.images.to(at::kFloat) / 255.0 - 0.2) / 0.3;
  at::Tensor h = x.reshape({x.size(0), -1});
  const auto& layers = m.architecture().layers;
  for (size_t i = 0; i < layers.size(); ++i) {
    h = at::matmul(h, m.state().at(layers[i].weight).t());
    if (i + 1 < layers.size()) h = at::clamp_min(h, 0);
  }
  return at::log_softmax(h.to(at::kDouble), 1);
}

}  // namespace

class TestTrain : public QObject {
  Q_OBJECT
 private slots:
  void initTestCase() { initRuntime(); }

  // Fused BN models get their running statistics re-estimated (ALGORITHM.md): after it, the
  // running mean of the first BatchNorm is the mean of its input over the batches used.
  void batchNormRecalibrationAveragesBatchStatistics() {
    Dataset data = syntheticDataset(256, 3, 7);
    Model m = Model::initialize(parseArchitecture("vgg11_bn_half"), 1);
    const LayerInfo& first = m.architecture().layers.front();
    m.state().at(first.perNeuron[2]).fill_(5.0);  // stale statistics
    m.state().at(first.perNeuron[3]).fill_(9.0);
    recalibrateBatchNorm(m, data, 2, 128, 0);  // two disjoint batches = all 256 images
    at::NoGradGuard g;
    at::Tensor y = at::conv2d(data.normalized(), m.state().at(first.weight), {}, {1, 1}, {1, 1});
    at::Tensor expected = y.mean({0, 2, 3});
    QVERIFY((m.state().at(first.perNeuron[2]) - expected).abs().max().item<double>() < 1e-4);
    at::Tensor var = m.state().at(first.perNeuron[3]);
    QVERIFY(var.min().item<double>() > 0 && (var - 9.0).abs().min().item<double>() > 1.0);
    // Without BatchNorm it is a no-op.
    Model plain = Model::initialize(parseArchitecture("mlpnet"), 1);
    Model before = plain.clone();
    recalibrateBatchNorm(plain, syntheticDataset(64, 1, 1), 2, 32, 0);
    QVERIFY(sameWeights(plain, before));
  }

  void lossDecreases() {
    Dataset data = syntheticDataset(600, 1, 1);
    Model model = Model::initialize(parseArchitecture("mlp:32"), 3);
    const double before = evaluate(model, data).loss;
    TrainOptions o;
    o.epochs = 3;
    o.batchSize = 32;
    o.learningRate = 0.05;
    o.momentum = 0.9;
    auto results = trainModel(model, data, &data, o);
    QCOMPARE(int(results.size()), 3);
    QVERIFY2(results.back().trainLoss < results.front().trainLoss, "train loss did not fall");
    const EvalResult after = evaluate(model, data);
    QVERIFY2(after.loss < 0.5 * before,
             qPrintable(QString("loss %1 -> %2").arg(before).arg(after.loss)));
    QVERIFY(after.accuracy > 50.0);
    QCOMPARE(results.back().testAccuracy, after.accuracy);
    // The trained tensors no longer require grad once training is over.
    for (const auto& p : model.parameters()) QVERIFY(!p.requires_grad());
  }

  void sameSeedSameWeights_data() {
    QTest::addColumn<int>("channels");
    QTest::addColumn<QString>("arch");
    QTest::addColumn<bool>("augment");
    QTest::newRow("mnist-like mlp") << 1 << "mlp:24" << false;
    QTest::newRow("cifar-like mlp, augmented") << 3 << "mlp:16,cifar" << true;
  }
  void sameSeedSameWeights() {
    QFETCH(int, channels);
    QFETCH(QString, arch);
    QFETCH(bool, augment);
    Dataset data = syntheticDataset(300, channels, 5);
    TrainOptions o;
    o.epochs = 2;
    o.batchSize = 50;
    o.augment = augment;
    o.seed = 11;
    o.weightDecay = 5e-4;
    o.schedule = "cosine";
    const Architecture a = parseArchitecture(arch.toStdString());
    Model m1 = Model::initialize(a, 11), m2 = Model::initialize(a, 11);
    Model m3 = Model::initialize(a, 11);
    trainModel(m1, data, nullptr, o);
    trainModel(m2, data, nullptr, o);
    QVERIFY(sameWeights(m1, m2));
    o.seed = 12;  // same initial weights, different shuffling (and augmentation)
    trainModel(m3, data, nullptr, o);
    QVERIFY(!sameWeights(m1, m3));
  }

  void limitUsesFirstImages() {
    Dataset data = syntheticDataset(200, 1, 2);
    TrainOptions o;
    o.epochs = 1;
    o.batchSize = 10;
    o.limit = 40;
    long long batches = 0;
    Model m = Model::initialize(parseArchitecture("mlp:8"), 1);
    trainModel(m, data, nullptr, o, [&](const Progress& p) { batches = p.total; });
    QCOMPARE(batches, 4LL);
  }

  void cancelStopsTraining() {
    Dataset data = syntheticDataset(400, 1, 3);
    Model model = Model::initialize(parseArchitecture("mlp:16"), 0);
    TrainOptions o;
    o.epochs = 5;
    o.batchSize = 20;
    CancelFlag cancel{false};
    long long seen = 0;
    auto progress = [&](const Progress& p) {
      ++seen;
      if (seen == 3) cancel = true;
    };
    QVERIFY_THROWS_EXCEPTION(Cancelled, trainModel(model, data, nullptr, o, progress, &cancel));
    QCOMPARE(seen, 3LL);  // stopped before the fourth batch
    for (const auto& p : model.parameters()) QVERIFY(!p.requires_grad());
    QVERIFY_THROWS_EXCEPTION(Cancelled, evaluate(model, data, 100, {}, &cancel));
  }

  void badInputIsRefused() {
    Dataset cifar = syntheticDataset(10, 3, 0);
    Model mnistModel = Model::initialize(parseArchitecture("mlpnet"), 0);
    TrainOptions o;
    QVERIFY_THROWS_EXCEPTION(Error, trainModel(mnistModel, cifar, nullptr, o));
    QVERIFY_THROWS_EXCEPTION(Error, evaluate(mnistModel, cifar));
    Dataset mnist = syntheticDataset(10, 1, 0);
    o.epochs = 0;
    QVERIFY_THROWS_EXCEPTION(Error, trainModel(mnistModel, mnist, nullptr, o));
    o.epochs = 1;
    o.schedule = "exponential";
    QVERIFY_THROWS_EXCEPTION(Error, trainModel(mnistModel, mnist, nullptr, o));
    QVERIFY_THROWS_EXCEPTION(Error, evaluateEnsemble({}, mnist));
  }

  void schedules() {
    TrainOptions o;
    o.epochs = 4;
    o.learningRate = 0.1;
    o.schedule = "step";
    QCOMPARE(scheduledLearningRate(o, 1), 0.1);
    QVERIFY(qAbs(scheduledLearningRate(o, 2) - 0.01) < 1e-12);
    QVERIFY(qAbs(scheduledLearningRate(o, 3) - 0.001) < 1e-12);
    o.schedule = "cosine";
    QCOMPARE(scheduledLearningRate(o, 0), 0.1);
    QVERIFY(qAbs(scheduledLearningRate(o, 2) - 0.05) < 1e-12);
  }

  // 7 hand-made images, batch size 3 (a partial last batch): evaluate and both ensemble rules
  // equal accuracy/loss computed directly.
  void evaluationMatchesDirectComputation() {
    Dataset data = syntheticDataset(7, 1, 9);
    const Architecture a = parseArchitecture("mlp:12-6");
    Model m1 = Model::initialize(a, 1), m2 = Model::initialize(a, 2), m3 = Model::initialize(a, 3);
    const at::Tensor y = data.labels;
    auto check = [&](const EvalResult& r, const at::Tensor& logp) {
      const double loss = -logp.gather(1, y.view({-1, 1})).mean().item<double>();
      const double acc = 100.0 * logp.argmax(1).eq(y).sum().item<double>() / 7.0;
      QCOMPARE(r.count, int64_t(7));
      QVERIFY2(qAbs(r.loss - loss) < 1e-5, qPrintable(QString("%1 vs %2").arg(r.loss).arg(loss)));
      QCOMPARE(r.accuracy, acc);
    };
    const at::Tensor l1 = directLogSoftmax(m1, data), l2 = directLogSoftmax(m2, data),
                     l3 = directLogSoftmax(m3, data);
    check(evaluate(m1, data, 3), l1);
    check(evaluateEnsemble({m1, m2, m3}, data, EnsembleRule::LogSoftmaxMean, 3),
          (l1 + l2 + l3) / 3.0);
    check(evaluateEnsemble({m1, m2, m3}, data, EnsembleRule::ProbabilityMean, 3),
          at::log((l1.exp() + l2.exp() + l3.exp()) / 3.0));
    // An ensemble of one model is the model.
    check(evaluateEnsemble({m2}, data, EnsembleRule::ProbabilityMean, 3), l2);
  }

  // Issue 10: per-class accuracy and the confusion matrix. On 400 images in batches of 64 (a
  // partial last batch), for a trained model (most predictions right) and a 2-model ensemble:
  // the confusion matrix equals an independent count from the direct forward pass, sums to
  // the image count, its rows to each class's images, its trace to the correct predictions;
  // the per-class accuracies weighted by the class counts give the overall accuracy.
  void perClassAccuracyAndConfusion() {
    Dataset data = syntheticDataset(400, 1, 21);
    const Architecture a = parseArchitecture("mlp:32");
    Model m1 = Model::initialize(a, 1), m2 = Model::initialize(a, 2);
    TrainOptions o;
    o.epochs = 3;
    o.batchSize = 32;
    o.learningRate = 0.05;
    o.momentum = 0.9;
    trainModel(m1, data, nullptr, o);
    auto check = [&](const EvalResult& r, const at::Tensor& logp) {
      QCOMPARE(r.confusion.rows(), 10);
      QCOMPARE(r.confusion.cols(), 10);
      const at::Tensor pred = logp.argmax(1);
      Eigen::MatrixXi expected = Eigen::MatrixXi::Zero(10, 10);
      for (int64_t i = 0; i < data.size(); ++i)
        ++expected(int(data.labels[i].item<int64_t>()), int(pred[i].item<int64_t>()));
      QVERIFY(r.confusion == expected);
      QCOMPARE(int64_t(r.confusion.sum()), r.count);
      for (int c = 0; c < 10; ++c)
        QCOMPARE(int64_t(r.confusion.row(c).sum()), data.labels.eq(c).sum().item<int64_t>());
      QCOMPARE(100.0 * r.confusion.trace() / double(r.count), r.accuracy);
      const std::vector<double> perClass = r.perClassAccuracy();
      QCOMPARE(perClass.size(), size_t(10));
      double weighted = 0;
      for (int c = 0; c < 10; ++c) {
        const int64_t nc = data.labels.eq(c).sum().item<int64_t>();
        const int64_t right = (pred.eq(c) & data.labels.eq(c)).sum().item<int64_t>();
        QVERIFY(nc > 0);
        QVERIFY(qAbs(perClass[size_t(c)] - 100.0 * double(right) / double(nc)) < 1e-12);
        weighted += perClass[size_t(c)] * double(nc);
      }
      QVERIFY(qAbs(weighted / double(data.size()) - r.accuracy) < 1e-9);
    };
    const EvalResult trained = evaluate(m1, data, 64);
    QVERIFY2(trained.accuracy > 50, "the trained model should get most images right");
    check(trained, directLogSoftmax(m1, data));
    check(evaluateEnsemble({m1, m2}, data, EnsembleRule::LogSoftmaxMean, 64),
          (directLogSoftmax(m1, data) + directLogSoftmax(m2, data)) / 2.0);
    // A class without test images has no accuracy (NaN), not 0 %.
    Dataset noNine = data;
    at::Tensor keep = data.labels.ne(9).nonzero().view(-1);
    noNine.images = data.images.index_select(0, keep);
    noNine.labels = data.labels.index_select(0, keep);
    const std::vector<double> pc = evaluate(m1, noNine, 64).perClassAccuracy();
    QVERIFY(std::isnan(pc[9]));
    QVERIFY(!std::isnan(pc[0]));
  }
};

OTFUSE_TEST_MAIN_APPLESS(TestTrain)
#include "test_train.moc"
