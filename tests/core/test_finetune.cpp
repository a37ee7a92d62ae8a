// Fine-tuning after fusion (issue 10, section 1) through the engine facade: a fine-tuned model
// is a new handle (the input is untouched), the same request gives the same result, one point
// per epoch plus epoch 0, cancelling stops it, and the comparison fine-tunes OT fusion and the
// vanilla average with one budget. Tiny MLPs on the first 2,000 MNIST training images
// (skipped without MNIST).
#include <ATen/ATen.h>

#include <QtTest>

#include <atomic>
#include <cmath>

#include "common/otfuse_test.h"
#include "otfuse/data/dataset.h"
#include "otfuse/engine/engine.h"
#include "otfuse/engine/finetune.h"
#include "otfuse/error.h"
#include "otfuse/models/model.h"
#include "otfuse/train/train.h"

using namespace otfuse;

namespace {

bool haveMnist() { return findDataset("mnist", resolveDataDir()).found; }

ModelPtr tinyModel(uint64_t seed) {
  TrainRequest r;
  r.spec = "mlp:32";
  r.seed = seed;
  r.epochs = 1;
  r.limit = 2000;
  return trainNewModel(r);
}

FinetuneRequest tinyRequest(int epochs = 2) {
  FinetuneRequest r;
  r.dataset = "mnist";
  r.epochs = epochs;
  r.limit = 2000;
  r.testLimit = 1000;
  r.seed = 3;
  return r;
}

// Every tensor of the two state dicts bitwise equal.
bool sameWeights(const Model& a, const Model& b) {
  if (a.state().size() != b.state().size()) return false;
  for (const auto& [key, t] : a.state()) {
    if (!b.state().contains(key) || !at::equal(t, b.state().at(key))) return false;
  }
  return true;
}

}  // namespace

class TestFinetune : public QObject {
  Q_OBJECT

 private slots:
  void initTestCase() {
    if (!haveMnist()) OTFUSE_SKIP("MNIST not installed (scripts/fetch_mnist.sh)");
    a_ = tinyModel(1);
    b_ = tinyModel(2);
  }

  void newHandleInputUntouched() {
    const Model before = a_->model->clone();
    std::vector<FinetunePoint> seen;
    FinetuneResult r = finetuneModel(a_, tinyRequest(2), {}, nullptr,
                                     [&](const FinetunePoint& p) { seen.push_back(p); });
    QVERIFY(r.model && r.model != a_ && r.model->model != a_->model);
    QVERIFY2(sameWeights(*a_->model, before), "the input model changed");
    QVERIFY2(!sameWeights(*r.model->model, before), "fine-tuning left the weights as they were");
    // Epoch 0 and one point per epoch, reported as they come, in order.
    QCOMPARE(int(r.points.size()), 3);
    QCOMPARE(int(seen.size()), 3);
    for (int i = 0; i < 3; ++i) {
      QCOMPARE(r.points[size_t(i)].epoch, i);
      QCOMPARE(seen[size_t(i)].accuracy, r.points[size_t(i)].accuracy);
    }
    QVERIFY(std::isnan(r.points[0].trainLoss));
    // Epoch 0 is the input as it is, on the same (limited) test images.
    Dataset test = loadDataset("mnist", Split::Test);
    test.images = test.images.slice(0, 0, 1000);
    test.labels = test.labels.slice(0, 0, 1000);
    const EvalResult e0 = evaluate(*a_->model, test);
    QCOMPARE(r.points[0].accuracy, e0.accuracy);
    QCOMPARE(r.points[0].loss, e0.loss);
    // The last point is the returned model.
    const EvalResult eN = evaluate(*r.model->model, test);
    QCOMPARE(r.points.back().accuracy, eN.accuracy);
    // A model trained one epoch on 2,000 images still learns: loss down after two more.
    QVERIFY2(r.points.back().loss < r.points[0].loss,
             qPrintable(QString("test loss %1 -> %2").arg(r.points[0].loss).arg(r.points.back().loss)));
    QCOMPARE(r.model->metadata.at("epoch"), std::string("2"));
    QCOMPARE(r.model->architecture, a_->architecture);
  }

  void sameSeedSameResult() {
    FinetuneResult r1 = finetuneModel(a_, tinyRequest(2));
    FinetuneResult r2 = finetuneModel(a_, tinyRequest(2));
    QVERIFY(sameWeights(*r1.model->model, *r2.model->model));
    for (size_t i = 0; i < r1.points.size(); ++i) {
      QCOMPARE(r1.points[i].accuracy, r2.points[i].accuracy);
      QCOMPARE(r1.points[i].loss, r2.points[i].loss);
    }
    FinetuneRequest other = tinyRequest(2);
    other.seed = 4;  // another data order
    FinetuneResult r3 = finetuneModel(a_, other);
    QVERIFY(!sameWeights(*r1.model->model, *r3.model->model));
  }

  void pointsPerEpoch_data() {
    QTest::addColumn<int>("epochs");
    QTest::newRow("1 epoch") << 1;
    QTest::newRow("3 epochs") << 3;
  }
  void pointsPerEpoch() {
    QFETCH(int, epochs);
    FinetuneRequest r = tinyRequest(epochs);
    r.limit = 500;
    FinetuneResult out = finetuneModel(b_, r);
    QCOMPARE(int(out.points.size()), epochs + 1);
    QCOMPARE(out.points.back().epoch, epochs);
  }

  void badOptions() {
    FinetuneRequest r = tinyRequest(0);
    QVERIFY_THROWS_EXCEPTION(Error, finetuneModel(a_, r));
    r = tinyRequest(1);
    r.schedule = "zigzag";
    QVERIFY_THROWS_EXCEPTION(Error, finetuneModel(a_, r));
    r = tinyRequest(1);
    r.learningRate = -1;
    QVERIFY_THROWS_EXCEPTION(Error, finetuneModel(a_, r));
  }

  void cancelStops() {
    const Model before = a_->model->clone();
    std::atomic<bool> cancel{false};
    int points = 0;
    bool cancelled = false;
    try {
      finetuneModel(a_, tinyRequest(5), {}, &cancel, [&](const FinetunePoint& p) {
        ++points;
        if (p.epoch == 1) cancel = true;
      });
    } catch (const Cancelled&) {
      cancelled = true;
    }
    QVERIFY(cancelled);
    QCOMPARE(points, 2);  // epoch 0 and epoch 1, then it stopped
    QVERIFY(sameWeights(*a_->model, before));
  }

  // The comparison: both series with the same request, epoch 0 = the fusion table's rows,
  // the references first, and the "fused" series exactly what finetuneModel gives for the
  // fused model (same budget, same batches).
  void comparison() {
    FusionRequest f;
    f.a = a_;
    f.b = b_;
    f.dataset = "mnist";
    FusionOutcome outcome = runFusion(f);
    QVERIFY(outcome.vanilla);
    FinetuneRequest r = tinyRequest(2);
    r.testLimit = 0;  // the table's test set, so epoch 0 can be compared with it
    r.limit = 1000;
    std::vector<std::string> events;
    int fusedPoints = 0, vanillaPoints = 0;
    FinetuneComparison c = compareFinetuning(
        f, outcome, r,
        [&](const std::string& series, const FinetunePoint&) {
          events.push_back("point");
          (series == "fused" ? fusedPoints : vanillaPoints)++;
        },
        {}, nullptr, [&](const FinetuneReference&) { events.push_back("reference"); });
    QCOMPARE(fusedPoints, 3);
    QCOMPARE(vanillaPoints, 3);
    QCOMPARE(int(c.series.at("fused").size()), 3);
    QCOMPARE(int(c.series.at("vanilla").size()), 3);
    QCOMPARE(int(c.references.size()), 3);  // model A, model B, ensemble
    QCOMPARE(events.front(), std::string("reference"));
    QCOMPARE(events[2], std::string("reference"));
    QCOMPARE(events[3], std::string("point"));
    QCOMPARE(c.startRow.at("fused"), std::string("fused"));
    QCOMPARE(c.series.at("fused")[0].accuracy, outcome.summary.accuracy.at("fused"));
    QCOMPARE(c.series.at("vanilla")[0].accuracy, outcome.summary.accuracy.at("vanilla"));
    QCOMPARE(c.references[0].score.accuracy, outcome.summary.accuracy.at("model_0"));
    QCOMPARE(c.references[2].score.accuracy, outcome.summary.accuracy.at("ensemble"));
    FinetuneResult alone = finetuneModel(outcome.fused, r);
    for (size_t i = 0; i < alone.points.size(); ++i)
      QCOMPARE(c.series.at("fused")[i].accuracy, alone.points[i].accuracy);
    QVERIFY(sameWeights(*c.finalModels.at("fused")->model, *alone.model->model));
    // The outcome's models are untouched.
    QCOMPARE(evaluateModel(outcome.fused, "mnist", "").accuracy, outcome.summary.accuracy.at("fused"));
  }

  void meanAndSampleStd() {
    const MeanStd m = meanStd({1, 2, 3, 4});
    QCOMPARE(m.count, 4);
    QCOMPARE(m.mean, 2.5);
    QVERIFY(std::abs(m.std - std::sqrt(5.0 / 3.0)) < 1e-12);  // n - 1, not n
    QCOMPARE(meanStd({7}).std, 0.0);
    QCOMPARE(meanStd({}).count, 0);
  }

 private:
  ModelPtr a_, b_;
};

OTFUSE_TEST_MAIN_APPLESS(TestFinetune)
#include "test_finetune.moc"
