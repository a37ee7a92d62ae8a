#include "args.h"

#include <unistd.h>

#include <cstdio>
#include <iostream>

#include "otfuse/error.h"

namespace otfuse::cli {

Args::Args(std::vector<std::string> raw, std::set<std::string> flags) : flags_(std::move(flags)) {
  for (size_t i = 0; i < raw.size(); ++i) {
    const std::string& a = raw[i];
    if (a.rfind("--", 0) != 0 || a.size() == 2) {
      positional_.push_back(a);
      continue;
    }
    std::string name = a.substr(2);
    if (auto eq = name.find('='); eq != std::string::npos) {
      options_[name.substr(0, eq)] = name.substr(eq + 1);
    } else if (flags_.count(name)) {
      options_[name] = "1";
    } else {
      if (i + 1 >= raw.size()) throw Error("option --" + name + " expects a value");
      options_[name] = raw[++i];
    }
  }
}

bool Args::flag(const std::string& name) const {
  auto it = options_.find(name);
  return it != options_.end() && it->second != "0" && it->second != "false";
}

std::string Args::get(const std::string& name, const std::string& fallback) const {
  auto it = options_.find(name);
  return it == options_.end() ? fallback : it->second;
}

double Args::getDouble(const std::string& name, double fallback) const {
  auto it = options_.find(name);
  if (it == options_.end()) return fallback;
  try {
    size_t used = 0;
    double v = std::stod(it->second, &used);
    if (used == it->second.size()) return v;
  } catch (const std::exception&) {
  }
  throw Error("--" + name + " expects a number, got '" + it->second + "'");
}

long long Args::getInt(const std::string& name, long long fallback) const {
  auto it = options_.find(name);
  if (it == options_.end()) return fallback;
  try {
    size_t used = 0;
    long long v = std::stoll(it->second, &used);
    if (used == it->second.size()) return v;
  } catch (const std::exception&) {
  }
  throw Error("--" + name + " expects an integer, got '" + it->second + "'");
}

void Args::requireKnown(const std::set<std::string>& known) const {
  for (const auto& [name, value] : options_) {
    if (!known.count(name) && !flags_.count(name)) throw Error("unknown option --" + name);
  }
}

void ProgressBar::update(const std::string& stage, long long done, long long total,
                         const std::string& message) {
  static const bool tty = isatty(fileno(stderr));
  if (stage != stage_) {
    if (active_ && tty) std::cerr << '\n';
    stage_ = stage;
    lastDecile_ = -1;
  }
  active_ = true;
  double frac = total > 0 ? double(done) / double(total) : 0.0;
  if (tty) {
    const int width = 30;
    int filled = static_cast<int>(frac * width + 0.5);
    std::string bar(filled, '#');
    bar.resize(width, '.');
    std::fprintf(stderr, "\r%-24.24s [%s] %3d%% %s\033[K", stage.c_str(), bar.c_str(),
                 static_cast<int>(frac * 100 + 0.5), message.c_str());
  } else {
    int decile = static_cast<int>(frac * 10);
    if (decile != lastDecile_) {
      lastDecile_ = decile;
      std::fprintf(stderr, "%s: %3d%% %s\n", stage.c_str(), decile * 10, message.c_str());
    }
  }
}

void ProgressBar::finish() {
  static const bool tty = isatty(fileno(stderr));
  if (active_ && tty) std::cerr << '\n';
  active_ = false;
  stage_.clear();
}

}  // namespace otfuse::cli
