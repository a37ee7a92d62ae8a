#pragma once
// A bipartite drawing of one layer's transport plan: A's neurons as dots on the left, B's on
// the right, a link for every entry of T above 5 % of the largest entry, its width and opacity
// proportional to the mass. Clicking a dot selects that neuron and highlights where its mass
// goes (or, for a B neuron, where its mass comes from). UI thread only.
#include <Eigen/Core>
#include <QWidget>

#include <vector>

namespace otfuse::ui {

class BipartiteView : public QWidget {
  Q_OBJECT
 public:
  enum class Side { A, B };

  explicit BipartiteView(QWidget* parent = nullptr);

  /// `plan` is (nA x nB), rows = A's neurons. Clears the selection.
  void setPlan(const Eigen::MatrixXd& plan, const QString& layerName);
  void select(Side side, int index);
  /// What the two sides are called at the top ("A", "B" by default; "model 3", "anchor").
  void setSideNames(const QString& a, const QString& b) {
    sideNames_[0] = a;
    sideNames_[1] = b;
    update();
  }
  Side selectedSide() const { return side_; }
  int selectedIndex() const { return selected_; }
  /// Where a dot is drawn, for tests and hit testing.
  QPointF dotPosition(Side side, int index) const;
  QSize sizeHint() const override { return {420, 520}; }

 signals:
  void neuronSelected(otfuse::ui::BipartiteView::Side side, int index);

 protected:
  void paintEvent(QPaintEvent* event) override;
  void mousePressEvent(QMouseEvent* event) override;

 private:
  QRectF area() const;

  struct Link {
    int i, j;
    double rel;  // mass / largest mass
  };
  Eigen::MatrixXd plan_;
  std::vector<Link> links_;  // entries above 5 % of the largest
  QString layerName_;
  QString sideNames_[2] = {QStringLiteral("A"), QStringLiteral("B")};
  double maxMass_ = 0;
  Side side_ = Side::A;
  int selected_ = -1;
};

}  // namespace otfuse::ui
