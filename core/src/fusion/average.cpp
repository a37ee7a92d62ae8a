// N-model weights and vanilla averaging (average.h). Kept out of fusion.cpp, which holds the
// alignment itself.
#include "otfuse/fusion/average.h"

#include <ATen/ATen.h>

#include <cmath>
#include <cstdio>

#include "otfuse/error.h"

namespace otfuse {
namespace {

std::string numberText(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}

}  // namespace

std::vector<double> normalizedWeights(const std::vector<double>& weights, size_t n) {
  if (n == 0) throw Error("no models to weight");
  if (weights.empty()) return std::vector<double>(n, 1.0 / double(n));
  if (weights.size() != n)
    throw Error(std::to_string(weights.size()) + " weight" + (weights.size() == 1 ? "" : "s") +
                " for " + std::to_string(n) + " models; give one weight per model");
  double sum = 0;
  for (size_t i = 0; i < n; ++i) {
    const double w = weights[i];
    if (!std::isfinite(w)) throw Error("weight " + std::to_string(i) + " is not a finite number");
    if (w < 0)
      throw Error("weight " + std::to_string(i) + " is negative (" + numberText(w) + ")");
    sum += w;
  }
  if (!(sum > 0)) throw Error("the weights sum to 0; at least one must be positive");
  if (sum == 1.0) return weights;
  std::vector<double> out(weights);
  for (double& w : out) w /= sum;
  return out;
}

std::string vanillaIncompatibility(const std::vector<Model>& models, int anchor) {
  if (anchor < 0 || anchor >= int(models.size()))
    return "the anchor index " + std::to_string(anchor) + " is out of range";
  const Model& ref = models[size_t(anchor)];
  for (size_t i = 0; i < models.size(); ++i) {
    if (int(i) == anchor) continue;
    const Model& m = models[i];
    if (m.architecture().name != ref.architecture().name)
      return "model " + std::to_string(i) + " is " + m.architecture().name + ", the anchor " +
             ref.architecture().name;
    for (const auto& [key, t] : ref.state()) {
      if (!m.state().contains(key))
        return "model " + std::to_string(i) + " has no tensor " + key;
      if (m.state().at(key).sizes() != t.sizes())
        return "vanilla averaging needs equal shapes: " + key + " differs in model " +
               std::to_string(i);
    }
  }
  return "";
}

Model vanillaAverageMany(const std::vector<Model>& models, const std::vector<double>& weights,
                         int anchor) {
  if (models.empty()) throw Error("vanilla averaging needs at least one model");
  if (weights.size() != models.size())
    throw Error("vanilla averaging: " + std::to_string(weights.size()) + " weights for " +
                std::to_string(models.size()) + " models");
  if (std::string why = vanillaIncompatibility(models, anchor); !why.empty())
    throw Error("vanilla averaging: " + why);
  at::NoGradGuard noGrad;
  const Model& ref = models[size_t(anchor)];
  StateDict out;
  for (const auto& [key, tr] : ref.state()) {
    if (!at::isFloatingType(tr.scalar_type())) {
      out.set(key, tr.clone());
      continue;
    }
    at::Tensor sum = weights[0] * models[0].state().at(key).to(at::kDouble);
    for (size_t i = 1; i < models.size(); ++i)
      sum = sum + weights[i] * models[i].state().at(key).to(at::kDouble);
    out.set(key, sum.to(tr.scalar_type()));
  }
  return Model(ref.architecture(), std::move(out));
}

}  // namespace otfuse
