#pragma once
// Methods side by side (issue 11): one pair of models aligned by every method, each merged at
// t with and without REPAIR (BatchNorm networks: BN statistics re-estimation), evaluated along
// the whole interpolation path. Torch-free (the app includes it); see engine.h for threads,
// progress and cancellation.
#include <Eigen/Core>

#include <map>
#include <string>
#include <vector>

#include "otfuse/engine/engine.h"
#include "otfuse/fusion/methods.h"

namespace otfuse {

/// Method keys, in table order:
///   vanilla              no alignment (identity maps)
///   ot-weights           OT fusion, exact solver, weights mode (request.options otherwise)
///   ot-activations       OT fusion, exact solver, activations mode
///   ot-sinkhorn          OT fusion, Sinkhorn (request.options.epsilon), weights mode
///   weight-matching      Git Re-Basin weight matching (fusion/matching.h)
///   activation-matching  activation matching
std::vector<std::string> compareMethods();
/// "Vanilla averaging", "OT exact (weights)", ... ; throws Error for an unknown key.
std::string compareMethodLabel(const std::string& key);

struct CompareRequest {
  ModelPtr a, b;           // A is aligned onto B
  std::string dataset;     // evaluation, activation samples and REPAIR statistics
  std::string dataDir;
  double t = 0.5;          // weight of B in the table's merged models
  int points = 25;         // values of t in [0, 1] on every curve (Re-Basin: 25)
  /// The correction of the "with" rows: Exact or ClosedForm REPAIR for networks without
  /// BatchNorm (BatchNorm networks: BN re-estimation for either); None: no "with" rows.
  RepairMode repair = RepairMode::Exact;
  int repairBatches = 10;  // training batches of 128 images for REPAIR / BN statistics
  int samples = 200;       // activation samples (ot-activations, activation-matching)
  uint64_t seed = 0;       // samples, batches, weight matching's order
  int maxIterations = 100; // weight matching sweeps
  FusionOptions options;   // OT rows: metric, marginals, epsilon, stream map (mode/solver set per row)
  std::vector<std::string> methods;  // empty = compareMethods()
};

struct CompareRow {
  std::string method;      // key
  std::string label;       // e.g. "Weight matching + REPAIR (exact)": also the curve's series name
  bool corrected = false;  // the REPAIR / BN-reset row
  double accuracy = 0, loss = 0;  // the merged model at t
  /// Loss barrier: max over the curve's t of loss(t) - ((1 - t) loss(A) + t loss(B)), with the
  /// parents' own losses (equal to the curve's endpoints for permutations).
  double barrier = 0;
  /// The same for accuracy: max over t of ((1 - t) acc(A) + t acc(B)) - acc(t), in points.
  double accuracyBarrier = 0;
  double seconds = 0;      // alignment (+ the correction at t for corrected rows)
  std::vector<CurvePoint> curve;  // x = t
  std::string error;       // non-empty: the method does not apply to this pair (why); no numbers
};

struct CompareOutcome {
  Score a, b;                      // the parents on the test set
  std::vector<CompareRow> rows;    // per method: plain row, then its corrected row
  std::vector<std::string> methods;  // keys of the methods that ran (agreement's order)
  /// agreement(i, j): fraction of hidden neurons (every neuron group once) that methods i and
  /// j match to the same neuron of A (argmax of each map's column; vanilla: the identity).
  Eigen::MatrixXd agreement;
  /// Per method key: its per-layer maps (heatmap / matching views); vanilla: identity maps.
  std::map<std::string, std::vector<LayerResult>> layers;
  std::string correction;          // "REPAIR (exact)", "REPAIR (closed form)", "BN reset" or ""
  bool batchNorm = false;
  double t = 0.5;
};

/// Runs the comparison. Every curve point is reported through `onPoint(row label, point)` as
/// soon as it is computed (methods in order, for each t the plain then the corrected row).
/// Progress stages: "compare: <method>: aligning", "compare: <method>" (points done/total).
/// A method that does not apply (e.g. matching models of different widths) gets rows with
/// `error` set; the others still run. Throws Error for bad arguments (points < 2, t outside
/// [0, 1], unknown method), Cancelled when cancelled.
CompareOutcome runCompare(const CompareRequest& request, const CurvePointFn& onPoint = {},
                          const ProgressFn& progress = {}, const CancelFlag* cancel = nullptr);

}  // namespace otfuse
