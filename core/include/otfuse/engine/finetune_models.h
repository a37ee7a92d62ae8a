#pragma once
// Fine-tuning on Model objects (LibTorch types: for the CLI and the engine, not for Qt code;
// the app uses otfuse/engine/finetune.h).
#include <string>
#include <utility>
#include <vector>

#include "otfuse/data/dataset.h"
#include "otfuse/engine/finetune.h"
#include "otfuse/models/model.h"
#include "otfuse/train/train.h"

namespace otfuse {

/// Fine-tunes `model` IN PLACE (call clone() first to keep the original): epoch 0 = `model`
/// evaluated on `test` as given, then trainModel(model, train, &test, options). `onPoint` gets
/// every point (epoch 0 first); `afterEpoch(epoch)` is called after onPoint for epochs >= 1
/// with `model` holding that epoch's weights (e.g. to save a checkpoint per epoch).
std::vector<FinetunePoint> finetuneInPlace(Model& model, const Dataset& train,
                                           const Dataset& test, const TrainOptions& options,
                                           const ProgressFn& progress = {},
                                           const CancelFlag* cancel = nullptr,
                                           const FinetunePointFn& onPoint = {},
                                           const std::function<void(int)>& afterEpoch = {});

/// The comparison on Model objects: each start model (series name, model; e.g. {"fused",
/// fused}, {"vanilla", vanilla}) is cloned and fine-tuned with the same options, in order.
/// Returns the points per series and (in `finals`, if given) the fine-tuned models.
std::map<std::string, std::vector<FinetunePoint>> finetuneSeries(
    const std::vector<std::pair<std::string, const Model*>>& starts, const Dataset& train,
    const Dataset& test, const TrainOptions& options, const FinetuneSeriesFn& onPoint = {},
    const ProgressFn& progress = {}, const CancelFlag* cancel = nullptr,
    std::map<std::string, Model>* finals = nullptr);

/// TrainOptions of a FinetuneRequest (same names, same meaning).
TrainOptions trainOptionsOf(const FinetuneRequest& request);

/// The first `n` images of `data` (n <= 0 or n >= size: all, shared).
Dataset firstImages(const Dataset& data, long long n);

}  // namespace otfuse
