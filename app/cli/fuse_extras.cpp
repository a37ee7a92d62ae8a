#include "fuse_extras.h"

#include <cmath>
#include <cstdio>
#include <sstream>

#include "json_out.h"
#include "otfuse/engine/finetune_models.h"
#include "otfuse/error.h"
#include "otfuse/fusion/average.h"
#include "otfuse/fusion/fusion.h"
#include "output_files.h"
#include "train_options.h"

namespace otfuse::cli {
namespace {

std::string seriesLabel(const std::string& series, const std::string& startRow) {
  if (series == "fused") return startRow == "fused_bn" ? "OT fusion + BN re-est." : "OT fusion";
  return startRow == "vanilla_bn" ? "vanilla + BN re-est." : "vanilla average";
}

std::string pointJson(const FinetunePoint& p) {
  std::ostringstream os;
  os << "{\"epoch\": " << p.epoch
     << ", \"train_loss\": " << (p.epoch == 0 ? "null" : jsonNumber(p.trainLoss))
     << ", \"test_accuracy\": " << jsonNumber(p.accuracy)
     << ", \"test_loss\": " << jsonNumber(p.loss)
     << ", \"lr\": " << (p.epoch == 0 ? "null" : jsonNumber(p.learningRate)) << "}";
  return os.str();
}

std::string csvNumber(double v) {
  if (!std::isfinite(v)) return "";
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.10g", v);
  return buf;
}

std::vector<std::string> referenceKeys(const FusionSummary& s) {
  std::vector<std::string> keys;
  for (size_t i = 0; i < s.models.size(); ++i) keys.push_back("model_" + std::to_string(i));
  keys.push_back("ensemble");
  return keys;
}

}  // namespace

std::set<std::string> fuseExtraOptionNames() {
  std::set<std::string> names = trainOptionNames("finetune-");
  names.insert({"finetune-csv", "seeds"});
  return names;
}

FuseExtras parseFuseExtras(const Args& args, const FusionOptions& opt, bool evaluate) {
  FuseExtras e;
  e.finetune = args.has("finetune-epochs");
  if (!e.finetune) {
    for (const auto& name : fuseExtraOptionNames())
      if (name != "seeds" && name != "finetune-epochs" && args.has(name))
        throw Error("--" + name + " belongs to the fine-tuning after fusion; give --finetune-epochs N too");
    if (args.flag("finetune-no-augment"))
      throw Error("--finetune-no-augment belongs to the fine-tuning after fusion; give --finetune-epochs N too");
  } else {
    e.finetuneOptions = parseTrainOptions(args, "finetune-");
    if (!evaluate)
      throw Error("--finetune-epochs reports test accuracies per epoch; it cannot be combined with --no-eval");
    if (args.has("finetune-csv")) {
      e.finetuneCsv = args.get("finetune-csv");
      checkOutputFile("finetune-csv", e.finetuneCsv);
    }
  }
  const long long k = args.getInt("seeds", 1);
  if (k < 1 || k > 1000) throw Error("--seeds must be between 1 and 1000, got " + std::to_string(k));
  e.seeds = int(k);
  if (e.seeds > 1) {
    if (opt.mode != AlignMode::Activations) {
      e.seedsNote = "--seeds " + std::to_string(k) +
                    ": weights-mode alignment samples nothing (the plans depend on the weights "
                    "alone), so every seed gives the same fused model; it was computed once";
      std::fprintf(stderr, "note: %s\n", e.seedsNote.c_str());
    } else {
      if (args.has("samples-file"))
        throw Error("--seeds varies the activation samples, but --samples-file fixes them; give one of the two");
      if (!evaluate)
        throw Error("--seeds reports the rows' mean and standard deviation; it cannot be combined with --no-eval");
      if (e.finetune)
        throw Error("--seeds and --finetune-epochs cannot be combined yet; run the fine-tuning per seed (--seed S)");
      e.repeatSeeds = true;
    }
  }
  return e;
}

FuseExtrasResult runFuseExtras(const FuseExtras& e, const FuseExtrasInput& in,
                               const ProgressFn& progress, const CancelFlag* cancel) {
  FuseExtrasResult r;
  r.seeds.push_back(in.seed);
  r.seedAccuracy.push_back(in.summary.accuracy);
  r.seedLoss.push_back(in.summary.loss);
  if (e.repeatSeeds) {
    for (int i = 1; i < e.seeds; ++i) {
      const uint64_t s = in.seed + uint64_t(i);
      const std::string stage = "seed " + std::to_string(s) + " (" + std::to_string(i + 1) +
                                " of " + std::to_string(e.seeds) + ")";
      at::Tensor inputs = sampleInputs(in.train(), in.samples, s);
      // REPAIR measures this seed's aligned parents (t1.aligned points at them).
      const bool repair = in.t1.repair != RepairMode::None && !in.fused.hasBatchNorm();
      Model fused;
      std::vector<Model> aligned;
      if (in.pairPath) {
        FusionResult f = fuse(in.models[0], in.models[1], in.opt, inputs,
                              withStage(progress, stage), cancel, repair);
        fused = std::move(f.fused);
        aligned = std::move(f.aligned);
      } else {
        MultiFusionResult f = fuseMany(in.models, in.anchor, in.weights, in.opt, inputs,
                                       withStage(progress, stage), cancel, repair);
        fused = std::move(f.fused);
        aligned = std::move(f.aligned);
      }
      std::optional<Model> seq;
      if (in.sequential)
        seq = fuseSequential(in.models, in.anchor, in.weights, in.opt, inputs,
                             withStage(progress, stage + ": sequential fusion"), cancel).fused;
      TableOneOptions t1 = in.t1;
      t1.seed = s;  // the BatchNorm re-estimation batches follow the seed too
      t1.aligned = repair ? &aligned : nullptr;
      FusionSummary summary;
      evaluateTableOneMany(in.models, in.anchor, in.weights, fused, seq ? &*seq : nullptr,
                           *in.test, in.train, t1, summary, withStage(progress, stage), cancel);
      r.seeds.push_back(s);
      r.seedAccuracy.push_back(summary.accuracy);
      r.seedLoss.push_back(summary.loss);
    }
  }
  if (e.finetune) {
    // The same budget for both: one TrainOptions (epochs, learning rates, seed, so the same
    // batches in the same order). BatchNorm models start from the re-estimated statistics,
    // the table's *_bn rows (same batches and seed as the table).
    const bool bn = in.fused.hasBatchNorm() && in.t1.bnBatches > 0;
    std::optional<Model> fusedStart, vanillaStart;
    if (bn) {
      fusedStart = in.fusedBn ? *in.fusedBn : reestimateBatchNorm(in.fused, in.train(), in.t1, cancel);
    } else {
      fusedStart = in.fused;
    }
    r.startRow["fused"] = bn ? "fused_bn" : "fused";
    if (vanillaIncompatibility(in.models, in.anchor).empty()) {
      Model v = vanillaAverageMany(in.models, in.weights, in.anchor);
      vanillaStart = bn ? reestimateBatchNorm(v, in.train(), in.t1, cancel) : v;
      r.startRow["vanilla"] = bn ? "vanilla_bn" : "vanilla";
    } else {
      std::fprintf(stderr, "note: the models' shapes differ, so there is no vanilla average to fine-tune; "
                           "only OT fusion is fine-tuned\n");
    }
    r.finetune = finetuneSeries({{"fused", &*fusedStart},
                                 {"vanilla", vanillaStart ? &*vanillaStart : nullptr}},
                                in.train(), *in.test, e.finetuneOptions, {}, progress, cancel);
    if (!e.finetuneCsv.empty()) {
      // Wide: one line per epoch; the reference lines repeat their constant value.
      std::ostringstream csv;
      csv << "epoch";
      for (const char* s : {"fused", "vanilla"})
        if (r.finetune.count(s))
          csv << ',' << s << "_accuracy," << s << "_loss," << s << "_train_loss";
      csv << ",lr";
      const auto refs = referenceKeys(in.summary);
      for (const auto& k : refs) csv << ',' << k << "_accuracy";
      csv << '\n';
      const auto& fusedPts = r.finetune.at("fused");
      for (size_t i = 0; i < fusedPts.size(); ++i) {
        csv << fusedPts[i].epoch;
        for (const char* s : {"fused", "vanilla"}) {
          auto it = r.finetune.find(s);
          if (it == r.finetune.end()) continue;
          const FinetunePoint& p = it->second[i];
          csv << ',' << csvNumber(p.accuracy) << ',' << csvNumber(p.loss) << ','
              << (p.epoch == 0 ? "" : csvNumber(p.trainLoss));
        }
        csv << ',' << (fusedPts[i].epoch == 0 ? "" : csvNumber(fusedPts[i].learningRate));
        for (const auto& k : refs) {
          auto it = in.summary.accuracy.find(k);
          csv << ',' << (it == in.summary.accuracy.end() ? "" : csvNumber(it->second));
        }
        csv << '\n';
      }
      writeFileAtomically(e.finetuneCsv, csv.str());
    }
  }
  return r;
}

std::vector<std::pair<std::string, std::string>> allTableRows(const FusionSummary& s,
                                                              bool pairLabels) {
  std::vector<std::pair<std::string, std::string>> rows;
  for (size_t i = 0; i < s.models.size(); ++i)
    rows.emplace_back("model_" + std::to_string(i),
                      pairLabels ? (i == 0 ? "model A" : "model B")
                                 : "model " + std::to_string(i) + (int(i) == s.anchor ? " (anchor)" : ""));
  rows.insert(rows.end(), {{"ensemble", "prediction ensemble"},
                           {"vanilla", "vanilla average"},
                           {"fused", "OT fusion"},
                           {"vanilla_bn", "vanilla + BN re-est."},
                           {"fused_bn", "OT fusion + BN re-est."},
                           {"vanilla_repair", "vanilla + REPAIR"},
                           {"fused_repair", "OT fusion + REPAIR"},
                           {"sequential", "sequential fusion"},
                           {"sequential_bn", "sequential + BN re-est."}});
  return rows;
}

std::vector<std::pair<std::string, std::string>> tableRows(const FusionSummary& s, bool pairLabels) {
  std::vector<std::pair<std::string, std::string>> present;
  for (auto& row : allTableRows(s, pairLabels))
    if (s.accuracy.count(row.first)) present.push_back(row);
  return present;
}

void printFuseExtras(const FuseExtras& e, const FuseExtrasResult& r, const FusionSummary& summary,
                     bool pairLabels) {
  if (e.repeatSeeds) {
    std::printf("mean ± std over %d activation-sampling seeds %llu..%llu (std: sample standard "
                "deviation, n - 1):\n",
                e.seeds, (unsigned long long)r.seeds.front(), (unsigned long long)r.seeds.back());
    std::printf("%-24s %-18s %-18s   %s\n", "", "   accuracy (%)", "   loss", "accuracy per seed");
    for (const auto& [key, label] : tableRows(summary, pairLabels)) {
      std::vector<double> acc, loss;
      for (size_t i = 0; i < r.seeds.size(); ++i) {
        auto a = r.seedAccuracy[i].find(key);
        if (a == r.seedAccuracy[i].end()) continue;
        acc.push_back(a->second);
        loss.push_back(r.seedLoss[i].at(key));
      }
      const MeanStd ma = meanStd(acc), ml = meanStd(loss);
      std::string per;
      for (double v : acc) {
        char buf[16];
        std::snprintf(buf, sizeof buf, "%s%.2f", per.empty() ? "" : " ", v);
        per += buf;
      }
      std::printf("%-24s %9.2f ± %-6.2f %9.4f ± %-6.4f   %s\n", label.c_str(), ma.mean, ma.std,
                  ml.mean, ml.std, per.c_str());
    }
    std::printf("\n");
  } else if (!e.seedsNote.empty()) {
    std::printf("%s\n\n", e.seedsNote.c_str());
  }
  if (e.finetune) {
    const TrainOptions& o = e.finetuneOptions;
    std::printf("fine-tuning after fusion: %d epochs, lr %g (%s), momentum %g, weight decay %g, "
                "batch size %d, seed %llu%s; the same budget and data order for both\n",
                o.epochs, o.learningRate, o.schedule.c_str(), o.momentum, o.weightDecay,
                o.batchSize, (unsigned long long)o.seed,
                o.limit > 0 ? (", first " + std::to_string(o.limit) + " training images").c_str() : "");
    const auto& fused = r.finetune.at("fused");
    const auto vit = r.finetune.find("vanilla");
    const bool haveVanilla = vit != r.finetune.end();
    std::printf("%-7s %24s", "epoch", seriesLabel("fused", r.startRow.at("fused")).c_str());
    if (haveVanilla) std::printf(" %24s", seriesLabel("vanilla", r.startRow.at("vanilla")).c_str());
    std::printf("\n%-7s %12s %11s", "", "accuracy", "loss");
    if (haveVanilla) std::printf(" %12s %11s", "accuracy", "loss");
    std::printf("\n");
    std::vector<int> below;
    for (size_t i = 0; i < fused.size(); ++i) {
      std::printf("%-7d %11.2f%% %11.4f", fused[i].epoch, fused[i].accuracy, fused[i].loss);
      if (haveVanilla) {
        const FinetunePoint& v = vit->second[i];
        std::printf(" %11.2f%% %11.4f", v.accuracy, v.loss);
        if (fused[i].accuracy < v.accuracy) below.push_back(fused[i].epoch);
      }
      std::printf("\n");
    }
    std::string refs;
    for (const auto& [key, label] : tableRows(summary, pairLabels)) {
      if (key != "ensemble" && key.rfind("model_", 0) != 0) continue;
      char buf[96];
      std::snprintf(buf, sizeof buf, "%s%s %.2f %%", refs.empty() ? "" : ", ", label.c_str(),
                    summary.accuracy.at(key));
      refs += buf;
    }
    std::printf("reference lines (not fine-tuned): %s\n", refs.c_str());
    if (haveVanilla) {
      if (below.empty()) {
        std::printf("OT fusion is at or above vanilla averaging at every epoch (0..%d)\n",
                    fused.back().epoch);
      } else {
        std::string list;
        for (int ep : below) list += (list.empty() ? "" : ", ") + std::to_string(ep);
        std::printf("OT fusion is below vanilla averaging at epoch(s) %s\n", list.c_str());
      }
    }
    if (!e.finetuneCsv.empty()) std::printf("wrote %s\n", e.finetuneCsv.c_str());
    std::printf("\n");
  }
}

std::string appendFuseExtrasJson(const std::string& json, const FuseExtras& e,
                                 const FuseExtrasResult& r, const FusionSummary& summary) {
  std::ostringstream m;
  if (e.finetune) {
    const TrainOptions& o = e.finetuneOptions;
    m << ",\n  \"finetune\": {\"options\": {\"epochs\": " << o.epochs
      << ", \"lr\": " << jsonNumber(o.learningRate) << ", \"momentum\": " << jsonNumber(o.momentum)
      << ", \"weight_decay\": " << jsonNumber(o.weightDecay)
      << ", \"schedule\": " << jsonString(o.schedule) << ", \"batch_size\": " << o.batchSize
      << ", \"seed\": " << o.seed << ", \"limit\": " << o.limit
      << ", \"augment\": " << (o.augment ? "true" : "false") << "},\n    \"start\": {";
    bool first = true;
    for (const auto& [series, row] : r.startRow) {
      m << (first ? "" : ", ") << jsonString(series) << ": " << jsonString(row);
      first = false;
    }
    m << "},\n    \"series\": {";
    first = true;
    for (const auto& [series, points] : r.finetune) {
      m << (first ? "\n      " : ",\n      ") << jsonString(series) << ": [";
      for (size_t i = 0; i < points.size(); ++i)
        m << (i ? ",\n        " : "\n        ") << pointJson(points[i]);
      m << "]";
      first = false;
    }
    m << "},\n    \"references\": {";
    first = true;
    for (const auto& key : referenceKeys(summary)) {
      auto it = summary.accuracy.find(key);
      if (it == summary.accuracy.end()) continue;
      m << (first ? "" : ", ") << jsonString(key) << ": {\"accuracy\": " << jsonNumber(it->second)
        << ", \"loss\": " << jsonNumber(summary.loss.at(key)) << "}";
      first = false;
    }
    m << "}";
    if (!e.finetuneCsv.empty()) m << ",\n    \"csv\": " << jsonString(e.finetuneCsv);
    m << "}";
  }
  if (e.seeds > 1) {
    m << ",\n  \"seeds\": {\"requested\": " << e.seeds << ", \"seeds\": [";
    for (size_t i = 0; i < r.seeds.size(); ++i) m << (i ? ", " : "") << r.seeds[i];
    m << "], \"std\": \"sample standard deviation (n - 1)\"";
    if (!e.seedsNote.empty()) m << ", \"note\": " << jsonString(e.seedsNote);
    m << ",\n    \"rows\": {";
    bool first = true;
    for (const auto& [key, label] : tableRows(summary, false)) {
      std::vector<double> acc, loss;
      for (size_t i = 0; i < r.seeds.size(); ++i) {
        auto a = r.seedAccuracy[i].find(key);
        if (a == r.seedAccuracy[i].end()) continue;
        acc.push_back(a->second);
        loss.push_back(r.seedLoss[i].at(key));
      }
      auto stats = [](const std::vector<double>& v) {
        const MeanStd ms = meanStd(v);
        std::string s = "{\"mean\": " + jsonNumber(ms.mean) + ", \"std\": " + jsonNumber(ms.std) +
                        ", \"per_seed\": [";
        for (size_t i = 0; i < v.size(); ++i) s += (i ? ", " : "") + jsonNumber(v[i]);
        return s + "]}";
      };
      m << (first ? "\n      " : ",\n      ") << jsonString(key) << ": {\"accuracy\": "
        << stats(acc) << ", \"loss\": " << stats(loss) << "}";
      first = false;
    }
    m << "}}";
  }
  const std::string member = m.str();
  if (member.empty()) return json;
  std::string text = json;
  const size_t close = text.rfind('}');
  text.insert(text.find_last_not_of(" \n", close - 1) + 1, member);
  return text;
}

}  // namespace otfuse::cli
