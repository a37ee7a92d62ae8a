#pragma once
// The run settings form. Shows a StudioSettings; every field has a one-sentence tooltip.
// UI thread only.
#include <QWidget>

#include "settings/studio_settings.h"

class QCheckBox;
class QComboBox;
class QDoubleSpinBox;
class QLineEdit;
class QSpinBox;

namespace otfuse::ui {

class SettingsForm : public QWidget {
  Q_OBJECT
 public:
  explicit SettingsForm(QWidget* parent = nullptr);

  StudioSettings settings() const;
  void setSettings(const StudioSettings& settings);
  /// Whether the models to fuse are residual networks: the stream-map choice applies to them
  /// only (it stays enabled when unknown: true by default).
  void setResidualModels(bool residual);
  /// Restores the paper's defaults.
  void resetToDefaults() { setSettings(StudioSettings{}); }

 signals:
  void changed();

 private:
  void updateEnabled();

  QComboBox* mode_;
  QComboBox* solver_;
  QDoubleSpinBox* epsilon_;
  QComboBox* metric_;
  QComboBox* normalization_;
  QComboBox* marginals_;
  QSpinBox* samples_;
  QSpinBox* seed_;
  QComboBox* streamMap_;
  QCheckBox* sequential_;
  QDoubleSpinBox* t_;
  QComboBox* dataset_;
  QLineEdit* folder_;
  QLineEdit* dataDir_;
  QCheckBox* probabilityEnsemble_;
  QCheckBox* otOutput_;
  QComboBox* repair_;
  QSpinBox* repairBatches_;
  bool residual_ = true;
  StudioSettings hidden_;  // curve ranges live in the curves view; kept here for round trips
};

}  // namespace otfuse::ui
