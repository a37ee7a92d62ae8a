// Model: an Architecture plus its StateDict, with a functional forward pass.
#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>

#include <cmath>

#include "otfuse/error.h"
#include "otfuse/models/model.h"

namespace otfuse {
namespace {

constexpr double kBnEps = 1e-5;

std::string counterKey(const LayerInfo& l) {
  // perNeuron[0] is "<bn>.weight"; the counter sits beside it.
  const std::string& w = l.perNeuron.front();
  return w.substr(0, w.size() - 7) + ".num_batches_tracked";
}

// Runs the layers of a model in order; keeps the optional capture. `training` (non-null only
// for Model::forwardTrain) is the state whose BatchNorm statistics and counters the pass
// updates; without it the pass reads `state` only.
class Runner {
 public:
  Runner(const Architecture& a, const StateDict& s, StateDict* training,
         std::vector<at::Tensor>* pre, double momentum)
      : arch_(a), state_(s), training_(training), pre_(pre), momentum_(momentum) {}

  // Weight layer number `index` applied to x, then BatchNorm if it has one. Records the
  // pre-activation.
  at::Tensor layer(size_t index, const at::Tensor& x, int stride = 1) {
    const LayerInfo& l = arch_.layers.at(index);
    at::Tensor bias = l.bias.empty() ? at::Tensor() : state_.at(l.bias);
    at::Tensor y;
    if (l.kind == LayerKind::Linear) {
      y = at::linear(x, state_.at(l.weight), bias);
    } else {
      int64_t pad = l.padding;
      y = at::conv2d(x, state_.at(l.weight), bias, {stride, stride}, {pad, pad});
    }
    if (!l.perNeuron.empty()) {
      // In training mode at::batch_norm updates the running statistics in place: only on
      // the mutable state of forwardTrain.
      y = at::batch_norm(y, state_.at(l.perNeuron[0]), state_.at(l.perNeuron[1]),
                         state_.at(l.perNeuron[2]), state_.at(l.perNeuron[3]),
                         training_ != nullptr, momentum_, kBnEps, false);
      if (training_ && training_->contains(counterKey(l))) {
        at::NoGradGuard guard;
        training_->at(counterKey(l)).add_(1);
      }
    }
    if (pre_) pre_->push_back(y);
    return y;
  }

 private:
  const Architecture& arch_;
  const StateDict& state_;
  StateDict* training_;
  std::vector<at::Tensor>* pre_;
  double momentum_;
};

at::Tensor forwardMlp(Runner& r, const Architecture& a, const at::Tensor& x) {
  at::Tensor h = x.reshape({x.size(0), -1});
  for (size_t i = 0; i < a.layers.size(); ++i) {
    h = r.layer(i, h);
    if (i + 1 < a.layers.size()) h = at::relu(h);
  }
  return h;
}

at::Tensor forwardMnistCnn(Runner& r, const at::Tensor& x) {
  at::Tensor h = at::max_pool2d(at::relu(r.layer(0, x)), {2, 2});
  h = at::max_pool2d(at::relu(r.layer(1, h)), {2, 2});
  h = h.reshape({h.size(0), -1});
  h = at::relu(r.layer(2, h));
  return r.layer(3, h);
}

at::Tensor forwardVgg(Runner& r, const Architecture& a, const at::Tensor& x) {
  at::Tensor h = x;
  size_t index = 0;
  for (int64_t c : a.hidden) {
    if (c == 0) {
      h = at::max_pool2d(h, {2, 2}, {2, 2});
    } else {
      h = at::relu(r.layer(index++, h));
    }
  }
  // The paper's AvgPool2d(1, 1) is the identity; torchvision pools adaptively to 7x7.
  if (a.adaptivePool > 0) h = at::adaptive_avg_pool2d(h, {a.adaptivePool, a.adaptivePool});
  h = h.reshape({h.size(0), -1});
  // torchvision's head: Linear, ReLU, Dropout (identity in eval), Linear, ReLU, Dropout, Linear.
  for (size_t i = 0; i < a.classifierHidden.size(); ++i) h = at::relu(r.layer(index++, h));
  return r.layer(index, h);
}

at::Tensor forwardResnet(Runner& r, const Architecture& a, const at::Tensor& x) {
  size_t index = 0;
  at::Tensor h = at::relu(r.layer(index++, x));
  for (size_t s = 0; s < a.blocks.size(); ++s) {
    for (int b = 0; b < a.blocks[s]; ++b) {
      const int stride = (b == 0 && s > 0) ? 2 : 1;
      const size_t conv1 = index++, conv2 = index++;
      const auto& layers = a.layers;
      const bool projection = index < layers.size() &&
                              layers[index].name.size() > 11 &&
                              layers[index].name.compare(layers[index].name.size() - 11, 11,
                                                         ".shortcut.0") == 0;
      at::Tensor out = at::relu(r.layer(conv1, h, stride));
      out = r.layer(conv2, out);
      at::Tensor shortcut = projection ? r.layer(index++, h, stride) : h;
      h = at::relu(out + shortcut);
    }
  }
  h = at::avg_pool2d(h, {4, 4});
  h = h.reshape({h.size(0), -1});
  return r.layer(index, h);
}

}  // namespace

Model::Model(Architecture arch, StateDict state) : arch_(std::move(arch)), state_(std::move(state)) {
  validateState(arch_, state_);
  for (const auto& l : arch_.layers) {
    if (!l.perNeuron.empty() && !state_.contains(counterKey(l)))
      state_.set(counterKey(l), at::zeros({}, at::kLong));
  }
}

Model Model::initialize(const Architecture& arch, uint64_t seed) {
  auto gen = at::make_generator<at::CPUGeneratorImpl>(seed);
  StateDict s;
  for (const auto& l : arch.layers) {
    std::vector<int64_t> shape = {l.outFeatures, l.inFeatures * l.inSpatial};
    int64_t fanIn = l.inFeatures * l.inSpatial;
    if (l.kind == LayerKind::Conv2d) {
      shape = {l.outFeatures, l.inFeatures, l.kernelH, l.kernelW};
      fanIn = l.inFeatures * l.kernelH * l.kernelW;
    }
    // PyTorch's default: kaiming_uniform(a = sqrt(5)) = U(-1/sqrt(fan_in), 1/sqrt(fan_in)),
    // the same bound for the bias.
    double bound = 1.0 / std::sqrt(double(fanIn));
    s.set(l.weight, at::empty(shape, at::kFloat).uniform_(-bound, bound, gen));
    if (!l.bias.empty()) s.set(l.bias, at::empty({l.outFeatures}, at::kFloat).uniform_(-bound, bound, gen));
    if (!l.perNeuron.empty()) {
      s.set(l.perNeuron[0], at::ones({l.outFeatures}));
      s.set(l.perNeuron[1], at::zeros({l.outFeatures}));
      s.set(l.perNeuron[2], at::zeros({l.outFeatures}));
      s.set(l.perNeuron[3], at::ones({l.outFeatures}));
      s.set(counterKey(l), at::zeros({}, at::kLong));
    }
  }
  return Model(arch, std::move(s));
}

Model Model::load(const std::string& path, const std::string& spec) {
  return fromCheckpoint(loadCheckpoint(path), path, spec);
}

Model Model::fromCheckpoint(const Checkpoint& ck, const std::string& path,
                            const std::string& spec) {
  try {
    // nn.DataParallel saves every key under "module.": drop it when all keys have it.
    StateDict state = ck.state;
    const std::string prefix = "module.";
    bool wrapped = !state.empty();
    for (const auto& [k, t] : state) wrapped = wrapped && k.rfind(prefix, 0) == 0;
    if (wrapped) {
      StateDict stripped;
      for (const auto& [k, t] : state) stripped.set(k.substr(prefix.size()), t);
      state = std::move(stripped);
    }
    Architecture arch = spec.empty() ? inferArchitecture(state) : parseArchitecture(spec);
    return Model(std::move(arch), std::move(state));
  } catch (const FileError&) {
    throw;
  } catch (const Error& e) {
    throw FileError(path, e.what());
  }
}

Model Model::clone() const {
  Model m;
  m.arch_ = arch_;
  m.state_ = state_.clone();
  return m;
}

namespace {

at::Tensor runForward(const Architecture& arch, Runner& r, const at::Tensor& x) {
  if (x.dim() != 4 || x.size(1) != arch.inChannels || x.size(2) != arch.inHeight ||
      x.size(3) != arch.inWidth) {
    throw Error(arch.name + " expects inputs of shape [N, " + std::to_string(arch.inChannels) +
                ", " + std::to_string(arch.inHeight) + ", " + std::to_string(arch.inWidth) +
                "]; the dataset's images do not fit (wrong dataset for this model?)");
  }
  if (arch.family == "mlp") return forwardMlp(r, arch, x);
  if (arch.family == "mnistcnn") return forwardMnistCnn(r, x);
  if (arch.family == "vgg") return forwardVgg(r, arch, x);
  if (arch.family == "resnet") return forwardResnet(r, arch, x);
  throw Error("no forward pass for architecture family " + arch.family);
}

}  // namespace

at::Tensor Model::forward(const at::Tensor& x, std::vector<at::Tensor>* preActivations) const {
  Runner r(arch_, state_, nullptr, preActivations, 0.0);
  return runForward(arch_, r, x);
}

at::Tensor Model::forwardTrain(const at::Tensor& x, double batchNormMomentum,
                               std::vector<at::Tensor>* preActivations) {
  Runner r(arch_, state_, &state_, preActivations, batchNormMomentum);
  return runForward(arch_, r, x);
}

bool Model::hasBatchNorm() const {
  for (const auto& l : arch_.layers)
    if (!l.perNeuron.empty()) return true;
  return false;
}

std::vector<at::Tensor> Model::parameters() const {
  std::vector<at::Tensor> out;
  for (const auto& l : arch_.layers) {
    out.push_back(state_.at(l.weight));
    if (!l.bias.empty()) out.push_back(state_.at(l.bias));
    if (!l.perNeuron.empty()) {
      out.push_back(state_.at(l.perNeuron[0]));
      out.push_back(state_.at(l.perNeuron[1]));
    }
  }
  return out;
}

int64_t Model::parameterCount() const {
  int64_t n = 0;
  for (const auto& t : parameters()) n += t.numel();
  return n;
}

}  // namespace otfuse
