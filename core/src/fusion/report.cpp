#include "otfuse/fusion/report.h"

#include <unistd.h>

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

std::string reportJson(const FusionSummary& s, const std::vector<LayerResult>* layers,
                       bool includeMatrices) {
  std::ostringstream o;
  const FusionOptions& opt = s.options;
  o << "{\n  \"summary\": {\"models\": [";
  for (size_t i = 0; i < s.models.size(); ++i) o << (i ? ", " : "") << quoted(s.models[i]);
  o << "], \"architecture\": " << quoted(s.architecture) << ", \"dataset\": " << quoted(s.dataset)
    << ", \"dataset_source\": " << quoted(s.datasetSource)
    << ", \"mode\": " << quoted(toString(opt.mode)) << ", \"solver\": " << quoted(toString(opt.solver))
    << ", \"epsilon\": " << number(opt.epsilon) << ", \"metric\": " << quoted(ot::toString(opt.metric))
    << ", \"normalization\": " << quoted(ot::toString(opt.normalization))
    << ", \"marginals\": " << quoted(toString(opt.marginals)) << ", \"t\": " << number(opt.t)
    << ", \"ot_output_layer\": " << (opt.otOutputLayer ? "true" : "false")
    << ", \"samples\": " << s.samples << ", \"seed\": " << s.seed << "},\n";
  o << "  \"accuracy\": " << object(s.accuracy) << ",\n";
  o << "  \"loss\": " << object(s.loss) << ",\n";
  o << "  \"seconds\": {\"fusion\": " << shortNumber(s.fusionSeconds)
    << ", \"evaluation\": " << shortNumber(s.evaluationSeconds) << "}";
  if (layers) {
    o << ",\n  \"layers\": [";
    for (size_t i = 0; i < (*layers).size(); ++i) {
      const LayerResult& r = (*layers)[i];
      o << (i ? "," : "") << "\n   {\"name\": " << quoted(r.name) << ", \"rows\": "
        << r.corrected.rows() << ", \"cols\": " << r.corrected.cols()
        << ", \"identity\": " << (r.identity ? "true" : "false")
        << ", \"reused\": " << (r.reused ? "true" : "false")
        << ", \"status\": " << quoted(ot::toString(r.status)) << ", \"iterations\": " << r.iterations
        << ", \"ot_cost\": " << number(r.otCost) << ", \"entropy\": " << number(r.entropy)
        << ", \"mass_on_best\": " << number(r.massOnBest) << ", \"seconds\": " << shortNumber(r.seconds);
      if (includeMatrices && r.plan.size() > 0) {
        o << ",\n    \"mu\": " << vectorJson(r.mu) << ",\n    \"nu\": " << vectorJson(r.nu)
          << ",\n    \"cost\": " << matrixJson(r.cost) << ",\n    \"plan\": " << matrixJson(r.plan);
      }
      o << "}";
    }
    o << "\n  ]";
  }
  o << "\n}\n";
  return o.str();
}

void writeFileAtomically(const std::string& path, const std::string& text) {
  namespace fs = std::filesystem;
  fs::path target(path);
  fs::path dir = target.has_parent_path() ? target.parent_path() : fs::path(".");
  if (!fs::is_directory(dir)) throw FileError(path, "the folder " + dir.string() + " does not exist");
  std::random_device rd;
  fs::path tmp = dir / ("." + target.filename().string() + ".tmp-" + std::to_string(rd()));
  {
    std::ofstream f(tmp, std::ios::binary);
    if (!f) throw FileError(path, "cannot create a file in " + dir.string());
    f << text;
    f.flush();
    if (!f) {
      f.close();
      std::error_code ec;
      fs::remove(tmp, ec);
      throw FileError(path, "write failed (disk full?)");
    }
  }
  std::error_code ec;
  fs::rename(tmp, target, ec);
  if (ec) {
    fs::remove(tmp, ec);
    throw FileError(path, "cannot replace the file: " + ec.message());
  }
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

}  // namespace otfuse
