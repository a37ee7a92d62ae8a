// Weight matching, activation matching and REPAIR (issue 11): a permuted copy is recovered
// exactly, weight matching's objective never decreases, REPAIR restores the target statistics
// on the merged network and is a no-op on two identical models.
#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>

#include <QtTest>

#include <cmath>

#include "common/otfuse_test.h"
#include "core/model_fixtures.h"
#include "otfuse/error.h"
#include "otfuse/fusion/matching.h"
#include "otfuse/models/model.h"
#include "otfuse/runtime.h"

using namespace otfuse;
using namespace otfuse::testing;

namespace {

// Whether `found` is the planted permutation of every group: B = permuteModel(A, planted) puts
// A's neuron planted[j] at position j, which is what aligning A onto B must do.
bool recovers(const std::vector<at::Tensor>& planted, const std::vector<at::Tensor>& found,
              std::string* where) {
  for (size_t g = 0; g < planted.size(); ++g) {
    if (!planted[g].defined()) continue;
    if (!at::equal(planted[g], found[g])) {
      *where = "group " + std::to_string(g);
      return false;
    }
  }
  return true;
}

const char* kArchitectures[] = {"mlp:64-32-16,bias", "mlpnet", "vgg:16,M,32,M,32,bias",
                                "vgg:16,M,32,M,32,bn", "resnet18_w8", "resnet18_nobn_bias_w8"};

}  // namespace

class TestMatching : public QObject {
  Q_OBJECT

 private slots:
  void initTestCase() { initRuntime(); }

  // A permuted copy: both matchers find the planted permutation of every group exactly, and
  // the matched average is A's function.
  void permutedCopyRecovered_data() {
    QTest::addColumn<QString>("arch");
    QTest::addColumn<QString>("method");
    for (const char* arch : kArchitectures)
      for (const char* method : {"weight-matching", "activation-matching"})
        QTest::newRow((std::string(arch) + " " + method).c_str()) << arch << method;
  }
  void permutedCopyRecovered() {
    QFETCH(QString, arch);
    QFETCH(QString, method);
    const Architecture a = parseArchitecture(arch.toStdString());
    const Model base = withRandomBatchNorm(Model::initialize(a, 3), 4);
    const std::vector<at::Tensor> planted = randomPerms(a, 9);
    const Model b = permutedWith(base, planted);
    at::NoGradGuard g;
    const at::Tensor x = randomInputs(a, 8, 1);
    QVERIFY(relDiff(b.forward(x), base.forward(x)) < 1e-5);
    QVERIFY(maxAbs(b.state().at(a.layers[0].weight), base.state().at(a.layers[0].weight)) > 0.01);
    const MatchMethod m = parseMatchMethod(method.toStdString());
    MatchingResult r = m == MatchMethod::WeightMatching
                           ? weightMatching(base, b)
                           : activationMatching(base, b, randomInputs(a, 64, 2));
    std::string where;
    QVERIFY2(recovers(planted, r.perms, &where), where.c_str());
    // The average of A aligned and B is B (they are equal) and has A's function.
    MultiFusionResult f = matchMany({base, b}, 1, {}, m, {}, randomInputs(a, 64, 2));
    QVERIFY(relDiff(f.fused.forward(x), base.forward(x)) < 1e-5);
    QCOMPARE(f.layers[0].size(), a.layers.size());
    for (const auto& l : f.layers[0]) QVERIFY(std::abs(l.massOnBest - 1.0) < 1e-12);
  }

  // Permutations found on the stream of a ResNet: all writers of one stream share one
  // permutation (one per group by construction), and the layer results say so.
  void residualStreamsShareOnePermutation() {
    const Architecture a = parseArchitecture("resnet18_nobn_bias_w8");
    const Model base = Model::initialize(a, 5);
    MatchingResult r = weightMatching(noisy(base, 6, 0.3), base);
    int reused = 0;
    for (const auto& l : r.layers) {
      if (l.reused) {
        ++reused;
        QVERIFY(l.stream >= 0);
      }
    }
    QVERIFY(reused > 0);
  }

  // The coordinate descent never lowers its objective, and on two different models it moves.
  void weightMatchingObjectiveNeverDecreases_data() {
    QTest::addColumn<QString>("arch");
    for (const char* arch : kArchitectures) QTest::newRow(arch) << arch;
  }
  void weightMatchingObjectiveNeverDecreases() {
    QFETCH(QString, arch);
    const Architecture a = parseArchitecture(arch.toStdString());
    const Model x = withRandomBatchNorm(Model::initialize(a, 11), 12);
    const Model y = withRandomBatchNorm(Model::initialize(a, 13), 14);
    MatchingOptions opt;
    opt.seed = 5;
    MatchingResult r = weightMatching(x, y, opt);
    QVERIFY(r.objective.size() >= 2);
    for (size_t i = 1; i < r.objective.size(); ++i)
      QVERIFY2(r.objective[i] >= r.objective[i - 1] - 1e-9 * std::abs(r.objective[i - 1]),
               qPrintable(QString("step %1: %2 -> %3").arg(i).arg(r.objective[i - 1]).arg(r.objective[i])));
    QVERIFY(r.objective.back() > r.objective.front());
    QCOMPARE(r.objective.back(), weightMatchingObjective(x, y, r.perms));
    // Stopped because a sweep changed nothing (these small models converge).
    QVERIFY(r.sweeps < opt.maxIterations);
  }

  void seededAndDeterministic() {
    const Architecture a = parseArchitecture("mlp:32-32-32,bias");
    const Model x = Model::initialize(a, 1), y = Model::initialize(a, 2);
    MatchingOptions o;
    o.seed = 3;
    MatchingResult r1 = weightMatching(x, y, o), r2 = weightMatching(x, y, o);
    for (size_t g = 0; g < r1.perms.size(); ++g) QVERIFY(at::equal(r1.perms[g], r2.perms[g]));
  }

  void differentWidthsRefused() {
    const Model x = Model::initialize(parseArchitecture("mlp:32-16"), 1);
    const Model y = Model::initialize(parseArchitecture("mlp:32-8"), 2);
    bool threw = false;
    try {
      weightMatching(x, y);
    } catch (const Error& e) {
      threw = true;
      QVERIFY(QString(e.what()).contains("equal widths"));
    }
    QVERIFY(threw);
  }

  // REPAIR (exact) on the merged network of two different MLPs: every hidden channel's
  // pre-activation mean and std equal the interpolated targets (to 1e-4); before REPAIR they
  // did not (variance collapse).
  void repairRestoresTargetStatistics_data() {
    QTest::addColumn<QString>("arch");
    QTest::addColumn<double>("t");
    QTest::newRow("mlp t=0.5") << "mlp:64-32-16,bias" << 0.5;
    QTest::newRow("mlp t=0.3") << "mlp:64-32-16,bias" << 0.3;
    QTest::newRow("small vgg t=0.5") << "vgg:16,M,32,M,32,bias" << 0.5;
    QTest::newRow("resnet nobn t=0.5") << "resnet18_nobn_bias_w8" << 0.5;
  }
  void repairRestoresTargetStatistics() {
    QFETCH(QString, arch);
    QFETCH(double, t);
    const Architecture a = parseArchitecture(arch.toStdString());
    const Model x = Model::initialize(a, 21), y = Model::initialize(a, 22);
    MatchingResult m = weightMatching(x, y);
    const Model xa = permuteModel(x, m.perms);
    const Model merged = vanillaAverage(xa, y, t);
    const at::Tensor inputs = randomInputs(a, 96, 7);
    const ParentStatistics p = parentStatistics(xa, y, inputs);
    const Model repaired = repairMerged(merged, p, t, RepairMode::Exact, inputs);
    const LayerStatistics before = preActivationStatistics(merged, inputs);
    const LayerStatistics after = preActivationStatistics(repaired, inputs);
    double worstBefore = 0, worst = 0;
    for (size_t li = 0; li < a.layers.size(); ++li) {
      if (a.layers[li].outGroup < 0) continue;
      const at::Tensor mean = (1 - t) * p.a.mean[li] + t * p.b.mean[li];
      const at::Tensor sd = (1 - t) * p.a.var[li].sqrt() + t * p.b.var[li].sqrt();
      const double scale = sd.max().item<double>();
      worst = std::max({worst, maxAbs(after.mean[li], mean) / scale,
                        maxAbs(after.var[li].sqrt(), sd) / scale});
      worstBefore = std::max(worstBefore, maxAbs(before.var[li].sqrt(), sd) / scale);
    }
    QVERIFY2(worst < 1e-4, qPrintable(QString("largest error %1 (relative to the std)").arg(worst)));
    QVERIFY2(worstBefore > 1e-2, qPrintable(QString("before REPAIR: %1").arg(worstBefore)));
  }

  // Two identical models: the merged network is the model itself and REPAIR changes nothing.
  void repairOnIdenticalModelsIsNoOp_data() {
    QTest::addColumn<QString>("mode");
    QTest::newRow("exact") << "exact";
    QTest::newRow("closed") << "closed";
  }
  void repairOnIdenticalModelsIsNoOp() {
    QFETCH(QString, mode);
    const Architecture a = parseArchitecture("mlp:64-32,bias");
    const Model x = Model::initialize(a, 31);
    const Model merged = vanillaAverage(x, x, 0.5);
    const at::Tensor inputs = randomInputs(a, 64, 8);
    const Model r = repairMerged(merged, x, x, 0.5, parseRepairMode(mode.toStdString()), inputs);
    for (const auto& [k, v] : merged.state()) QVERIFY2(relDiff(r.state().at(k), v) < 1e-5, k.c_str());
  }

  // The closed form moves the std of the first layer (where its assumption holds exactly) to
  // the target.
  void closedFormExactOnFirstLayer() {
    const Architecture a = parseArchitecture("mlp:32-16,bias");
    const Model x = Model::initialize(a, 41), y = Model::initialize(a, 42);
    const Model merged = vanillaAverage(x, y, 0.5);
    const at::Tensor inputs = randomInputs(a, 128, 9);
    const ParentStatistics p = parentStatistics(x, y, inputs);
    const Model r = repairMerged(merged, p, 0.5, RepairMode::ClosedForm, inputs);
    const LayerStatistics s = preActivationStatistics(r, inputs);
    const at::Tensor sd = 0.5 * p.a.var[0].sqrt() + 0.5 * p.b.var[0].sqrt();
    QVERIFY(maxAbs(s.var[0].sqrt(), sd) / sd.max().item<double>() < 1e-4);
  }

  void repairRefusesBatchNorm() {
    const Model x = Model::initialize(parseArchitecture("vgg:8,M,8,bn"), 1);
    bool threw = false;
    try {
      repairMerged(x, x, x, 0.5, RepairMode::Exact, randomInputs(x.architecture(), 4, 1));
    } catch (const Error& e) {
      threw = QString(e.what()).contains("BatchNorm");
    }
    QVERIFY(threw);
  }
};

OTFUSE_TEST_MAIN_APPLESS(TestMatching)
#include "test_matching.moc"
