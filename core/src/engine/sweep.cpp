#include "otfuse/engine/sweep.h"

#include <ATen/Parallel.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <fstream>
#include <limits>
#include <mutex>
#include <set>
#include <sstream>
#include <thread>

#include "otfuse/engine/engine.h"
#include "otfuse/error.h"
#include "otfuse/fusion/options.h"
#include "otfuse/fusion/report.h"
#include "otfuse/engine/finetune.h"
#include "otfuse/text.h"

namespace otfuse {
namespace fs = std::filesystem;

namespace {

std::string shortNum(double v) {  // %g: names and command lines ("0.01", "0.5")
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.10g", v);
  return buf;
}

std::string fullNum(double v) {  // JSON/CSV: the shortest text that reads back as v
  if (!std::isfinite(v)) return "null";
  char buf[40];
  if (v == std::floor(v) && std::fabs(v) < 1e15) {
    std::snprintf(buf, sizeof buf, "%.0f", v);
    return buf;
  }
  return shortestNumber(v);
}

std::string safeName(const std::string& s) {
  std::string out;
  for (char c : s) out += (std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-') ? c : '_';
  return out;
}

// ---- a small JSON reader (the results are written by reportJson) ------------------------

struct Json {
  enum Kind { Null, Bool, Number, String, Array, Object } kind = Null;
  bool boolean = false;
  double number = 0;
  std::string string;
  std::vector<Json> array;
  std::vector<std::pair<std::string, Json>> object;

  const Json* member(const std::string& name) const {
    for (const auto& [k, v] : object)
      if (k == name) return &v;
    return nullptr;
  }
};

class JsonParser {
 public:
  explicit JsonParser(const std::string& text) : s_(text) {}

  Json parseDocument() {
    Json v = parseValue(0);
    skipSpace();
    if (i_ != s_.size()) fail("unexpected text after the JSON value");
    return v;
  }

 private:
  [[noreturn]] void fail(const std::string& what) const {
    throw std::runtime_error(what + " at byte " + std::to_string(i_));
  }
  void skipSpace() {
    while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\n' || s_[i_] == '\t' || s_[i_] == '\r'))
      ++i_;
  }
  bool consume(const char* word) {
    const size_t n = std::char_traits<char>::length(word);
    if (s_.compare(i_, n, word) != 0) return false;
    i_ += n;
    return true;
  }
  Json parseValue(int depth) {
    if (depth > 64) fail("nested too deeply");
    skipSpace();
    if (i_ >= s_.size()) fail("unexpected end of file");
    Json v;
    const char c = s_[i_];
    if (c == '{') {
      v.kind = Json::Object;
      ++i_;
      skipSpace();
      if (i_ < s_.size() && s_[i_] == '}') {
        ++i_;
        return v;
      }
      while (true) {
        skipSpace();
        if (i_ >= s_.size() || s_[i_] != '"') fail("expected a member name");
        std::string key = parseString();
        skipSpace();
        if (i_ >= s_.size() || s_[i_] != ':') fail("expected ':'");
        ++i_;
        v.object.emplace_back(std::move(key), parseValue(depth + 1));
        skipSpace();
        if (i_ < s_.size() && s_[i_] == ',') {
          ++i_;
          continue;
        }
        if (i_ < s_.size() && s_[i_] == '}') {
          ++i_;
          return v;
        }
        fail("expected ',' or '}'");
      }
    }
    if (c == '[') {
      v.kind = Json::Array;
      ++i_;
      skipSpace();
      if (i_ < s_.size() && s_[i_] == ']') {
        ++i_;
        return v;
      }
      while (true) {
        v.array.push_back(parseValue(depth + 1));
        skipSpace();
        if (i_ < s_.size() && s_[i_] == ',') {
          ++i_;
          continue;
        }
        if (i_ < s_.size() && s_[i_] == ']') {
          ++i_;
          return v;
        }
        fail("expected ',' or ']'");
      }
    }
    if (c == '"') {
      v.kind = Json::String;
      v.string = parseString();
      return v;
    }
    if (consume("null")) return v;
    if (consume("true")) {
      v.kind = Json::Bool;
      v.boolean = true;
      return v;
    }
    if (consume("false")) {
      v.kind = Json::Bool;
      return v;
    }
    if (c == '-' || (c >= '0' && c <= '9')) {
      const char* begin = s_.c_str() + i_;
      char* end = nullptr;
      v.kind = Json::Number;
      v.number = std::strtod(begin, &end);
      if (end == begin) fail("bad number");
      i_ += size_t(end - begin);
      return v;
    }
    fail(std::string("unexpected character '") + c + "'");
  }
  std::string parseString() {
    ++i_;  // opening quote
    std::string out;
    while (i_ < s_.size()) {
      const char c = s_[i_++];
      if (c == '"') return out;
      if (c != '\\') {
        out += c;
        continue;
      }
      if (i_ >= s_.size()) break;
      const char e = s_[i_++];
      switch (e) {
        case 'n': out += '\n'; break;
        case 't': out += '\t'; break;
        case 'r': out += '\r'; break;
        case 'b': out += '\b'; break;
        case 'f': out += '\f'; break;
        case 'u': {
          if (i_ + 4 > s_.size()) fail("bad \\u escape");
          const unsigned code = unsigned(std::strtoul(s_.substr(i_, 4).c_str(), nullptr, 16));
          i_ += 4;
          if (code < 0x80) {
            out += char(code);
          } else if (code < 0x800) {
            out += char(0xC0 | (code >> 6));
            out += char(0x80 | (code & 0x3F));
          } else {
            out += char(0xE0 | (code >> 12));
            out += char(0x80 | ((code >> 6) & 0x3F));
            out += char(0x80 | (code & 0x3F));
          }
          break;
        }
        default: out += e;
      }
    }
    fail("unterminated string");
  }

  const std::string& s_;
  size_t i_ = 0;
};

std::string readWholeFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw FileError(path, "cannot be opened");
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) throw FileError(path, "cannot be read");
  return ss.str();
}

// One result file, checked.
struct ResultFile {
  std::string path;
  std::map<std::string, std::string> params;  // the grouping parameters
  std::vector<std::string> models;
  int anchor = 1;
  uint64_t seed = 0;
  bool approximate = false;  // some plan stopped at the Sinkhorn iteration limit
  std::map<std::string, double> accuracy, loss;
};

std::string jsonScalarText(const Json& v) {
  switch (v.kind) {
    case Json::String: return v.string;
    case Json::Number: return fullNum(v.number);
    case Json::Bool: return v.boolean ? "true" : "false";
    case Json::Null: return "null";
    case Json::Array: {
      std::string s;
      for (const auto& x : v.array) s += (s.empty() ? "" : ",") + jsonScalarText(x);
      return s;
    }
    default: return "{...}";
  }
}

ResultFile readResult(const std::string& path, const CollectOptions& options) {
  const std::string text = readWholeFile(path);
  Json doc;
  try {
    doc = JsonParser(text).parseDocument();
  } catch (const std::runtime_error& e) {
    throw FileError(path, std::string("is not valid JSON (") + e.what() +
                              "); a result of otfuse fuse --json-out was expected");
  }
  auto notResult = [&](const std::string& why) {
    return FileError(path, "is not an otfuse fuse result: " + why);
  };
  if (doc.kind != Json::Object) throw notResult("the top level is not an object");
  const Json* summary = doc.member("summary");
  const Json* accuracy = doc.member("accuracy");
  const Json* loss = doc.member("loss");
  if (!summary || summary->kind != Json::Object) throw notResult("no \"summary\" object");
  if (!accuracy || accuracy->kind != Json::Object || accuracy->object.empty())
    throw notResult("no \"accuracy\" object (was it fused with --no-eval?)");
  if (!loss || loss->kind != Json::Object) throw notResult("no \"loss\" object");
  ResultFile r;
  r.path = path;
  const Json* models = summary->member("models");
  if (!models || models->kind != Json::Array || models->array.size() < 2)
    throw notResult("\"summary\" has no list of at least two \"models\"");
  for (const auto& m : models->array) {
    if (m.kind != Json::String) throw notResult("a model path in \"summary\" is not a string");
    r.models.push_back(m.string);
  }
  for (const char* required : {"mode", "solver", "t", "seed", "dataset"})
    if (!summary->member(required)) throw notResult(std::string("\"summary\" has no \"") + required + "\"");
  const Json* seed = summary->member("seed");
  if (seed->kind != Json::Number || seed->number < 0) throw notResult("\"seed\" is not a number");
  r.seed = uint64_t(seed->number);
  if (const Json* a = summary->member("anchor"); a && a->kind == Json::Number) r.anchor = int(a->number);
  const std::string mode = jsonScalarText(*summary->member("mode"));
  const std::string solver = jsonScalarText(*summary->member("solver"));
  for (const auto& [key, value] : summary->object) {
    if (key == "seed" || key == "dataset_source" || key == "models") continue;
    if (key == "epsilon" && solver != "sinkhorn") continue;
    if (key == "samples" && mode != "activations") continue;
    r.params[key] = jsonScalarText(value);
  }
  if (!options.acrossModels) {
    std::string m;
    for (const auto& p : r.models) m += (m.empty() ? "" : " + ") + p;
    r.params["models"] = m;
  }
  if (const Json* plans = doc.member("plans"); plans && plans->kind == Json::Object)
    if (const Json* limit = plans->member("at_iteration_limit");
        limit && limit->kind == Json::Array && !limit->array.empty())
      r.approximate = true;
  for (const auto& [key, value] : accuracy->object) {
    if (value.kind != Json::Number) throw notResult("accuracy \"" + key + "\" is not a number");
    const Json* l = loss->member(key);
    if (!l || l->kind != Json::Number) throw notResult("no loss for \"" + key + "\"");
    r.accuracy[key] = value.number;
    r.loss[key] = l->number;
  }
  return r;
}

std::string rowLabel(const std::string& key, size_t models, int anchor) {
  if (key.rfind("model_", 0) == 0) {
    const int i = std::atoi(key.c_str() + 6);
    if (models == 2 && anchor == 1) return i == 0 ? "model A" : "model B";
    return "model " + std::to_string(i) + (i == anchor ? " (anchor)" : "");
  }
  static const std::map<std::string, std::string> labels = {
      {"ensemble", "prediction ensemble"},    {"vanilla", "vanilla average"},
      {"fused", "OT fusion"},                 {"vanilla_bn", "vanilla + BN re-est."},
      {"fused_bn", "OT fusion + BN re-est."}, {"sequential", "sequential fusion"},
      {"sequential_bn", "sequential + BN re-est."}, {"vanilla_repair", "vanilla + REPAIR"},
      {"fused_repair", "OT fusion + REPAIR"}};
  auto it = labels.find(key);
  return it == labels.end() ? key : it->second;
}

int rowOrder(const std::string& key) {
  if (key.rfind("model_", 0) == 0) return std::atoi(key.c_str() + 6);
  static const char* order[] = {"ensemble",   "vanilla",       "fused",
                                "vanilla_bn", "fused_bn",      "vanilla_repair",
                                "fused_repair", "sequential",  "sequential_bn"};
  for (int i = 0; i < 9; ++i)
    if (key == order[i]) return 100000 + i;
  return 200000;
}

std::string baseName(const std::string& p) { return fs::path(p).filename().string(); }

std::string configTitle(const ResultFile& r, const CollectOptions& options, size_t pairs) {
  const auto& p = r.params;
  auto get = [&](const char* k) {
    auto it = p.find(k);
    return it == p.end() ? std::string() : it->second;
  };
  std::string t = get("mode") + ", " + get("solver");
  if (get("solver") == "sinkhorn") t += " (eps " + get("epsilon") + ")";
  if (get("mode") == "activations") t += ", " + get("samples") + " samples";
  t += ", t = " + get("t");
  if (options.acrossModels) {
    t += ", " + std::to_string(pairs) + " model pair" + (pairs == 1 ? "" : "s");
  } else {
    std::string m;
    for (const auto& x : r.models) m += (m.empty() ? "" : " + ") + baseName(x);
    t += ": " + m;
  }
  return t;
}

}  // namespace

// ---- enumeration and jobs ------------------------------------------------------------------

std::vector<SweepPoint> enumerateSweep(const SweepAxes& axes) {
  if (axes.pairs.empty()) throw Error("a sweep needs at least one model pair");
  if (axes.modes.empty() || axes.solvers.empty() || axes.epsilons.empty() || axes.ts.empty() ||
      axes.seeds.empty())
    throw Error("every sweep axis (modes, solvers, eps, t, seeds) needs at least one value");
  for (const auto& m : axes.modes) parseAlignMode(m);  // throws on a bad value
  for (const auto& s : axes.solvers) parseSolver(s);
  for (double e : axes.epsilons)
    if (!(e > 0) || !std::isfinite(e)) throw Error("every eps must be a positive number, got " + shortNum(e));
  for (double t : axes.ts)
    if (!(t >= 0 && t <= 1)) throw Error("every t must lie in [0, 1], got " + shortNum(t));
  std::vector<SweepPoint> points;
  std::set<std::string> names;
  for (size_t p = 0; p < axes.pairs.size(); ++p) {
    const auto& [a, b] = axes.pairs[p];
    const std::string absA = fs::absolute(a).lexically_normal().string();
    const std::string absB = fs::absolute(b).lexically_normal().string();
    std::string pairName = safeName(fs::path(a).stem().string()) + "--" +
                           safeName(fs::path(b).stem().string());
    if (axes.pairs.size() > 1) pairName = "pair" + std::to_string(p) + "_" + pairName;
    for (const auto& mode : axes.modes)
      for (const auto& solver : axes.solvers) {
        const bool sinkhorn = solver == "sinkhorn";
        const std::vector<double> eps = sinkhorn ? axes.epsilons : std::vector<double>{0.01};
        for (double e : eps)
          for (double t : axes.ts)
            for (uint64_t seed : axes.seeds) {
              SweepPoint pt;
              pt.pair = int(p);
              pt.a = absA;
              pt.b = absB;
              pt.mode = mode;
              pt.solver = solver;
              pt.epsilon = e;
              pt.t = t;
              pt.seed = seed;
              pt.fileName = pairName + "_" + safeName(mode) + "_" + safeName(solver) +
                            (sinkhorn ? "_eps" + shortNum(e) : "") + "_t" + shortNum(t) +
                            "_seed" + std::to_string(seed) + ".json";
              if (!names.insert(pt.fileName).second)
                throw Error("the sweep names a point twice (" + pt.fileName +
                            "): a value is repeated on an axis");
              points.push_back(std::move(pt));
            }
      }
  }
  return points;
}

std::vector<std::string> fuseArguments(const SweepPoint& p, const SweepCommon& c,
                                       const std::string& jsonOut) {
  std::vector<std::string> args = {"--dataset", c.dataset, "--mode", p.mode, "--solver", p.solver};
  if (p.solver == "sinkhorn") args.insert(args.end(), {"--eps", shortNum(p.epsilon)});
  args.insert(args.end(), {"--t", shortNum(p.t), "--seed", std::to_string(p.seed)});
  if (p.mode == "activations") args.insert(args.end(), {"--samples", std::to_string(c.samples)});
  args.insert(args.end(), {"--bn-batches", std::to_string(c.bnBatches)});
  if (!c.arch.empty()) args.insert(args.end(), {"--arch", c.arch});
  if (!c.dataDir.empty()) args.insert(args.end(), {"--data-dir", c.dataDir});
  args.insert(args.end(), {"--no-progress", "--json-out", jsonOut, p.a, p.b});
  return args;
}

std::string shellQuote(const std::string& w) {
  if (!w.empty() && w.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                        "0123456789_-+=./:,@%") == std::string::npos)
    return w;
  std::string out = "'";
  for (char c : w) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

std::string jobsFileText(const std::vector<SweepPoint>& points, const SweepCommon& common,
                         const std::string& otfuse, const std::string& outDir) {
  const std::string dir = fs::absolute(outDir).lexically_normal().string();
  std::string text;
  for (const auto& p : points) {
    text += "OTFUSE_THREADS=1 " + shellQuote(otfuse) + " fuse";
    for (const auto& a : fuseArguments(p, common, (fs::path(dir) / p.fileName).string()))
      text += " " + shellQuote(a);
    text += "\n";
  }
  return text;
}

std::string slurmScriptText(const std::string& jobsFile, size_t jobs, const std::string& logDir) {
  const std::string file = fs::absolute(jobsFile).lexically_normal().string();
  const std::string logs = fs::absolute(logDir).lexically_normal().string();
  std::string s = "#!/bin/bash\n";
  s += "# One Slurm array task per line of " + file + " (one otfuse fuse run each).\n";
  s += "# Submit with: sbatch " + shellQuote(file + ".sbatch") + "\n";
  s += "#SBATCH --job-name=otfuse-sweep\n";
  s += "#SBATCH --array=1-" + std::to_string(jobs) + "\n";
  s += "#SBATCH --cpus-per-task=1\n";
  s += "#SBATCH --output=" + logs + "/slurm-%A_%a.out\n";
  s += "set -euo pipefail\n";
  s += "line=$(sed -n \"${SLURM_ARRAY_TASK_ID}p\" " + shellQuote(file) + ")\n";
  s += "exec bash -c \"$line\"\n";
  return s;
}

// ---- local run -----------------------------------------------------------------------------

SweepRunResult runSweep(const std::vector<SweepPoint>& points, const SweepCommon& common,
                        const std::string& outDir, const SweepRunOptions& options,
                        const SweepProgressFn& progress, const CancelFlag* cancel) {
  std::error_code ec;
  fs::create_directories(outDir, ec);
  if (ec || !fs::is_directory(outDir)) throw FileError(outDir, "cannot create the folder: " + ec.message());
  // Every model once (handles are immutable and shared by the workers).
  std::map<std::string, ModelPtr> models;
  for (const auto& p : points)
    for (const auto* path : {&p.a, &p.b})
      if (!models.count(*path)) {
        throwIfCancelled(cancel);
        models[*path] = loadModel(*path, common.arch);
      }

  SweepRunResult result;
  std::vector<const SweepPoint*> todo;
  for (const auto& p : points) {
    if (options.skipExisting && fs::exists(fs::path(outDir) / p.fileName)) {
      ++result.skipped;
      continue;
    }
    todo.push_back(&p);
  }
  int workers = options.workers > 0 ? options.workers : int(std::thread::hardware_concurrency());
  workers = std::max(1, std::min<int>(workers, int(std::max<size_t>(todo.size(), 1))));

  // One intra-op thread per worker: no oversubscription, and the same numbers as the emitted
  // jobs (OTFUSE_THREADS=1). Restored afterwards.
  const int threadsBefore = at::get_num_threads();
  at::set_num_threads(1);
  std::atomic<size_t> next{0};
  std::atomic<bool> stop{false};
  std::mutex mutex;  // result, progress
  std::exception_ptr fatal;
  SweepProgress prog;
  prog.total = points.size();
  prog.done = result.skipped;
  auto work = [&]() {
    while (!stop.load()) {
      if (cancel && cancel->load()) {
        stop = true;
        break;
      }
      const size_t i = next.fetch_add(1);
      if (i >= todo.size()) break;
      const SweepPoint& p = *todo[i];
      std::string failure;
      try {
        FusionRequest r;
        r.a = models.at(p.a);
        r.b = models.at(p.b);
        r.options.mode = parseAlignMode(p.mode);
        r.options.solver = parseSolver(p.solver);
        r.options.epsilon = p.epsilon;
        r.options.t = p.t;
        r.dataset = common.dataset;
        r.datasetSource = "given with --dataset";
        r.dataDir = common.dataDir;
        r.samples = common.samples;
        r.seed = p.seed;
        r.bnBatches = common.bnBatches;
        FusionOutcome out = runFusion(r, {}, cancel);
        writeFileAtomically((fs::path(outDir) / p.fileName).string(),
                            reportJson(out.summary, &out.layers, false, nullptr));
      } catch (const Cancelled&) {
        stop = true;
        break;
      } catch (const Error& e) {
        failure = e.what();
      } catch (...) {
        std::lock_guard<std::mutex> lock(mutex);
        if (!fatal) fatal = std::current_exception();
        stop = true;
        break;
      }
      std::lock_guard<std::mutex> lock(mutex);
      if (failure.empty())
        ++result.written;
      else
        result.failures.emplace_back(p.fileName, failure);
      ++prog.done;
      prog.lastPoint = p.fileName;
      if (progress) progress(prog);
    }
  };
  std::vector<std::thread> pool;
  for (int w = 1; w < workers; ++w) pool.emplace_back(work);
  try {
    work();
  } catch (...) {
    stop = true;
    for (auto& t : pool) t.join();
    at::set_num_threads(threadsBefore);
    throw;
  }
  for (auto& t : pool) t.join();
  at::set_num_threads(threadsBefore);
  if (fatal) std::rethrow_exception(fatal);
  throwIfCancelled(cancel);
  return result;
}

// ---- collect -------------------------------------------------------------------------------

CollectResult collectResults(const std::string& dir, const CollectOptions& options) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) throw FileError(dir, "is not a folder");
  std::vector<std::string> files;
  CollectResult out;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    const std::string name = entry.path().filename().string();
    if (entry.is_regular_file() && entry.path().extension() == ".json" && name[0] != '.')
      files.push_back(entry.path().string());
    else
      out.ignored.push_back(name);
  }
  if (ec) throw FileError(dir, "cannot be listed: " + ec.message());
  std::sort(files.begin(), files.end());
  std::sort(out.ignored.begin(), out.ignored.end());
  if (files.empty()) throw FileError(dir, "holds no result files (*.json)");

  std::map<std::string, std::vector<ResultFile>> groups;  // key: params
  for (const auto& f : files) {
    ResultFile r = readResult(f, options);
    std::string key;
    for (const auto& [k, v] : r.params) key += k + "=" + v + "\n";
    groups[key].push_back(std::move(r));
  }
  out.files = files.size();
  for (auto& [key, runs] : groups) {
    // The same point twice would count one run double: refuse, naming both files.
    std::map<std::string, std::string> seen;
    for (const auto& r : runs) {
      std::string id = std::to_string(r.seed);
      for (const auto& m : r.models) id += "|" + m;
      auto [it, fresh] = seen.emplace(id, r.path);
      if (!fresh)
        throw FileError(r.path, "repeats the run of " + it->second +
                                    " (same models, settings and seed)");
    }
    ConfigStats c;
    c.params = runs.front().params;
    std::set<std::string> pairs;
    std::set<uint64_t> seeds;
    for (const auto& r : runs) {
      std::string m;
      for (const auto& x : r.models) m += x + "\n";
      pairs.insert(m);
      seeds.insert(r.seed);
      c.files.push_back(r.path);
      c.approximateRuns += r.approximate;
    }
    c.seeds.assign(seeds.begin(), seeds.end());
    c.title = configTitle(runs.front(), options, pairs.size());
    std::set<std::string> keys;
    for (const auto& r : runs)
      for (const auto& [k, v] : r.accuracy) keys.insert(k);
    std::vector<std::string> ordered(keys.begin(), keys.end());
    std::stable_sort(ordered.begin(), ordered.end(),
                     [](const std::string& x, const std::string& y) { return rowOrder(x) < rowOrder(y); });
    for (const auto& k : ordered) {
      RowStats s;
      s.key = k;
      s.label = rowLabel(k, runs.front().models.size(), runs.front().anchor);
      std::vector<double> acc, loss;
      for (const auto& r : runs)
        if (auto it = r.accuracy.find(k); it != r.accuracy.end()) {
          acc.push_back(it->second);
          loss.push_back(r.loss.at(k));
        }
      s.n = acc.size();
      // Mean and sample std (n - 1); no std from a single run.
      auto summarize = [](const std::vector<double>& v, double& mean, std::optional<double>& sd) {
        const MeanStd m = meanStd(v);
        mean = v.empty() ? std::numeric_limits<double>::quiet_NaN() : m.mean;
        if (m.count >= 2) sd = m.std;
      };
      summarize(acc, s.accuracyMean, s.accuracyStd);
      summarize(loss, s.lossMean, s.lossStd);
      c.rows.push_back(std::move(s));
    }
    out.configs.push_back(std::move(c));
  }
  std::stable_sort(out.configs.begin(), out.configs.end(),
                   [](const ConfigStats& x, const ConfigStats& y) { return x.title < y.title; });
  return out;
}

std::string collectTableText(const CollectResult& r) {
  std::string s;
  char buf[256];
  for (size_t i = 0; i < r.configs.size(); ++i) {
    const ConfigStats& c = r.configs[i];
    std::string seeds;
    for (uint64_t x : c.seeds) seeds += (seeds.empty() ? "" : ",") + std::to_string(x);
    std::snprintf(buf, sizeof buf, "%s%s\n  %zu run%s, seed%s %s; mean ± std (sample, n - 1)\n",
                  i ? "\n" : "", c.title.c_str(), c.files.size(), c.files.size() == 1 ? "" : "s",
                  c.seeds.size() == 1 ? "" : "s", seeds.c_str());
    s += buf;
    if (c.approximateRuns)
      s += "  note: " + std::to_string(c.approximateRuns) + " of " + std::to_string(c.files.size()) +
           " runs have approximate plans (a Sinkhorn layer stopped at its iteration limit)\n";
    std::snprintf(buf, sizeof buf, "  %-26s %20s %22s\n", "", "test accuracy (%)", "test loss");
    s += buf;
    for (const auto& row : c.rows) {
      char acc[64], loss[64];
      if (row.accuracyStd)
        std::snprintf(acc, sizeof acc, "%6.2f ± %5.2f", row.accuracyMean, *row.accuracyStd);
      else
        std::snprintf(acc, sizeof acc, "%6.2f ±   n/a", row.accuracyMean);
      if (row.lossStd)
        std::snprintf(loss, sizeof loss, "%7.4f ± %6.4f", row.lossMean, *row.lossStd);
      else
        std::snprintf(loss, sizeof loss, "%7.4f ±    n/a", row.lossMean);
      // "±" is two bytes: widen the fields by one.
      std::snprintf(buf, sizeof buf, "  %-26s %21s %23s%s\n", row.label.c_str(), acc, loss,
                    row.n != c.files.size() ? (" (n = " + std::to_string(row.n) + ")").c_str() : "");
      s += buf;
    }
  }
  return s;
}

std::string collectTableJson(const CollectResult& r) {
  auto opt = [](const std::optional<double>& v) { return v ? fullNum(*v) : std::string("null"); };
  std::string s = "{\"files\": " + std::to_string(r.files) + ", \"configurations\": [";
  for (size_t i = 0; i < r.configs.size(); ++i) {
    const ConfigStats& c = r.configs[i];
    s += i ? ",\n  {" : "\n  {";
    s += "\"title\": " + jsonQuoted(c.title) + ", \"params\": {";
    size_t k = 0;
    for (const auto& [name, value] : c.params)
      s += (k++ ? ", " : "") + jsonQuoted(name) + ": " + jsonQuoted(value);
    s += "}, \"runs\": " + std::to_string(c.files.size()) + ", \"seeds\": [";
    for (size_t j = 0; j < c.seeds.size(); ++j) s += (j ? ", " : "") + std::to_string(c.seeds[j]);
    s += "], \"rows\": [";
    for (size_t j = 0; j < c.rows.size(); ++j) {
      const RowStats& row = c.rows[j];
      s += (j ? ",\n    " : "\n    ") + std::string("{\"key\": ") + jsonQuoted(row.key) +
           ", \"label\": " + jsonQuoted(row.label) + ", \"n\": " + std::to_string(row.n) +
           ", \"accuracy_mean\": " + fullNum(row.accuracyMean) +
           ", \"accuracy_std\": " + opt(row.accuracyStd) +
           ", \"loss_mean\": " + fullNum(row.lossMean) + ", \"loss_std\": " + opt(row.lossStd) + "}";
    }
    s += "], \"approximate_runs\": " + std::to_string(c.approximateRuns) + "}";
  }
  s += "\n]}\n";
  return s;
}

std::string collectTableCsv(const CollectResult& r) {
  auto csvField = [](const std::string& v) {
    if (v.find_first_of(",\"\n") == std::string::npos) return v;
    std::string out = "\"";
    for (char c : v) out += c == '"' ? std::string("\"\"") : std::string(1, c);
    return out + "\"";
  };
  auto opt = [](const std::optional<double>& v) { return v ? fullNum(*v) : std::string(); };
  std::string s = "configuration,mode,solver,epsilon,t,runs,row,label,n,accuracy_mean,"
                  "accuracy_std,loss_mean,loss_std\n";
  for (const auto& c : r.configs) {
    auto get = [&](const char* k) {
      auto it = c.params.find(k);
      return it == c.params.end() ? std::string() : it->second;
    };
    for (const auto& row : c.rows)
      s += csvField(c.title) + "," + get("mode") + "," + get("solver") + "," + get("epsilon") +
           "," + get("t") + "," + std::to_string(c.files.size()) + "," + row.key + "," +
           csvField(row.label) + "," + std::to_string(row.n) + "," + fullNum(row.accuracyMean) +
           "," + opt(row.accuracyStd) + "," + fullNum(row.lossMean) + "," + opt(row.lossStd) + "\n";
  }
  return s;
}

}  // namespace otfuse
