#pragma once
// Value types that travel between the engine worker thread and the UI thread as signal
// arguments. All are owned values (copies or shared pointers to immutable data).
#include <QMetaType>
#include <QString>

#include <memory>

#include "otfuse/engine/engine.h"

namespace otfuse::ui {

/// An immutable fusion outcome shared by every view (plans are never copied per view).
using OutcomePtr = std::shared_ptr<const FusionOutcome>;

/// The kinds of background jobs, for status texts and for routing results.
enum class JobKind {
  LoadModel,
  Evaluate,
  Fusion,
  Interpolation,
  Progressive,
  Epsilon,
  Growth,
  Demo,
  Finetune,  // fine-tuning after fusion (ui/finetune)
  Task
};

QString jobKindName(JobKind kind);

/// Registers the types below with Qt's meta-type system (queued connections); call once
/// before the first worker signal (EngineController does).
void registerStudioMetaTypes();

}  // namespace otfuse::ui

Q_DECLARE_METATYPE(otfuse::ModelPtr)
Q_DECLARE_METATYPE(otfuse::Score)
Q_DECLARE_METATYPE(otfuse::CurvePoint)
Q_DECLARE_METATYPE(otfuse::Progress)
Q_DECLARE_METATYPE(otfuse::ui::OutcomePtr)
Q_DECLARE_METATYPE(otfuse::ui::JobKind)
