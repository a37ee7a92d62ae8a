#include "matching/bipartite_view.h"

#include <QMouseEvent>
#include <QPainter>
#include <QPainterPath>
#include <algorithm>
#include <cmath>
#include <functional>

namespace otfuse::ui {

BipartiteView::BipartiteView(QWidget* parent) : QWidget(parent) {
  setMinimumSize(260, 300);
  setSizePolicy(QSizePolicy::Expanding, QSizePolicy::Expanding);
  setToolTip(tr("Click a neuron to highlight where its mass goes."));
}

void BipartiteView::setPlan(const Eigen::MatrixXd& plan, const QString& layerName) {
  plan_ = plan;
  layerName_ = layerName;
  maxMass_ = plan_.size() > 0 ? plan_.maxCoeff() : 0.0;
  // The background links, found once (a 4096 x 4096 plan is not rescanned on every paint).
  links_.clear();
  const double threshold = 0.05 * maxMass_;
  for (Eigen::Index j = 0; j < plan_.cols() && maxMass_ > 0; ++j)
    for (Eigen::Index i = 0; i < plan_.rows(); ++i)
      if (plan_(i, j) > threshold) links_.push_back({int(i), int(j), plan_(i, j) / maxMass_});
  if (links_.size() > 20000) {  // a blurred plan: draw each A neuron's 3 largest links only
    links_.clear();
    for (Eigen::Index i = 0; i < plan_.rows(); ++i) {
      std::vector<std::pair<double, int>> row;
      for (Eigen::Index j = 0; j < plan_.cols(); ++j) row.push_back({plan_(i, j), int(j)});
      const size_t k = std::min<size_t>(3, row.size());
      std::partial_sort(row.begin(), row.begin() + k, row.end(), std::greater<>());
      for (size_t r = 0; r < k; ++r)
        links_.push_back({int(i), row[r].second, row[r].first / maxMass_});
    }
  }
  selected_ = -1;
  update();
}

void BipartiteView::select(Side side, int index) {
  const int n = side == Side::A ? int(plan_.rows()) : int(plan_.cols());
  if (index < 0 || index >= n) return;
  side_ = side;
  selected_ = index;
  update();
  emit neuronSelected(side, index);
}

QRectF BipartiteView::area() const {
  return QRectF(70, 34, std::max(10, width() - 170), std::max(10, height() - 50));
}

QPointF BipartiteView::dotPosition(Side side, int index) const {
  const QRectF a = area();
  const int n = side == Side::A ? int(plan_.rows()) : int(plan_.cols());
  const double y = a.top() + (index + 0.5) * a.height() / std::max(1, n);
  return {side == Side::A ? a.left() : a.right(), y};
}

void BipartiteView::paintEvent(QPaintEvent*) {
  QPainter p(this);
  p.fillRect(rect(), palette().base());
  p.setRenderHint(QPainter::Antialiasing, true);
  const QRectF a = area();
  QFont bold = font();
  bold.setBold(true);
  p.setFont(bold);
  p.setPen(palette().text().color());
  if (plan_.size() == 0) {
    p.drawText(rect(), Qt::AlignCenter, tr("Run a fusion to see the neuron matching."));
    return;
  }
  const int nA = int(plan_.rows()), nB = int(plan_.cols());
  p.drawText(QRectF(0, 4, a.left() + 40, 24), Qt::AlignCenter,
             QString("%1 (%2)").arg(sideNames_[0]).arg(nA));
  p.drawText(QRectF(a.right() - 40, 4, width() - a.right() + 40, 24), Qt::AlignCenter,
             QString("%1 (%2)").arg(sideNames_[1]).arg(nB));
  p.drawText(QRectF(a.left() + 40, 4, a.width() - 80, 24), Qt::AlignCenter, layerName_);
  p.setFont(font());

  // Background links: light, opacity and width by mass.
  p.setRenderHint(QPainter::Antialiasing, nA * nB < 4096);  // crisp, cheap lines when dense
  for (const Link& link : links_) {
    QColor c(90, 110, 140);
    c.setAlphaF(std::clamp(0.08 + 0.35 * link.rel, 0.0, 1.0));
    p.setPen(QPen(c, 0.4 + 1.2 * link.rel));
    p.drawLine(dotPosition(Side::A, link.i), dotPosition(Side::B, link.j));
  }
  p.setRenderHint(QPainter::Antialiasing, true);
  // Selected neuron's links: strong.
  if (selected_ >= 0) {
    const bool fromA = side_ == Side::A;
    const int n = fromA ? nB : nA;
    double total = 0, localMax = 0;
    for (int k = 0; k < n; ++k) {
      const double m = fromA ? plan_(selected_, k) : plan_(k, selected_);
      total += m;
      localMax = std::max(localMax, m);
    }
    for (int k = 0; k < n; ++k) {
      const double m = fromA ? plan_(selected_, k) : plan_(k, selected_);
      if (m <= 1e-3 * localMax || localMax <= 0) continue;
      const double rel = m / localMax;
      QColor c(211, 47, 47);
      c.setAlphaF(std::clamp(0.25 + 0.75 * rel, 0.0, 1.0));
      p.setPen(QPen(c, 1.0 + 3.0 * rel));
      const QPointF from = fromA ? dotPosition(Side::A, selected_) : dotPosition(Side::A, k);
      const QPointF to = fromA ? dotPosition(Side::B, k) : dotPosition(Side::B, selected_);
      p.drawLine(from, to);
      if (rel > 0.2) {
        p.setPen(QColor(150, 20, 20));
        const QPointF at = fromA ? to : from;
        const QString label = QString("%1 (%2 %)").arg(k).arg(100.0 * m / total, 0, 'f', 0);
        if (fromA)
          p.drawText(QRectF(at.x() + 8, at.y() - 8, 90, 16), Qt::AlignLeft | Qt::AlignVCenter,
                     label);
        else
          p.drawText(QRectF(at.x() - 98, at.y() - 8, 90, 16), Qt::AlignRight | Qt::AlignVCenter,
                     label);
      }
    }
  }
  // Dots.
  const double spacingA = a.height() / std::max(1, nA), spacingB = a.height() / std::max(1, nB);
  const double rA = std::clamp(spacingA * 0.4, 1.0, 5.0), rB = std::clamp(spacingB * 0.4, 1.0, 5.0);
  p.setPen(Qt::NoPen);
  p.setBrush(QColor(33, 113, 181));
  for (int i = 0; i < nA; ++i) p.drawEllipse(dotPosition(Side::A, i), rA, rA);
  p.setBrush(QColor(230, 85, 13));
  for (int j = 0; j < nB; ++j) p.drawEllipse(dotPosition(Side::B, j), rB, rB);
  if (selected_ >= 0) {
    p.setBrush(QColor(211, 47, 47));
    p.setPen(QPen(Qt::black, 1));
    p.drawEllipse(dotPosition(side_, selected_), 5, 5);
    p.setPen(QColor(150, 20, 20));
    const QPointF at = dotPosition(side_, selected_);
    if (side_ == Side::A)
      p.drawText(QRectF(at.x() - 58, at.y() - 8, 50, 16), Qt::AlignRight | Qt::AlignVCenter,
                 QString::number(selected_));
    else
      p.drawText(QRectF(at.x() + 8, at.y() - 8, 50, 16), Qt::AlignLeft | Qt::AlignVCenter,
                 QString::number(selected_));
  }
  // Index ticks at the ends.
  p.setPen(palette().placeholderText().color());
  auto tick = [&](Side s, int idx) {
    const QPointF at = dotPosition(s, idx);
    if (s == Side::A)
      p.drawText(QRectF(4, at.y() - 7, a.left() - 12, 14), Qt::AlignRight | Qt::AlignVCenter,
                 QString::number(idx));
    else
      p.drawText(QRectF(a.right() + 10, at.y() - 7, 50, 14), Qt::AlignLeft | Qt::AlignVCenter,
                 QString::number(idx));
  };
  tick(Side::A, 0);
  tick(Side::A, nA - 1);
  tick(Side::B, 0);
  tick(Side::B, nB - 1);
}

void BipartiteView::mousePressEvent(QMouseEvent* event) {
  if (plan_.size() == 0) return;
  const QRectF a = area();
  const QPointF pos = event->position();
  Side side;
  if (std::abs(pos.x() - a.left()) < 30)
    side = Side::A;
  else if (std::abs(pos.x() - a.right()) < 30)
    side = Side::B;
  else
    return;
  const int n = side == Side::A ? int(plan_.rows()) : int(plan_.cols());
  const int index = int(std::floor((pos.y() - a.top()) / a.height() * n));
  if (index >= 0 && index < n) select(side, index);
}

}  // namespace otfuse::ui
