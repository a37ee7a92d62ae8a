// otfuse sweep: the cartesian product of fusion settings, run here on worker threads or
// written out as one `otfuse fuse` command per line for GNU parallel or a Slurm job array.
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <mutex>
#include <sstream>
#include <thread>

#include "commands.h"
#include "otfuse/engine/engine.h"
#include "otfuse/engine/sweep.h"
#include "otfuse/error.h"
#include "otfuse/fusion/report.h"
#include "sweep_options.h"

namespace otfuse::cli {
namespace {

const char* kHelp = R"(usage: otfuse sweep [options] (A B | --pairs FILE) --out-dir DIR
A sweep is the cartesian product of its axes: model pairs x modes x solvers x eps x t x seeds
(eps multiplies only the Sinkhorn points). Every point is one `otfuse fuse` run (A aligned onto
the anchor B, t = B's weight) whose JSON result is written to DIR/<point>.json, named after the
point's parameters (e.g. a--b_activations_sinkhorn_eps0.05_t0.5_seed2.json).

Run here (default): the points run on --workers threads (LibTorch one thread each), with
progress; Ctrl-C stops cleanly (finished points stay, no partial file; --resume continues).
Then the table of DIR is printed exactly as `otfuse collect DIR` prints it (mean ± std over
seeds per configuration) and written to DIR/table.txt and DIR/table.csv.

--emit-jobs FILE: run nothing; write the same sweep as one shell command per line,
  OTFUSE_THREADS=1 otfuse fuse ... --json-out DIR/<point>.json A B
for GNU parallel (`parallel --jobs N < FILE`) or a Slurm job array (FILE.sbatch: sbatch
--array=1-<points> running line $SLURM_ARRAY_TASK_ID). Afterwards `otfuse collect DIR` merges
the results into the same table. Every point's numbers are the same wherever it runs.

axes (comma-separated lists):
  --modes M,...        weights | activations (default weights)
  --solvers S,...      exact | sinkhorn (default exact)
  --eps E,...          Sinkhorn regularization (default 0.01)
  --t T,...            weight of the anchor B (default 0.5)
  --seeds S,...        activation-sampling seeds (default 0); also ranges: 0-4
  --pairs FILE         model pairs, one "A B" per line (# starts a comment), instead of A B
options:
  --out-dir DIR        where the results go (created if needed; required)
  --dataset D          mnist | fashion-mnist | cifar10 | folder:PATH (default: the first
                       model's, from its metadata or its input shape)
  --samples K          activation samples (default 200)
  --bn-batches N       BatchNorm re-estimation batches (default 20)
  --arch SPEC          architecture of every file (default: inferred)
  --workers N          local run: points at a time (default: the number of cores)
  --resume             local run: keep points whose result file exists
  --emit-jobs FILE     write the job list (and FILE.sbatch) instead of running
  --json               print the table as JSON (as otfuse collect --json)
  --no-progress        no progress bar
  --data-dir DIR       where datasets live

examples:
  otfuse sweep a.pt b.pt --modes weights,activations --seeds 0,1,2 --out-dir sweep1
  otfuse sweep a.pt b.pt --solvers exact,sinkhorn --eps 0.01,0.05 --out-dir s2 --emit-jobs jobs.txt
  parallel --jobs 2 < jobs.txt && otfuse collect s2
)";

std::string otfuseExecutable() {
  std::error_code ec;
  auto p = std::filesystem::read_symlink("/proc/self/exe", ec);
  return ec ? std::string("otfuse") : p.string();
}

}  // namespace

int cmdSweep(Args& args) {
  namespace fs = std::filesystem;
  if (args.flag("help")) {
    std::cout << kHelp;
    return 0;
  }
  args.requireKnown({"modes", "solvers", "eps", "t", "seeds", "pairs", "out-dir", "dataset",
                     "samples", "bn-batches", "arch", "workers", "emit-jobs", "data-dir"});
  SweepAxes axes;
  const auto& pos = args.positional();
  if (args.has("pairs")) {
    if (!pos.empty()) throw Error("give either two model files or --pairs FILE, not both");
    axes.pairs = readPairsFile(args.get("pairs"));
  } else {
    if (pos.size() != 2)
      throw Error("sweep needs two model files A B (or --pairs FILE), got " +
                  std::to_string(pos.size()) + " (see --help)");
    axes.pairs = {{pos[0], pos[1]}};
  }
  if (args.has("modes")) axes.modes = splitList(args.get("modes"), "modes");
  if (args.has("solvers")) axes.solvers = splitList(args.get("solvers"), "solvers");
  if (args.has("eps")) axes.epsilons = parseNumberList(args.get("eps"), "eps");
  if (args.has("t")) axes.ts = parseNumberList(args.get("t"), "t");
  if (args.has("seeds")) axes.seeds = parseSeedList(args.get("seeds"));
  if (!args.has("out-dir")) throw Error("sweep needs --out-dir DIR (where the results go)");
  const std::string outDir = args.get("out-dir");
  const std::vector<SweepPoint> points = enumerateSweep(axes);

  SweepCommon common;
  common.arch = args.get("arch");
  common.dataDir = args.get("data-dir");
  common.samples = int(args.getInt("samples", 200));
  if (common.samples < 1 || common.samples > 1000000)
    throw Error("--samples must be between 1 and 1000000");
  common.bnBatches = int(args.getInt("bn-batches", 20));
  if (common.bnBatches < 0) throw Error("--bn-batches must be non-negative");
  for (const auto& [a, b] : axes.pairs)
    for (const auto* p : {&a, &b})
      if (!fs::is_regular_file(*p)) throw FileError(*p, "does not exist or is not a file");
  if (args.has("dataset")) {
    common.dataset = canonicalDatasetName(args.get("dataset"));
    if (common.dataset.empty())
      throw Error("unknown dataset '" + args.get("dataset") +
                  "' (known: mnist, fashion-mnist, cifar10, folder:<root>)");
  } else {
    common.dataset = loadModel(axes.pairs.front().second, common.arch)->dataset.name;
  }

  if (args.has("emit-jobs")) {
    const std::string jobs = args.get("emit-jobs");
    std::error_code ec;
    fs::create_directories(outDir, ec);
    if (ec) throw FileError(outDir, "cannot create the folder: " + ec.message());
    writeFileAtomically(jobs, jobsFileText(points, common, otfuseExecutable(), outDir));
    writeFileAtomically(jobs + ".sbatch", slurmScriptText(jobs, points.size(), outDir));
    std::printf("wrote %s: %zu otfuse fuse commands, one per line (results to %s)\n",
                jobs.c_str(), points.size(), outDir.c_str());
    std::printf("wrote %s.sbatch: a Slurm job array, one task per line\n\n", jobs.c_str());
    std::printf("run them with GNU parallel:  parallel --jobs %u < %s\n",
                std::max(1u, std::thread::hardware_concurrency()), shellQuote(jobs).c_str());
    std::printf("or on a Slurm cluster:       sbatch %s\n", shellQuote(jobs + ".sbatch").c_str());
    std::printf("then merge the results:      otfuse collect %s\n", shellQuote(outDir).c_str());
    return 0;
  }

  SweepRunOptions run;
  run.workers = int(args.getInt("workers", 0));
  if (run.workers < 0) throw Error("--workers must be positive");
  run.skipExisting = args.flag("resume");
  ProgressBar bar;
  SweepProgressFn progress;
  if (!args.flag("no-progress"))
    progress = [&bar](const SweepProgress& p) {
      bar.update("sweep", (long long)p.done, (long long)p.total,
                 std::to_string(p.done) + "/" + std::to_string(p.total) + " points, last " +
                     p.lastPoint);
    };
  std::fprintf(stderr, "sweep: %zu points into %s\n", points.size(), outDir.c_str());
  SweepRunResult result;
  try {
    result = runSweep(points, common, outDir, run, progress, interruptFlag());
  } catch (const Cancelled&) {
    bar.finish();
    size_t have = 0;
    for (const auto& p : points) have += fs::exists(fs::path(outDir) / p.fileName);
    std::fprintf(stderr,
                 "\notfuse: sweep cancelled; %zu of %zu points have complete results in %s (no "
                 "partial file); run again with --resume to finish\n",
                 have, points.size(), outDir.c_str());
    return 130;
  }
  bar.finish();
  if (result.skipped) std::fprintf(stderr, "kept %zu existing results (--resume)\n", result.skipped);
  for (const auto& [name, why] : result.failures)
    std::fprintf(stderr, "otfuse: point %s failed: %s\n", name.c_str(), why.c_str());

  // The table: exactly what `otfuse collect DIR` prints.
  const CollectResult table = collectResults(outDir);
  writeFileAtomically((fs::path(outDir) / "table.txt").string(), collectTableText(table));
  writeFileAtomically((fs::path(outDir) / "table.csv").string(), collectTableCsv(table));
  std::cout << (args.flag("json") ? collectTableJson(table) : collectTableText(table));
  return result.failures.empty() ? 0 : 1;
}

}  // namespace otfuse::cli
