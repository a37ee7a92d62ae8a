#pragma once
// Fusion reports: the paper's Table-1 row plus every per-layer result, as JSON and CSV, for
// scripts and for the GUI. Plain C++/Eigen (no LibTorch).
#include <map>
#include <string>
#include <cstdint>
#include <vector>

#include "otfuse/fusion/methods.h"
#include "otfuse/fusion/options.h"

namespace otfuse {

/// One row of the paper's Table 1 and how it was obtained.
struct FusionSummary {
  /// Paths of every model in order: A (aligned) and B (anchor) for a two-model fusion; all N
  /// for an N-model fusion (the anchor is models[anchor]).
  std::vector<std::string> models;
  std::string architecture, dataset;
  /// Why that dataset: "given with --dataset", "from the checkpoint's metadata of b.pt", ...
  std::string datasetSource;
  FusionOptions options;
  int samples = 0;        // activation samples (activations mode)
  uint64_t seed = 0;
  /// Keys: model_0, model_1, ensemble, vanilla, fused, and for BatchNorm models vanilla_bn,
  /// fused_bn (re-estimated BN statistics); percent / mean cross-entropy.
  /// Absent keys were not computed (e.g. vanilla for different widths).
  std::map<std::string, double> accuracy, loss;
  /// Same keys: percent correct per class (NaN for a class without test images) and the
  /// confusion matrix (rows: true class, columns: predicted; image counts).
  std::map<std::string, std::vector<double>> perClassAccuracy;
  std::map<std::string, Eigen::MatrixXi> confusion;
  PlanStatus plans;              // did every solved layer converge? (planStatus(layers); N
                                 // models: planStatusMany, every model's plans)
  double fusionSeconds = 0;      // alignment + averaging
  double evaluationSeconds = 0;  // the fused model's test-set pass
  /// N-model fusion (fuseMany). A two-model fusion has anchor 1 and weights {1 - t, t}.
  int anchor = 1;               // index of the anchor in `models`
  std::vector<double> weights;  // normalized, one per model (empty: not recorded)
  /// Per model, the status of its plans onto the anchor (the anchor's own entry: solved 0,
  /// written as null in JSON); empty when not recorded.
  std::vector<PlanStatus> modelPlans;
  /// The sequential variant (fuseSequential; row "sequential"): its alignment time, 0 when it
  /// was not computed.
  double sequentialSeconds = 0;
  /// REPAIR of the fused and vanilla models (rows fused_repair, vanilla_repair; networks
  /// without BatchNorm): the variant and how many training images its statistics came from;
  /// None when not computed.
  RepairMode repair = RepairMode::None;
  long long repairImages = 0;
};

/// Whether a FusionSummary key names a row present only when it was computed (*_bn, *_repair,
/// sequential*); tables list the other rows always ("n/a" when absent, e.g. vanilla for
/// different widths).
bool optionalSummaryRow(const std::string& key);

/// The status of the plans of all models onto the anchor together (layers[anchor] is empty).
/// Layer names are prefixed with "model <i> " when there are more than two models, so that
/// "at_iteration_limit" says whose plan stopped early.
PlanStatus planStatusMany(const std::vector<std::vector<LayerResult>>& layers);

/// JSON object {"summary": ..., "plans": {"status": "ok" | "iteration_limit", "solved",
/// "at_iteration_limit": [...], "max_marginal_error", "max_iterations", "text"},
/// "accuracy": {...}, "loss": {...}, "per_class_accuracy": {key: [percent per class]},
/// "confusion": {key: [[counts], ...] rows = true class} (both when evaluated), "seconds": {...}, "layers": [{name, stats..., [mu, nu, cost, plan as nested row arrays]}]}.
/// The summary also carries "anchor" (index into "models") and "weights"; "model_plans" is
/// one plan status per model (null for the anchor; present when summary.modelPlans is);
/// "seconds" has "sequential" when the sequential variant was computed. `modelLayers` (N-model
/// fusions): one more member "model_layers", per model the list "layers" has for one (empty
/// for the anchor).
std::string reportJson(const FusionSummary& summary, const std::vector<LayerResult>* layers,
                       bool includeMatrices,
                       const std::vector<std::vector<LayerResult>>* modelLayers = nullptr);

/// Writes `text` to `path` atomically: into a new temporary file in the same folder, which is
/// fsynced and closed, then renamed over `path` (then the folder is synced). On any failure the
/// temporary file is removed, `path` keeps its old content, no descriptor stays open, and
/// FileError names the path and the problem. Readers see the old file or the new one, never a
/// partial one.
void writeFileAtomically(const std::string& path, const std::string& text);

namespace testing {
/// Replaces fsync(2) in writeFileAtomically (nullptr: the real one), to test failures.
void setFsyncForTesting(int (*fsyncFn)(int));
}  // namespace testing

/// One CSV per layer, "<dir>/<index>_<layer>_plan.csv" (rows = A's neurons), full precision.
/// Creates `dir` if needed. Returns the files written.
std::vector<std::string> writePlansCsv(const std::string& dir,
                                       const std::vector<LayerResult>& layers);

/// CSV text of a matrix (no header), %.17g.
std::string matrixCsv(const ot::Matrix& m);

}  // namespace otfuse
