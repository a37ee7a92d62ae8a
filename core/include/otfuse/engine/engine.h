#pragma once
// The core's facade for the desktop app: models, datasets, evaluation, fusion and curves in
// plain C++/Eigen types, with LibTorch kept behind opaque handles (no torch header is included,
// so Qt code can include this file; see shared/docs/STYLE.md, "LibTorch together with Qt").
//
// Threads: every function may be called from any thread; heavy ones (evaluate, fuse, curves)
// are meant for a worker thread, report progress through `progress` (called on the calling
// thread) and stop, throwing otfuse::Cancelled, soon after `cancel` is set (checked between
// batches and layers, inside the OT solvers' loops and while a dataset is read and decoded;
// a model file being read is not interrupted). Handles are immutable and may be shared between
// threads.
#include <Eigen/Core>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "otfuse/fusion/methods.h"
#include "otfuse/fusion/options.h"
#include "otfuse/fusion/report.h"
#include "otfuse/runtime.h"

namespace otfuse {

class Model;

/// The dataset a model is evaluated on when the user names none, and why (shown to the user).
struct DatasetChoice {
  std::string name;    // "mnist", "fashion-mnist", "cifar10" or "folder:<root>"
  /// Why, as a phrase: "from the checkpoint's metadata", "guessed from the input shape 1x28x28".
  std::string reason;
  bool fromMetadata = false;
  /// Set by commonDataset when the models' metadata name different datasets: one sentence
  /// naming both (the choice then is the first model's).
  std::string conflict;
};

/// "mnist", "fashion-mnist", "cifar10" or "folder:<root>" for a spelling of a known dataset
/// ("MNIST", "FashionMNIST", "fashion_mnist", "Cifar10", "CIFAR-10", ...); "" otherwise.
std::string canonicalDatasetName(const std::string& name);

/// The dataset of a model with this stored metadata and input shape (channels x height x
/// width). First the checkpoint's metadata: its "dataset" entry (what otfuse train writes), else
/// the "dataset" inside a stored argument dict "args" (what the paper's code saves). A name that
/// is not a known dataset, or whose images do not have the input's shape, is passed over (the
/// reason says so). Last resort, the input shape: 1 channel -> mnist, otherwise cifar10.
DatasetChoice defaultDataset(const std::map<std::string, std::string>& metadata, int channels,
                             int height, int width);

/// The one dataset for models evaluated together (a fusion pair, an ensemble), given as
/// (name shown in messages, the model's own choice) in order of preference (the anchor first
/// for a fusion): the dataset a model's metadata names wins over guesses from the input shape,
/// and the reason names that model. Models whose metadata (or, without metadata, whose input
/// shapes) disagree get the first one's choice and a `conflict` sentence.
DatasetChoice commonDataset(const std::vector<std::pair<std::string, DatasetChoice>>& models);

/// An immutable loaded (or fused) model.
class ModelHandle {
 public:
  struct Layer {
    std::string name;     // "fc1", "features.0"
    std::string kind;     // "Linear" | "Conv2d"
    std::string shape;    // weight shape, e.g. "[400, 784]"
    bool bias = false;
    bool batchNorm = false;
    int64_t parameters = 0;  // weight + bias + BN affine
    int64_t outFeatures = 0;
  };
  std::string path;          // file it came from ("" for a fused model)
  std::string format;        // "zip" | "legacy" | "torchscript" | "fused"
  std::string architecture;  // canonical spec, e.g. "mlpnet"
  std::string inputKind;     // "mnist" | "cifar10": the dataset family the input shape fits
  int inChannels = 1, inHeight = 28, inWidth = 28, numClasses = 10;
  std::vector<Layer> layers;
  int64_t parameters = 0;
  std::map<std::string, std::string> metadata;  // stored entries (test_accuracy, epoch, args)
  /// The dataset it is evaluated on unless the user chooses one (see defaultDataset).
  DatasetChoice dataset;

  /// The torch model; for the core's own use.
  std::shared_ptr<const Model> model;
};
using ModelPtr = std::shared_ptr<const ModelHandle>;

/// Loads any file the core reads; `spec` empty = infer the architecture. Throws FileError
/// naming the file and the problem.
ModelPtr loadModel(const std::string& path, const std::string& spec = "");

/// Saves as a zip-format state_dict (torch.load + load_state_dict accept it) with the handle's
/// metadata (what trainNewModel records, or what the loaded file carried); atomic.
void saveModel(const ModelPtr& model, const std::string& path);

/// Empty if A can be fused onto B; otherwise one sentence saying why not (which layer, which
/// shapes). `vanilla`: also require equal shapes (for vanilla averaging).
std::string fusionIncompatibility(const ModelHandle& a, const ModelHandle& b, bool vanilla = false);

/// Incoming weights of `neuron` of the first layer as an image: (channels * height) x width,
/// channels stacked vertically; empty if the first layer is not image-shaped (e.g. 784 or
/// 3072 inputs for an MLP, or the 3x3 kernel of a conv). For conv layers: the kernel.
Eigen::MatrixXf firstLayerImage(const ModelHandle& model, int neuron);

struct Score {
  Score() = default;
  Score(double accuracy_, double loss_) : accuracy(accuracy_), loss(loss_) {}
  double accuracy = 0;  // percent
  double loss = 0;      // mean cross-entropy
  /// Percent correct per class (size = the model's classes; NaN for a class without test
  /// images); the mean weighted by the rows of `confusion` is `accuracy`.
  std::vector<double> perClassAccuracy;
  /// Confusion matrix (rows: true class, columns: predicted class; counts of test images),
  /// shared so that a Score stays cheap to copy. Null when not computed.
  std::shared_ptr<const Eigen::MatrixXi> confusion;
};

/// Dataset names: "mnist", "fashion-mnist", "cifar10", "folder:<root>". Datasets are loaded
/// once and cached (thread-safe). `dataDir` empty = default resolution.
Score evaluateModel(const ModelPtr& model, const std::string& dataset, const std::string& dataDir,
                    const ProgressFn& progress = {}, const CancelFlag* cancel = nullptr);

/// Mean of log-softmax outputs (the paper's rule) or of probabilities.
Score evaluateEnsembleOf(const std::vector<ModelPtr>& models, bool probabilityMean,
                         const std::string& dataset, const std::string& dataDir,
                         const ProgressFn& progress = {}, const CancelFlag* cancel = nullptr);

struct FusionRequest {
  ModelPtr a, b;  // A is aligned onto the anchor B
  /// N-model fusion: when `models` has two or more entries it replaces a and b. Every model is
  /// aligned onto models[anchor] and the aligned weights are averaged with `weights` (empty:
  /// 1/N each; see fuseMany). Two models with anchor 1 and weights {1 - t, t} are exactly the
  /// a/b request. Table rows: model_0 .. model_{N-1}, ensemble (all N), vanilla (when every
  /// shape agrees), fused, for BatchNorm models vanilla_bn and fused_bn, and "sequential"
  /// (fuseSequential) when `sequential` is set.
  ///
  /// What runFusion does with an N-model request (implemented in engine.cpp, branch ncli):
  /// - Checks first (Error, nothing computed): anchor in [0, N); every model fusable onto the
  ///   anchor (the message names "model i (path)" and the anchor); `weights` empty or N finite
  ///   non-negative numbers with a positive sum (normalizedWeights, fusion/average.h).
  /// - `options.t` is ignored; summary.options.t is set to the anchor's normalized weight.
  /// - Models of different widths fuse (the anchor sets the widths); the vanilla row (and
  ///   FusionOutcome::vanilla) exists only when every model has the anchor's shapes.
  /// - Evaluation (evaluate = true), keys of summary.accuracy/loss: model_i for every i (in
  ///   the order of `models`), ensemble (all N, in order, probabilityEnsemble rule), vanilla
  ///   (vanillaAverageMany with the normalized weights), fused, sequential (when `sequential`),
  ///   and for BatchNorm models with bnBatches > 0: fused_bn, vanilla_bn, sequential_bn.
  /// - Progress stages: "activations", fuseMany's per-layer stages, "sequential fusion: ...",
  ///   "evaluate model i" / "evaluate model i (anchor)", "evaluate ensemble", ...
  /// - An a/b request (models empty) runs exactly as before; its outcome now also has
  ///   modelLayers = {layers, {}}, anchor = 1, summary.anchor = 1, summary.weights =
  ///   {1 - t, t}, summary.modelPlans = {plans of A, {}}.
  std::vector<ModelPtr> models;
  int anchor = 0;
  std::vector<double> weights;
  bool sequential = false;
  FusionOptions options;
  std::string dataset;       // for activation samples and evaluation
  std::string datasetSource; // why that dataset (shown with the results), e.g. "from the
                             // checkpoint's metadata of b.pt"
  std::string dataDir;
  int samples = 200;         // activations mode
  uint64_t seed = 0;
  bool evaluate = true;      // also evaluate A, B, ensemble, vanilla, fused
  int bnBatches = 20;        // BatchNorm models: also both averages with re-estimated BN
                             // statistics (batches of 128 training images; 0 = skip)
  bool probabilityEnsemble = false;
  /// Networks without BatchNorm: also REPAIR (fusion/methods.h) the fused model and the vanilla
  /// average, rows fused_repair and vanilla_repair (statistics over repairBatches batches of
  /// 128 training images); None: not computed. Closed form: two models only (Error for more).
  /// BatchNorm networks: ignored (their rows are fused_bn / vanilla_bn).
  RepairMode repair = RepairMode::None;
  int repairBatches = 10;
};

struct FusionOutcome {
  FusionSummary summary;            // Table-1 row (accuracy/loss maps), timings
  std::vector<LayerResult> layers;  // costs, plans, marginals, statistics
  ModelPtr fused;                   // the "fused" row: OT fusion as averaged
  /// The "fused_bn" row: the fused model with its BatchNorm statistics re-estimated on
  /// bnBatches training batches; null unless computed (BatchNorm models, evaluate, bnBatches > 0).
  ModelPtr fusedBn;
  int bnBatches = 0;
  /// The "fused_repair" row's model (request.repair, networks without BatchNorm); null
  /// otherwise.
  ModelPtr fusedRepair;
  ModelPtr vanilla;                 // null when shapes differ
  /// N-model requests: modelLayers[i] are model i's plans onto the anchor (empty for the
  /// anchor); `layers` then holds those of the first model that is not the anchor. For a/b
  /// requests: {layers of A, {}} and anchor 1.
  /// LayerResult matrices are (n_i x n_anchor): rows = model i's neurons, columns = the
  /// anchor's. modelLayers.size() == number of models (always, also for a/b requests).
  /// summary.models lists every path in request order (summary.anchor, summary.weights (the
  /// normalized weights), summary.modelPlans (per model; the anchor's entry is an empty
  /// PlanStatus) and summary.plans = planStatusMany(modelLayers): all models' plans together,
  /// layer names prefixed "model i " when N > 2).
  std::vector<std::vector<LayerResult>> modelLayers;
  int anchor = 1;
  /// The "sequential" / "sequential_bn" rows' models (request.sequential; sequentialBn for
  /// BatchNorm models with bnBatches > 0); null otherwise. summary.sequentialSeconds is the
  /// sequential fusion's time. saveFusedModel accepts "sequential" and "sequential_bn".
  ModelPtr sequential, sequentialBn;
};

/// The fused model an export writes unless the user picks another: "fused_bn" when it was
/// computed (the table's best row for BatchNorm models), else "fused_repair" when REPAIR was
/// asked for, else "fused".
std::string defaultExportModel(const FusionOutcome& outcome);

/// The row label of "fused" / "fused_bn" / "fused_repair": "OT fusion" / "OT fusion, BN
/// re-estimated" / "OT fusion + REPAIR".
std::string exportModelLabel(const std::string& which);

/// Saves the fused model `which` ("fused", "fused_bn", "fused_repair", "sequential" or
/// "sequential_bn"; empty =
/// defaultExportModel) as a
/// checkpoint whose metadata says which one it is and its row of the table (see
/// fusedModelMetadata in table_one.h); atomic. Returns the key written. Throws Error when that
/// model was not computed, FileError when writing fails.
std::string saveFusedModel(const FusionOutcome& outcome, const std::string& which,
                           const std::string& path);

/// Fusion plus (optionally) the Table-1 evaluations (see table_one.h for the keys). Progress
/// stages: "activations", "align <layer>", "evaluate <what>".
FusionOutcome runFusion(const FusionRequest& request, const ProgressFn& progress = {},
                        const CancelFlag* cancel = nullptr);

struct CurvePoint {
  double x = 0;  // t, layer index (1-based) or epsilon
  double accuracy = 0, loss = 0;
  /// Points computed from a fusion: layers whose solver stopped at its iteration limit (the
  /// point comes from approximate plans) and the largest marginal error of any plan.
  int layersAtIterationLimit = 0;
  double maxMarginalError = 0;
};
using CurvePointFn = std::function<void(const std::string& series, const CurvePoint&)>;

/// (a) Accuracy/loss along (1 - t) A + t B for `points` values of t in [0, 1]: series
/// "vanilla" (A as is; only when shapes agree) and "aligned" (A aligned to B with `options`
/// first). Each point is reported through `onPoint` as soon as it is computed.
void interpolationCurve(const FusionRequest& request, int points, const CurvePointFn& onPoint,
                        const ProgressFn& progress = {}, const CancelFlag* cancel = nullptr);

/// (b) Which layers' alignment matters: accuracy of (1 - t) A_l + t B, where A_l is A with
/// layers 1..l aligned to B (the fusion's maps) and layers l+1..L as they are, so that x = l = 0
/// is vanilla averaging and x = L is OT fusion (for the output layer kept in place). Series
/// "progressive", points x = 0..L. Equal widths only (Error otherwise).
void progressiveCurve(const FusionRequest& request, const CurvePointFn& onPoint,
                      const ProgressFn& progress = {}, const CancelFlag* cancel = nullptr);

/// (c) Fused accuracy against Sinkhorn epsilon (log-spaced from `epsFrom` to `epsTo`), series
/// "sinkhorn"; plus one point x = 0 of series "exact" for reference. Every point carries its
/// plans' status (layersAtIterationLimit, maxMarginalError).
void epsilonCurve(const FusionRequest& request, double epsFrom, double epsTo, int points,
                  const CurvePointFn& onPoint, const ProgressFn& progress = {},
                  const CancelFlag* cancel = nullptr);

/// (d) Does fusion blur as N grows? For n = 1..N (N = request.models.size()): the anchor plus
/// the first n - 1 other models in order, equal weights; series "fused" (fuseMany of those n)
/// and "ensemble" (their prediction ensemble), x = n. At n = 1 both are the anchor alone.
/// Details: the n models are ordered anchor first, then the others in request order (fuseMany
/// with anchor 0 of that list; the ensemble is evaluateEnsembleOf of that list with
/// request.probabilityEnsemble, so its points equal evaluateEnsembleOf of the same models).
/// request.weights and request.sequential are ignored; options, dataset, samples, seed apply.
/// Per n, points are reported in the order "fused", ("fused_bn"), "ensemble". For BatchNorm
/// models with bnBatches > 0 a third series "fused_bn": the fused model with re-estimated
/// BatchNorm statistics (at n = 1 the anchor as is). "fused" points carry their plans' status
/// (layersAtIterationLimit, maxMarginalError over all n - 1 models). N = 1 is allowed (one
/// point). Progress: "growth curve: k of N: fusing|evaluating", then ("growth curve", k, N).
/// Throws Error when the anchor is out of range or a model cannot be fused onto it.
void growthCurve(const FusionRequest& request, const CurvePointFn& onPoint,
                 const ProgressFn& progress = {}, const CancelFlag* cancel = nullptr);

/// A fresh model of architecture `spec` (e.g. "mlp:100-50", see `otfuse train --help`) with
/// weights initialized from `seed`, trained for `epochs` epochs (0: untrained) with SGD on the
/// first `limit` training images of `dataset` (0: all). For tests and quick experiments: small
/// models without any file. Throws Error for a bad spec, FileError when the dataset is missing.
struct TrainRequest {
  std::string spec;
  std::string dataset = "mnist";
  std::string dataDir;
  uint64_t seed = 0;
  int epochs = 1;
  long long limit = 0;
  double learningRate = 0.01;
  double momentum = 0.5;
};
ModelPtr trainNewModel(const TrainRequest& request, const ProgressFn& progress = {},
                       const CancelFlag* cancel = nullptr);

/// For `--demo`: the two MNIST MLPNets in `cacheDir` (trained on first use, seeds 0 and 1:
/// kDemoEpochs epochs of SGD lr 0.05 with cosine decay, momentum 0.9, weight decay 5e-4, batch
/// 128; about 98 % test accuracy, like the paper's 97.7 % parents), returned as paths.
///
/// With `options.personalSplit` (the paper's heterogeneous-data setting, Section 5.1; see
/// data/split.h): model A (seed 0) is trained on part A of the personal split of MNIST's
/// training set (every example of `specialClass` plus `fraction` of each other class, chosen
/// with `splitSeed`), model B (seed 1) on part B (the rest, no example of the special class).
/// Same recipe; the files are named after the split ("mlpnet_demo2_personal_c4_p0.1_s0_A.pt",
/// "..._B.pt") and their metadata records it (personalSplitMetadata). Throws Error for a
/// special class outside 0..9 or a fraction outside [0, 1].
constexpr int kDemoEpochs = 4;
struct DemoOptions {
  bool personalSplit = false;
  int specialClass = 4;
  double fraction = 0.1;
  uint64_t splitSeed = 0;
  int epochs = kDemoEpochs;  // tests train shorter (the files' names do not record it)
};
std::vector<std::string> demoModels(const std::string& cacheDir, const std::string& dataDir,
                                    const ProgressFn& progress = {},
                                    const CancelFlag* cancel = nullptr,
                                    const DemoOptions& options = {});

/// The file names demoModels uses in its cache folder for `options` (A, then B).
std::vector<std::string> demoModelFileNames(const DemoOptions& options = {});

}  // namespace otfuse
