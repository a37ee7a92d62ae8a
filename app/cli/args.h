#pragma once
// Minimal command-line parsing for the otfuse subcommands: options are "--name value",
// "--name=value" or boolean "--name"; everything else is positional.
#include <map>
#include <set>
#include <string>
#include <vector>

namespace otfuse::cli {

class Args {
 public:
  /// `flags` names the options that take no value.
  Args(std::vector<std::string> raw, std::set<std::string> flags);

  bool flag(const std::string& name) const;
  bool has(const std::string& name) const { return options_.count(name) != 0; }
  std::string get(const std::string& name, const std::string& fallback = "") const;
  /// Throws otfuse::Error ("--name expects a number, got 'x'") on a malformed value.
  double getDouble(const std::string& name, double fallback) const;
  long long getInt(const std::string& name, long long fallback) const;
  const std::vector<std::string>& positional() const { return positional_; }
  /// Throws otfuse::Error naming the first option not in `known` (flags count as known).
  void requireKnown(const std::set<std::string>& known) const;

 private:
  std::set<std::string> flags_;
  std::map<std::string, std::string> options_;
  std::vector<std::string> positional_;
};

/// A one-line terminal progress bar on stderr (redrawn in place when stderr is a terminal,
/// a line per 10 % otherwise).
class ProgressBar {
 public:
  void update(const std::string& stage, long long done, long long total,
              const std::string& message = "");
  void finish();

 private:
  std::string stage_;
  int lastDecile_ = -1;
  bool active_ = false;
};

}  // namespace otfuse::cli
