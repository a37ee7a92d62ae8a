// OT fusion: parity with the authors' implementation on the paper's MNIST pair (issue 3), and
// the invariants of shared/docs/ALGORITHM.md.
#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>

#include <QtTest>

#include "common/otfuse_test.h"
#include "core/model_fixtures.h"
#include <filesystem>

#include "otfuse/data/dataset.h"
#include "otfuse/error.h"
#include "otfuse/fusion/fusion.h"
#include "otfuse/io/checkpoint.h"
#include "otfuse/models/model.h"
#include "otfuse/runtime.h"
#include "otfuse/train/train.h"
#include "otfuse/engine/table_one.h"
#include "core/synthetic_data.h"

using namespace otfuse;
using namespace otfuse::testing;
namespace fs = std::filesystem;

namespace {

// The shared folder (OTFUSE_SHARED_DIR from the environment first; see common/otfuse_test.h).
const std::string kModels = otfuse::test::sharedPath("models/paper-mnist-mlpnet");
const std::string kReference = otfuse::test::sharedPath("reference/paper-mnist-mlpnet");

bool haveShared() { return fs::exists(kModels + "/model_0.pt") && fs::exists(kReference); }
QString noSharedMessage() {
  return "the paper's models or reference outputs are absent under " + otfuse::test::sharedDir() +
         ": parity not checked (OTFUSE_SHARED_DIR points elsewhere)";
}
bool haveMnist() { return findDataset("mnist", resolveDataDir()).found; }

ot::Matrix toEigen(const at::Tensor& t) {
  at::Tensor d = t.to(at::kDouble).contiguous();
  using RowMajor = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
  return Eigen::Map<const RowMajor>(d.data_ptr<double>(), d.size(0), d.size(1));
}

}  // namespace

class TestFusion : public QObject {
  Q_OBJECT

 private slots:
  void initTestCase() { initRuntime(); }

  // --- Invariant 1: a model fused with a permuted copy of itself comes back exactly. ---
  void permutedCopyFusesBack_data() {
    QTest::addColumn<QString>("arch");
    QTest::addColumn<QString>("mode");
    for (const char* arch : {"mlpnet", "mlp:64-32,bias", "mnistcnn", "vgg11", "vgg11_bn_bias_half"}) {
      for (const char* mode : {"weights", "activations"}) {
        QTest::newRow((std::string(arch) + " " + mode).c_str()) << arch << mode;
      }
    }
  }
  void permutedCopyFusesBack() {
    QFETCH(QString, arch);
    QFETCH(QString, mode);
    Architecture a = parseArchitecture(arch.toStdString());
    Model b = withRandomBatchNorm(Model::initialize(a, 7), 8);
    Model permuted = permutedCopy(b, 11);
    at::Tensor x = randomInputs(a, 16, 3);
    {
      at::NoGradGuard g;
      QVERIFY(maxAbs(permuted.forward(x), b.forward(x)) < 1e-4);  // the copy is the same function
    }
    FusionOptions opt;
    opt.mode = parseAlignMode(mode.toStdString());
    FusionResult r = fuse(permuted, b, opt, randomInputs(a, 20, 5));
    for (const auto& [key, t] : b.state()) {
      if (!at::isFloatingType(t.scalar_type())) continue;
      QVERIFY2(maxAbs(r.fused.state().at(key), t) < 1e-5, key.c_str());
    }
    for (const auto& l : r.layers) {
      if (l.identity) continue;
      QVERIFY2(std::abs(l.massOnBest - 1.0) < 1e-12, l.name.c_str());  // a permutation
    }
  }

  // --- Invariant 2: plan marginals. ---
  void planMarginalsHold_data() {
    QTest::addColumn<QString>("solver");
    QTest::addColumn<QString>("marginals");
    QTest::newRow("exact uniform") << "exact" << "uniform";
    QTest::newRow("exact l2") << "exact" << "l2";
    QTest::newRow("sinkhorn uniform") << "sinkhorn" << "uniform";
    QTest::newRow("sinkhorn l1") << "sinkhorn" << "l1";
  }
  void planMarginalsHold() {
    QFETCH(QString, solver);
    QFETCH(QString, marginals);
    Architecture a = parseArchitecture("mlp:40-30");
    Model A = Model::initialize(a, 1), B = Model::initialize(a, 2);
    FusionOptions opt;
    opt.solver = parseSolver(solver.toStdString());
    opt.marginals = parseMarginals(marginals.toStdString());
    opt.epsilon = 0.05;
    opt.sinkhornTolerance = 1e-9;
    FusionResult r = fuse(A, B, opt);
    const double tol = opt.solver == Solver::Exact ? 1e-9 : 1e-8;
    for (const auto& l : r.layers) {
      if (l.identity) continue;
      double rowErr = (l.plan.rowwise().sum() - l.mu).cwiseAbs().maxCoeff();
      double colErr = (l.plan.colwise().sum().transpose() - l.nu).cwiseAbs().maxCoeff();
      QVERIFY2(rowErr < tol && colErr < tol, l.name.c_str());
      // Corrected plan: every column sums to 1.
      QVERIFY((l.corrected.colwise().sum().array() - 1.0).abs().maxCoeff() < 1e-6);
    }
  }

  // --- Invariant 3: t = 1 gives B; t = 0 gives A aligned to B (functionally A). ---
  void anchorWeightEndpoints_data() {
    QTest::addColumn<QString>("arch");
    QTest::newRow("mlpnet") << "mlpnet";
    QTest::newRow("mnistcnn") << "mnistcnn";
    QTest::newRow("vgg11_half") << "vgg11_half";
  }
  void anchorWeightEndpoints() {
    QFETCH(QString, arch);
    Architecture a = parseArchitecture(arch.toStdString());
    Model A = Model::initialize(a, 21), B = Model::initialize(a, 22);
    FusionOptions opt;
    opt.t = 1.0;
    FusionResult one = fuse(A, B, opt);
    for (const auto& [key, t] : B.state())
      if (at::isFloatingType(t.scalar_type())) QCOMPARE(maxAbs(one.fused.state().at(key), t), 0.0);
    opt.t = 0.0;
    FusionResult zero = fuse(A, B, opt);
    at::NoGradGuard g;
    at::Tensor x = randomInputs(a, 32, 9);
    at::Tensor ya = A.forward(x), yz = zero.fused.forward(x);
    QVERIFY(maxAbs(ya, yz) < 1e-4 * (1 + ya.abs().max().item<double>()));
  }

  void sinkhornPlansAreBlurred() {
    Architecture a = parseArchitecture("mlp:50");
    Model A = Model::initialize(a, 1), B = Model::initialize(a, 2);
    FusionOptions opt;
    FusionResult exact = fuse(A, B, opt);
    opt.solver = Solver::Sinkhorn;
    opt.epsilon = 0.5;
    FusionResult soft = fuse(A, B, opt);
    QCOMPARE(exact.layers[0].massOnBest, 1.0);
    QVERIFY(soft.layers[0].massOnBest < 0.9);
    QVERIFY(soft.layers[0].entropy > exact.layers[0].entropy + 0.5);
  }

  void unfusableModelsAreExplained() {
    Model A = Model::initialize(parseArchitecture("mlpnet"), 1);
    Model C = Model::initialize(parseArchitecture("mnistcnn"), 1);
    try {
      fuse(A, C, FusionOptions{});
      QFAIL("fusing an MLP with a CNN must fail");
    } catch (const Error& e) {
      QVERIFY(QString(e.what()).contains("mnistcnn"));
    }
    FusionOptions acts;
    acts.mode = AlignMode::Activations;
    QVERIFY_THROWS_EXCEPTION(Error, fuse(A, A, acts));  // no samples given
  }

  void cancellationStopsBetweenLayers() {
    Model A = Model::initialize(parseArchitecture("mlpnet"), 1);
    CancelFlag cancel{false};
    int calls = 0;
    ProgressFn progress = [&](const Progress& p) {
      if (++calls == 2) cancel = true;
    };
    QVERIFY_THROWS_EXCEPTION(Cancelled, fuse(A, A, FusionOptions{}, at::Tensor(), progress, &cancel));
  }

  // Different widths: a rectangular plan, the anchor's shapes, and a fused model that still
  // works — two MLPs of different widths trained on a learnable synthetic task, fused into the
  // narrower one, keep most of their accuracy (issue 8: a bound, not only shapes).
  void differentWidthsFuseIntoAnchorShape() {
    const Dataset train = testing::syntheticDataset(3000, 1, 31);
    const Dataset test = testing::syntheticDataset(1000, 1, 32);
    Model A = Model::initialize(parseArchitecture("mlp:60-30"), 1);
    Model B = Model::initialize(parseArchitecture("mlp:40-20"), 2);
    TrainOptions topt;
    topt.epochs = 2;
    topt.learningRate = 0.05;
    topt.momentum = 0.9;
    topt.augment = false;
    trainModel(A, train, nullptr, topt);
    topt.seed = 1;
    trainModel(B, train, nullptr, topt);
    const double accA = evaluate(A, test).accuracy, accB = evaluate(B, test).accuracy;
    QVERIFY2(accA > 90 && accB > 90, qPrintable(QString("parents %1 / %2").arg(accA).arg(accB)));
    FusionResult r = fuse(A, B, FusionOptions{});
    QCOMPARE(r.layers[0].plan.rows(), Eigen::Index(60));
    QCOMPARE(r.layers[0].plan.cols(), Eigen::Index(40));
    QCOMPARE(r.fused.state().at("fc1.weight").size(0), int64_t(40));
    QCOMPARE(r.fused.state().at("fc2.weight").sizes(), B.state().at("fc2.weight").sizes());
    QVERIFY_THROWS_EXCEPTION(Error, vanillaAverage(A, B));
    const double fused = evaluate(r.fused, test).accuracy;
    // An unaligned merge (A's first 40 / 20 neurons averaged with B's) for comparison.
    StateDict cut = A.state().clone();
    cut.set("fc1.weight", A.state().at("fc1.weight").slice(0, 0, 40).contiguous());
    cut.set("fc2.weight", A.state().at("fc2.weight").slice(0, 0, 20).slice(1, 0, 40).contiguous());
    cut.set("fc3.weight", A.state().at("fc3.weight").slice(1, 0, 20).contiguous());
    const double naive = evaluate(vanillaAverage(Model(B.architecture(), cut), B), test).accuracy;
    qInfo("different widths: A %.2f %%, B %.2f %%, OT fusion %.2f %%, unaligned %.2f %%", accA,
          accB, fused, naive);
    QVERIFY2(fused >= 80.0, qPrintable(QString("fused accuracy %1 %").arg(fused)));
    QVERIFY2(fused > naive, qPrintable(QString("OT %1 % vs unaligned %2 %").arg(fused).arg(naive)));
  }

  // Zero and tiny importance masses (issue 8): a dead neuron (all-zero incoming row) and a
  // nearly dead one, in A and in B, with both solvers and both importance marginals. Every
  // neuron keeps a positive mass (none vanishes from the plan), every corrected column is a
  // convex combination, and the fused weights are finite (they used to be NaN from 0/0).
  void deadAndTinyNeuronsKeepTheirPlace_data() {
    QTest::addColumn<QString>("solver");
    QTest::addColumn<QString>("marginals");
    for (const char* solver : {"exact", "sinkhorn"})
      for (const char* m : {"l1", "l2"})
        QTest::newRow((std::string(solver) + " " + m).c_str()) << solver << m;
  }
  void deadAndTinyNeuronsKeepTheirPlace() {
    QFETCH(QString, solver);
    QFETCH(QString, marginals);
    Architecture arch = parseArchitecture("mlp:24-12,bias");
    Model A = Model::initialize(arch, 1), B = Model::initialize(arch, 2);
    {
      at::NoGradGuard g;
      A.state().at("fc1.weight")[3].zero_();   // dead in A
      A.state().at("fc1.bias")[3].zero_();
      A.state().at("fc1.weight")[5].mul_(1e-30);  // tiny in A
      B.state().at("fc1.weight")[7].zero_();   // dead in B
      B.state().at("fc1.bias")[7].zero_();
      B.state().at("fc2.weight")[2].mul_(1e-300);  // tiny in B (a denormal-sized mass)
    }
    FusionOptions opt;
    opt.solver = parseSolver(solver.toStdString());
    opt.marginals = parseMarginals(marginals.toStdString());
    opt.epsilon = 0.05;
    FusionResult r = fuse(A, B, opt);
    for (const auto& l : r.layers) {
      if (l.identity) continue;
      QVERIFY2(l.mu.minCoeff() > 0 && l.nu.minCoeff() > 0, l.name.c_str());
      QVERIFY2(std::abs(l.mu.sum() - 1) < 1e-12 && std::abs(l.nu.sum() - 1) < 1e-12, l.name.c_str());
      // Every neuron of A sends its mass, every neuron of B receives some.
      QVERIFY2(l.plan.rowwise().sum().minCoeff() > 0, l.name.c_str());
      QVERIFY2(l.plan.colwise().sum().minCoeff() > 0, l.name.c_str());
      QVERIFY2(l.corrected.allFinite(), l.name.c_str());
      QVERIFY2((l.corrected.colwise().sum().array() - 1.0).abs().maxCoeff() < 1e-9, l.name.c_str());
    }
    for (const auto& [key, t] : r.fused.state())
      if (at::isFloatingType(t.scalar_type()))
        QVERIFY2(at::isfinite(t).all().item<bool>(), key.c_str());
    // The dead neuron carries the floor mass, 1e-3 of a uniform share (before renormalizing).
    const auto& fc1 = r.layers[0];
    QVERIFY(fc1.mu(3) < 2e-3 / 24 && fc1.nu(7) < 2e-3 / 24);
  }

  // Sinkhorn that stops at its iteration limit is never accepted silently (issue 8): every
  // layer says so, the fusion's plan status names the layers, the JSON report carries it, and
  // fusion uses the solver's own default limit.
  void sinkhornIterationLimitIsReported() {
    QCOMPARE(FusionOptions{}.sinkhornMaxIterations, ot::SinkhornOptions{}.maxIterations);
    QCOMPARE(FusionOptions{}.sinkhornTolerance, ot::SinkhornOptions{}.tolerance);
    Architecture arch = parseArchitecture("mlp:30-20");
    Model A = Model::initialize(arch, 1), B = Model::initialize(arch, 2);
    FusionOptions opt;
    opt.solver = Solver::Sinkhorn;
    opt.epsilon = 0.001;
    opt.sinkhornMaxIterations = 3;
    FusionResult r = fuse(A, B, opt);
    PlanStatus st = planStatus(r.layers);
    QCOMPARE(st.solved, 2);
    QCOMPARE(int(st.atIterationLimit.size()), 2);
    QCOMPARE(QString::fromStdString(st.atIterationLimit[0]), QString("fc1"));
    QVERIFY(!st.ok());
    QVERIFY(st.maxMarginalError > opt.sinkhornTolerance);
    const QString text = QString::fromStdString(st.text(opt));
    QVERIFY2(text.contains("iteration limit") && text.contains("fc1, fc2") && text.contains("(3)"),
             qPrintable(text));
    for (const auto& l : r.layers) {
      if (l.identity) continue;
      QCOMPARE(int(l.status), int(ot::Status::IterationLimit));
      QCOMPARE(l.iterations, 3);
    }
    FusionSummary s;
    s.options = opt;
    s.plans = st;
    const QString json = QString::fromStdString(reportJson(s, &r.layers, false));
    QVERIFY2(json.contains("\"status\": \"iteration_limit\"") &&
                 json.contains("\"at_iteration_limit\": [\"fc1\", \"fc2\"]"),
             qPrintable(json.left(600)));
    // Enough iterations: converged, and said so.
    opt.epsilon = 0.05;
    opt.sinkhornMaxIterations = ot::kSinkhornMaxIterations;
    st = planStatus(fuse(A, B, opt).layers);
    QVERIFY2(st.ok(), st.text(opt).c_str());
    QVERIFY(QString::fromStdString(st.text(opt)).contains("converged on all 2"));
  }

  void runIsReproducible() {
    Model A = Model::initialize(parseArchitecture("mnistcnn"), 1);
    Model B = Model::initialize(parseArchitecture("mnistcnn"), 2);
    FusionOptions opt;
    opt.mode = AlignMode::Activations;
    at::Tensor x = randomInputs(A.architecture(), 10, 4);
    FusionResult r1 = fuse(A, B, opt, x), r2 = fuse(A, B, opt, x);
    for (const auto& [key, t] : r1.fused.state()) QVERIFY(at::equal(t, r2.fused.state().at(key)));
  }

  // The Table-1 row: each entry is the evaluation of the model it names; BatchNorm models get
  // the two re-estimated rows, computed from the training batches the options name.
  void tableOneRows_data() {
    QTest::addColumn<QString>("arch");
    QTest::addColumn<int>("channels");
    QTest::newRow("vgg11_bn_half (BatchNorm)") << "vgg11_bn_half" << 3;
    QTest::newRow("mlp:16,cifar (no BatchNorm)") << "mlp:16,cifar" << 3;
  }
  void tableOneRows() {
    QFETCH(QString, arch);
    QFETCH(int, channels);
    const Dataset train = testing::syntheticDataset(256, channels, 1);
    const Dataset test = testing::syntheticDataset(100, channels, 2);
    Model A = Model::initialize(parseArchitecture(arch.toStdString()), 3);
    Model B = Model::initialize(parseArchitecture(arch.toStdString()), 4);
    FusionResult fused = fuse(A, B, FusionOptions{});
    TableOneOptions opt;
    opt.bnBatches = 2;
    opt.seed = 5;
    int trainCalls = 0;
    FusionSummary s;
    evaluateTableOne(A, B, fused.fused, test,
                     [&]() -> const Dataset& {
                       ++trainCalls;
                       return train;
                     },
                     opt, s);
    // Independent of the core's evaluate(): the whole test set in one forward pass, accuracy
    // from argmax, loss from cross-entropy (ensemble: mean of log-softmax, the paper's rule).
    const at::Tensor x = test.normalized();
    auto logitsOf = [&](const Model& m) { return m.forward(x); };
    auto same = [&](const std::string& key, const at::Tensor& logProbs) {
      at::NoGradGuard g;
      const double acc =
          100.0 * logProbs.argmax(1).eq(test.labels).to(at::kDouble).mean().item<double>();
      const double loss = at::nll_loss(logProbs.to(at::kDouble), test.labels).item<double>();
      QVERIFY2(s.accuracy.count(key), key.c_str());
      QVERIFY2(std::abs(s.accuracy.at(key) - acc) < 1e-9,
               qPrintable(QString("%1: table %2 %, direct %3 %").arg(key.c_str()).arg(s.accuracy.at(key)).arg(acc)));
      QVERIFY2(std::abs(s.loss.at(key) - loss) < 1e-5 * (1 + loss),
               qPrintable(QString("%1: table loss %2, direct %3").arg(key.c_str()).arg(s.loss.at(key)).arg(loss)));
    };
    auto single = [&](const Model& m) { return at::log_softmax(logitsOf(m), 1); };
    same("model_0", single(A));
    same("model_1", single(B));
    same("ensemble", (single(A) + single(B)) / 2);
    same("vanilla", single(vanillaAverage(A, B, 0.5)));
    same("fused", single(fused.fused));
    QVERIFY(s.evaluationSeconds > 0);
    if (!A.hasBatchNorm()) {
      QCOMPARE(int(s.accuracy.size()), 5);
      QCOMPARE(trainCalls, 0);
      return;
    }
    QCOMPARE(int(s.accuracy.size()), 7);
    QCOMPARE(trainCalls, 1);
    Model f = fused.fused.clone(), v = vanillaAverage(A, B, 0.5);
    recalibrateBatchNorm(f, train, 2, 128, 5);
    recalibrateBatchNorm(v, train, 2, 128, 5);
    same("fused_bn", single(f));
    same("vanilla_bn", single(v));
    // Re-estimation changed the statistics the fused model carried.
    QVERIFY(s.loss.at("fused_bn") != s.loss.at("fused"));
  }

};

// Parity with the authors' implementation (shared/reference/paper-mnist-mlpnet): its own CTest
// entry, test_fusion_paper, reported as skipped where the shared folder is absent.
class TestFusionPaper : public QObject {
  Q_OBJECT

 private slots:
  void initTestCase() { initRuntime(); }

  void parityWeightsMode() {
    if (!haveShared()) OTFUSE_SKIP(qPrintable(noSharedMessage()));
    Model a = Model::load(kModels + "/model_0.pt"), b = Model::load(kModels + "/model_1.pt");
    FusionOptions opt;
    opt.otOutputLayer = true;  // the reference solves OT on the output layer too
    FusionResult r = fuse(a, b, opt);
    StateDict ref = loadTensors(kReference + "/wts/plans.pt");
    for (size_t l = 0; l < r.layers.size(); ++l) {
      const std::string i = std::to_string(l);
      ot::Matrix plan = toEigen(ref.at("plans." + i)), cost = toEigen(ref.at("costs." + i));
      QVERIFY2((r.layers[l].cost - cost).cwiseAbs().maxCoeff() < 1e-4, ("cost " + i).c_str());
      QVERIFY2((r.layers[l].plan - plan).cwiseAbs().maxCoeff() <= 1e-9, ("plan " + i).c_str());
    }
    Checkpoint fusedRef = loadCheckpoint(kReference + "/wts/fused_state_dict.pt");
    for (const auto& [key, t] : fusedRef.state)
      QVERIFY2(maxAbs(r.fused.state().at(key), t) <= 1e-5, key.c_str());
    if (!haveMnist()) OTFUSE_SKIP("MNIST not found: fused accuracy not checked");
    Dataset test = loadDataset("mnist", Split::Test);
    QCOMPARE(QString::number(evaluate(r.fused, test).accuracy, 'f', 2), QString("95.58"));
    // The default (identity on the output layer) gives the same model here.
    FusionResult d = fuse(a, b, FusionOptions{});
    QVERIFY(maxAbs(d.fused.state().at("fc4.weight"), r.fused.state().at("fc4.weight")) < 1e-6);
  }

  void parityActivationsMode() {
    if (!haveShared()) OTFUSE_SKIP(qPrintable(noSharedMessage()));
    Model a = Model::load(kModels + "/model_0.pt"), b = Model::load(kModels + "/model_1.pt");
    StateDict samples = loadTensors(kReference + "/acts/activation_samples.pt");
    FusionOptions opt;
    opt.mode = AlignMode::Activations;
    opt.otOutputLayer = true;
    FusionResult r = fuse(a, b, opt, samples.begin()->second);
    StateDict ref = loadTensors(kReference + "/acts/plans.pt");
    for (size_t l = 0; l < r.layers.size(); ++l) {
      const std::string i = std::to_string(l);
      ot::Matrix plan = toEigen(ref.at("plans." + i));
      QVERIFY2((r.layers[l].plan - plan).cwiseAbs().maxCoeff() <= 1e-9, ("plan " + i).c_str());
    }
    Checkpoint fusedRef = loadCheckpoint(kReference + "/acts/fused_state_dict.pt");
    for (const auto& [key, t] : fusedRef.state)
      QVERIFY2(maxAbs(r.fused.state().at(key), t) <= 1e-5, key.c_str());
    if (!haveMnist()) OTFUSE_SKIP("MNIST not found: fused accuracy not checked");
    Dataset test = loadDataset("mnist", Split::Test);
    QCOMPARE(QString::number(evaluate(r.fused, test).accuracy, 'f', 2), QString("96.31"));
  }

  void activationsModeWithOwnSampling() {
    if (!haveShared()) OTFUSE_SKIP(qPrintable(noSharedMessage()));
    if (!haveMnist()) OTFUSE_SKIP("MNIST not found (./run.sh build fetches it)");
    Model a = Model::load(kModels + "/model_0.pt"), b = Model::load(kModels + "/model_1.pt");
    Dataset train = loadDataset("mnist", Split::Train), test = loadDataset("mnist", Split::Test);
    FusionOptions opt;
    opt.mode = AlignMode::Activations;
    int close = 0;
    QString all;
    for (uint64_t seed = 0; seed < 5; ++seed) {
      double acc = evaluate(fuse(a, b, opt, sampleInputs(train, 200, seed)).fused, test).accuracy;
      all += QString("seed %1: %2 %  ").arg(seed).arg(acc, 0, 'f', 2);
      if (std::abs(acc - 96.31) <= 1.0) ++close;
    }
    qInfo("activations mode, 200 own samples: %s", qPrintable(all));
    QVERIFY2(close >= 4, qPrintable(all));
  }

  void parityBaselines() {
    if (!haveShared()) OTFUSE_SKIP(qPrintable(noSharedMessage()));
    if (!haveMnist()) OTFUSE_SKIP("MNIST not found (./run.sh build fetches it)");
    Model a = Model::load(kModels + "/model_0.pt"), b = Model::load(kModels + "/model_1.pt");
    Dataset test = loadDataset("mnist", Split::Test);
    QCOMPARE(QString::number(evaluate(vanillaAverage(a, b), test).accuracy, 'f', 2), QString("73.84"));
    QCOMPARE(QString::number(evaluateEnsemble({a, b}, test).accuracy, 'f', 2), QString("97.88"));
    QCOMPARE(QString::number(evaluate(a, test).accuracy, 'f', 2), QString("97.72"));
    QCOMPARE(QString::number(evaluate(b, test).accuracy, 'f', 2), QString("97.75"));
  }
};

OTFUSE_TEST_SUITES_APPLESS(TestFusion, "paper", TestFusionPaper)
#include "test_fusion.moc"
