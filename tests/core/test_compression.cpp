// The compression experiment (engine/compression.h) on a tiny run: two mlp:64-32 parents on
// 2,000 MNIST images; every width x method is present with accuracies in [0, 100], fine-tuning
// changes the models, the pruning row equals pruning B, points are reported before and after,
// bad requests are refused before anything runs, and cancel stops it. Skipped without MNIST.
#include <QtTest>

#include <atomic>

#include "common/otfuse_test.h"
#include "otfuse/data/dataset.h"
#include "otfuse/engine/compression.h"
#include "otfuse/error.h"

using namespace otfuse;

namespace {

bool haveMnist() { return findDataset("mnist", resolveDataDir()).found; }

ModelPtr trainedParent(const std::string& spec, uint64_t seed) {
  TrainRequest r;
  r.spec = spec;
  r.seed = seed;
  r.epochs = 2;
  r.limit = 2000;
  r.learningRate = 0.05;
  r.momentum = 0.9;
  return trainNewModel(r);
}

CompressionRequest tinyRequest(const ModelPtr& a, const ModelPtr& b) {
  CompressionRequest r;
  r.a = a;
  r.b = b;
  r.widths = {1.0, 0.5, 0.25};
  r.finetuneEpochs = 1;
  r.scratchEpochs = 1;
  r.limit = 2000;
  r.learningRate = 0.05;
  r.momentum = 0.9;
  return r;
}

}  // namespace

class TestCompression : public QObject {
  Q_OBJECT
  ModelPtr a_, b_;

 private slots:
  void initTestCase() {
    if (!haveMnist()) OTFUSE_SKIP("MNIST not installed (scripts/fetch_mnist.sh)");
    a_ = trainedParent("mlp:64-32", 1);
    b_ = trainedParent("mlp:64-32", 2);
  }

  void everyWidthAndMethodIsPresent() {
    CompressionRequest r = tinyRequest(a_, b_);
    std::vector<CompressionPoint> reported;
    CompressionResult res = runCompression(r, [&](const CompressionPoint& p) { reported.push_back(p); });
    QCOMPARE(res.points.size(), r.widths.size() * compressionMethods().size());
    QCOMPARE(res.scratchEpochs, 1);
    QCOMPARE(res.dataset, std::string("mnist"));
    QVERIFY(res.accuracyA > 50 && res.accuracyB > 50);
    const char* archs[] = {"mlp:64-32", "mlp:32-16", "mlp:16-8"};
    for (size_t i = 0; i < r.widths.size(); ++i) {
      for (const auto& m : compressionMethods()) {
        const CompressionPoint* p = res.find(r.widths[i], m);
        QVERIFY2(p, m.c_str());
        QCOMPARE(p->architecture, std::string(archs[i]));
        QVERIFY(p->before >= 0 && p->before <= 100);
        QVERIFY(p->after >= 0 && p->after <= 100);
        QCOMPARE(p->curve.size(), size_t(1));
        QCOMPARE(p->curve.back(), p->after);
        // Fine-tuning changed the model (2,000 images, lr 0.05: accuracy moves).
        QVERIFY2(p->after != p->before, qPrintable(QString("%1 %2").arg(r.widths[i]).arg(m.c_str())));
      }
    }
    // Pruning at 100 % is B itself; fusion at 100 % is ordinary OT fusion (not B).
    QCOMPARE(res.find(1.0, "pruning")->before, res.accuracyB);
    // Reported twice per point: before (after = -1), then complete.
    QCOMPARE(reported.size(), 2 * res.points.size());
    int partial = 0;
    for (const auto& p : reported) partial += p.after < 0;
    QCOMPARE(size_t(partial), res.points.size());
    // The pruning row is B pruned to the width (same test accuracy as pruneModelTo + evaluate).
    const double pruned = evaluateModel(pruneModelTo(b_, 0.5), "mnist", "").accuracy;
    QCOMPARE(res.find(0.5, "pruning")->before, pruned);
  }

  void noFineTuningKeepsTheModels() {
    CompressionRequest r = tinyRequest(a_, b_);
    r.widths = {0.5};
    r.finetuneEpochs = 0;
    CompressionResult res = runCompression(r);
    for (const auto& p : res.points) {
      QCOMPARE(p.after, p.before);
      QVERIFY(p.curve.empty());
    }
  }

  void badRequestsAreRefusedFirst_data() {
    QTest::addColumn<QString>("what");
    QTest::addColumn<QString>("message");
    QTest::newRow("width 0") << "w0" << "(0, 1]";
    QTest::newRow("width 1.5") << "w1.5" << "(0, 1]";
    QTest::newRow("no widths") << "none" << "no kept widths";
    QTest::newRow("twice") << "twice" << "twice";
    QTest::newRow("incompatible") << "incompatible" << "cannot be fused";
    QTest::newRow("no epoch metadata") << "noepochs" << "--scratch-epochs";
    QTest::newRow("mnistcnn") << "cnn" << "fixed widths";
  }
  void badRequestsAreRefusedFirst() {
    QFETCH(QString, what);
    QFETCH(QString, message);
    CompressionRequest r = tinyRequest(a_, b_);
    if (what == "w0") r.widths = {1.0, 0.0};
    if (what == "w1.5") r.widths = {1.5};
    if (what == "none") r.widths.clear();
    if (what == "twice") r.widths = {0.5, 0.5};
    if (what == "incompatible") r.a = trainNewModel({"mlp:16", "mnist", "", 0, 0});
    if (what == "noepochs") {
      auto b = std::make_shared<ModelHandle>(*b_);
      b->metadata.erase("epoch");
      r.b = b;
      r.scratchEpochs = -1;
    }
    if (what == "cnn") {
      r.a = trainNewModel({"mnistcnn", "mnist", "", 0, 0});
      r.b = trainNewModel({"mnistcnn", "mnist", "", 1, 0});
    }
    bool progressed = false;
    try {
      runCompression(r, {}, [&](const Progress&) { progressed = true; });
      QFAIL("no error");
    } catch (const Error& e) {
      QVERIFY2(QString(e.what()).contains(message), e.what());
    }
    QVERIFY(!progressed);  // refused before anything ran
  }

  void scratchEpochsComeFromBsMetadata() {
    CompressionRequest r = tinyRequest(a_, b_);
    r.widths = {0.25};
    r.scratchEpochs = -1;  // b_ says "epoch": 2
    r.finetuneEpochs = 0;
    QCOMPARE(runCompression(r).scratchEpochs, 2);
  }

  void cancelStops() {
    CompressionRequest r = tinyRequest(a_, b_);
    std::atomic<bool> cancel{false};
    int reports = 0;
    try {
      runCompression(r, {}, [&](const Progress&) {
        if (++reports == 5) cancel = true;
      }, &cancel);
      QFAIL("not cancelled");
    } catch (const Cancelled&) {
    }
    QVERIFY(reports >= 5);
  }
};

OTFUSE_TEST_MAIN_APPLESS(TestCompression)
#include "test_compression.moc"
