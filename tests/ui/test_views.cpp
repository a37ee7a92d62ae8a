// OTFuse Studio's views on hand-made results (no model, no dataset, no shared folder): what a
// view shows must say what the result is worth (issue 8: a Sinkhorn plan that stopped at its
// iteration limit is never shown as if it had converged).
#include <qcustomplot.h>
#include <QApplication>
#include <QComboBox>
#include <QtTest>

#include <memory>
#include <random>

#include "common/otfuse_test.h"
#include "curves/curves_view.h"
#include "heatmap/plan_heatmap_view.h"
#include "results/results_view.h"
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

  // Issue 11: the results' plain-language explanation uses the summary's own numbers and says
  // what they show, also when OT fusion does not beat vanilla averaging.
  void resultsExplanationFollowsTheNumbers() {
    FusionSummary s;
    s.models = {"a.pt", "b.pt"};
    s.accuracy = {{"model_0", 97.9}, {"model_1", 98.1}, {"ensemble", 98.4}, {"vanilla", 71.25},
                  {"fused", 96.5}};
    QString e = ResultsView::explanation(s);
    QVERIFY2(e.contains("71.25 %") && e.contains("far below both parents"), qPrintable(e));
    QVERIFY2(e.contains("96.50 %") && e.contains("25.25 points above vanilla"), qPrintable(e));
    QVERIFY2(e.contains("1.40 points below the weaker parent"), qPrintable(e));
    s.accuracy["vanilla"] = 97.0;
    s.accuracy["fused"] = 96.0;
    e = ResultsView::explanation(s);
    QVERIFY2(e.contains("a little below both parents"), qPrintable(e));
    QVERIFY2(e.contains("1.00 points <i>below</i> vanilla averaging"), qPrintable(e));
    s.accuracy.erase("ensemble");
    QVERIFY(ResultsView::explanation(s).isEmpty());
  }

  // Issue 11: the transport-plan view re-solves the shown layer with Sinkhorn at the slider's
  // epsilon (in the background) and draws that plan; exact OT is one choice away; T~ shows T
  // with columns divided by nu. A burst of slider moves ends on the last position's plan.
  void heatmapEpsilonSliderResolves() {
    std::mt19937_64 rng(5);
    std::uniform_real_distribution<double> U(0.0, 1.0);
    const int nA = 30, nB = 24;
    LayerResult l;
    l.name = "fc1";
    l.outGroup = 0;
    l.cost = ot::Matrix::NullaryExpr(nA, nB, [&] { return 2.0 * U(rng); });
    l.mu = ot::uniform(nA);
    l.nu = ot::uniform(nB);
    const ot::Result exact = ot::exact(l.mu, l.nu, l.cost);
    l.plan = exact.plan;
    l.corrected = exact.plan * nB;
    l.status = exact.status;
    auto outcome = std::make_shared<FusionOutcome>();
    outcome->layers.push_back(l);
    PlanHeatmapView view;
    view.resize(1000, 760);
    view.setOutcome(outcome);
    view.setCurrentLayer(0);
    QVERIFY(!view.shownPreview());
    auto cell = [&](int i, int j) {
      return view.planMap()->data()->cell(j, i);
    };
    QCOMPARE(cell(0, 0), l.plan(0, 0));

    view.setPlanSource(PlanHeatmapView::PlanSource::Sinkhorn);
    view.setPreviewEpsilon(0.1);
    const double eps = view.previewEpsilon();
    QVERIFY(eps > 0.05 && eps < 0.2);  // the slider's nearest position
    QTRY_VERIFY(view.shownPreview() && view.shownPreview()->final &&
                std::abs(view.shownPreview()->epsilon - eps) < 1e-15);
    ot::SinkhornOptions o;
    o.epsilon = eps;
    const ot::Result ref = ot::sinkhorn(l.mu, l.nu, l.cost, o);
    for (int i = 0; i < nA; ++i)
      for (int j = 0; j < nB; ++j) QVERIFY(std::abs(cell(i, j) - ref.plan(i, j)) <= 1e-8);
    QVERIFY2(view.statistics().contains("Sinkhorn ε"), qPrintable(view.statistics()));

    // T~: columns of the shown plan divided by nu.
    view.setShowCorrected(true);
    QVERIFY(std::abs(cell(3, 5) - ref.plan(3, 5) / l.nu(5)) <= 1e-6);
    view.setShowCorrected(false);

    // A burst of moves: the view ends on the last one, answers to older requests are dropped.
    PlanPreviewSolver* solver = view.previewSolver();
    const int firstRequest = solver->latestRequest();
    for (int k = 0; k < 25; ++k) view.setPreviewEpsilon(eps * std::pow(0.9, k + 1));
    const double last = view.previewEpsilon();
    QTRY_VERIFY(view.shownPreview() && view.shownPreview()->final &&
                view.shownPreview()->request == solver->latestRequest());
    QCOMPARE(view.shownPreview()->epsilon, last);
    QVERIFY(solver->latestRequest() > firstRequest);
    QVERIFY(view.shownPreview()->warmStarted);

    view.setPlanSource(PlanHeatmapView::PlanSource::Exact);
    QTRY_VERIFY(view.shownPreview() && view.shownPreview()->exact && view.shownPreview()->final);
    QVERIFY(std::abs(view.shownPreview()->result.cost - exact.cost) <= 1e-12);
    view.setPlanSource(PlanHeatmapView::PlanSource::Fused);
    QVERIFY(!view.shownPreview());
    QCOMPARE(cell(0, 0), l.plan(0, 0));
  }
};

OTFUSE_TEST_MAIN_GUI(TestViews)
#include "test_views.moc"
