#pragma once
// What the engine's translation units share (engine.cpp, skill_transfer.cpp, ...): the dataset
// cache, model handles and scores. LibTorch types; never included by Qt code.
#include <map>
#include <memory>
#include <string>

#include "otfuse/data/dataset.h"
#include "otfuse/engine/engine.h"
#include "otfuse/models/model.h"
#include "otfuse/train/train.h"

namespace otfuse {

/// The dataset `name` split `split`, loaded once per process (thread-safe); a cancelled load
/// caches nothing.
std::shared_ptr<const Dataset> cachedDataset(const std::string& name, Split split,
                                             const std::string& dataDir,
                                             const CancelFlag* cancel);

/// A handle owning `model` (layers, parameters and default dataset filled in).
ModelPtr makeHandle(Model model, const std::string& path, const std::string& format,
                    std::map<std::string, std::string> metadata = {});

/// The model behind a handle; throws Error for a null handle.
const Model& modelOf(const ModelPtr& m);

/// The facade's Score of an evaluation (per-class accuracy and the shared confusion matrix).
Score scoreOf(const EvalResult& r);

}  // namespace otfuse
