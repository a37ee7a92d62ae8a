#pragma once
// Sweeps: the cartesian product of fusion settings (model pairs x modes x solvers x epsilon x
// t x seeds), each point one `otfuse fuse` run writing one JSON result; run here on a pool of
// worker threads, or written out as one shell command per line for GNU parallel or a Slurm job
// array; and `collect`, which reads a folder of results and reduces them to mean +- std over
// seeds (or over model pairs) per configuration. Torch-free: the app includes it.
//
// Determinism: a point's numbers do not depend on where it ran. Local workers run LibTorch on
// one intra-op thread each, and every emitted command sets OTFUSE_THREADS=1, so a point run by
// GNU parallel writes the same accuracies and losses as the same point run here.
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "otfuse/runtime.h"

namespace otfuse {

/// The axes of a sweep. Every list must be non-empty. Epsilon only multiplies Sinkhorn points
/// (an exact point has one epsilon: the fuse default, 0.01).
struct SweepAxes {
  /// (A, B) model files: A is aligned onto the anchor B; t is B's weight.
  std::vector<std::pair<std::string, std::string>> pairs;
  std::vector<std::string> modes = {"weights"};   // weights | activations
  std::vector<std::string> solvers = {"exact"};   // exact | sinkhorn
  std::vector<double> epsilons = {0.01};
  std::vector<double> ts = {0.5};
  std::vector<uint64_t> seeds = {0};
};

/// Settings shared by every point (not swept).
struct SweepCommon {
  std::string dataset = "mnist";  // always explicit, so local and emitted runs agree
  std::string dataDir;            // "" = default
  std::string arch;               // "" = inferred from the files
  int samples = 200;              // activation samples (activations mode)
  int bnBatches = 20;
};

struct SweepPoint {
  int pair = 0;  // index into SweepAxes::pairs
  std::string a, b, mode, solver;
  double epsilon = 0.01, t = 0.5;
  uint64_t seed = 0;
  /// File name of the point's result: "<pair>_<mode>_<solver>[_eps<e>]_t<t>_seed<s>.json",
  /// <pair> = "<A stem>--<B stem>" (with "pair<i>_" in front when the sweep has several pairs).
  /// Stable: the same point always gets the same name.
  std::string fileName;
};

/// Every point, in a fixed order (pair, mode, solver, epsilon, t, seed; last varies fastest).
/// Throws Error for an empty axis, an unknown mode or solver, epsilon <= 0 or t outside [0, 1].
std::vector<SweepPoint> enumerateSweep(const SweepAxes& axes);

/// The `otfuse fuse` arguments of a point (after "fuse"), writing its JSON to `jsonOut`.
std::vector<std::string> fuseArguments(const SweepPoint& point, const SweepCommon& common,
                                       const std::string& jsonOut);

/// A POSIX-shell word: unchanged if it only holds safe characters, else single-quoted.
std::string shellQuote(const std::string& word);

/// The jobs file: one line per point, "OTFUSE_THREADS=1 '<otfuse>' fuse ... --json-out
/// '<outDir>/<point>.json' A B", runnable by `parallel < FILE` or by a Slurm array task.
std::string jobsFileText(const std::vector<SweepPoint>& points, const SweepCommon& common,
                         const std::string& otfuseExecutable, const std::string& outDir);

/// A Slurm batch script running line $SLURM_ARRAY_TASK_ID of `jobsFile` (sbatch --array=1-N).
std::string slurmScriptText(const std::string& jobsFile, size_t jobs, const std::string& logDir);

struct SweepProgress {
  size_t done = 0, total = 0;  // points finished (written or failed) of all
  std::string lastPoint;       // file name of the point that just finished
};
using SweepProgressFn = std::function<void(const SweepProgress&)>;

struct SweepRunOptions {
  int workers = 0;         // 0 = number of cores; each runs LibTorch on one thread
  bool skipExisting = false;  // keep a point whose result file already exists (resume)
};

struct SweepRunResult {
  size_t written = 0, skipped = 0;
  /// Points that failed: (file name, message). A failure does not stop the other points.
  std::vector<std::pair<std::string, std::string>> failures;
};

/// Runs every point here, `workers` at a time, writing outDir/<point>.json (created if
/// needed) atomically (temporary file + rename: a cancelled sweep leaves finished points and
/// nothing half-written). `progress` is called from the worker threads (serialized), after each
/// point. Throws Cancelled when `cancel` is set (after the running points stop), Error/FileError
/// when a model file cannot be read or outDir cannot be created.
SweepRunResult runSweep(const std::vector<SweepPoint>& points, const SweepCommon& common,
                        const std::string& outDir, const SweepRunOptions& options = {},
                        const SweepProgressFn& progress = {}, const CancelFlag* cancel = nullptr);

// ---- collect ----------------------------------------------------------------------------

/// Mean and sample standard deviation (n - 1; absent for n = 1) of one row over the runs.
struct RowStats {
  std::string key;    // model_0, model_1, ensemble, vanilla, fused, *_bn, sequential
  std::string label;  // "model A", "prediction ensemble", "OT fusion", ...
  size_t n = 0;
  double accuracyMean = 0, lossMean = 0;
  std::optional<double> accuracyStd, lossStd;
};

/// One configuration: every result with the same settings except the seed (and, with
/// CollectOptions::acrossModels, except the model files).
struct ConfigStats {
  std::map<std::string, std::string> params;  // models, mode, solver, epsilon, t, dataset, ...
  std::string title;                          // one line naming the configuration
  std::vector<uint64_t> seeds;                // sorted
  std::vector<std::string> files;             // result files, sorted
  std::vector<RowStats> rows;                 // table order
  /// Runs whose plans are approximate (a Sinkhorn layer stopped at its iteration limit).
  size_t approximateRuns = 0;
};

struct CollectOptions {
  /// Replicates are model pairs (table-one: one pair per seed), not only activation seeds:
  /// the model files are left out of the grouping key.
  bool acrossModels = false;
};

struct CollectResult {
  std::vector<ConfigStats> configs;  // sorted by title
  size_t files = 0;
  std::vector<std::string> ignored;  // entries of the folder that are not *.json files
};

/// Reads every *.json file in `dir` (not recursive) as an `otfuse fuse --json` result. Throws
/// FileError naming the file when one is not valid JSON or not a fuse result, and when `dir`
/// holds no result at all. Nothing is skipped silently: other entries are listed in `ignored`.
CollectResult collectResults(const std::string& dir, const CollectOptions& options = {});

/// The table as text (one block per configuration, "mean ± std" per row).
std::string collectTableText(const CollectResult& result);
/// As JSON: {"files": n, "configurations": [{"params", "seeds", "files", "rows": [{"key",
/// "label", "n", "accuracy_mean", "accuracy_std", "loss_mean", "loss_std"}],
/// "approximate_runs"}]}.
std::string collectTableJson(const CollectResult& result);
/// As CSV: one line per configuration and row (header first), full precision.
std::string collectTableCsv(const CollectResult& result);

}  // namespace otfuse
