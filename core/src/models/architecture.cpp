// Architecture descriptions: parsing specs, inferring them from a state_dict, validating.
#include <ATen/ATen.h>

#include <algorithm>
#include <map>
#include <sstream>

#include "otfuse/error.h"
#include "otfuse/models/model.h"

namespace otfuse {
namespace {

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::string cur;
  for (char c : s) {
    if (c == sep) {
      out.push_back(cur);
      cur.clear();
    } else {
      cur += c;
    }
  }
  out.push_back(cur);
  return out;
}

std::vector<std::string> bnKeys(const std::string& prefix) {
  return {prefix + ".weight", prefix + ".bias", prefix + ".running_mean", prefix + ".running_var"};
}

LayerInfo linear(const std::string& name, int64_t in, int64_t out, bool bias, int inGroup,
                 int outGroup, int64_t inSpatial = 1) {
  LayerInfo l;
  l.name = name;
  l.kind = LayerKind::Linear;
  l.weight = name + ".weight";
  if (bias) l.bias = name + ".bias";
  l.inFeatures = in;
  l.outFeatures = out;
  l.inGroup = inGroup;
  l.outGroup = outGroup;
  l.inSpatial = inSpatial;
  return l;
}

LayerInfo conv(const std::string& name, int64_t in, int64_t out, int k, bool bias, int inGroup,
               int outGroup, const std::string& bnPrefix = "") {
  LayerInfo l;
  l.name = name;
  l.kind = LayerKind::Conv2d;
  l.weight = name + ".weight";
  if (bias) l.bias = name + ".bias";
  l.inFeatures = in;
  l.outFeatures = out;
  l.kernelH = l.kernelW = k;
  l.padding = k / 2;
  l.inGroup = inGroup;
  l.outGroup = outGroup;
  if (!bnPrefix.empty()) l.perNeuron = bnKeys(bnPrefix);
  return l;
}

Architecture makeMlp(std::vector<int64_t> hidden, bool bias, bool cifar, const std::string& name) {
  Architecture a;
  a.name = name;
  a.family = "mlp";
  if (cifar) {
    a.inChannels = 3;
    a.inHeight = a.inWidth = 32;
  }
  a.hidden = hidden;
  a.bias = bias;
  int64_t in = int64_t(a.inChannels) * a.inHeight * a.inWidth;
  int group = -1;
  for (size_t i = 0; i < hidden.size(); ++i) {
    a.layers.push_back(linear("fc" + std::to_string(i + 1), in, hidden[i], bias, group, int(i)));
    group = int(i);
    in = hidden[i];
  }
  a.layers.push_back(linear("fc" + std::to_string(hidden.size() + 1), in, a.numClasses, bias,
                            group, -1));
  a.numGroups = int(hidden.size());
  return a;
}

Architecture makeMnistCnn() {
  Architecture a;
  a.name = "mnistcnn";
  a.family = "mnistcnn";
  a.bias = true;
  a.layers.push_back(conv("conv1", 1, 16, 5, true, -1, 0));
  a.layers.push_back(conv("conv2", 16, 32, 5, true, 0, 1));
  a.layers[0].padding = a.layers[1].padding = 0;  // 28 -> 24 -> pool 12 -> 8 -> pool 4
  a.layers.push_back(linear("fc1", 32, 100, true, 1, 2, 16));  // 32 channels x 4x4
  a.layers.push_back(linear("fc2", 100, 10, true, 2, -1));
  a.numGroups = 3;
  return a;
}

Architecture makeVgg11(bool bn, bool bias, double width, const std::string& name) {
  Architecture a;
  a.name = name;
  a.family = "vgg";
  a.inChannels = 3;
  a.inHeight = a.inWidth = 32;
  a.bias = bias;
  a.batchNorm = bn;
  const int cfg[] = {64, 0, 128, 0, 256, 256, 0, 512, 512, 0, 512, 512, 0};
  int index = 0, group = -1, channels = 3;
  for (int c : cfg) {
    if (c == 0) {
      a.hidden.push_back(0);
      index += 1;  // MaxPool2d
      continue;
    }
    int out = int(c * width);
    a.hidden.push_back(out);
    std::string name = "features." + std::to_string(index);
    std::string bnName = bn ? "features." + std::to_string(index + 1) : "";
    a.layers.push_back(conv(name, channels, out, 3, bias, group, group + 1, bnName));
    group += 1;
    channels = out;
    index += bn ? 3 : 2;  // Conv2d, [BatchNorm2d,] ReLU
  }
  a.layers.push_back(linear("classifier", channels, 10, bias, group, -1, 1));
  a.numGroups = group + 1;
  return a;
}

Architecture makeResnet18(bool bn, bool bias, const std::string& name) {
  Architecture a;
  a.name = name;
  a.family = "resnet18";
  a.inChannels = 3;
  a.inHeight = a.inWidth = 32;
  a.bias = bias;
  a.batchNorm = bn;
  auto bnOf = [&](const std::string& p) { return bn ? p : std::string(); };
  int groups = 0;
  int stream = groups++;  // residual stream written by conv1
  a.layers.push_back(conv("conv1", 3, 64, 3, bias, -1, stream, bnOf("bn1")));
  int64_t in = 64;
  const int64_t planes[] = {64, 128, 256, 512};
  for (int s = 0; s < 4; ++s) {
    for (int b = 0; b < 2; ++b) {
      std::string p = "layer" + std::to_string(s + 1) + "." + std::to_string(b);
      bool downsample = (b == 0 && s > 0);
      int newStream = downsample ? groups++ : stream;
      int inner = groups++;
      a.layers.push_back(conv(p + ".conv1", in, planes[s], 3, bias, stream, inner, bnOf(p + ".bn1")));
      a.layers.push_back(
          conv(p + ".conv2", planes[s], planes[s], 3, bias, inner, newStream, bnOf(p + ".bn2")));
      if (downsample) {
        a.layers.push_back(conv(p + ".shortcut.0", in, planes[s], 1, bias, stream, newStream,
                                bnOf(p + ".shortcut.1")));
      }
      stream = newStream;
      in = planes[s];
    }
  }
  a.layers.push_back(linear("linear", 512, 10, true, stream, -1, 1));
  a.numGroups = groups;
  return a;
}

std::string shapeString(const at::Tensor& t) {
  std::ostringstream os;
  os << '[';
  for (int64_t i = 0; i < t.dim(); ++i) os << (i ? ", " : "") << t.size(i);
  os << ']';
  return os.str();
}

std::string shapeString(const std::vector<int64_t>& s) {
  std::ostringstream os;
  os << '[';
  for (size_t i = 0; i < s.size(); ++i) os << (i ? ", " : "") << s[i];
  os << ']';
  return os.str();
}

}  // namespace

std::string Architecture::inputKind() const {
  return inChannels == 1 ? "mnist" : "cifar10";
}

Architecture parseArchitecture(const std::string& specIn) {
  std::string spec = specIn;
  std::transform(spec.begin(), spec.end(), spec.begin(), ::tolower);
  if (spec == "mlpnet") {
    auto a = makeMlp({400, 200, 100}, false, false, "mlpnet");
    return a;
  }
  if (spec.rfind("mlp:", 0) == 0) {
    auto parts = split(spec.substr(4), ',');
    std::vector<int64_t> hidden;
    for (const auto& w : split(parts[0], '-')) {
      try {
        size_t used = 0;
        long v = std::stol(w, &used);
        if (used != w.size() || v <= 0) throw std::invalid_argument(w);
        hidden.push_back(v);
      } catch (const std::exception&) {
        throw Error("architecture '" + specIn + "': hidden width '" + w +
                    "' is not a positive integer");
      }
    }
    bool bias = false, cifar = false;
    for (size_t i = 1; i < parts.size(); ++i) {
      if (parts[i] == "bias") bias = true;
      else if (parts[i] == "cifar" || parts[i] == "cifar10") cifar = true;
      else if (parts[i] != "mnist") throw Error("architecture '" + specIn + "': unknown flag '" + parts[i] + "'");
    }
    std::string name = "mlp:" + parts[0] + (bias ? ",bias" : "") + (cifar ? ",cifar" : "");
    return makeMlp(hidden, bias, cifar, name);
  }
  if (spec == "mnistcnn") return makeMnistCnn();
  if (spec.rfind("vgg11", 0) == 0) {
    bool bn = false, bias = false;
    double width = 1.0;
    for (const auto& f : split(spec, '_')) {
      if (f == "vgg11") continue;
      if (f == "bn") bn = true;
      else if (f == "bias") bias = true;
      else if (f == "nobias") bias = false;
      else if (f == "half") width = 0.5;
      else if (f == "double") width = 2.0;
      else throw Error("architecture '" + specIn + "': unknown VGG11 variant '" + f + "'");
    }
    std::string name = std::string("vgg11") + (bn ? "_bn" : "") + (bias ? "_bias" : "") +
                       (width == 0.5 ? "_half" : width == 2.0 ? "_double" : "");
    return makeVgg11(bn, bias, width, name);
  }
  if (spec.rfind("resnet18", 0) == 0) {
    bool bn = true, bias = false;
    for (const auto& f : split(spec, '_')) {
      if (f == "resnet18") continue;
      if (f == "nobn") bn = false;
      else if (f == "bn") bn = true;
      else if (f == "bias") bias = true;
      else if (f == "nobias") bias = false;
      else throw Error("architecture '" + specIn + "': unknown ResNet-18 variant '" + f + "'");
    }
    std::string name = std::string("resnet18") + (bn ? "" : "_nobn") + (bias ? "_bias" : "");
    return makeResnet18(bn, bias, name);
  }
  throw Error("unknown architecture '" + specIn +
              "' (known: mlpnet, mlp:W1-W2-...[,bias][,cifar], mnistcnn, "
              "vgg11[_bn][_bias][_half|_double], resnet18[_nobn][_bias])");
}

Architecture inferArchitecture(const StateDict& s) {
  auto has = [&](const std::string& k) { return s.contains(k); };
  if (has("features.0.weight") && has("classifier.weight")) {
    const auto& w0 = s.at("features.0.weight");
    std::string spec = "vgg11";
    if (has("features.1.weight")) spec += "_bn";
    if (has("features.0.bias")) spec += "_bias";
    if (w0.dim() == 4 && w0.size(0) == 32) spec += "_half";
    if (w0.dim() == 4 && w0.size(0) == 128) spec += "_double";
    return parseArchitecture(spec);
  }
  if (has("conv1.weight") && has("layer1.0.conv1.weight") && has("linear.weight")) {
    std::string spec = "resnet18";
    if (!has("bn1.weight")) spec += "_nobn";
    if (has("conv1.bias")) spec += "_bias";
    return parseArchitecture(spec);
  }
  if (has("conv1.weight") && has("conv2.weight") && has("fc1.weight")) return parseArchitecture("mnistcnn");
  if (has("fc1.weight")) {
    std::vector<int64_t> widths;
    int k = 1;
    bool bias = has("fc1.bias");
    int64_t in = s.at("fc1.weight").dim() == 2 ? s.at("fc1.weight").size(1) : -1;
    while (has("fc" + std::to_string(k) + ".weight")) {
      const auto& w = s.at("fc" + std::to_string(k) + ".weight");
      if (w.dim() != 2) throw Error("fc" + std::to_string(k) + ".weight has shape " + shapeString(w) + ", expected a matrix");
      widths.push_back(w.size(0));
      ++k;
    }
    if (widths.size() < 2) throw Error("an MLP needs at least two layers fc1, fc2");
    widths.pop_back();  // the output layer
    if (in != 784 && in != 3072)
      throw Error("fc1.weight has " + std::to_string(in) +
                  " inputs; MLPs take MNIST (784) or CIFAR-10 (3072) images");
    if (!bias && in == 784 && widths == std::vector<int64_t>{400, 200, 100})
      return parseArchitecture("mlpnet");
    std::string spec = "mlp:";
    for (size_t i = 0; i < widths.size(); ++i) spec += (i ? "-" : "") + std::to_string(widths[i]);
    if (bias) spec += ",bias";
    if (in == 3072) spec += ",cifar";
    return parseArchitecture(spec);
  }
  std::string keys;
  int n = 0;
  for (const auto& [k, v] : s) {
    if (n++ == 6) {
      keys += ", ...";
      break;
    }
    keys += (keys.empty() ? "" : ", ") + k;
  }
  throw Error("cannot recognise the architecture from the state_dict keys (" +
              (keys.empty() ? std::string("none") : keys) +
              "); known: MLP (fc1..), mnistcnn (conv1, conv2, fc1, fc2), VGG11 (features.N, "
              "classifier), ResNet-18 (conv1, layer1.0.conv1, ..., linear)");
}

// Expected (key -> shape) of an architecture, in state_dict order.
static std::vector<std::pair<std::string, std::vector<int64_t>>> expectedShapes(
    const Architecture& a) {
  std::vector<std::pair<std::string, std::vector<int64_t>>> out;
  for (const auto& l : a.layers) {
    std::vector<int64_t> w = {l.outFeatures, l.inFeatures * l.inSpatial};
    if (l.kind == LayerKind::Conv2d) w = {l.outFeatures, l.inFeatures, l.kernelH, l.kernelW};
    out.push_back({l.weight, w});
    if (!l.bias.empty()) out.push_back({l.bias, {l.outFeatures}});
    for (const auto& k : l.perNeuron) out.push_back({k, {l.outFeatures}});
  }
  return out;
}

void validateState(const Architecture& a, StateDict& s) {
  auto expected = expectedShapes(a);
  std::vector<std::string> problems;
  std::map<std::string, bool> known;
  for (const auto& [key, shape] : expected) {
    known[key] = true;
    if (!s.contains(key)) {
      problems.push_back("missing " + key + " " + shapeString(shape));
      continue;
    }
    const auto& t = s.at(key);
    if (t.sizes().vec() != shape) {
      problems.push_back(key + " has shape " + shapeString(t) + ", expected " + shapeString(shape));
    } else if (!at::isFloatingType(t.scalar_type())) {
      problems.push_back(key + " is not a floating-point tensor");
    }
  }
  for (const auto& [key, t] : s) {
    if (known.count(key)) continue;
    bool bnCounter = key.size() > 20 && key.compare(key.size() - 20, 20, ".num_batches_tracked") == 0;
    if (bnCounter && a.batchNorm) continue;
    problems.push_back("unexpected " + key + " " + shapeString(t));
  }
  if (!problems.empty()) {
    std::string msg = "the weights do not fit architecture " + a.name + ":";
    size_t shown = 0;
    for (const auto& p : problems) {
      if (shown++ == 12) {
        msg += "\n  ... and " + std::to_string(problems.size() - 12) + " more";
        break;
      }
      msg += "\n  " + p;
    }
    throw Error(msg);
  }
  for (auto& [key, t] : s) {
    if (at::isFloatingType(t.scalar_type()) && t.scalar_type() != at::kFloat) t = t.to(at::kFloat);
    if (!t.is_contiguous()) t = t.contiguous();
  }
  for (const auto& [key, t] : s) {
    if (at::isFloatingType(t.scalar_type()) && !at::isfinite(t).all().item<bool>())
      throw Error(key + " contains NaN or infinite values");
  }
}

}  // namespace otfuse
