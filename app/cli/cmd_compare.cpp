// otfuse compare A B: every alignment method on one pair, side by side (engine/compare.h).
#include <cmath>
#include <cstdio>
#include <iostream>
#include <sstream>

#include "commands.h"
#include "json_out.h"
#include "model_files.h"
#include "otfuse/engine/compare.h"
#include "otfuse/error.h"
#include "otfuse/fusion/report.h"

namespace otfuse::cli {
namespace {

const char* kHelp = R"(usage: otfuse compare [options] A B

Aligns A onto B with every method, merges (1 - t) A + t B, and evaluates on the test split:
  vanilla averaging, OT exact (weights), OT exact (activations), OT Sinkhorn (weights),
  weight matching (Git Re-Basin), activation matching
each without and with REPAIR (networks without BatchNorm) or BatchNorm re-estimation
(networks with BatchNorm). Per row: accuracy and loss at t, the loss barrier (max over the
curve's t of loss(t) minus the straight line between the parents' losses), the accuracy
barrier, and the time taken. Then the agreement between the methods' maps: the fraction of
hidden neurons two methods match to the same neuron of A.

options:
  --t T                  weight of B in the table's merged models (default 0.5)
  --points N             values of t on each interpolation curve, 0..1 (default 25)
  --repair R             none | exact | closed: the correction of the "with" rows (default
                         exact; none: no "with" rows). BatchNorm networks: BN re-estimation.
  --repair-batches N     training batches of 128 images for REPAIR / BN statistics (default 10)
  --methods M,...        subset of: vanilla, ot-weights, ot-activations, ot-sinkhorn,
                         weight-matching, activation-matching (default all)
  --samples K            activation samples (default 200)
  --epsilon E            Sinkhorn regularization (default 0.01, in cost units)
  --seed S               samples, batches and weight matching's random order (default 0)
  --max-iterations N     weight matching sweeps at most (default 100)
  --dataset D            as for otfuse eval (default: the checkpoints' dataset)
  --arch SPEC            architecture of both models instead of inferring it
  --json                 print the table, agreement matrix and curves as JSON
  --csv FILE             write the table as CSV (method,label,corrected,accuracy,loss,
                         loss_barrier,accuracy_barrier,seconds,error)
  --curves-csv FILE      write every curve point as CSV (label,t,accuracy,loss)
  --no-progress          no progress bar on stderr
  --data-dir DIR         where datasets live
)";

std::string fixed(double v, int decimals) {
  if (!std::isfinite(v)) return "-";
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}

std::string csvField(const std::string& s) {
  if (s.find_first_of(",\"\n") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

std::vector<std::string> splitComma(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  std::string item;
  while (std::getline(ss, item, ','))
    if (!item.empty()) out.push_back(item);
  return out;
}

}  // namespace

int cmdCompare(Args& args) {
  if (args.flag("help")) {
    std::cout << kHelp;
    return 0;
  }
  args.requireKnown({"t", "points", "repair", "repair-batches", "methods", "samples", "epsilon",
                     "seed", "max-iterations", "dataset", "arch", "csv", "curves-csv", "data-dir"});
  const auto& paths = args.positional();
  if (paths.size() != 2) throw Error("otfuse compare expects two model files, A and B (see --help)");
  CompareRequest r;
  r.t = args.getDouble("t", 0.5);
  r.points = int(args.getInt("points", 25));
  if (r.points < 2 || r.points > 1001) throw Error("--points must be between 2 and 1001");
  r.repair = parseRepairMode(args.get("repair", "exact"));
  r.repairBatches = int(args.getInt("repair-batches", 10));
  if (r.repairBatches < 1) throw Error("--repair-batches must be at least 1");
  r.samples = int(args.getInt("samples", 200));
  if (r.samples < 2) throw Error("--samples must be at least 2");
  r.options.epsilon = args.getDouble("epsilon", r.options.epsilon);
  if (!(r.options.epsilon > 0)) throw Error("--epsilon must be positive");
  r.seed = uint64_t(args.getInt("seed", 0));
  r.maxIterations = int(args.getInt("max-iterations", 100));
  if (r.maxIterations < 1) throw Error("--max-iterations must be at least 1");
  if (args.has("methods")) {
    r.methods = splitComma(args.get("methods"));
    for (const auto& m : r.methods) compareMethodLabel(m);
  }
  std::vector<ModelFile> files;
  for (const auto& p : paths) files.push_back(loadModelFile(p, args.get("arch")));
  const DatasetChoice dataset = chooseDataset(args, {&files[1], &files[0]});
  r.dataset = dataset.name;
  r.dataDir = args.get("data-dir");
  r.a = loadModel(paths[0], args.get("arch"));
  r.b = loadModel(paths[1], args.get("arch"));

  ProgressBar bar;
  ProgressFn progress;
  if (!args.flag("no-progress"))
    progress = [&bar](const Progress& p) { bar.update(p.stage, p.done, p.total, p.message); };
  CompareOutcome out = runCompare(r, {}, progress, interruptFlag());
  if (progress) bar.finish();

  if (args.has("csv")) {
    std::ostringstream os;
    os << "method,label,corrected,accuracy,loss,loss_barrier,accuracy_barrier,seconds,error\n";
    for (const auto& row : out.rows) {
      const bool ok = row.error.empty();
      os << row.method << ',' << csvField(row.label) << ',' << (row.corrected ? 1 : 0) << ','
         << (ok ? jsonNumber(row.accuracy) : "") << ',' << (ok ? jsonNumber(row.loss) : "") << ','
         << (ok ? jsonNumber(row.barrier) : "") << ',' << (ok ? jsonNumber(row.accuracyBarrier) : "")
         << ',' << (ok ? jsonNumber(row.seconds) : "") << ',' << csvField(row.error) << '\n';
    }
    writeFileAtomically(args.get("csv"), os.str());
  }
  if (args.has("curves-csv")) {
    std::ostringstream os;
    os << "label,t,accuracy,loss\n";
    for (const auto& row : out.rows)
      for (const auto& p : row.curve)
        os << csvField(row.label) << ',' << jsonNumber(p.x) << ',' << jsonNumber(p.accuracy) << ','
           << jsonNumber(p.loss) << '\n';
    writeFileAtomically(args.get("curves-csv"), os.str());
  }

  if (args.flag("json")) {
    std::ostringstream os;
    os << "{\"a\": " << jsonString(paths[0]) << ", \"b\": " << jsonString(paths[1])
       << ", \"dataset\": " << jsonString(dataset.name) << ", \"t\": " << jsonNumber(out.t)
       << ", \"points\": " << r.points << ", \"correction\": " << jsonString(out.correction)
       << ",\n \"parents\": {\"a\": {\"accuracy\": " << jsonNumber(out.a.accuracy)
       << ", \"loss\": " << jsonNumber(out.a.loss) << "}, \"b\": {\"accuracy\": "
       << jsonNumber(out.b.accuracy) << ", \"loss\": " << jsonNumber(out.b.loss) << "}},\n \"rows\": [";
    for (size_t i = 0; i < out.rows.size(); ++i) {
      const auto& row = out.rows[i];
      os << (i ? ",\n  " : "\n  ") << "{\"method\": " << jsonString(row.method)
         << ", \"label\": " << jsonString(row.label)
         << ", \"corrected\": " << (row.corrected ? "true" : "false");
      if (!row.error.empty()) {
        os << ", \"error\": " << jsonString(row.error) << "}";
        continue;
      }
      os << ", \"accuracy\": " << jsonNumber(row.accuracy) << ", \"loss\": " << jsonNumber(row.loss)
         << ", \"loss_barrier\": " << jsonNumber(row.barrier)
         << ", \"accuracy_barrier\": " << jsonNumber(row.accuracyBarrier)
         << ", \"seconds\": " << jsonNumber(row.seconds) << ", \"curve\": [";
      for (size_t k = 0; k < row.curve.size(); ++k)
        os << (k ? ", " : "") << "[" << jsonNumber(row.curve[k].x) << ", "
           << jsonNumber(row.curve[k].accuracy) << ", " << jsonNumber(row.curve[k].loss) << "]";
      os << "]}";
    }
    os << "\n ],\n \"agreement\": {\"methods\": [";
    for (size_t i = 0; i < out.methods.size(); ++i) os << (i ? ", " : "") << jsonString(out.methods[i]);
    os << "], \"matrix\": [";
    for (Eigen::Index i = 0; i < out.agreement.rows(); ++i) {
      os << (i ? ", " : "") << "[";
      for (Eigen::Index j = 0; j < out.agreement.cols(); ++j)
        os << (j ? ", " : "") << jsonNumber(out.agreement(i, j), 6);
      os << "]";
    }
    os << "]}}\n";
    std::cout << os.str();
    return 0;
  }

  std::cout << "A: " << paths[0] << "  (" << fixed(out.a.accuracy, 2) << " %, loss "
            << fixed(out.a.loss, 4) << ")\nB: " << paths[1] << "  (" << fixed(out.b.accuracy, 2)
            << " %, loss " << fixed(out.b.loss, 4) << ")\n"
            << "dataset: " << describe(dataset) << "; merged at t = " << fixed(out.t, 3) << ", "
            << r.points << " points per curve\n\n";
  char line[256];
  std::snprintf(line, sizeof line, "%-46s %9s %8s %12s %12s %8s\n", "method", "accuracy", "loss",
                "loss barrier", "acc. barrier", "time s");
  std::cout << line;
  for (const auto& row : out.rows) {
    if (!row.error.empty()) {
      std::cout << row.label << ": not applicable: " << row.error << '\n';
      continue;
    }
    std::snprintf(line, sizeof line, "%-46s %9s %8s %12s %12s %8s\n", row.label.c_str(),
                  (fixed(row.accuracy, 2) + " %").c_str(), fixed(row.loss, 4).c_str(),
                  fixed(row.barrier, 4).c_str(), fixed(row.accuracyBarrier, 2).c_str(),
                  fixed(row.seconds, 2).c_str());
    std::cout << line;
  }
  if (out.methods.size() > 1) {
    std::cout << "\nagreement of the maps (fraction of hidden neurons matched identically):\n";
    std::snprintf(line, sizeof line, "%-22s", "");
    std::cout << line;
    for (const auto& m : out.methods) {
      std::snprintf(line, sizeof line, " %10.10s", m.c_str());
      std::cout << line;
    }
    std::cout << '\n';
    for (size_t i = 0; i < out.methods.size(); ++i) {
      std::snprintf(line, sizeof line, "%-22s", out.methods[i].c_str());
      std::cout << line;
      for (size_t j = 0; j < out.methods.size(); ++j) {
        std::snprintf(line, sizeof line, " %10s", fixed(out.agreement(Eigen::Index(i), Eigen::Index(j)), 3).c_str());
        std::cout << line;
      }
      std::cout << '\n';
    }
  }
  return 0;
}

}  // namespace otfuse::cli
