#pragma once
// N-model helpers next to fuseMany (fusion.h): the weights as fuseMany reads them, and vanilla
// averaging of N models (the Table-1 baseline "vanilla" for N models).
#include <string>
#include <vector>

#include "otfuse/models/model.h"

namespace otfuse {

/// The weights of an N-model fusion as fuseMany reads them: empty gives 1/N each; otherwise
/// exactly `n` finite non-negative numbers with a positive sum, divided by their sum (left as
/// they are when they already sum to 1). Throws Error naming the problem ("3 weights for 2
/// models", "weight 2 is negative (-0.5)").
std::vector<double> normalizedWeights(const std::vector<double>& weights, size_t n);

/// Empty if every model has the architecture and tensor shapes of models[anchor] (vanilla
/// averaging is defined); else one sentence naming the first model that differs (by index)
/// and the tensor or architecture.
std::string vanillaIncompatibility(const std::vector<Model>& models, int anchor);

/// Vanilla averaging sum_i weights[i] * models[i] of every floating-point tensor, computed in
/// double in index order; integer tensors (BatchNorm counters) and the architecture are those
/// of models[anchor]. `weights` are used as given (see normalizedWeights). Two models with
/// anchor 1 and weights {1 - t, t} give exactly vanillaAverage(models[0], models[1], t).
/// Throws Error unless vanillaIncompatibility is empty.
Model vanillaAverageMany(const std::vector<Model>& models, const std::vector<double>& weights,
                         int anchor);

}  // namespace otfuse
