#include "worker/studio_types.h"

namespace otfuse::ui {

QString jobKindName(JobKind kind) {
  switch (kind) {
    case JobKind::LoadModel:
      return QStringLiteral("Loading model");
    case JobKind::Evaluate:
      return QStringLiteral("Evaluating model");
    case JobKind::Fusion:
      return QStringLiteral("Fusion");
    case JobKind::Interpolation:
      return QStringLiteral("Interpolation curve");
    case JobKind::Progressive:
      return QStringLiteral("Progressive alignment curve");
    case JobKind::Epsilon:
      return QStringLiteral("Sinkhorn epsilon curve");
    case JobKind::Growth:
      return QStringLiteral("Fusion-as-N-grows curve");
    case JobKind::Demo:
      return QStringLiteral("Preparing demo models");
    case JobKind::Finetune:
      return QStringLiteral("Fine-tuning");
    case JobKind::Task:
      return QStringLiteral("Background task");
  }
  return QStringLiteral("Job");
}

void registerStudioMetaTypes() {
  qRegisterMetaType<otfuse::ModelPtr>();
  qRegisterMetaType<otfuse::Score>();
  qRegisterMetaType<otfuse::CurvePoint>();
  qRegisterMetaType<otfuse::Progress>();
  qRegisterMetaType<otfuse::ui::OutcomePtr>();
  qRegisterMetaType<otfuse::ui::JobKind>();
}

}  // namespace otfuse::ui
