#pragma once
// The settings of a skill-transfer run (SkillTransferRequest) as a form: special class,
// fraction, architecture, epochs, learning rate, seeds, weights t, alignment mode, training
// images and where trained parents are kept. UI thread only.
#include <QDialog>

#include "otfuse/engine/skill_transfer.h"

class QComboBox;
class QDoubleSpinBox;
class QLineEdit;
class QSpinBox;

namespace otfuse::ui {

class SkillTransferDialog : public QDialog {
  Q_OBJECT
 public:
  explicit SkillTransferDialog(QWidget* parent = nullptr);

  /// Fills the form (dataset, dataDir and options other than the mode are kept as given).
  void setRequest(const SkillTransferRequest& request);
  /// The request the form describes; `error` gets a sentence when it is not valid (then the
  /// returned request must not be run).
  SkillTransferRequest request(QString* error = nullptr) const;

 private:
  SkillTransferRequest base_;
  QSpinBox* special_;
  QDoubleSpinBox* fraction_;
  QLineEdit* arch_;
  QSpinBox* epochs_;
  QDoubleSpinBox* lr_;
  QSpinBox* seeds_;
  QSpinBox* firstSeed_;
  QLineEdit* ts_;
  QComboBox* mode_;
  QSpinBox* limit_;
  QLineEdit* cacheDir_;
};

}  // namespace otfuse::ui
