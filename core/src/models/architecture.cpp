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
  a.bias = a.linearBias = bias;
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
  a.bias = a.linearBias = true;
  a.layers.push_back(conv("conv1", 1, 16, 5, true, -1, 0));
  a.layers.push_back(conv("conv2", 16, 32, 5, true, 0, 1));
  a.layers[0].padding = a.layers[1].padding = 0;  // 28 -> 24 -> pool 12 -> 8 -> pool 4
  a.layers.push_back(linear("fc1", 32, 100, true, 1, 2, 16));  // 32 channels x 4x4
  a.layers.push_back(linear("fc2", 100, 10, true, 2, -1));
  a.numGroups = 3;
  return a;
}

// The paper's named VGG configurations (0 = max-pool), with their name suffix.
struct NamedVgg {
  const char* name;
  std::vector<int64_t> cfg;
};
const std::vector<NamedVgg>& namedVggs() {
  static const std::vector<NamedVgg> v = {
      {"vgg11", {64, 0, 128, 0, 256, 256, 0, 512, 512, 0, 512, 512, 0}},
      {"vgg11_half", {64, 0, 64, 0, 128, 128, 0, 256, 256, 0, 256, 512, 0}},
      {"vgg11_doub", {64, 0, 256, 0, 512, 512, 0, 1024, 1024, 0, 1024, 512, 0}},
      {"vgg11_quad", {64, 0, 512, 0, 1024, 1024, 0, 2048, 2048, 0, 2048, 512, 0}},
      {"vgg13", {64, 64, 0, 128, 128, 0, 256, 256, 0, 512, 512, 0, 512, 512, 0}},
      {"vgg16", {64, 64, 0, 128, 128, 0, 256, 256, 256, 0, 512, 512, 512, 0, 512, 512, 512, 0}},
      {"vgg19", {64, 64, 0, 128, 128, 0, 256, 256, 256, 256, 0, 512, 512, 512, 512, 0, 512, 512,
                 512, 512, 0}},
  };
  return v;
}

std::string cfgString(const std::vector<int64_t>& cfg, const char* sep = ",") {
  std::string out;
  for (size_t i = 0; i < cfg.size(); ++i)
    out += (i ? sep : "") + (cfg[i] == 0 ? std::string("M") : std::to_string(cfg[i]));
  return out;
}

struct VggOptions {
  std::vector<int64_t> cfg;  // widths, 0 = max-pool
  bool bn = false, bias = false, linearBias = false;
  int64_t tvHidden = 0;  // > 0: torchvision layout with this classifier width
};

// Canonical name: a named configuration with "_" flags, else "vgg:" with "," flags.
std::string vggName(const VggOptions& o) {
  std::vector<std::string> flags;
  if (o.bn) flags.push_back("bn");
  if (o.bias) flags.push_back("bias");
  if (o.bias && !o.linearBias) flags.push_back("nolinearbias");
  if (!o.bias && o.linearBias) flags.push_back("linearbias");
  std::string tv = o.tvHidden == 4096 ? "tv" : o.tvHidden > 0 ? "tv" + std::to_string(o.tvHidden) : "";
  for (const auto& n : namedVggs()) {
    if (n.cfg != o.cfg) continue;
    std::string base = n.name, size;
    if (auto u = base.find('_'); u != std::string::npos) {
      size = base.substr(u);  // "_half": after the flags, as in vgg11_bn_half
      base = base.substr(0, u);
    }
    for (const auto& f : flags) base += "_" + f;
    return base + size + (tv.empty() ? "" : "_" + tv);
  }
  std::string name = "vgg:" + cfgString(o.cfg);
  for (const auto& f : flags) name += "," + f;
  if (!tv.empty()) name += "," + tv;
  return name;
}

Architecture makeVgg(const VggOptions& o) {
  Architecture a;
  a.name = vggName(o);
  a.family = "vgg";
  a.inChannels = 3;
  a.inHeight = a.inWidth = 32;
  a.bias = o.bias;
  a.linearBias = o.linearBias;
  a.batchNorm = o.bn;
  a.hidden = o.cfg;
  int index = 0, group = -1, pools = 0;
  int64_t channels = 3, size = 32;
  for (int64_t c : o.cfg) {
    if (c == 0) {
      if (size < 2)
        throw Error("architecture " + a.name + ": max-pool number " + std::to_string(pools + 1) +
                    " would shrink the 1x1 map of a 32x32 input to nothing (at most 5 M)");
      size /= 2;
      ++pools;
      index += 1;  // MaxPool2d
      continue;
    }
    if (c < 0) throw Error("architecture " + a.name + ": negative width");
    std::string name = "features." + std::to_string(index);
    std::string bnName = o.bn ? "features." + std::to_string(index + 1) : "";
    a.layers.push_back(conv(name, channels, c, 3, o.bias, group, group + 1, bnName));
    group += 1;
    channels = c;
    index += o.bn ? 3 : 2;  // Conv2d, [BatchNorm2d,] ReLU
  }
  if (a.layers.empty()) throw Error("architecture " + a.name + ": a VGG needs at least one conv");
  if (o.tvHidden > 0) {
    a.adaptivePool = 7;
    a.classifierHidden = {o.tvHidden, o.tvHidden};
    a.layers.push_back(linear("classifier.0", channels, o.tvHidden, o.bias, group, group + 1, 49));
    a.layers.push_back(linear("classifier.3", o.tvHidden, o.tvHidden, o.bias, group + 1, group + 2));
    a.layers.push_back(linear("classifier.6", o.tvHidden, a.numClasses, o.linearBias, group + 2, -1));
    group += 2;
  } else {
    a.layers.push_back(linear("classifier", channels, a.numClasses, o.linearBias, group, -1,
                              size * size));
  }
  a.numGroups = group + 1;
  return a;
}

struct ResnetOptions {
  std::vector<int> blocks = {2, 2, 2, 2};
  bool bn = true, bias = false, linearBias = true;
  int64_t width = 64;
};

std::string resnetName(const ResnetOptions& o) {
  std::string name = o.blocks == std::vector<int>{3, 4, 6, 3} ? "resnet34" : "resnet18";
  if (!o.bn) name += "_nobn";
  if (o.bias) name += "_bias";
  if (!o.linearBias) name += o.bias ? "_nolinearbias" : "_nobias";
  if (o.width != 64) name += "_w" + std::to_string(o.width);
  return name;
}

Architecture makeResnet(const ResnetOptions& o) {
  Architecture a;
  a.name = resnetName(o);
  a.family = "resnet";
  a.inChannels = 3;
  a.inHeight = a.inWidth = 32;
  a.bias = o.bias;
  a.linearBias = o.linearBias;
  a.batchNorm = o.bn;
  a.blocks = o.blocks;
  a.baseWidth = o.width;
  auto bnOf = [&](const std::string& p) { return o.bn ? p : std::string(); };
  int groups = 0;
  int stream = groups++;  // residual stream written by conv1
  a.layers.push_back(conv("conv1", 3, o.width, 3, o.bias, -1, stream, bnOf("bn1")));
  int64_t in = o.width;
  for (int s = 0; s < 4; ++s) {
    const int64_t planes = o.width << s;
    for (int b = 0; b < o.blocks[size_t(s)]; ++b) {
      std::string p = "layer" + std::to_string(s + 1) + "." + std::to_string(b);
      // stride 2 in the first block of stages 2..4; a shortcut conv where the shape changes.
      bool downsample = (b == 0 && s > 0) || in != planes;
      int newStream = downsample ? groups++ : stream;
      int inner = groups++;
      a.layers.push_back(conv(p + ".conv1", in, planes, 3, o.bias, stream, inner, bnOf(p + ".bn1")));
      a.layers.push_back(
          conv(p + ".conv2", planes, planes, 3, o.bias, inner, newStream, bnOf(p + ".bn2")));
      if (downsample) {
        a.layers.push_back(conv(p + ".shortcut.0", in, planes, 1, o.bias, stream, newStream,
                                bnOf(p + ".shortcut.1")));
      }
      stream = newStream;
      in = planes;
    }
  }
  a.layers.push_back(linear("linear", in, a.numClasses, o.linearBias, stream, -1, 1));
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

const char* const kKnownSpecs =
    "mlpnet, mlp:W1-W2-...[,bias][,cifar], mnistcnn, "
    "vgg11|vgg13|vgg16|vgg19[_bn][_bias|_nobias][_nolinearbias|_linearbias][_tv], "
    "vgg11_half|_doub|_quad[...], vgg:W,M,W,...[,bn][,bias][,nolinearbias][,tv], "
    "resnet18|resnet34[_nobn][_bias|_nobias][_nolinearbias][_wN]";

int64_t positiveInt(const std::string& text, const std::string& specIn, const char* what) {
  try {
    size_t used = 0;
    long long v = std::stoll(text, &used);
    if (used != text.size() || v <= 0 || v > (int64_t(1) << 20)) throw std::invalid_argument(text);
    return v;
  } catch (const std::exception&) {
    throw Error("architecture '" + specIn + "': " + what + " '" + text +
                "' is not a positive integer");
  }
}

// Bias flags shared by VGG and ResNet: "bias" (hidden layers and, unless overridden, the output
// layer), "nobias" (none anywhere), "nolinearbias" / "linearbias" (the output layer only).
struct BiasFlags {
  int all = -1;     // -1 unset, 0 nobias, 1 bias
  int linear = -1;  // -1 unset, 0 nolinearbias, 1 linearbias
  bool take(const std::string& f, const std::string& specIn) {
    int* slot = nullptr;
    int value = 0;
    if (f == "bias") slot = &all, value = 1;
    else if (f == "nobias") slot = &all, value = 0;
    else if (f == "linearbias") slot = &linear, value = 1;
    else if (f == "nolinearbias") slot = &linear, value = 0;
    else return false;
    if (*slot != -1 && *slot != value)
      throw Error("architecture '" + specIn + "': contradictory bias flags");
    *slot = value;
    return true;
  }
  bool hidden() const { return all == 1; }
  bool output(bool byDefault) const {
    return linear != -1 ? linear == 1 : all != -1 ? all == 1 : byDefault;
  }
};

bool takeTv(const std::string& f, int64_t& tvHidden, const std::string& specIn) {
  if (f.rfind("tv", 0) != 0) return false;
  tvHidden = f == "tv" ? 4096 : positiveInt(f.substr(2), specIn, "torchvision classifier width");
  return true;
}

Architecture parseVgg(const std::string& spec, const std::string& specIn) {
  VggOptions o;
  BiasFlags bias;
  std::vector<std::string> flags;
  if (spec.rfind("vgg:", 0) == 0) {
    for (const auto& t : split(spec.substr(4), ',')) {
      if (t == "m") o.cfg.push_back(0);
      else if (!t.empty() && std::isdigit(static_cast<unsigned char>(t[0])))
        o.cfg.push_back(positiveInt(t, specIn, "VGG width"));
      else flags.push_back(t);
    }
    if (o.cfg.empty())
      throw Error("architecture '" + specIn + "': vgg: needs widths and M, e.g. vgg:64,M,128,M");
  } else {
    auto parts = split(spec, '_');
    std::string base = parts[0];
    std::string size;
    for (size_t i = 1; i < parts.size(); ++i) {
      const std::string& f = parts[i];
      if (f == "half" || f == "doub" || f == "double" || f == "quad") {
        if (!size.empty()) throw Error("architecture '" + specIn + "': two VGG11 sizes");
        size = f == "double" ? "doub" : f;
      } else {
        flags.push_back(f);
      }
    }
    std::string name = base + (size.empty() ? "" : "_" + size);
    for (const auto& n : namedVggs())
      if (name == n.name) o.cfg = n.cfg;
    if (o.cfg.empty())
      throw Error("unknown VGG '" + specIn +
                  "' (named: vgg11, vgg11_half, vgg11_doub, vgg11_quad, vgg13, vgg16, vgg19; any "
                  "other configuration: vgg:W,M,W,...)");
  }
  for (const auto& f : flags) {
    if (f == "bn") o.bn = true;
    else if (f == "nobn") o.bn = false;
    else if (bias.take(f, specIn)) continue;
    else if (takeTv(f, o.tvHidden, specIn)) continue;
    else throw Error("architecture '" + specIn + "': unknown VGG flag '" + f +
                     "' (bn, bias, nobias, nolinearbias, linearbias, tv)");
  }
  o.bias = bias.hidden();
  o.linearBias = bias.output(false);
  return makeVgg(o);
}

Architecture parseResnet(const std::string& spec, const std::string& specIn) {
  auto parts = split(spec, '_');
  ResnetOptions o;
  if (parts[0] == "resnet34") o.blocks = {3, 4, 6, 3};
  else if (parts[0] != "resnet18")
    throw Error("unknown ResNet '" + specIn + "' (known: resnet18, resnet34 with flags)");
  BiasFlags bias;
  for (size_t i = 1; i < parts.size(); ++i) {
    const std::string& f = parts[i];
    if (f == "nobn") o.bn = false;
    else if (f == "bn") o.bn = true;
    else if (bias.take(f, specIn)) continue;
    else if (f.size() > 1 && f[0] == 'w' && std::isdigit(static_cast<unsigned char>(f[1])))
      o.width = positiveInt(f.substr(1), specIn, "ResNet base width");
    else throw Error("architecture '" + specIn + "': unknown ResNet flag '" + f +
                     "' (nobn, bias, nobias, nolinearbias, linearbias, wN)");
  }
  o.bias = bias.hidden();
  o.linearBias = bias.output(true);
  return makeResnet(o);
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
  if (spec.rfind("vgg", 0) == 0) return parseVgg(spec, specIn);
  if (spec.rfind("resnet", 0) == 0) return parseResnet(spec, specIn);
  throw Error("unknown architecture '" + specIn + "' (known: " + kKnownSpecs + ")");
}

namespace {

// "features.12.weight" -> 12 (or -1 when `key` is not features.<N>.<leaf>).
int featureIndex(const std::string& key, const std::string& leaf) {
  const std::string prefix = "features.";
  if (key.rfind(prefix, 0) != 0) return -1;
  size_t dot = key.find('.', prefix.size());
  if (dot == std::string::npos || key.substr(dot + 1) != leaf || dot == prefix.size()) return -1;
  const std::string digits = key.substr(prefix.size(), dot - prefix.size());
  if (!std::all_of(digits.begin(), digits.end(), ::isdigit) || digits.size() > 6) return -1;
  return std::stoi(digits);
}

Architecture inferVgg(const StateDict& s) {
  const std::string layout =
      " (expected the paper's CIFAR VGG: features.N = Conv2d 3x3, [features.N+1 = BatchNorm2d,] "
      "ReLU, MaxPool2d(2) per M, then classifier = Linear(last width x map, 10); or "
      "torchvision's: the same features, then classifier.0/3/6)";
  std::map<int, at::Tensor> convs, norms;
  for (const auto& [k, t] : s) {
    int i = featureIndex(k, "weight");
    if (i < 0) continue;
    if (t.dim() == 4) convs[i] = t;
    else if (t.dim() == 1) norms[i] = t;
    else
      throw Error("VGG: " + k + " has shape " + shapeString(t) +
                  ", neither a Conv2d (4 dims) nor a BatchNorm2d weight (1 dim)" + layout);
  }
  if (convs.empty()) throw Error("VGG: no features.N.weight convolution found" + layout);
  VggOptions o;
  o.bn = !norms.empty();
  o.bias = s.contains("features." + std::to_string(convs.begin()->first) + ".bias");
  for (const auto& [i, t] : norms) {
    if (!convs.count(i - 1))
      throw Error("VGG: BatchNorm features." + std::to_string(i) + " does not follow a conv" + layout);
  }
  for (const auto& [i, t] : convs) {
    if (o.bn && !norms.count(i + 1))
      throw Error("VGG: some convolutions have a BatchNorm2d at features.N+1 and features." +
                  std::to_string(i) + " has none (all or none)" + layout);
  }
  const int step = o.bn ? 3 : 2;
  int next = 0;  // index the next conv takes when no max-pool comes before it
  for (const auto& [i, t] : convs) {
    if (i < next)
      throw Error("VGG: features." + std::to_string(i) + " follows the previous conv too closely (" +
                  (o.bn ? "Conv2d, BatchNorm2d, ReLU" : "Conv2d, ReLU") + " take " +
                  std::to_string(step) + " indices)" + layout);
    for (; next < i; ++next) o.cfg.push_back(0);  // each skipped index is a MaxPool2d
    if (t.size(2) != 3 || t.size(3) != 3)
      throw Error("VGG: features." + std::to_string(i) + ".weight has shape " + shapeString(t) +
                  ", expected a 3x3 kernel" + layout);
    o.cfg.push_back(t.size(0));
    next = i + step;
  }
  const int64_t last = o.cfg.back();
  int pools = int(std::count(o.cfg.begin(), o.cfg.end(), 0));
  const bool tv = s.contains("classifier.0.weight") || s.contains("classifier.6.weight");
  if (tv) {
    // torchvision: every configuration ends with M (the adaptive 7x7 pool hides it).
    for (const char* k : {"classifier.0.weight", "classifier.3.weight", "classifier.6.weight"}) {
      if (!s.contains(k) || s.at(k).dim() != 2)
        throw Error(std::string("VGG with torchvision's classifier: ") + k +
                    (s.contains(k) ? " has shape " + shapeString(s.at(k)) + ", expected a matrix"
                                   : " is missing") + layout);
    }
    o.tvHidden = s.at("classifier.0.weight").size(0);
    o.linearBias = s.contains("classifier.6.bias");
    if (pools < 5) o.cfg.push_back(0);
    return makeVgg(o);
  }
  if (!s.contains("classifier.weight"))
    throw Error("VGG: features.N found but no classifier.weight (nor torchvision's classifier.0/3/6)" +
                layout);
  const at::Tensor& c = s.at("classifier.weight");
  if (c.dim() != 2)
    throw Error("VGG: classifier.weight has shape " + shapeString(c) + ", expected a matrix" + layout);
  o.linearBias = s.contains("classifier.bias");
  // The trailing max-pools: the classifier reads last width x map, the map 32 / 2^pools.
  std::string options;
  for (int extra = 0; pools + extra <= 5; ++extra) {
    const int64_t side = int64_t(32) >> (pools + extra);
    if (c.size(1) == last * side * side) {
      for (int k = 0; k < extra; ++k) o.cfg.push_back(0);
      return makeVgg(o);
    }
    options += (options.empty() ? "" : ", ") + std::to_string(last * side * side) + " (" +
               std::to_string(extra) + " more max-pool" + (extra == 1 ? "" : "s") + ", map " +
               std::to_string(side) + "x" + std::to_string(side) + ")";
  }
  throw Error("VGG: classifier.weight has shape " + shapeString(c) + " but the last conv has " +
              std::to_string(last) + " channels after " + std::to_string(pools) +
              " max-pools of a 32x32 input (features " + cfgString(o.cfg) +
              "), so its input must be one of " + options + layout);
}

Architecture inferResnet(const StateDict& s) {
  const std::string layout =
      " (expected the paper's CIFAR ResNet: conv1 3x3, [bn1,] layer1..layer4 of BasicBlocks "
      "layerS.B.conv1/conv2[/bn1/bn2][/shortcut.0 1x1 conv, shortcut.1 BN], linear)";
  if (s.contains("fc.weight") || s.contains("layer2.0.downsample.0.weight"))
    throw Error("this looks like torchvision's ImageNet ResNet (conv1 7x7 stride 2, maxpool, "
                "downsample, fc), which is not supported" + layout);
  for (const char* k : {"conv1.weight", "linear.weight"}) {
    if (!s.contains(k)) throw Error(std::string("ResNet: ") + k + " is missing" + layout);
  }
  const at::Tensor& c1 = s.at("conv1.weight");
  if (c1.dim() != 4)
    throw Error("ResNet: conv1.weight has shape " + shapeString(c1) + ", expected a conv" + layout);
  ResnetOptions o;
  o.width = c1.size(0);
  o.blocks.clear();
  for (int stage = 1; stage <= 5; ++stage) {
    int b = 0;
    while (s.contains("layer" + std::to_string(stage) + "." + std::to_string(b) + ".conv1.weight")) ++b;
    if (stage == 5) {
      if (b > 0) throw Error("ResNet: found layer5; CIFAR ResNets have four stages" + layout);
      break;
    }
    o.blocks.push_back(b);
  }
  std::string found;
  for (int b : o.blocks) found += (found.empty() ? "" : ",") + std::to_string(b);
  if (o.blocks != std::vector<int>{2, 2, 2, 2} && o.blocks != std::vector<int>{3, 4, 6, 3})
    throw Error("ResNet: found [" + found +
                "] BasicBlocks in layer1..layer4; known ResNet-18 [2,2,2,2] and ResNet-34 [3,4,6,3]" +
                layout);
  o.bn = s.contains("bn1.weight");
  o.bias = s.contains("conv1.bias");
  o.linearBias = s.contains("linear.bias");
  return makeResnet(o);
}

}  // namespace

Architecture inferArchitecture(const StateDict& s) {
  auto has = [&](const std::string& k) { return s.contains(k); };
  bool anyFeatures = false;
  for (const auto& [k, v] : s) anyFeatures = anyFeatures || k.rfind("features.", 0) == 0;
  if (anyFeatures) return inferVgg(s);
  if (has("layer1.0.conv1.weight")) return inferResnet(s);
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
              "); known: MLP (fc1..), mnistcnn (conv1, conv2, fc1, fc2), VGG (features.N, "
              "classifier or torchvision's classifier.0/3/6), CIFAR ResNet-18/34 (conv1, "
              "layer1.0.conv1, ..., linear)");
}

std::vector<std::pair<std::string, std::vector<int64_t>>> stateShapes(const Architecture& a) {
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
  auto expected = stateShapes(a);
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
