#pragma once
// A notice above a view's content ("these numbers were stored in a session", "these plans come
// from the Compare tab"): pale yellow box, selectable text, hidden until shown. UI thread only.
#include <QLabel>
#include <QString>

namespace otfuse::ui {

inline QLabel* makeNoteBanner() {
  auto* banner = new QLabel;
  banner->setWordWrap(true);
  banner->setTextInteractionFlags(Qt::TextSelectableByMouse);
  banner->setStyleSheet(
      "QLabel { background: #fff4ce; color: #5c4400; border: 1px solid #e0c36a; padding: 4px; }");
  banner->setVisible(false);
  return banner;
}

/// Shows `text`, or hides the banner when it is empty.
inline void setNoteBanner(QLabel* banner, const QString& text) {
  banner->setText(text);
  banner->setVisible(!text.isEmpty());
}

}  // namespace otfuse::ui
