// OTFuse Studio's views on hand-made results (no model, no dataset, no shared folder): what a
// view shows must say what the result is worth (issue 8: a Sinkhorn plan that stopped at its
// iteration limit is never shown as if it had converged).
#include <qcustomplot.h>
#include <QApplication>
#include <QComboBox>
#include <QtTest>

#include <memory>

#include "common/otfuse_test.h"
#include "curves/curves_view.h"
#include "heatmap/plan_heatmap_view.h"
#include "otfuse/engine/engine.h"

using namespace otfuse;
using namespace otfuse::ui;

namespace {

LayerResult layer(const std::string& name, ot::Status status, double marginalError) {
  LayerResult l;
  l.name = name;
  l.outGroup = 0;
  const int n = 4;
  l.plan = ot::Matrix::Constant(n, n, 1.0 / (n * n));
  l.corrected = l.plan * n;
  l.cost = ot::Matrix::Constant(n, n, 1.0);
  l.mu = l.nu = ot::Vector::Constant(n, 1.0 / n);
  l.status = status;
  l.iterations = status == ot::Status::IterationLimit ? 10000 : 57;
  l.marginalError = marginalError;
  return l;
}

}  // namespace

class TestViews : public QObject {
  Q_OBJECT

 private slots:
  // The heatmap's statistics and its layer list say when a plan is approximate.
  void heatmapShowsIterationLimit() {
    auto outcome = std::make_shared<FusionOutcome>();
    outcome->layers.push_back(layer("fc1", ot::Status::Converged, 3e-10));
    outcome->layers.push_back(layer("fc2", ot::Status::IterationLimit, 2.5e-3));
    PlanHeatmapView view;
    view.resize(900, 700);
    view.setOutcome(outcome);
    view.setCurrentLayer(0);
    QVERIFY2(view.statistics().contains("converged"), qPrintable(view.statistics()));
    QVERIFY(!view.statistics().contains("iteration limit"));
    QVERIFY2(view.statistics().contains("marginal error 3e-10"), qPrintable(view.statistics()));
    view.setCurrentLayer(1);
    QVERIFY2(view.statistics().contains("iteration limit reached: the plan is approximate"),
             qPrintable(view.statistics()));
    QVERIFY2(view.statistics().contains("marginal error 0.0025"), qPrintable(view.statistics()));
    auto* combo = view.findChild<QComboBox*>();
    QVERIFY(combo);
    QVERIFY(!combo->itemText(0).contains("approximate"));
    QVERIFY2(combo->itemText(1).contains("iteration limit: approximate"),
             qPrintable(combo->itemText(1)));
  }

  // Each point of the epsilon curve carries its plans' status; points from approximate plans
  // are marked on the plot and named under it.
  void epsilonCurveMarksIterationLimit() {
    CurvesView view;
    view.resize(1000, 700);
    CurvePoint exact{0.0, 95.0, 0.2};
    view.addPoint("epsilon", "exact", exact);
    CurvePoint ok{0.1, 93.0, 0.3};
    view.addPoint("epsilon", "sinkhorn", ok);
    QVERIFY(view.epsilonWarning().isEmpty());
    QCOMPARE(view.drawnPoints("epsilon", "sinkhorn_limit"), -1);
    CurvePoint limit{0.001, 60.0, 1.2};
    limit.layersAtIterationLimit = 2;
    limit.maxMarginalError = 0.04;
    view.addPoint("epsilon", "sinkhorn", limit);
    QCOMPARE(view.drawnPoints("epsilon", "sinkhorn"), 2);
    QCOMPARE(view.drawnPoints("epsilon", "sinkhorn_limit"), 1);
    const QString w = view.epsilonWarning();
    QVERIFY2(w.contains("iteration limit") && w.contains("ε = 0.001") && w.contains("2 layer"),
             qPrintable(w));
    view.clearCurve("epsilon");
    QVERIFY(view.epsilonWarning().isEmpty());
    QCOMPARE(view.drawnPoints("epsilon", "sinkhorn_limit"), -1);
  }
};

OTFUSE_TEST_MAIN_GUI(TestViews)
#include "test_views.moc"
