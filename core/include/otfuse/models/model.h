#pragma once
// Network architectures of the paper (MLPNet, general MLPs, a small MNIST CNN, VGG11 variants,
// CIFAR ResNet-18) as a description of weight layers plus a functional forward pass over a
// StateDict whose key names and shapes are exactly those of the paper's PyTorch code.
//
// The description says how neuron permutations propagate, which is what fusion needs: every
// layer writes one neuron "group" (its output channels) and reads one (its input channels).
// In a plain network group g is the output of layer g; in a residual network all layers that
// write one residual stream share a group.
#include <ATen/core/Tensor.h>

#include <cstdint>
#include <string>
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
  std::string family;  // "mlp", "mnistcnn", "vgg", "resnet18"
  int inChannels = 1, inHeight = 28, inWidth = 28, numClasses = 10;
  std::vector<int64_t> hidden;  // mlp: hidden widths; vgg: conv widths (0 = max-pool)
  bool bias = false;
  bool batchNorm = false;
  std::vector<LayerInfo> layers;  // weight layers in forward order
  int numGroups = 0;

  /// The dataset family this input shape belongs to: "mnist" (1x28x28) or "cifar10" (3x32x32).
  std::string inputKind() const;
};

/// Parses a spec and builds the description. Specs:
///   mlpnet                       784-400-200-100-10, ReLU, no biases (the paper's MNIST model)
///   mlp:W1-W2-...[,bias][,cifar] general MLP with hidden widths W*, MNIST input unless cifar
///   mnistcnn                     small MNIST CNN: conv1 1->16 5x5, pool, conv2 16->32 5x5, pool,
///                                fc1 512->100, fc2 100->10, ReLU, biases
///   vgg11[_bn][_bias|_nobias][_half|_double]   CIFAR-10 VGG11 (paper default: no bias, no BN)
///   resnet18[_nobn][_bias]       CIFAR ResNet-18 (BN, no conv biases by default)
/// Throws otfuse::Error for an unknown spec.
Architecture parseArchitecture(const std::string& spec);

/// Infers the architecture from key names and shapes; throws otfuse::Error saying why none fits.
Architecture inferArchitecture(const StateDict& state);

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
  /// The model held by an already loaded file `path`; `spec` empty = infer. Architecture and
  /// shape problems are thrown as FileError naming `path`.
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
