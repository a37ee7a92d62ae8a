// Structured magnitude pruning (see models/prune.h).
#include "otfuse/models/prune.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <cmath>
#include <numeric>

#include "otfuse/error.h"

namespace otfuse {
namespace {

std::string joined(const std::vector<int64_t>& v, const char* sep) {
  std::string out;
  for (size_t i = 0; i < v.size(); ++i) out += (i ? sep : "") + std::to_string(v[i]);
  return out;
}

at::Tensor indexTensor(const std::vector<int64_t>& idx) {
  return at::from_blob(const_cast<int64_t*>(idx.data()), {int64_t(idx.size())}, at::kLong).clone();
}

std::string vggSpec(const Architecture& a, const std::vector<int64_t>& widths) {
  std::vector<std::string> cfg;
  size_t conv = 0;
  std::vector<const LayerInfo*> convs;
  for (const auto& l : a.layers)
    if (l.kind == LayerKind::Conv2d) convs.push_back(&l);
  for (int64_t c : a.hidden) {
    if (c == 0) {
      cfg.push_back("M");
      continue;
    }
    cfg.push_back(std::to_string(widths.at(size_t(convs.at(conv++)->outGroup))));
  }
  std::string spec = "vgg:";
  for (size_t i = 0; i < cfg.size(); ++i) spec += (i ? "," : "") + cfg[i];
  if (a.batchNorm) spec += ",bn";
  if (a.bias) spec += ",bias";
  if (a.bias && !a.linearBias) spec += ",nolinearbias";
  if (!a.bias && a.linearBias) spec += ",linearbias";
  if (a.adaptivePool > 0) {
    // torchvision layout: classifier.0 and classifier.3 write the last two groups.
    const int64_t h0 = widths.at(size_t(a.numGroups - 2)), h1 = widths.at(size_t(a.numGroups - 1));
    if (h0 != h1)
      throw Error("architecture " + a.name + ": the narrowed classifier widths " +
                  std::to_string(h0) + " and " + std::to_string(h1) +
                  " differ, and the torchvision layout has one width for both");
    spec += ",tv" + std::to_string(h0);
  }
  return spec;
}

std::string resnetSpec(const Architecture& a, const std::vector<int64_t>& widths) {
  std::string spec = a.blocks == std::vector<int>{3, 4, 6, 3} ? "resnet34" : "resnet18";
  if (!a.batchNorm) spec += "_nobn";
  if (a.bias) spec += "_bias";
  if (!a.linearBias) spec += a.bias ? "_nolinearbias" : "_nobias";
  spec += "_w" + std::to_string(widths.at(0));  // group 0: the stem's stream, width w
  return spec;
}

}  // namespace

int64_t prunedWidth(int64_t width, double fraction) {
  return std::max<int64_t>(1, int64_t(std::llround(fraction * double(width))));
}

std::vector<int64_t> groupWidths(const Architecture& arch) {
  std::vector<int64_t> w(size_t(arch.numGroups), 0);
  for (const auto& l : arch.layers)
    if (l.outGroup >= 0) w[size_t(l.outGroup)] = l.outFeatures;
  return w;
}

Architecture narrowedArchitecture(const Architecture& a, const std::vector<int64_t>& widths) {
  if (widths.size() != size_t(a.numGroups))
    throw Error("architecture " + a.name + " has " + std::to_string(a.numGroups) +
                " neuron groups, " + std::to_string(widths.size()) + " widths given");
  if (widths == groupWidths(a)) return a;  // keeps named specs (mlpnet, vgg11, ...)
  std::string spec;
  if (a.family == "mlp") {
    spec = "mlp:" + joined(widths, "-") + (a.bias ? ",bias" : "") +
           (a.inChannels == 3 ? ",cifar" : "");
  } else if (a.family == "vgg") {
    spec = vggSpec(a, widths);
  } else if (a.family == "resnet") {
    spec = resnetSpec(a, widths);
  } else {
    throw Error("architecture " + a.name +
                " has fixed widths: there is no spec for a narrower one, so it cannot be pruned "
                "(prunable: mlpnet, mlp:..., VGGs, ResNets)");
  }
  Architecture narrow = parseArchitecture(spec);
  // The spec must describe exactly the narrowed layers (a ResNet's stages are w, 2w, 4w, 8w).
  bool fits = narrow.layers.size() == a.layers.size() && narrow.numGroups == a.numGroups;
  for (size_t i = 0; fits && i < a.layers.size(); ++i) {
    const LayerInfo &o = a.layers[i], &n = narrow.layers[i];
    int64_t out = o.outGroup >= 0 ? widths[size_t(o.outGroup)] : o.outFeatures;
    int64_t in = o.inGroup >= 0 ? widths[size_t(o.inGroup)] : o.inFeatures;
    fits = n.name == o.name && n.outFeatures == out && n.inFeatures == in &&
           n.inSpatial == o.inSpatial && n.outGroup == o.outGroup && n.inGroup == o.inGroup;
  }
  if (!fits) {
    std::string msg = "architecture " + a.name + " cannot be narrowed to group widths " +
                      joined(widths, ",") + ": " + spec + " has other layer widths";
    if (a.family == "resnet")
      msg += " (a ResNet's residual streams and blocks have widths w, 2w, 4w, 8w for one base "
             "width w; choose a fraction that makes fraction x " + std::to_string(a.baseWidth) +
             " a whole number)";
    throw Error(msg);
  }
  return narrow;
}

std::vector<std::vector<double>> neuronScores(const Model& model) {
  const Architecture& a = model.architecture();
  std::vector<std::vector<double>> scores(size_t(a.numGroups));
  for (const auto& l : a.layers) {
    if (l.outGroup < 0) continue;
    at::Tensor w = model.state().at(l.weight).to(at::kDouble);
    at::Tensor sq = w.reshape({w.size(0), -1}).pow(2).sum(1).contiguous();
    auto& s = scores[size_t(l.outGroup)];
    if (s.empty()) s.assign(size_t(w.size(0)), 0.0);
    const double* p = sq.data_ptr<double>();
    for (size_t i = 0; i < s.size(); ++i) s[i] += p[i];
  }
  for (auto& s : scores)
    for (double& v : s) v = std::sqrt(v);
  return scores;
}

PruneResult pruneToWidths(const Model& model, const std::vector<int64_t>& widths) {
  const Architecture& a = model.architecture();
  const std::vector<int64_t> wide = groupWidths(a);
  if (widths.size() != wide.size())
    throw Error("pruning " + a.name + ": " + std::to_string(wide.size()) +
                " neuron groups, " + std::to_string(widths.size()) + " widths given");
  for (size_t g = 0; g < wide.size(); ++g)
    if (widths[g] < 1 || widths[g] > wide[g])
      throw Error("pruning " + a.name + ": group " + std::to_string(g) + " has " +
                  std::to_string(wide[g]) + " neurons, cannot keep " + std::to_string(widths[g]));
  Architecture narrow = narrowedArchitecture(a, widths);

  PruneResult r;
  const auto scores = neuronScores(model);
  r.kept.resize(wide.size());
  for (size_t g = 0; g < wide.size(); ++g) {
    std::vector<int64_t> order(size_t(wide[g]));
    std::iota(order.begin(), order.end(), 0);
    const auto& s = scores[g];
    std::stable_sort(order.begin(), order.end(),
                     [&](int64_t x, int64_t y) { return s[size_t(x)] > s[size_t(y)]; });
    order.resize(size_t(widths[g]));
    std::sort(order.begin(), order.end());
    r.kept[g] = std::move(order);
  }

  std::vector<at::Tensor> keptIdx;
  for (const auto& k : r.kept) keptIdx.push_back(indexTensor(k));
  StateDict out;
  std::map<std::string, at::Tensor> sliced;
  for (const auto& l : a.layers) {
    at::Tensor w = model.state().at(l.weight);
    if (l.outGroup >= 0) {
      const at::Tensor& idx = keptIdx[size_t(l.outGroup)];
      w = w.index_select(0, idx);
      if (!l.bias.empty()) sliced[l.bias] = model.state().at(l.bias).index_select(0, idx);
      for (const auto& k : l.perNeuron) sliced[k] = model.state().at(k).index_select(0, idx);
    }
    if (l.inGroup >= 0) {
      const auto& k = r.kept[size_t(l.inGroup)];
      if (l.kind == LayerKind::Linear && l.inSpatial > 1) {
        std::vector<int64_t> cols;  // channel-major flatten: channel c owns columns c*S .. c*S+S-1
        for (int64_t c : k)
          for (int64_t s = 0; s < l.inSpatial; ++s) cols.push_back(c * l.inSpatial + s);
        w = w.index_select(1, indexTensor(cols));
      } else {
        w = w.index_select(1, keptIdx[size_t(l.inGroup)]);
      }
    }
    sliced[l.weight] = w;
  }
  for (const auto& [key, t] : model.state()) {
    auto it = sliced.find(key);
    out.set(key, (it != sliced.end() ? it->second : t).clone().contiguous());
  }
  r.model = Model(std::move(narrow), std::move(out));
  return r;
}

PruneResult pruneModel(const Model& model, double fraction) {
  if (!(fraction > 0.0 && fraction <= 1.0))
    throw Error("the kept width must be a fraction in (0, 1], e.g. 0.5 for half the neurons; got " +
                std::to_string(fraction));
  std::vector<int64_t> widths = groupWidths(model.architecture());
  for (auto& w : widths) w = prunedWidth(w, fraction);
  return pruneToWidths(model, widths);
}

}  // namespace otfuse
