#include "otfuse/fusion/report.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include "otfuse/error.h"

namespace otfuse {
namespace {

std::string number(double v) {
  if (!std::isfinite(v)) return "null";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

// Summary values (accuracies, losses, seconds): 10 significant digits, so 96.31 prints as such.
std::string shortNumber(double v) {
  if (!std::isfinite(v)) return "null";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.10g", v);
  return buf;
}

std::string quoted(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out += buf;
        } else {
          out += c;
        }
    }
  }
  return out + "\"";
}

std::string object(const std::map<std::string, double>& m) {
  std::string out = "{";
  for (const auto& [k, v] : m)
    out += (out.size() > 1 ? ", " : "") + quoted(k) + ": " + shortNumber(v);
  return out + "}";
}

std::string vectorJson(const ot::Vector& v) {
  std::string out = "[";
  for (Eigen::Index i = 0; i < v.size(); ++i) out += (i ? "," : "") + number(v(i));
  return out + "]";
}

std::string matrixJson(const ot::Matrix& m) {
  std::string out = "[";
  for (Eigen::Index i = 0; i < m.rows(); ++i) {
    out += i ? ",\n    [" : "\n    [";
    for (Eigen::Index j = 0; j < m.cols(); ++j) out += (j ? "," : "") + number(m(i, j));
    out += "]";
  }
  return out + "]";
}

}  // namespace

PlanStatus planStatusMany(const std::vector<std::vector<LayerResult>>& layers) {
  PlanStatus all;
  const bool prefix = layers.size() > 2;
  for (size_t i = 0; i < layers.size(); ++i) {
    const PlanStatus st = planStatus(layers[i]);
    all.solved += st.solved;
    all.maxMarginalError = std::max(all.maxMarginalError, st.maxMarginalError);
    for (const std::string& name : st.atIterationLimit)
      all.atIterationLimit.push_back(prefix ? "model " + std::to_string(i) + " " + name : name);
  }
  return all;
}

namespace {

std::string planStatusJson(const PlanStatus& st, const FusionOptions& opt) {
  std::ostringstream o;
  o << "{\"status\": " << quoted(st.ok() ? "ok" : "iteration_limit")
    << ", \"solved\": " << st.solved << ", \"at_iteration_limit\": [";
  for (size_t i = 0; i < st.atIterationLimit.size(); ++i)
    o << (i ? ", " : "") << quoted(st.atIterationLimit[i]);
  o << "], \"max_marginal_error\": " << number(st.maxMarginalError)
    << ", \"max_iterations\": " << opt.sinkhornMaxIterations
    << ", \"text\": " << quoted(st.text(opt)) << "}";
  return o.str();
}

std::string layersJson(const std::vector<LayerResult>& layers, bool includeMatrices,
                       const std::string& indent) {
  std::ostringstream o;
  o << "[";
  for (size_t i = 0; i < layers.size(); ++i) {
    const LayerResult& r = layers[i];
    o << (i ? "," : "") << "\n" << indent << " {\"name\": " << quoted(r.name) << ", \"rows\": "
      << r.corrected.rows() << ", \"cols\": " << r.corrected.cols()
      << ", \"identity\": " << (r.identity ? "true" : "false")
      << ", \"reused\": " << (r.reused ? "true" : "false")
      << ", \"status\": " << quoted(ot::toString(r.status)) << ", \"iterations\": " << r.iterations
      << ", \"marginal_error\": " << number(r.marginalError)
      << ", \"ot_cost\": " << number(r.otCost) << ", \"entropy\": " << number(r.entropy)
      << ", \"mass_on_best\": " << number(r.massOnBest) << ", \"seconds\": " << shortNumber(r.seconds);
    if (includeMatrices && r.plan.size() > 0) {
      o << ",\n    \"mu\": " << vectorJson(r.mu) << ",\n    \"nu\": " << vectorJson(r.nu)
        << ",\n    \"cost\": " << matrixJson(r.cost) << ",\n    \"plan\": " << matrixJson(r.plan);
    }
    o << "}";
  }
  o << (layers.empty() ? "]" : "\n" + indent + "]");
  return o.str();
}

}  // namespace

std::string reportJson(const FusionSummary& s, const std::vector<LayerResult>* layers,
                       bool includeMatrices,
                       const std::vector<std::vector<LayerResult>>* modelLayers) {
  std::ostringstream o;
  const FusionOptions& opt = s.options;
  o << "{\n  \"summary\": {\"models\": [";
  for (size_t i = 0; i < s.models.size(); ++i) o << (i ? ", " : "") << quoted(s.models[i]);
  o << "], \"anchor\": " << s.anchor << ", \"weights\": [";
  for (size_t i = 0; i < s.weights.size(); ++i) o << (i ? ", " : "") << number(s.weights[i]);
  o << "], \"architecture\": " << quoted(s.architecture) << ", \"dataset\": " << quoted(s.dataset)
    << ", \"dataset_source\": " << quoted(s.datasetSource)
    << ", \"mode\": " << quoted(toString(opt.mode)) << ", \"solver\": " << quoted(toString(opt.solver))
    << ", \"epsilon\": " << number(opt.epsilon) << ", \"metric\": " << quoted(ot::toString(opt.metric))
    << ", \"normalization\": " << quoted(ot::toString(opt.normalization))
    << ", \"marginals\": " << quoted(toString(opt.marginals)) << ", \"t\": " << number(opt.t)
    << ", \"ot_output_layer\": " << (opt.otOutputLayer ? "true" : "false")
    << ", \"stream_map\": " << quoted(toString(opt.streamMap))
    << ", \"samples\": " << s.samples << ", \"seed\": " << s.seed;
  if (s.repair != RepairMode::None)
    o << ", \"repair\": " << quoted(toString(s.repair)) << ", \"repair_images\": " << s.repairImages;
  o << "},\n";
  o << "  \"plans\": " << planStatusJson(s.plans, opt) << ",\n";
  if (!s.modelPlans.empty()) {
    o << "  \"model_plans\": [";
    for (size_t i = 0; i < s.modelPlans.size(); ++i)
      o << (i ? ",\n    " : "\n    ")
        << (int(i) == s.anchor ? std::string("null") : planStatusJson(s.modelPlans[i], opt));
    o << "],\n";
  }
  o << "  \"accuracy\": " << object(s.accuracy) << ",\n";
  o << "  \"loss\": " << object(s.loss) << ",\n";
  if (!s.perClassAccuracy.empty()) {
    o << "  \"per_class_accuracy\": {";
    bool first = true;
    for (const auto& [k, v] : s.perClassAccuracy) {
      o << (first ? "" : ", ") << quoted(k) << ": [";
      for (size_t i = 0; i < v.size(); ++i) o << (i ? ", " : "") << shortNumber(v[i]);
      o << "]";
      first = false;
    }
    o << "},\n";
  }
  if (!s.confusion.empty()) {
    o << "  \"confusion\": {";
    bool first = true;
    for (const auto& [k, m] : s.confusion) {
      o << (first ? "" : ",") << "\n    " << quoted(k) << ": [";
      for (Eigen::Index i = 0; i < m.rows(); ++i) {
        o << (i ? ", [" : "[");
        for (Eigen::Index j = 0; j < m.cols(); ++j) o << (j ? ", " : "") << m(i, j);
        o << "]";
      }
      o << "]";
      first = false;
    }
    o << "},\n";
  }
  o << "  \"seconds\": {\"fusion\": " << shortNumber(s.fusionSeconds)
    << ", \"evaluation\": " << shortNumber(s.evaluationSeconds);
  if (s.sequentialSeconds > 0) o << ", \"sequential\": " << shortNumber(s.sequentialSeconds);
  o << "}";
  if (layers) o << ",\n  \"layers\": " << layersJson(*layers, includeMatrices, "  ");
  if (modelLayers) {
    o << ",\n  \"model_layers\": [";
    for (size_t i = 0; i < modelLayers->size(); ++i)
      o << (i ? ",\n   " : "\n   ") << layersJson((*modelLayers)[i], includeMatrices, "   ");
    o << "\n  ]";
  }
  o << "\n}\n";
  return o.str();
}

namespace {

int (*g_fsync)(int) = ::fsync;

std::string errorText(int error) {
  return std::strerror(error);
}

// Creates a new empty file next to `target` (name ".<file>.tmp-<random>", mode 0666 & ~umask
// like any new file); returns its open descriptor and sets `tmp`.
int createTemporary(const std::filesystem::path& target, std::string& tmp) {
  namespace fs = std::filesystem;
  const fs::path dir = target.has_parent_path() ? target.parent_path() : fs::path(".");
  std::error_code ec;
  if (!fs::is_directory(dir, ec))
    throw FileError(target.string(), "the folder " + dir.string() + " does not exist");
  std::random_device rd;
  for (int attempt = 0;; ++attempt) {
    tmp = (dir / ("." + target.filename().string() + ".tmp-" + std::to_string(rd()))).string();
    const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (fd >= 0) return fd;
    if (errno != EEXIST || attempt > 100)
      throw FileError(target.string(),
                      "cannot create a file in " + dir.string() + " (" + errorText(errno) + ")");
  }
}

// fsync + close of `fd`, whatever happens (the descriptor is closed on every path); returns 0
// or the first error.
int syncAndClose(int fd) {
  int error = g_fsync(fd) == 0 ? 0 : errno;
  if (::close(fd) != 0 && error == 0) error = errno;
  return error;
}

// Renames the synced temporary file over `path`, then syncs the folder (best effort: some file
// systems refuse fsync on folders). Removes `tmp` and throws on failure.
void commit(const std::string& tmp, const std::string& path) {
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    const int error = errno;
    ::unlink(tmp.c_str());
    throw FileError(path, "cannot replace the file (" + errorText(error) + ")");
  }
  const std::filesystem::path target(path);
  const std::string dir = target.has_parent_path() ? target.parent_path().string() : ".";
  const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) syncAndClose(dfd);
}

}  // namespace

namespace testing {
void setFsyncForTesting(int (*fsyncFn)(int)) {
  g_fsync = fsyncFn ? fsyncFn : ::fsync;
}
}  // namespace testing

void writeFileAtomically(const std::string& path, const std::string& text) {
  std::string tmp;
  const int fd = createTemporary(path, tmp);
  const char* p = text.data();
  size_t left = text.size();
  int error = 0;
  while (left > 0) {
    const ssize_t k = ::write(fd, p, left);
    if (k < 0 && errno == EINTR) continue;
    if (k <= 0) {
      error = k < 0 ? errno : EIO;
      break;
    }
    p += k;
    left -= static_cast<size_t>(k);
  }
  if (error != 0) {
    ::close(fd);
    ::unlink(tmp.c_str());
    throw FileError(path, "write failed (" + errorText(error) + ")");
  }
  if (const int e = syncAndClose(fd); e != 0) {
    ::unlink(tmp.c_str());
    throw FileError(path, "cannot write the file to disk (" + errorText(e) + ")");
  }
  commit(tmp, path);
}

std::string matrixCsv(const ot::Matrix& m) {
  std::string out;
  out.reserve(size_t(m.size()) * 12);
  char buf[32];
  for (Eigen::Index i = 0; i < m.rows(); ++i) {
    for (Eigen::Index j = 0; j < m.cols(); ++j) {
      std::snprintf(buf, sizeof buf, "%.17g", m(i, j));
      if (j) out += ',';
      out += buf;
    }
    out += '\n';
  }
  return out;
}

std::vector<std::string> writePlansCsv(const std::string& dir,
                                       const std::vector<LayerResult>& layers) {
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) throw FileError(dir, "cannot create the folder: " + ec.message());
  std::vector<std::string> files;
  for (size_t i = 0; i < layers.size(); ++i) {
    const LayerResult& r = layers[i];
    std::string name = r.name;
    for (char& c : name)
      if (c == '/' || c == ' ') c = '_';
    std::string path = (fs::path(dir) / (std::to_string(i + 1) + "_" + name + "_plan.csv")).string();
    writeFileAtomically(path, matrixCsv(r.plan));
    files.push_back(path);
  }
  return files;
}

bool optionalSummaryRow(const std::string& key) {
  auto endsWith = [&](const std::string& tail) {
    return key.size() >= tail.size() && key.compare(key.size() - tail.size(), tail.size(), tail) == 0;
  };
  return endsWith("_bn") || endsWith("_repair") || key.rfind("sequential", 0) == 0;
}

}  // namespace otfuse
