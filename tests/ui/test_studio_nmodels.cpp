// OTFuse Studio with N >= 2 models (issue 9, "N models", App): the models panel's set, anchor
// and weights, the results table's parent rows, the plan selector of the heatmap and matching
// views, the session file with three models, and the curve "fused accuracy as N grows".
// Offscreen, no shared folder: small MNIST MLPs are trained here (seconds); the cases that
// need no data (panel, session parsing, views on hand-made outcomes) run without MNIST too.
#include <qcustomplot.h>

#include <QApplication>
#include <QComboBox>
#include <QDir>
#include <QFile>
#include <QHeaderView>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QSignalSpy>
#include <QStandardPaths>
#include <QTableWidget>
#include <QTemporaryDir>
#include <QtTest>

#include <memory>

#include "common/otfuse_test.h"
#include "curves/curves_view.h"
#include "heatmap/plan_heatmap_view.h"
#include "main_window/main_window.h"
#include "main_window/session_file.h"
#include "matching/neuron_matching_view.h"
#include "models_panel/models_panel.h"
#include "otfuse/engine/engine.h"
#include "results/results_view.h"
#include "settings/settings_form.h"
#include "ui/studio_test_support.h"

using namespace otfuse;
using namespace otfuse::ui;
using namespace studio_test;

namespace {

std::unique_ptr<MainWindow> makeWindow(QStringList* errors) {
  auto w = std::make_unique<MainWindow>();
  w->setErrorHandler(
      [errors](const QString& title, const QString& message) { *errors << title + ": " + message; });
  w->settingsForm()->resetToDefaults();
  w->show();
  return w;
}

// A layer of a hand-made outcome: a permutation plan i -> (i + shift) mod n; `writers` of its
// residual stream `group` (empty: a group of its own).
LayerResult permutationLayer(const std::string& name, int n, int shift, int group,
                             const std::vector<std::string>& writers = {}) {
  LayerResult l;
  l.name = name;
  l.outGroup = group;
  if (!writers.empty()) {
    l.stream = group;
    l.streamWriters = writers;
    l.mapFrom = {writers.front()};
  }
  l.plan = ot::Matrix::Zero(n, n);
  for (int i = 0; i < n; ++i) l.plan(i, (i + shift) % n) = 1.0 / n;
  l.corrected = l.plan * n;
  l.cost = ot::Matrix::Constant(n, n, 1.0);
  l.mu = l.nu = ot::Vector::Constant(n, 1.0 / n);
  l.status = ot::Status::Optimal;
  return l;
}

// True if the heatmap's plan cells are exactly `plan`'s (rows in their own order).
bool heatmapShows(PlanHeatmapView* view, const ot::Matrix& plan, QString* why) {
  QCPColorMapData* data = view->planMap()->data();
  if (data->keySize() != plan.cols() || data->valueSize() != plan.rows()) {
    *why = QString("heatmap is %1x%2, plan %3x%4")
               .arg(data->valueSize())
               .arg(data->keySize())
               .arg(plan.rows())
               .arg(plan.cols());
    return false;
  }
  for (int i = 0; i < plan.rows(); ++i)
    for (int j = 0; j < plan.cols(); ++j)
      if (data->cell(j, i) != plan(i, j)) {
        *why = QString("cell (%1, %2): heatmap %3, plan %4")
                   .arg(i)
                   .arg(j)
                   .arg(data->cell(j, i))
                   .arg(plan(i, j));
        return false;
      }
  return true;
}

}  // namespace

class TestStudioNModels : public QObject {
  Q_OBJECT
 private:
  QTemporaryDir dir_;
  QStringList paths_;  // three small trained MLPs (MNIST), or empty
  QString mnist_;      // why the MNIST cases cannot run ("" = they can)
  std::unique_ptr<MainWindow> window_;
  QStringList errors_;

  QString fusedMissing() const {
    if (!mnist_.isEmpty()) return mnist_;
    return window_ && window_->outcome() && window_->outcome()->modelLayers.size() == 3
               ? QString()
               : QString("the three-model fusion did not run (see threeModelsLoadAndFuseViaTheWorker)");
  }

 private slots:
  void initTestCase() {
    QStandardPaths::setTestModeEnabled(true);
    QCoreApplication::setOrganizationName("OTFuseTest");
    QCoreApplication::setApplicationName("test_studio_nmodels");
    QSettings().clear();  // no set remembered from an earlier run
    otfuse::initRuntime();
    QVERIFY(dir_.isValid());
    mnist_ = mnistMissing();
    if (!mnist_.isEmpty()) return;
    for (int k = 0; k < 3; ++k)
      paths_ << makeModel(dir_, QString("m%1.pt").arg(k), "mlp:64-32", uint64_t(10 + k), 1, 3000);
  }

  void cleanupTestCase() {
    if (window_) window_->close();
    window_.reset();
    QVERIFY(EngineController::waitForDetachedWorkers(10000));
  }

  // ---- no data needed ----

  // The panel: the first two models opened form the set (anchor B, as the two-model app), a
  // third is added unchecked; checking it makes three with the first as the default anchor;
  // the anchor and weights the user picks are kept; the run's request follows them.
  void panelChoosesModelsAnchorAndWeights() {
    ModelsPanel panel;
    std::vector<ModelPtr> models;
    for (int k = 0; k < 3; ++k) {
      TrainRequest r;
      r.spec = "mlp:16";
      r.seed = uint64_t(k);
      r.epochs = 0;  // untrained: no data needed
      models.push_back(trainNewModel(r));
      panel.addModel(QString("/tmp/untrained_%1.pt").arg(k), models.back());
    }
    QCOMPARE(panel.fusionSet(), QVector<int>({0, 1}));
    QCOMPARE(panel.anchorIndex(), 1);  // two models: B
    QCOMPARE(panel.firstIndex(), 0);
    QCOMPARE(panel.secondIndex(), 1);
    QVERIFY2(panel.incompatibility().isEmpty(), qPrintable(panel.incompatibility()));
    QSignalSpy changed(&panel, &ModelsPanel::pairChanged);
    panel.setFusionSet({0, 1, 2});
    QVERIFY(!changed.isEmpty());
    QCOMPARE(panel.fusionSet(), QVector<int>({0, 1, 2}));
    QCOMPARE(panel.anchorIndex(), ModelsPanel::defaultAnchor(3));
    QCOMPARE(int(panel.fusionModels().size()), 3);
    QVERIFY(panel.weights().empty());
    panel.setAnchor(2);
    panel.setWeights({0.2, 0.3, 0.5});
    QCOMPARE(panel.anchorIndex(), 2);
    QCOMPARE(panel.anchorPosition(), 2);
    QCOMPARE(panel.weights(), std::vector<double>({0.2, 0.3, 0.5}));
    // The request: all three, anchor 2, the weights.
    StudioSettings settings;
    FusionRequest r = settings.request(panel.fusionModels(), panel.anchorPosition(), panel.weights());
    QCOMPARE(int(r.models.size()), 3);
    QCOMPARE(r.anchor, 2);
    QCOMPARE(r.weights, std::vector<double>({0.2, 0.3, 0.5}));
    QVERIFY(r.models[2] == models[2]);
    // A model of another depth cannot be fused onto this anchor: said, naming the file.
    TrainRequest deep;
    deep.spec = "mlp:16-8";
    deep.epochs = 0;
    panel.addModel("/tmp/deeper.pt", trainNewModel(deep));
    QCOMPARE(panel.fusionSet(), QVector<int>({0, 1, 2}));  // opened unchecked
    panel.setFusionSet({0, 1, 2, 3}, 2);
    QVERIFY2(panel.incompatibility().contains("deeper.pt"), qPrintable(panel.incompatibility()));
    QVERIFY(!panel.incompatibility().contains("untrained_1.pt"));
    // Two models: the a/b request of the two-model app, with the anchor as B.
    panel.setPair(2, 0);
    QCOMPARE(panel.anchorIndex(), 0);
    QCOMPARE(panel.firstIndex(), 2);
    r = settings.request(panel.fusionModels(), panel.anchorPosition(), panel.weights());
    QVERIFY(r.models.empty());
    QVERIFY(r.a == models[2] && r.b == models[0]);
  }

  // Session files: a three-model set with anchor and weights round-trips; a version-2 file
  // (first/second only) reads as the pair with B as anchor; inconsistent sets are refused with
  // the file named.
  void sessionFileWithThreeModels() {
    QTemporaryDir dir;
    SessionFile s;
    s.models = {"a.pt", "b.pt", "c.pt", "d.pt"};
    s.fuse = {0, 2, 3};
    s.anchor = 2;
    s.weights = {0.5, 0.25, 0.25};
    s.first = 0;
    s.second = 2;
    const QString path = dir.filePath("three.otfuse.json");
    s.save(path);
    const SessionFile back = SessionFile::load(path);
    QCOMPARE(back.fuse, s.fuse);
    QCOMPARE(back.anchor, 2);
    QCOMPARE(back.weights, s.weights);

    QJsonObject v2{{"format", "otfuse-studio-session"}, {"version", 2},
                   {"models", QJsonArray{"a.pt", "b.pt"}}, {"first", 0}, {"second", 1},
                   {"settings", QJsonObject{{"anchorIsSecond", true}}}};
    SessionFile old = SessionFile::parse(QJsonDocument(v2).toJson(), "old.json");
    QCOMPARE(old.fuse, QVector<int>({0, 1}));
    QCOMPARE(old.anchor, 1);
    v2["settings"] = QJsonObject{{"anchorIsSecond", false}};
    QCOMPARE(SessionFile::parse(QJsonDocument(v2).toJson(), "old.json").anchor, 0);

    auto refused = [](QJsonObject o, const QString& expect) {
      try {
        SessionFile::parse(QJsonDocument(o).toJson(), "bad.json");
      } catch (const std::exception& e) {
        const QString what = QString::fromStdString(e.what());
        return what.contains("bad.json") && what.contains(expect) ? QString() : what;
      }
      return QString("accepted");
    };
    QJsonObject bad{{"format", "otfuse-studio-session"}, {"version", 3},
                    {"models", QJsonArray{"a.pt", "b.pt", "c.pt"}}, {"first", 0}, {"second", 1},
                    {"fuse", QJsonArray{0, 1, 2}}, {"anchor", 5}};
    QString why = refused(bad, "anchor");
    QVERIFY2(why.isEmpty(), qPrintable(why));
    bad["anchor"] = 0;
    bad["fuse"] = QJsonArray{0, 0, 1};
    why = refused(bad, "fuse");
    QVERIFY2(why.isEmpty(), qPrintable(why));
    bad["fuse"] = QJsonArray{0, 1, 2};
    bad["weights"] = QJsonArray{1, 1};
    why = refused(bad, "weights");
    QVERIFY2(why.isEmpty(), qPrintable(why));
  }

  // The results table has one row per parent (model 1..N, the anchor marked), then the
  // ensemble, vanilla and fused rows; the sequential row only when computed.
  void resultsTableHasEveryParent() {
    ResultsView view;
    FusionSummary s;
    s.models = {"/x/m0.pt", "/x/m1.pt", "/x/m2.pt"};
    s.accuracy = {{"model_0", 90.0}, {"model_1", 91.0}, {"model_2", 92.0},
                  {"ensemble", 93.0}, {"vanilla", 20.0}, {"fused", 85.0}};
    s.loss = {{"model_0", 0.3}, {"model_1", 0.3}, {"model_2", 0.3},
              {"ensemble", 0.2}, {"vanilla", 2.0}, {"fused", 0.5}};
    view.setSummary(s, 0);
    int parents = 0;
    for (int r = 0; r < view.table()->rowCount(); ++r) {
      const QString label = view.table()->verticalHeaderItem(r)->text();
      if (!view.table()->isRowHidden(r) && label.startsWith("Model ")) ++parents;
    }
    QCOMPARE(parents, 3);
    QCOMPARE(view.tableAccuracy("model_2"), 92.0);
    QVERIFY(view.table()->verticalHeaderItem(0)->text().contains("anchor"));
    QVERIFY(view.table()->verticalHeaderItem(2)->text().contains("m2.pt"));
    const int seq = int(view.rowKeys().indexOf("sequential"));
    QVERIFY(seq >= 0 && view.table()->isRowHidden(seq));
    s.accuracy["sequential"] = 80.0;
    view.setSummary(s, 0);
    QVERIFY(!view.table()->isRowHidden(seq));
    QCOMPARE(view.tableAccuracy("sequential"), 80.0);
    // Back to two models: A and B.
    FusionSummary two;
    two.models = {"/x/a.pt", "/x/b.pt"};
    two.accuracy = {{"model_0", 90.0}, {"model_1", 91.0}, {"fused", 92.0}};
    view.setSummary(two);
    QCOMPARE(view.rowKeys().filter(QRegularExpression("^model_")).size(), 2);
    QVERIFY(view.table()->verticalHeaderItem(1)->text().startsWith("Model B, anchor"));
  }

  // The heatmap's selector switches between the models' plans onto the anchor; layers writing
  // one residual stream say so.
  void heatmapSelectorAndStreams() {
    auto outcome = std::make_shared<FusionOutcome>();
    outcome->summary.models = {"/x/m0.pt", "/x/m1.pt", "/x/m2.pt"};
    outcome->anchor = 0;
    outcome->modelLayers.resize(3);
    // Layers conv1 and layer1.0.conv2 write stream 0; layer1.0.conv1 its own group 1.
    for (int m : {1, 2}) {
      const std::vector<std::string> stream0{"conv1", "layer1.0.conv2"};
      outcome->modelLayers[size_t(m)] = {permutationLayer("conv1", 6, m, 0, stream0),
                                         permutationLayer("layer1.0.conv1", 6, 2 * m, 1),
                                         permutationLayer("layer1.0.conv2", 6, m, 0, stream0)};
      // A writer that reuses the stream's map has no plan of its own (as the core leaves it).
      LayerResult reused = permutationLayer("layer1.1.conv2", 6, m, 0, stream0);
      reused.plan.resize(0, 0);
      reused.cost.resize(0, 0);
      reused.reused = true;
      outcome->modelLayers[size_t(m)].push_back(reused);
    }
    outcome->layers = outcome->modelLayers[1];
    PlanHeatmapView view;
    view.resize(1000, 700);
    view.setOutcome(outcome);
    QCOMPARE(view.selectableModels(), QVector<int>({1, 2}));
    QCOMPARE(view.currentModel(), 1);
    view.setCurrentLayer(1);
    QString why;
    QVERIFY2(heatmapShows(&view, outcome->modelLayers[1][1].plan, &why), qPrintable(why));
    view.setCurrentModel(2);
    QCOMPARE(view.currentLayer(), 1);  // the layer stays
    QVERIFY2(heatmapShows(&view, outcome->modelLayers[2][1].plan, &why), qPrintable(why));
    QVERIFY(!heatmapShows(&view, outcome->modelLayers[1][1].plan, &why));
    QVERIFY2(view.statistics().contains("model 3"), qPrintable(view.statistics()));
    // Streams.
    QCOMPARE(view.streamPartners(0), QStringList({"layer1.0.conv2"}));
    QVERIFY(view.streamPartners(1).isEmpty());
    view.setCurrentLayer(2);
    QVERIFY2(view.statistics().contains("Residual stream 0") &&
                 view.statistics().contains("shared with conv1"),
             qPrintable(view.statistics()));
    auto* layerBox = view.findChild<QComboBox*>("layer");
    QVERIFY(layerBox);
    QVERIFY2(layerBox->itemText(2).contains("stream 0"), qPrintable(layerBox->itemText(2)));
    QVERIFY(!layerBox->itemText(1).contains("stream"));
    view.setCurrentLayer(1);
    QVERIFY(!view.statistics().contains("Residual stream"));
    // The reusing layer shows the plan of the layer its map comes from, and says so.
    view.setCurrentLayer(3);
    QCOMPARE(view.displayedLayer(3), 0);
    QVERIFY2(heatmapShows(&view, outcome->modelLayers[2][0].plan, &why), qPrintable(why));
    QVERIFY2(view.statistics().contains("layer1.1.conv2"), qPrintable(view.statistics()));
  }

  // ---- MNIST: three trained models through the real window and worker ----

  void threeModelsLoadAndFuseViaTheWorker() {
    if (!mnist_.isEmpty()) OTFUSE_SKIP(qPrintable(mnist_));
    window_ = makeWindow(&errors_);
    QSignalSpy loaded(window_->controller(), &EngineController::modelLoaded);
    QSignalSpy evaluated(window_->controller(), &EngineController::modelEvaluated);
    QSignalSpy finished(window_->controller(), &EngineController::fusionFinished);
    window_->openFiles(paths_, /*runWhenLoaded=*/true);  // all of them, as the command line does
    QVERIFY2(waitFor(loaded, 3, 120000), "the models did not load");
    QVERIFY2(waitFor(finished, 1, 300000), "no fusion result");
    QVERIFY2(waitFor(evaluated, 3, 300000), "the test accuracies did not arrive");
    QVERIFY2(errors_.isEmpty(), qPrintable(errors_.join("\n")));
    ModelsPanel* panel = window_->modelsPanel();
    QCOMPARE(panel->count(), 3);
    QCOMPARE(panel->fusionSet(), QVector<int>({0, 1, 2}));
    QCOMPARE(panel->anchorPosition(), ModelsPanel::defaultAnchor(3));
    const FusionRequest& request = window_->lastRequest();
    QCOMPARE(int(request.models.size()), 3);
    QCOMPARE(request.anchor, panel->anchorPosition());
    OutcomePtr outcome = window_->outcome();
    QVERIFY(outcome);
    QCOMPARE(int(outcome->modelLayers.size()), 3);
    QCOMPARE(outcome->anchor, request.anchor);
    // The table: three parent rows, each the model's own test accuracy (the models panel's),
    // then the ensemble of all three and OT fusion, as the core computed them.
    ResultsView* results = window_->resultsView();
    int parents = 0;
    for (int r = 0; r < results->table()->rowCount(); ++r)
      if (!results->table()->isRowHidden(r) &&
          results->rowKeys()[r].startsWith("model_"))
        ++parents;
    QCOMPARE(parents, 3);
    for (int k = 0; k < 3; ++k) {
      const QString key = QString("model_%1").arg(k);
      const auto score = panel->score(QFileInfo(paths_[k]).absoluteFilePath());
      QVERIFY(score.has_value());
      QCOMPARE(results->tableAccuracy(key), score->accuracy);
      QVERIFY2(results->table()->verticalHeaderItem(k)->text().contains(QFileInfo(paths_[k]).fileName()),
               qPrintable(results->table()->verticalHeaderItem(k)->text()));
    }
    for (const auto& [key, acc] : outcome->summary.accuracy)
      QCOMPARE(results->tableAccuracy(QString::fromStdString(key)), acc);
    QVERIFY(outcome->summary.accuracy.count("ensemble"));
    QVERIFY(outcome->summary.accuracy.count("fused"));
    QVERIFY2(results->tableAccuracy("fused") > 50,
             qPrintable(QString("OT fusion of three: %1 %").arg(results->tableAccuracy("fused"))));
  }

  // The plan selector shows another model's plans onto the anchor, in the heatmap and in the
  // matching view.
  void planSelectorSwitchesModel() {
    if (const QString why = fusedMissing(); !why.isEmpty()) OTFUSE_SKIP(qPrintable(why));
    OutcomePtr outcome = window_->outcome();
    PlanHeatmapView* heatmap = window_->heatmapView();
    heatmap->setReorder(false);
    QVector<int> others;
    for (int i = 0; i < 3; ++i)
      if (i != outcome->anchor) others << i;
    QCOMPARE(heatmap->selectableModels(), others);
    const int layer = 0;
    QString why;
    heatmap->setCurrentModel(others[0]);
    heatmap->setCurrentLayer(layer);
    const ot::Matrix& first = outcome->modelLayers[size_t(others[0])][layer].plan;
    const ot::Matrix& second = outcome->modelLayers[size_t(others[1])][layer].plan;
    QVERIFY2(first != second, "both models have the same plan: the test cannot tell them apart");
    QVERIFY2(heatmapShows(heatmap, first, &why), qPrintable(why));
    heatmap->setCurrentModel(others[1]);
    QCOMPARE(heatmap->currentModel(), others[1]);
    QVERIFY2(heatmapShows(heatmap, second, &why), qPrintable(why));
    // The matching view: its bipartite drawing follows the chosen model.
    NeuronMatchingView* matching = window_->matchingView();
    matching->setCurrentModel(others[1]);
    matching->setCurrentLayer(layer);
    QCOMPARE(matching->currentModel(), others[1]);
    Eigen::Index best = 0;
    second.row(5).maxCoeff(&best);
    matching->selectNeuron(5);
    QCOMPARE(matching->bipartite()->selectedIndex(), 5);
    QVERIFY2(matching->imageNote().isEmpty() || !matching->imageA().isNull() ||
                 matching->imageNote().contains("first layer"),
             qPrintable(matching->imageNote()));
    // The weight images: the chosen model's neuron 5 and the anchor's matched neuron.
    if (!matching->imageA().isNull()) {
      const ModelPtr m = window_->lastRequest().models[size_t(others[1])];
      const QImage expect = NeuronMatchingView::weightImage(firstLayerImage(*m, 5));
      QCOMPARE(matching->imageA(), expect);
    }
  }

  // Exports cover every model's plans onto the anchor: one plan folder per model, the
  // report's "model_layers".
  void exportsCoverEveryModel() {
    if (const QString why = fusedMissing(); !why.isEmpty()) OTFUSE_SKIP(qPrintable(why));
    OutcomePtr outcome = window_->outcome();
    QTemporaryDir dir;
    const QStringList plans = window_->exportPlansTo(dir.filePath("plans"));
    for (int i = 0; i < 3; ++i) {
      const QString folder = dir.filePath(QString("plans/model_%1").arg(i + 1));
      if (i == outcome->anchor) {
        QVERIFY(!QDir(folder).exists());
      } else {
        QCOMPARE(int(QDir(folder).entryList(QDir::Files).size()),
                 int(outcome->modelLayers[size_t(i)].size()));
      }
    }
    QCOMPARE(int(plans.size()), 2 * int(outcome->layers.size()));
    QVERIFY(window_->exportReportTo(dir.filePath("report.json")));
    QFile report(dir.filePath("report.json"));
    QVERIFY(report.open(QIODevice::ReadOnly));
    const QJsonObject root = QJsonDocument::fromJson(report.readAll()).object();
    QCOMPARE(root.value("model_layers").toArray().size(), 3);
    QVERIFY(errors_.isEmpty());
  }

  void sessionWithThreeModelsRoundTrips() {
    if (const QString why = fusedMissing(); !why.isEmpty()) OTFUSE_SKIP(qPrintable(why));
    ModelsPanel* panel = window_->modelsPanel();
    panel->setAnchor(1);
    panel->setWeights({0.5, 0.2, 0.3});
    QTemporaryDir dir;
    const QString path = dir.filePath("three.otfuse.json");
    window_->saveSession(path);
    const SessionFile s = SessionFile::load(path);
    QCOMPARE(s.fuse, QVector<int>({0, 1, 2}));
    QCOMPARE(s.anchor, 1);
    QCOMPARE(s.weights, std::vector<double>({0.5, 0.2, 0.3}));
    QVERIFY(s.results.has_value());

    QStringList errors;
    auto other = makeWindow(&errors);
    QSignalSpy opened(other.get(), &MainWindow::sessionOpened);
    other->openSession(path);
    QVERIFY(waitFor(opened, 1, 60000));
    ModelsPanel* again = other->modelsPanel();
    QCOMPARE(again->paths(), panel->paths());
    QCOMPARE(again->fusionSet(), QVector<int>({0, 1, 2}));
    QCOMPARE(again->anchorIndex(), 1);
    QCOMPARE(again->weights(), std::vector<double>({0.5, 0.2, 0.3}));
    // The stored results: all three parents, the anchor of that run marked.
    ResultsView* results = other->resultsView();
    QVERIFY(results->showsStored());
    for (int k = 0; k < 3; ++k)
      QCOMPARE(results->tableAccuracy(QString("model_%1").arg(k)),
               s.results->accuracy.at("model_" + std::to_string(k)));
    const int anchorRow = int(results->rowKeys().indexOf(
        QString("model_%1").arg(window_->outcome()->anchor)));
    QVERIFY(results->table()->verticalHeaderItem(anchorRow)->text().contains("anchor"));
    // The request a run would make: the restored anchor and weights.
    FusionRequest r = other->settingsForm()->settings().request(
        again->fusionModels(), again->anchorPosition(), again->weights());
    QCOMPARE(r.anchor, 1);
    QCOMPARE(r.weights, std::vector<double>({0.5, 0.2, 0.3}));
    QVERIFY2(errors.isEmpty(), qPrintable(errors.join("\n")));
    other->close();
    // Back to equal weights and the default anchor for the next case.
    panel->setFusionSet({0, 1, 2});
  }

  // The set, its anchor and weights are remembered when the window closes (QSettings) and
  // chosen again once the same models are open again.
  void setIsRememberedAcrossRuns() {
    if (!mnist_.isEmpty()) OTFUSE_SKIP(qPrintable(mnist_));
    QStringList errors;
    auto first = makeWindow(&errors);
    QSignalSpy loaded(first->controller(), &EngineController::modelLoaded);
    first->openFiles(paths_);
    QVERIFY(waitFor(loaded, 3, 60000));
    first->modelsPanel()->setFusionSet({0, 1, 2}, 2, {1.0, 2.0, 3.0});
    QVERIFY(first->close());
    first.reset();

    auto second = makeWindow(&errors);
    QSignalSpy loaded2(second->controller(), &EngineController::modelLoaded);
    second->openFiles(paths_);
    QVERIFY(waitFor(loaded2, 3, 60000));
    QTest::qWait(50);
    ModelsPanel* panel = second->modelsPanel();
    QCOMPARE(panel->fusionSet(), QVector<int>({0, 1, 2}));
    QCOMPARE(panel->anchorIndex(), 2);
    QCOMPARE(panel->weights(), std::vector<double>({1.0, 2.0, 3.0}));
    second->close();
    QVERIFY2(errors.isEmpty(), qPrintable(errors.join("\n")));
  }

  // "Fused accuracy as N grows": N points per series, computed on the worker; at n = 1 both
  // are the anchor alone, at n = N the fusion is the table's (equal weights).
  void growthCurveHasNPoints() {
    if (const QString why = fusedMissing(); !why.isEmpty()) OTFUSE_SKIP(qPrintable(why));
    CurvesView* curves = window_->curvesView();
    QSignalSpy started(window_->controller(), &EngineController::jobStarted);
    const int job = window_->computeCurves("growth");
    QVERIFY(job > 0);
    QVERIFY2(waitForJob(window_->controller(), job, 600000), "the growth curve did not finish");
    QVERIFY2(errors_.isEmpty(), qPrintable(errors_.join("\n")));
    bool onWorker = false;
    for (const auto& args : std::as_const(started))
      if (args.at(0).toInt() == job && args.at(1).value<JobKind>() == JobKind::Growth) onWorker = true;
    QVERIFY(onWorker);
    const QVector<CurvePoint> fused = curves->points("growth", "fused");
    const QVector<CurvePoint> ensemble = curves->points("growth", "ensemble");
    QCOMPARE(fused.size(), 3);
    QCOMPARE(ensemble.size(), 3);
    QCOMPARE(curves->drawnPoints("growth", "fused"), 3);
    for (int n = 1; n <= 3; ++n) {
      QCOMPARE(fused[n - 1].x, double(n));
      QCOMPARE(ensemble[n - 1].x, double(n));
    }
    const ModelsPanel* panel = window_->modelsPanel();
    const auto anchorScore = panel->score(panel->paths()[panel->anchorIndex()]);
    QVERIFY(anchorScore.has_value());
    QCOMPARE(fused[0].accuracy, anchorScore->accuracy);
    QCOMPARE(ensemble[0].accuracy, anchorScore->accuracy);
    // The same run as the table's (the first case: equal weights, the default anchor).
    QCOMPARE(fused[2].accuracy, window_->outcome()->summary.accuracy.at("fused"));
    QCOMPARE(ensemble[2].accuracy, window_->outcome()->summary.accuracy.at("ensemble"));
  }
};

OTFUSE_TEST_MAIN_GUI(TestStudioNModels)
#include "test_studio_nmodels.moc"
