#pragma once
// Network architectures of the paper (MLPNet, general MLPs, a small MNIST CNN, CIFAR VGGs of any
// configuration, CIFAR ResNet-18/34 of any base width, torchvision's VGG layout) as a description of weight layers plus a functional forward pass over a
// StateDict whose key names and shapes are exactly those of the paper's PyTorch code.
//
// The description says how neuron permutations propagate, which is what fusion needs: every
// layer writes one neuron "group" (its output channels) and reads one (its input channels).
// In a plain network group g is the output of layer g; in a residual network all layers that
// write one residual stream share a group.
#include <ATen/core/Tensor.h>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "otfuse/io/checkpoint.h"
#include "otfuse/io/state_dict.h"

namespace otfuse {

enum class LayerKind { Linear, Conv2d };

struct LayerInfo {
  std::string name;  // module name, e.g. "fc1", "features.0", "layer1.0.conv1"
  LayerKind kind = LayerKind::Linear;
  std::string weight;  // state_dict key of the weight: (out, in) or (out, in, kh, kw)
  std::string bias;    // key of the bias, or empty
  /// Further per-output-neuron tensors transported like a bias (BatchNorm that follows it):
  /// weight, bias, running_mean, running_var (in that order when present).
  std::vector<std::string> perNeuron;
  int64_t outFeatures = 0, inFeatures = 0;  // Linear: features; Conv2d: channels
  int kernelH = 1, kernelW = 1;
  int padding = 0;  // Conv2d zero padding on each side
  /// Neuron group this layer writes; -1 for the output layer (classes, never permuted).
  int outGroup = -1;
  /// Neuron group its input axis reads; -1 for the network input.
  int inGroup = -1;
  /// Linear after flatten: the input axis is (channels x inSpatial), channel-major.
  int64_t inSpatial = 1;
};

struct Architecture {
  std::string name;    // canonical spec, accepted by parseArchitecture (e.g. "mlpnet", "vgg11_bn")
  std::string family;  // "mlp", "mnistcnn", "vgg", "resnet" (ResNet-18 and -34)
  int inChannels = 1, inHeight = 28, inWidth = 28, numClasses = 10;
  std::vector<int64_t> hidden;  // mlp: hidden widths; vgg: conv widths (0 = max-pool)
  bool bias = false;        // hidden (conv / fc) layers have biases
  bool linearBias = false;  // the output layer has a bias
  bool batchNorm = false;
  /// vgg, torchvision layout: AdaptiveAvgPool2d size before the classifier (7), 0 = none
  /// (the paper's CIFAR layout flattens the final map directly into one Linear "classifier").
  int adaptivePool = 0;
  /// vgg, torchvision layout: hidden widths of classifier.0 and classifier.3 (4096, 4096).
  std::vector<int64_t> classifierHidden;
  /// resnet: BasicBlocks per stage ({2,2,2,2} ResNet-18, {3,4,6,3} ResNet-34) and the width of
  /// conv1 / layer1 (64; the stages are w, 2w, 4w, 8w).
  std::vector<int> blocks;
  int64_t baseWidth = 0;
  std::vector<LayerInfo> layers;  // weight layers in forward order
  int numGroups = 0;

  /// The dataset family this input shape belongs to: "mnist" (1x28x28) or "cifar10" (3x32x32).
  std::string inputKind() const;
};

/// Parses a spec and builds the description (case-insensitive). Specs:
///   mlpnet                       784-400-200-100-10, ReLU, no biases (the paper's MNIST model)
///   mlp:W1-W2-...[,bias][,cifar] general MLP with hidden widths W*, MNIST input unless cifar
///   mnistcnn                     small MNIST CNN: conv1 1->16 5x5, pool, conv2 16->32 5x5, pool,
///                                fc1 512->100, fc2 100->10, ReLU, biases
///   VGG (CIFAR-10, 3x32x32; the paper's code: features = Conv2d 3x3 pad 1, [BatchNorm2d,] ReLU
///   per width, MaxPool2d(2) per M, then a no-op AvgPool2d(1); classifier = one Linear):
///     vgg11 | vgg11_half | vgg11_doub | vgg11_quad | vgg13 | vgg16 | vgg19, each with _FLAGS
///       the paper's named configurations (vgg11_double = vgg11_doub):
///       vgg11      64,M,128,M,256,256,M,512,512,M,512,512,M
///       vgg11_half 64,M,64,M,128,128,M,256,256,M,256,512,M
///       vgg11_doub 64,M,256,M,512,512,M,1024,1024,M,1024,512,M
///       vgg11_quad 64,M,512,M,1024,1024,M,2048,2048,M,2048,512,M
///       vgg13      64,64,M,128,128,M,256,256,M,512,512,M,512,512,M
///       vgg16      64,64,M,128,128,M,256,256,256,M,512,512,512,M,512,512,512,M
///       vgg19      64,64,M,128,128,M,256,256,256,256,M,512,512,512,512,M,512,512,512,512,M
///     vgg:W,M,W,...[,FLAGS]      any configuration (widths and M = MaxPool2d(2)); the classifier
///                                reads the final map flattened (last width x H x W)
///     VGG flags (joined by "_" after a name, by "," after vgg:):
///       bn            BatchNorm2d after every conv (default none)
///       bias          biases in every conv and in the classifier (default none: the paper's)
///       nobias        no biases anywhere (the default)
///       nolinearbias  no classifier bias; linearbias: a classifier bias (override bias/nobias)
///       tv / tvN      torchvision's layout: AdaptiveAvgPool2d(7), classifier.0 (W*49 -> N),
///                     ReLU, Dropout, classifier.3 (N -> N), ReLU, Dropout, classifier.6 (N ->
///                     10); N = 4096 for "tv". Evaluated on 32x32 inputs. torchvision's VGGs
///                     have biases: vgg11_bias_tv / vgg11_bn_bias_tv are torchvision.models.vgg11
///                     / vgg11_bn with a 10-class classifier.6.
///   ResNet (CIFAR-10, the paper's code / kuangliu layout: conv1 3x3 w, bn1, layer1..4 of
///   BasicBlocks with shortcut.0 conv 1x1 + shortcut.1 BN where the shape changes, avg_pool 4,
///   linear):
///     resnet18 | resnet34 with _FLAGS      blocks [2,2,2,2] / [3,4,6,3]
///     ResNet flags: nobn (no BatchNorm; default with), bias (conv biases; default none),
///       nobias (no biases anywhere, the linear layer included: the authors'
///       resnet18_nobias_nobn), nolinearbias / linearbias (override the linear layer's bias,
///       which is on by default), wN (base width N, default 64: stages N, 2N, 4N, 8N)
/// Canonical names (Architecture::name) put the flags in a fixed order, e.g. vgg11_bn_bias_half,
/// resnet18_nobn_nobias_w16, vgg:32,M,64,M,bn. Throws otfuse::Error for an unknown spec.
Architecture parseArchitecture(const std::string& spec);

/// Infers the architecture from key names and shapes; throws otfuse::Error saying why none fits
/// (which keys and shapes were found, what was expected). VGG: the indices of the features.N
/// convolutions give the max-pools between them (a gap of 2, or 3 with BatchNorm at N+1, means
/// none), trailing max-pools follow from the classifier's input size (last width x map size,
/// 32x32 input), torchvision's classifier.0/3/6 head from its keys. A configuration equal to a
/// named one gets its name, any other the vgg:... spec. ResNet: stages from layerS.B, base
/// width from conv1, biases and BatchNorm from the keys present.
Architecture inferArchitecture(const StateDict& state);

/// The (key, shape) entries a state_dict of `arch` holds, in PyTorch's order, without the
/// BatchNorm num_batches_tracked counters (shape [], int64).
std::vector<std::pair<std::string, std::vector<int64_t>>> stateShapes(const Architecture& arch);

/// Checks that `state` has exactly the keys and shapes `arch` needs; throws otfuse::Error
/// listing every missing key, unexpected key and shape that differs. Float tensors are
/// converted to float32.
void validateState(const Architecture& arch, StateDict& state);

/// An architecture with parameters. Cheap to copy (tensors are shared); use clone() to copy
/// the weights.
class Model {
 public:
  Model() = default;
  Model(Architecture arch, StateDict state);  // validates

  /// Fresh weights as PyTorch's default initialization does, from `seed`.
  static Model initialize(const Architecture& arch, uint64_t seed);
  /// Loads a file; `spec` empty = infer. Throws FileError naming the file.
  static Model load(const std::string& path, const std::string& spec = "");
  /// The model held by an already loaded file `path`; `spec` empty = infer. Keys saved from
  /// nn.DataParallel ("module." before every key) are read without that prefix. Architecture
  /// and shape problems are thrown as FileError naming `path`.
  static Model fromCheckpoint(const Checkpoint& checkpoint, const std::string& path,
                              const std::string& spec = "");

  const Architecture& architecture() const { return arch_; }
  const StateDict& state() const { return state_; }
  StateDict& state() { return state_; }
  Model clone() const;

  /// Inference: x float32 [N, C, H, W] (MLPs flatten it) -> logits [N, classes]. BatchNorm
  /// uses the running statistics; the model is never changed (Model copies share tensors, so
  /// this is what lets a const Model be shared between threads).
  /// If `preActivations` is given it receives, per weight layer in order, the layer's output
  /// before its nonlinearity (after BatchNorm), [N, out] or [N, out, H, W].
  at::Tensor forward(const at::Tensor& x, std::vector<at::Tensor>* preActivations = nullptr) const;

  /// Training-mode pass: BatchNorm normalizes with the batch's statistics and updates this
  /// model's running statistics (weight of the new batch: `batchNormMomentum`) and its
  /// num_batches_tracked counters, in place. The only pass that changes the model, hence not
  /// const; on a copy (which shares tensors) call clone() first.
  at::Tensor forwardTrain(const at::Tensor& x, double batchNormMomentum = 0.1,
                          std::vector<at::Tensor>* preActivations = nullptr);

  bool hasBatchNorm() const;

  /// Tensors that are trained (weights, biases, BN affine); not the running statistics.
  std::vector<at::Tensor> parameters() const;
  int64_t parameterCount() const;

 private:
  Architecture arch_;
  StateDict state_;
};

}  // namespace otfuse
